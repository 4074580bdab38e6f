/**
 * Host.getStats from the last two host samples and readings, shaped as vdsm's: numbers that vdsm
 * passes through convertToStr are strings ("%.2f" for floats, "%d" for ints), the others numbers.
 * Memory comes from the same source as the capabilities' memSize (figures.ts): the real host's
 * meminfo, or on libvirt's test driver its imaginary node less what its running domains take, so the
 * engine's memory use (memSize against memFree) is never a mix of two hosts.
 */
import { ksmCpuPercent } from './caps/ksm.js';
import { cpuStatistics, type NumaNodeMemFree, type StatsFacts } from './caps/stats-facts.js';
import { busyAndTotal, type CpuTimes } from './proc.js';
import type { HostResourceSample } from './sample.js';

export interface VmCounts {
  vmCount: number;
  vmActive: number;
  vmMigrating: number;
  incomingVmMigrations: number;
  outgoingVmMigrations: number;
}

/** The test driver's node as the host's memory: its size, its NUMA cells, what its VMs take. */
export interface DriverMemory {
  totalMiB: number;
  usedByVmsMiB: number;
  cells: number;
}

export interface HostStatsInput {
  first: HostResourceSample;
  last: HostResourceSample;
  /** The host readings (KSM, huge pages, NUMA, per-CPU times): the previous and the last. */
  readings: { previous: StatsFacts; current: StatsFacts } | undefined;
  /** Set when the figures are the test driver's. */
  driver: DriverMemory | undefined;
  vms: VmCounts;
  daemonStartedAt: number;
  netConfigDirty: 'True' | 'False';
  /** getStats' momStatus: whether a memory-overcommit policy is in force. */
  momStatus: 'active' | 'disabled';
}

const pct = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '0.00');
const CLOCK_TICKS = 100; // SC_CLK_TCK on every Linux this runs on

function cpuPercents(first: CpuTimes, last: CpuTimes): { user: number; sys: number; idle: number } {
  const a = busyAndTotal(first);
  const b = busyAndTotal(last);
  const total = b.total - a.total;
  if (total <= 0) return { user: 0, sys: 0, idle: 100 };
  const user = (100 * (b.user - a.user)) / total;
  const sys = (100 * (b.system - a.system)) / total;
  return { user, sys, idle: Math.max(0, 100 - user - sys) };
}

function gmtDate(epochSeconds: number): string {
  return `${new Date(epochSeconds * 1000).toISOString().slice(0, 19)} GMT`;
}

function cpuFields({ first, last, readings }: HostStatsInput): Record<string, unknown> {
  const interval = Math.max(last.time - first.time, 1e-6);
  const cpu = cpuPercents(first.cpu, last.cpu);
  const ncpu = Math.max(1, Object.keys(last.perCpu).length);
  const selfPct = (field: 'utime' | 'stime'): string => pct((100 * (last.self[field] - first.self[field])) / CLOCK_TICKS / interval / ncpu);
  return {
    cpuUser: pct(cpu.user),
    cpuSys: pct(cpu.sys),
    cpuIdle: pct(cpu.idle),
    cpuLoad: last.loadavg[1].toFixed(2),
    cpuUserVdsmd: selfPct('utime'),
    cpuSysVdsmd: selfPct('stime'),
    cpuStatistics: readings ? cpuStatistics(readings.previous, readings.current) : {},
  };
}

/** memFree (MiB) and the NUMA nodes' free memory, from the host or from the test driver's node. */
function memoryFields({ last, readings, driver }: HostStatsInput): Record<string, unknown> {
  const kib = (key: string): number => last.meminfo[key] ?? 0;
  let totalMiB = Math.floor(kib('MemTotal') / 1024);
  let freeMiB = Math.floor((kib('MemFree') + kib('Cached') + kib('Buffers') + kib('SReclaimable')) / 1024);
  let numaNodeMemFree: Record<string, NumaNodeMemFree> = readings?.current.numaNodeMemFree ?? {};
  if (driver) {
    totalMiB = driver.totalMiB;
    freeMiB = Math.max(driver.totalMiB - driver.usedByVmsMiB, 0);
    numaNodeMemFree = {};
    const usedPercent = totalMiB > 0 ? Math.round((100 * (totalMiB - freeMiB)) / totalMiB) : 0;
    // The driver's node gives only totals: its memory is split evenly between its cells.
    for (let cell = 0; cell < driver.cells; cell++) {
      numaNodeMemFree[String(cell)] = { memFree: String(Math.floor(freeMiB / driver.cells)), memPercent: usedPercent, hugepages: {} };
    }
  }
  return {
    memFree: freeMiB,
    memUsed: totalMiB > 0 ? String(Math.round((100 * (totalMiB - freeMiB)) / totalMiB)) : '0',
    swapTotal: Math.floor(kib('SwapTotal') / 1024),
    swapFree: Math.floor(kib('SwapFree') / 1024),
    anonHugePages: String(Math.floor(kib('AnonHugePages') / 1024)),
    numaNodeMemFree,
  };
}

/** KSM's state and cost, and the huge pages per size (KiB), from the host readings. */
function pageFields({ readings }: HostStatsInput): Record<string, unknown> {
  const now = readings?.current;
  const before = readings?.previous;
  const elapsed = now && before ? (now.readAt - before.readAt) / 1000 : 0;
  return {
    ksmState: now?.ksmState ?? false,
    ksmPages: now?.ksmPages ?? 0,
    ksmMergeAcrossNodes: now?.ksmMergeAcrossNodes ?? true,
    ksmCpu: ksmCpuPercent(before?.ksmd?.ticks, now?.ksmd?.ticks, elapsed),
    memShared: now?.memShared ?? 0,
    hugepages: now?.hugepages ?? {},
  };
}

/** Per-NIC counters with exactly the keys of vdsm's HostNetworkInterfaceStats, and the drop totals. */
function networkFields({ last }: HostStatsInput): Record<string, unknown> {
  const network: Record<string, unknown> = {};
  let rxDropped = 0;
  let txDropped = 0;
  for (const [name, nic] of Object.entries(last.nics)) {
    network[name] = {
      name,
      rx: String(nic.rxBytes),
      tx: String(nic.txBytes),
      rxErrors: String(nic.rxErrors),
      txErrors: String(nic.txErrors),
      rxDropped: String(nic.rxDropped),
      txDropped: String(nic.txDropped),
      state: nic.state,
      speed: String(nic.speed || 1000),
      sampleTime: last.time,
    };
    rxDropped += nic.rxDropped;
    txDropped += nic.txDropped;
  }
  return { network, rxDropped: String(rxDropped), txDropped: String(txDropped) };
}

export function hostStats(input: HostStatsInput): Record<string, unknown> {
  const { last, vms, daemonStartedAt } = input;
  const diskStats: Record<string, { free: string }> = {};
  for (const [path, space] of Object.entries(last.disks)) diskStats[path] = { free: String(space.freeMiB) };
  return {
    ...cpuFields(input),
    ...memoryFields(input),
    ...pageFields(input),
    ...vms,
    ...networkFields(input),
    diskStats,
    storageDomains: {},
    multipathHealth: {},
    elapsedTime: String(Math.floor(last.time - daemonStartedAt)),
    bootTime: String(last.bootTime),
    dateTime: gmtDate(last.time),
    thpState: last.thpState ?? 'never',
    netConfigDirty: input.netConfigDirty,
    momStatus: input.momStatus,
    haStats: { configured: false, active: false, score: 0, globalMaintenance: false, localMaintenance: false },
    v2vJobs: {},
  };
}
