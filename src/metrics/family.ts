/**
 * A metric family: one figure the daemon reports, with its statsd path and its Prometheus name.
 * Both sinks read the same families, so a figure is described once:
 *
 *   family('vms.{vm}.cpu.user', 'vm_cpu_user_percent', 'guest CPU, percent of one host CPU', ['vm'])
 *
 * gives `vms.<vm name>.cpu.user` for statsd and `hostvisor_vm_cpu_user_percent{vm="<vm name>"}`
 * for Prometheus. A `{label}` segment of the statsd path is filled with the label's value,
 * sanitised as vdsm did (a dot inside a name part becomes `_`), and also rid of the
 * characters statsd's line protocol and graphite's paths cannot carry. Prometheus label values are
 * kept as they are.
 */

export type FamilyType = 'gauge' | 'counter';

export interface Family {
  /** The statsd path template, e.g. `vms.{vm}.disk.{drive}.read_ops`. */
  readonly path: string;
  /** The full Prometheus name, `hostvisor_` included. */
  readonly promName: string;
  readonly help: string;
  readonly labels: readonly string[];
  /** Counters are cumulative totals (sent to statsd as gauges of the total, as vdsm sent everything). */
  readonly type: FamilyType;
  /** The template compiled: literal text and label indexes, alternating. */
  readonly parts: readonly (string | number)[];
}

export const PROM_PREFIX = 'hostvisor_';

export function family(path: string, promName: string, help: string, labels: readonly string[] = [], type: FamilyType = 'gauge'): Family {
  return { path, promName: PROM_PREFIX + promName, help, labels, type, parts: compile(path, labels) };
}

export const counter = (path: string, promName: string, help: string, labels: readonly string[] = []): Family =>
  family(path, promName, help, labels, 'counter');

function compile(path: string, labels: readonly string[]): (string | number)[] {
  const parts: (string | number)[] = [];
  let text = '';
  for (const piece of path.split(/(\{[a-z_]+\})/)) {
    const m = /^\{([a-z_]+)\}$/.exec(piece);
    if (m === null) {
      text += piece;
      continue;
    }
    const index = labels.indexOf(m[1]!);
    if (index < 0) throw new Error(`metric ${path}: {${m[1]}} is not one of its labels`);
    parts.push(text, index);
    text = '';
  }
  parts.push(text);
  return parts;
}

/** What names add in UTF-8 over their length in UTF-16 units (0 for ASCII), for datagram sizes. */
export interface ExtraBytes {
  extra: number;
}

/**
 * The statsd name of one sample of the family. With `bytes`, adds to `bytes.extra` what the name's
 * UTF-8 form has over its length, so the sink sizes datagrams without encoding every line.
 */
export function statsdName(f: Family, labelValues: readonly string[], bytes?: ExtraBytes): string {
  const parts = f.parts;
  if (parts.length === 1) return parts[0] as string;
  let name = '';
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (typeof p === 'string') {
      name += p;
    } else {
      const part = sanitised(labelValues[p] ?? '');
      name += part.text;
      if (bytes !== undefined) bytes.extra += part.extra;
    }
  }
  return name;
}

// Dots split graphite's path; `:`, `|`, `@`, `#` and line breaks split statsd's line protocol;
// whitespace and slashes make awkward graphite paths (Etsy statsd would rewrite them anyway).
const UNSAFE = /[.:|@#/\\\s\p{Cc}]/gu;
const NON_ASCII = /[^\x00-\x7f]/;
const cache = new Map<string, { text: string; extra: number }>();
const CACHE_MAX = 50_000;

function sanitised(text: string): { text: string; extra: number } {
  let part = cache.get(text);
  if (part !== undefined) return part;
  const safe = text === '' ? '_' : text.replace(UNSAFE, '_');
  part = { text: safe, extra: NON_ASCII.test(safe) ? Buffer.byteLength(safe) - safe.length : 0 };
  // VM names come and go; a bounded cache is enough to spare the regex on every cycle.
  if (cache.size >= CACHE_MAX) cache.clear();
  cache.set(text, part);
  return part;
}

/** One name part (a VM, drive, NIC or method name) made safe for a statsd path. */
export function sanitisePart(text: string): string {
  return sanitised(text).text;
}
