/**
 * One VM's sample as plain data, whichever libvirt path it came from: the bulk stats' typed
 * parameters (`cpu.time`, `balloon.current`, `block.0.rd.bytes`, ...) or the per-domain calls
 * (info, block, interface and memory stats). VM stats are computed from two of these, so the rest
 * of the daemon never looks at libvirt's shapes. Pure: workers normalize before sending results
 * back, which keeps both the work and the transfer small for the main thread.
 * A field libvirt did not report stays undefined (a driver that lacks a group, a stopped device).
 */
import type { DomainSample, TypedParams } from '../libvirt/types.js';

export interface CpuCounters {
  /** Nanoseconds of CPU time, all threads of the VM (bulk `cpu.time`, per-domain info). */
  time?: number;
  /** Nanoseconds in user and kernel mode of the QEMU process (bulk path only). */
  user?: number;
  system?: number;
}

/** Balloon and guest memory, KiB (fault and swap counters are counts / KiB as libvirt gives them). */
export interface BalloonCounters {
  current?: number;
  maximum?: number;
  rss?: number;
  unused?: number;
  available?: number;
  usable?: number;
  swapIn?: number;
  swapOut?: number;
  majorFault?: number;
  minorFault?: number;
  diskCaches?: number;
}

export interface NicCounters {
  rxBytes?: number;
  rxPackets?: number;
  rxErrors?: number;
  rxDropped?: number;
  txBytes?: number;
  txPackets?: number;
  txErrors?: number;
  txDropped?: number;
}

export interface DiskCounters {
  readOps?: number;
  readBytes?: number;
  /** Nanoseconds spent reading, all requests (bulk path only; so are the flush and size fields). */
  readTimeNs?: number;
  writeOps?: number;
  writeBytes?: number;
  writeTimeNs?: number;
  flushOps?: number;
  flushTimeNs?: number;
  errors?: number;
  /** Bytes: host storage in use ('du'), the guest-visible size, the container's size ('ls'). */
  allocation?: number;
  capacity?: number;
  physical?: number;
}

export interface VmSample {
  /** The stamp (the StatsCache's clock, seconds) of the cycle that took it; the sampler sets it. */
  sampledAt?: number;
  /** virDomainState, when reported. */
  state?: number;
  cpu: CpuCounters;
  balloon: BalloonCounters;
  vcpu: { current?: number; maximum?: number };
  /**
   * By the name libvirt knows the NIC by: the host-side device (bulk `net.N.name`) or, on the
   * per-domain path, the path it was asked for (a MAC address or a device name).
   */
  nics: Record<string, NicCounters>;
  /** By target name (`vda`). */
  disks: Record<string, DiskCounters>;
}

function num(params: TypedParams, key: string): number | undefined {
  const v = params[key];
  return typeof v === 'number' ? v : undefined;
}

function str(params: TypedParams, key: string): string | undefined {
  const v = params[key];
  return typeof v === 'string' ? v : undefined;
}

/** Drops undefined fields, so samples stay small across the thread boundary. */
function defined<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

/** From a bulk stats record's typed parameters (virConnectGetAllDomainStats, virDomainListGetStats). */
export function sampleFromStatsRecord(p: TypedParams): VmSample {
  const sample: VmSample = {
    cpu: defined({ time: num(p, 'cpu.time'), user: num(p, 'cpu.user'), system: num(p, 'cpu.system') }),
    balloon: defined({
      current: num(p, 'balloon.current'),
      maximum: num(p, 'balloon.maximum'),
      rss: num(p, 'balloon.rss'),
      unused: num(p, 'balloon.unused'),
      available: num(p, 'balloon.available'),
      usable: num(p, 'balloon.usable'),
      swapIn: num(p, 'balloon.swap_in'),
      swapOut: num(p, 'balloon.swap_out'),
      majorFault: num(p, 'balloon.major_fault'),
      minorFault: num(p, 'balloon.minor_fault'),
      diskCaches: num(p, 'balloon.disk_caches'),
    }),
    vcpu: defined({ current: num(p, 'vcpu.current'), maximum: num(p, 'vcpu.maximum') }),
    nics: {},
    disks: {},
  };
  const state = num(p, 'state.state');
  if (state !== undefined) sample.state = state;
  readNics(p, sample.nics);
  readDisks(p, sample.disks);
  return sample;
}

