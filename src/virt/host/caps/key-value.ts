/** The line formats several host files share. */

/** `KEY=value` lines (os-release, initiatorname.iscsi); quotes around values removed, `#` lines skipped. */
export function parseAssignments(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    out[line.slice(0, eq).trim()] = unquote(line.slice(eq + 1).trim());
  }
  return out;
}

function unquote(value: string): string {
  const first = value[0];
  if (value.length >= 2 && (first === '"' || first === "'") && value.endsWith(first)) {
    return value.slice(1, -1).replace(/\\(["'\\$`])/g, '$1');
  }
  return value;
}

/** A kernel CPU or node list (`0-3,8,10-11`) -> the numbers, ascending. Empty text is no CPUs. */
export function parseIdList(text: string): number[] {
  const ids: number[] = [];
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const [from, to] = part.split('-').map((n) => Number.parseInt(n, 10));
    if (from === undefined || !Number.isFinite(from)) continue;
    const last = to !== undefined && Number.isFinite(to) ? to : from;
    for (let id = from; id <= last; id++) ids.push(id);
  }
  return ids.sort((a, b) => a - b);
}

/** The leading integer of a one-value sysfs or procfs file, or undefined. */
export function parseIntFile(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number.parseInt(text.trim(), 10);
  return Number.isFinite(n) ? n : undefined;
}
