/**
 * The daemon's own resources, as vdsm's health monitor measures them: user and system CPU as
 * percent of one CPU over the interval, RSS in KiB, thread count.
 * CPU comes from process.cpuUsage() (microseconds, no /proc parsing) over the measured interval
 * (vdsm divides by the configured one, which overstates after a late check). The thread count is
 * /proc/self/stat field 20, read asynchronously: procfs of our own process does not hang, but the
 * main thread still does no synchronous file I/O.
 */
import { readFile } from 'node:fs/promises';

export interface ProcessFigures {
  userPct: number;
  sysPct: number;
  rssKiB: number;
  heapUsedKiB: number;
  /** Undefined where /proc is not there. */
  threads: number | undefined;
}

export class ProcessSampler {
  private lastCpu = process.cpuUsage();
  private lastAt = performance.now();
  private lastRssKiB = 0;

  constructor(private readonly statPath = '/proc/self/stat') {}

  /** Figures since the previous call (or construction). */
  async sample(): Promise<ProcessFigures & { rssDeltaKiB: number }> {
    const threads = await readThreads(this.statPath);
    const now = performance.now();
    const cpu = process.cpuUsage(this.lastCpu);
    const elapsedUs = Math.max(1, (now - this.lastAt) * 1000);
    this.lastCpu = process.cpuUsage();
    this.lastAt = now;
    const memory = process.memoryUsage();
    const rssKiB = Math.floor(memory.rss / 1024);
    const rssDeltaKiB = this.lastRssKiB === 0 ? 0 : rssKiB - this.lastRssKiB;
    this.lastRssKiB = rssKiB;
    return {
      userPct: (100 * cpu.user) / elapsedUs,
      sysPct: (100 * cpu.system) / elapsedUs,
      rssKiB,
      rssDeltaKiB,
      heapUsedKiB: Math.floor(memory.heapUsed / 1024),
      threads,
    };
  }
}

/** num_threads from /proc/<pid>/stat: the fields after the command's closing parenthesis. */
export function threadsFromStat(stat: string): number | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Field 3 (state) is fields[0]; field 20 (num_threads) is fields[17].
  const n = Number(fields[17]);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

async function readThreads(path: string): Promise<number | undefined> {
  try {
    return threadsFromStat(await readFile(path, 'utf8'));
  } catch {
    return undefined;
  }
}
