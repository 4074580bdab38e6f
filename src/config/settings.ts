/**
 * Typed settings: each knows its default, how to parse a raw string and what it allows.
 * The schema in schema.ts is built from these; the Config type is derived from it.
 */

export interface Setting<T> {
  readonly default: T;
  /** What the setting allows, in words, for error messages and the README table. */
  readonly allowed: string;
  readonly doc: string;
  /** Parses a raw string; returns undefined when the value is not allowed. */
  parse(raw: string): T | undefined;
  /** Renders a value back to the INI form (for --print-config). */
  format(value: T): string;
}

function setting<T>(
  def: T,
  allowed: string,
  doc: string,
  parse: (raw: string) => T | undefined,
  format: (value: T) => string = (v) => String(v),
): Setting<T> {
  return { default: def, allowed, doc, parse, format };
}

const TRUE = new Set(['true', 'yes', 'on', '1']);
const FALSE = new Set(['false', 'no', 'off', '0']);

export function bool(def: boolean, doc: string): Setting<boolean> {
  return setting(def, 'true or false', doc, (raw) => {
    const v = raw.trim().toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    return undefined;
  });
}

export function int(def: number, doc: string, min = 0, max = Number.MAX_SAFE_INTEGER): Setting<number> {
  const allowed = max === Number.MAX_SAFE_INTEGER ? `a whole number >= ${min}` : `a whole number from ${min} to ${max}`;
  return setting(def, allowed, doc, (raw) => {
    if (!/^\s*-?\d+\s*$/.test(raw)) return undefined;
    const n = Number(raw);
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : undefined;
  });
}

/** A ratio or other plain number, fractions allowed. */
export function ratio(def: number, doc: string, min: number, max: number): Setting<number> {
  return setting(def, `a number from ${min} to ${max}`, doc, (raw) => {
    if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  });
}

/** A duration in seconds; fractions allowed so tests and benchmarks can run fast. */
export function seconds(def: number, doc: string, min = 0.01, max = 86_400): Setting<number> {
  return setting(def, `seconds, a number from ${min} to ${max}`, doc, (raw) => {
    if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) return undefined;
    const n = Number(raw);
    return n >= min && n <= max ? n : undefined;
  });
}

export function str(def: string, doc: string, allowEmpty = true): Setting<string> {
  return setting(def, allowEmpty ? 'text' : 'non-empty text', doc, (raw) => {
    const v = raw.trim();
    return allowEmpty || v !== '' ? v : undefined;
  });
}

export function oneOf<const T extends string>(def: T, values: readonly T[], doc: string): Setting<T> {
  return setting(def, `one of ${values.join(', ')}`, doc, (raw) => {
    const v = raw.trim().toLowerCase();
    return (values as readonly string[]).includes(v) ? (v as T) : undefined;
  });
}

export function port(def: number, doc: string): Setting<number> {
  return int(def, doc, 0, 65535);
}

/** A comma-separated list of non-empty items. */
export function list(def: string[], doc: string): Setting<string[]> {
  return setting(
    def,
    'a comma-separated list',
    doc,
    (raw) =>
      raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    (v) => v.join(','),
  );
}