/** The NIC entries; `net.count` is an upper bound: libvirt leaves out entries it could not read, names included. */
function readNics(p: TypedParams, nics: VmSample['nics']): void {
  const nets = num(p, 'net.count') ?? 0;
  for (let i = 0; i < nets; i++) {
    const name = str(p, `net.${i}.name`);
    if (name === undefined || name in nics) continue;
    const k = `net.${i}.`;
    nics[name] = defined({
      rxBytes: num(p, `${k}rx.bytes`),
      rxPackets: num(p, `${k}rx.pkts`),
      rxErrors: num(p, `${k}rx.errs`),
      rxDropped: num(p, `${k}rx.drop`),
      txBytes: num(p, `${k}tx.bytes`),
      txPackets: num(p, `${k}tx.pkts`),
      txErrors: num(p, `${k}tx.errs`),
      txDropped: num(p, `${k}tx.drop`),
    });
  }
}

function readDisks(p: TypedParams, disks: VmSample['disks']): void {
  const blocks = num(p, 'block.count') ?? 0;
  for (let i = 0; i < blocks; i++) {
    const name = str(p, `block.${i}.name`);
    // With backing chains a name repeats; the first entry is the active layer.
    if (name === undefined || name in disks) continue;
    const k = `block.${i}.`;
    disks[name] = defined({
      readOps: num(p, `${k}rd.reqs`),
      readBytes: num(p, `${k}rd.bytes`),
      readTimeNs: num(p, `${k}rd.times`),
      writeOps: num(p, `${k}wr.reqs`),
      writeBytes: num(p, `${k}wr.bytes`),
      writeTimeNs: num(p, `${k}wr.times`),
      flushOps: num(p, `${k}fl.reqs`),
      flushTimeNs: num(p, `${k}fl.times`),
      errors: num(p, `${k}errors`),
      allocation: num(p, `${k}allocation`),
      capacity: num(p, `${k}capacity`),
      physical: num(p, `${k}physical`),
    });
  }
}

/** From the per-domain path (virDomainGetInfo, BlockStats, InterfaceStats, MemoryStats). */
export function sampleFromDomainSample(d: DomainSample): VmSample {
  const m = d.memory ?? {};
  const sample: VmSample = {
    state: d.info.state,
    cpu: { time: d.info.cpuTimeNs },
    balloon: defined({
      // virDomainGetInfo's memory is the current balloon size; the memory stats say it too.
      current: m.actual ?? d.info.memoryKiB,
      maximum: d.info.maxMemKiB,
      rss: m.rss,
      unused: m.unused,
      available: m.available,
      usable: m.usable,
      swapIn: m.swap_in,
      swapOut: m.swap_out,
      majorFault: m.major_fault,
      minorFault: m.minor_fault,
      diskCaches: m.disk_caches,
    }),
    vcpu: { current: d.info.vcpus },
    nics: {},
    disks: {},
  };
  for (const [name, i] of Object.entries(d.interfaces)) {
    sample.nics[name] = {
      rxBytes: i.rxBytes,
      rxPackets: i.rxPackets,
      rxErrors: i.rxErrs,
      rxDropped: i.rxDrop,
      txBytes: i.txBytes,
      txPackets: i.txPackets,
      txErrors: i.txErrs,
      txDropped: i.txDrop,
    };
  }
  for (const [name, b] of Object.entries(d.block)) {
    sample.disks[name] = { readOps: b.rdReq, readBytes: b.rdBytes, writeOps: b.wrReq, writeBytes: b.wrBytes, errors: b.errs };
  }
  return sample;
}

/** Whether a bulk record carries more than the `state` group (libvirt's test driver fills only that). */
export function recordHasCpuStats(p: TypedParams): boolean {
  return typeof p['cpu.time'] === 'number';
}
