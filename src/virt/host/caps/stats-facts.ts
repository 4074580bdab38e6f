/**
 * The host readings Host.getStats adds to its sample: KSM, huge pages, NUMA free memory, THP,
 * per-CPU times and boot time. Read in a worker (`readStatsFacts`); turned into getStats' rates
 * between two readings on the main thread (`cpuStatistics`, `ksmCpuPercent`).
 */
import { busyAndTotal, parseProcStat } from '../proc.js';
import type { FigureSource } from './figures.js';
import type { HostFiles } from './host-files.js';
import type { HugepageState, ThpState } from './hugepages.js';
import { nodeMemFree } from './numa.js';
import { readHugepages, readKsm, readKsmdTicks, readMeminfo, readNumaNodes, readThpState } from './read-memory.js';

export interface NumaNodeMemFree {
  memFree: string;
  memPercent: number;
  hugepages: Record<string, { freePages: string }>;
}

export interface StatsFacts {
  /** Milliseconds since the epoch when read. */
  readAt: number;
  ksmState: boolean;
  ksmPages: number;
  ksmMergeAcrossNodes: boolean;
  /** MiB of memory KSM saved (pages_sharing). */
  memShared: number;
  /** ksmd's CPU ticks so far, and its pid to look at first next time; undefined without KSM. */
  ksmd: { pid: number; ticks: number } | undefined;
  hugepages: Record<number, HugepageState>;
  /** Per node: free MiB, used percentage and free huge pages per size (KiB); empty when the
   * figures are the test driver's (see figures.ts). */
  numaNodeMemFree: Record<string, NumaNodeMemFree>;
  /** CPU -> NUMA node, for cpuStatistics' nodeIndex. */
  cpuNodes: Record<string, number>;
  thpState: ThpState | undefined;
  anonHugePagesMiB: number;
  /** Jiffies per CPU (`0`, `1`, ...). */
  cpuTimes: ReturnType<typeof parseProcStat>['perCpu'];
  bootTime: number;
}

export function readStatsFacts(files: HostFiles, source: FigureSource, ksmdPidHint?: number): StatsFacts {
  const ksm = readKsm(files);
  const meminfo = readMeminfo(files);
  const nodes = readNumaNodes(files);
  const procStat = parseProcStat(files.readFile('/proc/stat') ?? '');
  const numaNodeMemFree: StatsFacts['numaNodeMemFree'] = {};
  if (source === 'host') {
    for (const node of nodes) {
      const hugepages: NumaNodeMemFree['hugepages'] = {};
      for (const [size, pages] of Object.entries(node.hugepages)) hugepages[size] = { freePages: String(pages.free) };
      numaNodeMemFree[String(node.id)] = { ...nodeMemFree(node.memory), hugepages };
    }
  }
  const cpuNodes: Record<string, number> = {};
  for (const node of nodes) for (const cpu of node.cpus) cpuNodes[String(cpu)] = node.id;
  return {
    readAt: Date.now(),
    ksmState: ksm.running,
    ksmPages: ksm.pagesToScan,
    ksmMergeAcrossNodes: ksm.mergeAcrossNodes,
    memShared: Math.floor((ksm.pagesSharing * 4096) / (1024 * 1024)),
    ksmd: readKsmdTicks(files, ksmdPidHint),
    hugepages: readHugepages(files),
    numaNodeMemFree,
    cpuNodes,
    thpState: readThpState(files),
    anonHugePagesMiB: Math.floor((meminfo['AnonHugePages'] ?? 0) / 1024),
    cpuTimes: procStat.perCpu,
    bootTime: procStat.bootTime,
  };
}

export interface CpuCoreStats {
  cpuSys: string;
  cpuUser: string;
  cpuIdle: string;
  nodeIndex: number;
}

/**
 * getStats' cpuStatistics between two readings: the percentage of each CPU's time spent in user,
 * system and idle, as strings with two decimals. A CPU only in the later reading (just onlined)
 * counts as idle.
 */
export function cpuStatistics(previous: StatsFacts, current: StatsFacts): Record<string, CpuCoreStats> {
  const out: Record<string, CpuCoreStats> = {};
  for (const [cpu, now] of Object.entries(current.cpuTimes)) {
    const before = previous.cpuTimes[cpu];
    const a = busyAndTotal(now);
    const b = before ? busyAndTotal(before) : a;
    const total = a.total - b.total;
    const pct = (value: number) => (total > 0 ? ((100 * value) / total).toFixed(2) : '0.00');
    const user = a.user - b.user;
    const sys = a.system - b.system;
    out[cpu] = { cpuUser: pct(user), cpuSys: pct(sys), cpuIdle: total > 0 ? pct(total - user - sys) : '100.00', nodeIndex: current.cpuNodes[cpu] ?? 0 };
  }
  return out;
}
