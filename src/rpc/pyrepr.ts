/**
 * Python's repr() of JSON-like values. vdsm's error messages are `"<msg>: <repr of context dict>"`
 * (e.g. `{'method': 'Host.nosuch'}`), and clients show those texts to people, so we keep the form.
 */
export function pyRepr(value: unknown): string {
  return repr(value, 0);
}

/**
 * Containers nested deeper than this are shown as `[...]` / `{...}`: error texts quote hostile
 * requests back (a JSON array 100k deep parses fine), and recursing that deep would overflow the
 * stack and leave the request unanswered. (Python's repr raises RecursionError there.)
 */
const MAX_REPR_DEPTH = 64;

function repr(value: unknown, depth: number): string {
  if (value === null || value === undefined) return 'None';
  if (value === true) return 'True';
  if (value === false) return 'False';
  if (typeof value === 'string') return reprString(value);
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : reprFloat(value);
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return depth >= MAX_REPR_DEPTH ? '[...]' : `[${value.map((v) => repr(v, depth + 1)).join(', ')}]`;
  if (typeof value === 'object') {
    if (depth >= MAX_REPR_DEPTH) return '{...}';
    const items = Object.entries(value as Record<string, unknown>).map(([k, v]) => `${reprString(k)}: ${repr(v, depth + 1)}`);
    return `{${items.join(', ')}}`;
  }
  return reprString(String(value));
}

function reprFloat(n: number): string {
  if (Number.isNaN(n)) return 'nan';
  if (!Number.isFinite(n)) return n > 0 ? 'inf' : '-inf';
  return String(n);
}

/** Single quotes unless the text holds a single quote and no double quote, as CPython does. */
function reprString(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\x${c.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return out + quote;
}
