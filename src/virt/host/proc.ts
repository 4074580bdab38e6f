/**
 * Parsers for the /proc and /sys texts a host sample reads. Pure functions: the reading happens in
 * a worker (workers/host-sample.ts), the parsing is tested here on fixed texts.
 */

/** Jiffies per state, as the `cpu` lines of /proc/stat give them. */
export interface CpuTimes {
  user: number;
  nice: number;
  system: number;
  idle: number;
  iowait: number;
  irq: number;
  softirq: number;
  steal: number;
}

export interface ProcStat {
  total: CpuTimes;
  perCpu: Record<string, CpuTimes>;
  /** Seconds since the epoch. */
  bootTime: number;
}

export function parseProcStat(text: string): ProcStat {
  let total: CpuTimes | undefined;
  const perCpu: Record<string, CpuTimes> = {};
  let bootTime = 0;
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    const name = fields[0];
    if (name === undefined) continue;
    if (name.startsWith('cpu')) {
      const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = fields.slice(1, 9).map(Number);
      const times = { user, nice, system, idle, iowait, irq, softirq, steal };
      if (name === 'cpu') total = times;
      else perCpu[name.slice(3)] = times;
    } else if (name === 'btime') {
      bootTime = Number(fields[1]);
    }
  }
  if (!total) throw new Error('no cpu line in /proc/stat');
  return { total, perCpu, bootTime };
}

export function busyAndTotal(t: CpuTimes): { user: number; system: number; total: number } {
  const user = t.user + t.nice;
  const system = t.system + t.irq + t.softirq;
  return { user, system, total: user + system + t.idle + t.iowait + t.steal };
}

/** /proc/meminfo in kB, by key (MemTotal, MemFree, ...). */
export function parseMeminfo(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(\S+):\s+(\d+)/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

/** The 1, 5 and 15 minute load averages. */
export function parseLoadavg(text: string): [number, number, number] {
  const [a = 0, b = 0, c = 0] = text.trim().split(/\s+/).slice(0, 3).map(Number);
  return [a, b, c];
}

export interface NetCounters {
  rxBytes: number;
  rxPackets: number;
  rxErrors: number;
  rxDropped: number;
  txBytes: number;
  txPackets: number;
  txErrors: number;
  txDropped: number;
}

/** /proc/net/dev: counters per interface. */
export function parseNetDev(text: string): Record<string, NetCounters> {
  const out: Record<string, NetCounters> = {};
  for (const line of text.split('\n').slice(2)) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    out[name] = {
      rxBytes: f[0] ?? 0,
      rxPackets: f[1] ?? 0,
      rxErrors: f[2] ?? 0,
      rxDropped: f[3] ?? 0,
      txBytes: f[8] ?? 0,
      txPackets: f[9] ?? 0,
      txErrors: f[10] ?? 0,
      txDropped: f[11] ?? 0,
    };
  }
  return out;
}

/** utime, stime (clock ticks), threads and rss (pages) from /proc/<pid>/stat. */
export function parsePidStat(text: string): { utime: number; stime: number; threads: number; rssPages: number } {
  // The command name is in parentheses and may hold spaces; fields are counted after it.
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): field N is f[N - 3].
  return { utime: Number(f[11]), stime: Number(f[12]), threads: Number(f[17]), rssPages: Number(f[21]) };
}

/** The selected value of a sysfs choice file such as `always [madvise] never`. */
export function selectedChoice(text: string): string {
  return /\[(\w+)\]/.exec(text)?.[1] ?? text.trim();
}
