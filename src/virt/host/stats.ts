/**
 * Host.getStats from the last two host samples, shaped as vdsm's:
 * numbers that vdsm passes through convertToStr are strings ("%.2f" for floats, "%d" for ints).
 */
import { busyAndTotal, type CpuTimes } from './proc.js';
import type { HostResourceSample } from './sample.js';

export interface VmCounts {
  vmCount: number;
  vmActive: number;
  vmMigrating: number;
  incomingVmMigrations: number;
  outgoingVmMigrations: number;
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

export function hostStats(
  first: HostResourceSample,
  last: HostResourceSample,
  vms: VmCounts,
  daemonStartedAt: number,
): Record<string, unknown> {
  const interval = Math.max(last.time - first.time, 1e-6);
  const cpu = cpuPercents(first.cpu, last.cpu);
  const cpuStatistics: Record<string, unknown> = {};
  for (const [id, times] of Object.entries(last.perCpu)) {
    const before = first.perCpu[id];
    if (!before) continue;
    const p = cpuPercents(before, times);
    cpuStatistics[id] = { nodeIndex: 0, cpuUser: pct(p.user), cpuSys: pct(p.sys), cpuIdle: pct(p.idle) };
  }
  const ncpu = Math.max(1, Object.keys(last.perCpu).length);
  const selfPct = (field: 'utime' | 'stime'): string =>
    pct((100 * (last.self[field] - first.self[field])) / CLOCK_TICKS / interval / ncpu);

  const m = last.meminfo;
  const kib = (key: string): number => m[key] ?? 0;
  const memTotal = kib('MemTotal');
  const memFreeKiB = kib('MemFree') + kib('Cached') + kib('Buffers') + kib('SReclaimable');
  const network: Record<string, unknown> = {};
  let rxDropped = 0;
  let txDropped = 0;
  for (const [name, nic] of Object.entries(last.nics)) {
    const before = first.nics[name];
    const rate = (now: number, then: number | undefined): string =>
      then === undefined ? '0.00' : pct(Math.max(0, now - then) / interval);
    network[name] = {
      name,
      rx: String(nic.rxBytes),
      tx: String(nic.txBytes),
      rxRate: rate(nic.rxBytes, before?.rxBytes),
      txRate: rate(nic.txBytes, before?.txBytes),
      rxErrors: String(nic.rxErrors),
      txErrors: String(nic.txErrors),
      rxDropped: String(nic.rxDropped),
      txDropped: String(nic.txDropped),
      state: nic.state,
      speed: String(nic.speed || 1000),
      duplex: nic.duplex,
      sampleTime: last.time,
    };
    rxDropped += nic.rxDropped;
    txDropped += nic.txDropped;
  }
  const diskStats: Record<string, { free: string }> = {};
  for (const [path, space] of Object.entries(last.disks)) diskStats[path] = { free: String(space.freeMiB) };

  return {
    cpuUser: pct(cpu.user),
    cpuSys: pct(cpu.sys),
    cpuIdle: pct(cpu.idle),
    cpuLoad: last.loadavg[1].toFixed(2),
    cpuUserVdsmd: selfPct('utime'),
    cpuSysVdsmd: selfPct('stime'),
    cpuStatistics,
    memFree: Math.floor(memFreeKiB / 1024),
    memUsed: memTotal > 0 ? String(Math.round((100 * (memTotal - memFreeKiB)) / memTotal)) : '0',
    memShared: 0,
    swapTotal: Math.floor(kib('SwapTotal') / 1024),
    swapFree: Math.floor(kib('SwapFree') / 1024),
    anonHugePages: String(Math.floor(kib('AnonHugePages') / 1024)),
    ...vms,
    network,
    rxDropped: String(rxDropped),
    txDropped: String(txDropped),
    diskStats,
    storageDomains: {},
    multipathHealth: {},
    elapsedTime: String(Math.floor(last.time - daemonStartedAt)),
    bootTime: String(last.bootTime),
    dateTime: gmtDate(last.time),
    thpState: last.thpState,
    netConfigDirty: 'False',
    haStats: { configured: false, active: false, score: 0, globalMaintenance: false, localMaintenance: false },
    v2vJobs: {},
  };
}
