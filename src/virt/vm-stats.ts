/**
 * vdsm's VM stats element (VM.getStats, Host.getAllVmStats), from a
 * Vm and its StatsCache entry, on the main thread. Shapes and units follow vdsm's vmstats.py and
 * what the oVirt engine reads:
 * - numbers are strings as vdsm's convertToStr makes them: "%.2f" for percentages, integers as
 *   is; disk rates and latencies as Python's str(float) ("12.0");
 * - cpuSys is the QEMU process's user+system time and cpuUser the rest of cpu.time (the guest's
 *   vCPUs), as percentages of one host CPU over the interval (the engine divides by vCPU count);
 *   cpuUsage is the cumulative cpu.user+cpu.system in ns. Where the driver has no user/system
 *   split (the per-domain path) all of cpu.time counts as cpuUser, not 0 as vdsm would report;
 * - disk latencies are nanoseconds per request (the engine divides by 1e9), '0' without requests;
 * - NIC entries carry counters, not rates; sampleTime is the time of the sample (the StatsCache
 *   clock), not of the request: rates the engine derives from two answers use the right interval;
 * - with fewer than two samples, CPU figures are 0 with cpuActual false, and no NIC or disk entry;
 * - the guest's keys (guestIPs, guestFQDN, username, session, guestCPUCount) have vdsm's values
 *   for "no agent has said" until an agent does; displayInfo comes from the graphics devices.
 * Guest-agent keys from `vm.guest` are added, but never over the keys computed here: the guest
 * is not trusted to say what its status or id is.
 */
import type { StatsSample } from './sampling/stats-cache.js';
import type { DiskCounters, NicCounters, VmSample } from './sampling/vm-sample.js';
import type { Vm } from './vm.js';

/** What vmStats reads of a VM. */
export type StatsVm = Pick<
  Vm,
  'id' | 'name' | 'status' | 'statusTime' | 'exit' | 'pauseCode' | 'devices' | 'vcpus' | 'memoryKiB' | 'guest' | 'monitorable' | 'elapsedSeconds' | 'timeOffset' | 'devicesHash' | 'pid' | 'vcpuBandwidth'
>;

/** StatsCache.get's answer. */
export interface VmStatsEntry {
  sample: StatsSample<VmSample> | undefined;
  /** Seconds since the VM was last sampled. */
  age: number;
}

export interface VmStatsOptions {
  /** [vars] vm_command_timeout: stats this old (seconds) make monitorResponse '-1'. */
  commandTimeout: number;
}

export interface NicStats {
  name: string;
  macAddr: string;
  speed: string;
  state: string;
  rxErrors?: string;
  rxDropped?: string;
  txErrors?: string;
  txDropped?: string;
  rx?: string;
  tx?: string;
  sampleTime?: number;
}

export interface DiskStats {
  truesize: string;
  apparentsize: string;
  readLatency: string;
  writeLatency: string;
  flushLatency: string;
  writtenBytes: string;
  writeOps: string;
  readOps: string;
  readBytes: string;
  readRate: string;
  writeRate: string;
}

export interface BalloonInfo {
  balloon_max: string;
  balloon_min: string;
  balloon_cur: string;
  balloon_target: string;
}

export type VmStatsElement = Record<string, unknown> & { vmId: string; status: string; statusTime: string };

const NS_PER_S = 1e9;

/** What the guest keys say before any guest agent has spoken (vdsm's defaults). */
const NO_GUEST_DATA: Readonly<Record<string, unknown>> = { guestIPs: '', guestFQDN: '', username: 'Unknown', session: 'Unknown', guestCPUCount: -1 };

/** convertToStr of a float. */
const pct = (n: number): string => (Number.isFinite(n) ? n.toFixed(2) : '0.00');

/** Python's str() of a float: always a decimal point. */
function pyFloat(n: number): string {
  if (!Number.isFinite(n)) return '0.0';
  return Number.isInteger(n) ? n.toFixed(1) : String(n);
}

function delta(last: number | undefined, first: number | undefined): number | undefined {
  return last === undefined || first === undefined ? undefined : Math.max(0, last - first);
}

/** Percent of one host CPU (vdsm's _usage_percentage). */
const usage = (ns: number, interval: number): number => (100 * ns) / interval / NS_PER_S;

export function vmStats(vm: StatsVm, entry: VmStatsEntry, options: VmStatsOptions): VmStatsElement {
  if (vm.status === 'Down') {
    return {
      vmId: vm.id,
      status: vm.status,
      statusTime: vm.statusTime,
      exitCode: vm.exit?.exitCode ?? 0,
      exitReason: vm.exit?.exitReason ?? 0,
      exitMessage: vm.exit?.exitMessage ?? '',
    };
  }
  const out: VmStatsElement = {
    vmId: vm.id,
    status: vm.status,
    statusTime: vm.statusTime,
    vmName: vm.name,
    vmType: 'kvm',
    kvmEnable: 'true',
    acpiEnable: 'true',
    elapsedTime: String(vm.elapsedSeconds()),
    monitorResponse: vm.monitorable && vm.status !== 'Migration Source' && entry.age >= options.commandTimeout ? '-1' : '0',
    pauseCode: vm.pauseCode,
    timeOffset: vm.timeOffset,
    // The console client's address comes with graphics events, which are not followed yet.
    clientIp: '',
    // '0' while QEMU's process is not known (a driver without processes: libvirt's test driver).
    pid: String(vm.pid),
    cpuUser: '0.00',
    cpuSys: '0.00',
    cpuActual: false,
    network: {},
    disks: {},
    ...displayStats(vm),
  };
  if (vm.devicesHash !== '') out['hash'] = vm.devicesHash;
  if (vm.vcpuBandwidth !== undefined) {
    // vdsm's types: the quota as a string, the period as a number.
    out['vcpuQuota'] = String(vm.vcpuBandwidth.quota);
    out['vcpuPeriod'] = vm.vcpuBandwidth.period;
  }
  const sample = entry.sample;
  if (sample !== undefined) addSampledStats(out, vm, sample);
  else if (vm.vcpus > 0) out['vcpuCount'] = String(vm.vcpus);
  for (const key in vm.guest) if (!(key in out)) out[key] = vm.guest[key];
  for (const key in NO_GUEST_DATA) if (!(key in out)) out[key] = NO_GUEST_DATA[key];
  // vdsm's memUsage came from the guest agent; '0' when nobody knows.
  if (out['memUsage'] === undefined) out['memUsage'] = '0';
  return out;
}

/** The consoles, from the graphics devices: displayInfo and the first one's ports. */
function displayStats(vm: StatsVm): Record<string, unknown> {
  const graphics = vm.devices.graphics ?? [];
  const first = graphics[0];
  return {
    displayInfo: graphics.map((g) => ({ type: g.type, port: g.port, tlsPort: g.tlsPort, ipAddress: g.listen })),
    displayPort: first?.port ?? '-1',
    displaySecurePort: first?.tlsPort ?? '-1',
  };
}

// Properties are set one by one, in a fixed order, without spreads or deletes: Host.getAllVmStats
// builds a thousand of these on the main thread, and objects of one shape are the cheap ones.
function addSampledStats(out: VmStatsElement, vm: StatsVm, { first, last, interval }: StatsSample<VmSample>): void {
  const cpu = cpuStats(first, last, interval);
  out['cpuUser'] = cpu.cpuUser;
  out['cpuSys'] = cpu.cpuSys;
  out['cpuUsage'] = cpu.cpuUsage;
  out['cpuActual'] = cpu.cpuActual;
  const memUsage = memoryUsage(vm, last);
  if (memUsage !== undefined) out['memUsage'] = memUsage;
  const memoryStats = memoryStatsOf(first, last, interval);
  if (memoryStats !== undefined) out['memoryStats'] = memoryStats;
  const balloon = balloonInfo(vm, last);
  if (balloon !== undefined) out['balloonInfo'] = balloon;
  const network = networkStats(vm, first, last);
  if (network !== undefined) out['network'] = network;
  const disks = diskStats(vm, first, last, interval);
  if (disks !== undefined) out['disks'] = disks;
  const vcpus = last.vcpu.current ?? (vm.vcpus > 0 ? vm.vcpus : undefined);
  if (vcpus !== undefined) out['vcpuCount'] = String(vcpus);
}

/** cpuActual: both figures were computed from two samples (vdsm's meaning). */
function cpuStats(first: VmSample, last: VmSample, interval: number): { cpuUser: string; cpuSys: string; cpuUsage: string; cpuActual: boolean } {
  const zero = { cpuUser: '0.00', cpuSys: '0.00', cpuUsage: '0.00', cpuActual: false };
  if (!(interval > 0)) return zero;
  const a = first.cpu;
  const b = last.cpu;
  const time = delta(b.time, a.time);
  if (b.user !== undefined && b.system !== undefined && a.user !== undefined && a.system !== undefined) {
    const qemu = Math.max(0, b.user - a.user) + Math.max(0, b.system - a.system);
    return {
      cpuUser: time === undefined ? '0.00' : pct(usage(Math.max(0, time - qemu), interval)),
      cpuSys: pct(usage(qemu, interval)),
      cpuUsage: String(b.user + b.system),
      cpuActual: time !== undefined,
    };
  }
  if (time === undefined) return zero;
  return { cpuUser: pct(usage(time, interval)), cpuSys: '0.00', cpuUsage: String(b.time), cpuActual: false };
}

/** vdsm's: 100 - free / memory size, as an integer, from the guest's unused memory. */
function memoryUsage(vm: StatsVm, last: VmSample): string | undefined {
  const unused = last.balloon.unused;
  const size = vm.memoryKiB || last.balloon.maximum || last.balloon.available;
  if (unused === undefined || !size) return undefined;
  return String(Math.max(0, Math.trunc(100 - (unused / size) * 100)));
}

/** vdsm's memory(): totals from the balloon driver's guest stats, faults and swap per second. */
function memoryStatsOf(first: VmSample, last: VmSample, interval: number): Record<string, string | number> | undefined {
  const b = last.balloon;
  if (b.available === undefined) return undefined;
  const out: Record<string, string | number> = {
    mem_total: String(b.available),
    mem_unused: String(b.unused ?? 0),
    mem_free: String(b.unused ?? 0),
  };
  if (interval > 0) {
    const rate = (key: 'swapIn' | 'swapOut' | 'majorFault' | 'minorFault'): number =>
      Math.round(((b[key] ?? 0) - (first.balloon[key] ?? 0)) / interval);
    out['swap_in'] = rate('swapIn');
    out['swap_out'] = rate('swapOut');
    out['majflt'] = rate('majorFault');
    out['minflt'] = rate('minorFault');
    out['pageflt'] = (out['majflt'] as number) + (out['minflt'] as number);
  }
  return out;
}

function balloonInfo(vm: StatsVm, last: VmSample): BalloonInfo | undefined {
  const current = last.balloon.current;
  if (current === undefined) return undefined;
  const size = vm.memoryKiB || last.balloon.maximum || current;
  return { balloon_max: String(size), balloon_min: '0', balloon_cur: String(current), balloon_target: String(size) };
}

function nicCounters(sample: VmSample, name: string | undefined, mac: string | undefined): NicCounters | undefined {
  return (name !== undefined ? sample.nics[name] : undefined) ?? (mac !== undefined ? sample.nics[mac] : undefined);
}

function networkStats(vm: StatsVm, first: VmSample, last: VmSample): Record<string, NicStats> | undefined {
  let out: Record<string, NicStats> | undefined;
  for (const nic of vm.devices.nics) {
    const key = nic.name ?? nic.mac;
    if (key === undefined) continue;
    const a = nicCounters(first, nic.name, nic.mac);
    const b = nicCounters(last, nic.name, nic.mac);
    // A NIC hot-plugged between the samples is reported once both samples have it.
    if (a === undefined || b === undefined) continue;
    const speed = nic.model === 'e1000' || nic.model === 'virtio' ? 1000 : 100;
    const stats: NicStats = { name: key, macAddr: nic.mac ?? '', speed: String(speed), state: 'unknown' };
    if (b.rxErrors !== undefined) stats.rxErrors = String(b.rxErrors);
    if (b.rxDropped !== undefined) stats.rxDropped = String(b.rxDropped);
    if (b.txErrors !== undefined) stats.txErrors = String(b.txErrors);
    if (b.txDropped !== undefined) stats.txDropped = String(b.txDropped);
    if (b.rxBytes !== undefined) stats.rx = String(b.rxBytes);
    if (b.txBytes !== undefined) stats.tx = String(b.txBytes);
    if (last.sampledAt !== undefined) stats.sampleTime = last.sampledAt;
    (out ??= {})[key] = stats;
  }
  return out;
}

/** Nanoseconds per request between the samples; '0' without requests (vdsm's _disk_latency). */
function latency(a: DiskCounters, b: DiskCounters, ops: 'readOps' | 'writeOps' | 'flushOps', time: 'readTimeNs' | 'writeTimeNs' | 'flushTimeNs'): string | undefined {
  const n = delta(b[ops], a[ops]);
  const t = delta(b[time], a[time]);
  if (n === undefined || t === undefined) return undefined;
  return n > 0 ? pyFloat(t / n) : '0';
}

function diskStats(vm: StatsVm, first: VmSample, last: VmSample, interval: number): Record<string, DiskStats> | undefined {
  let out: Record<string, DiskStats> | undefined;
  for (const drive of vm.devices.disks) {
    if (drive.name === '') continue;
    const a = first.disks[drive.name];
    const b = last.disks[drive.name];
    const stats: DiskStats = {
      truesize: String(b?.allocation ?? 0),
      apparentsize: String(b?.physical ?? b?.capacity ?? 0),
      readLatency: '0',
      writeLatency: '0',
      flushLatency: '0',
      writtenBytes: '0',
      writeOps: '0',
      readOps: '0',
      readBytes: '0',
      readRate: '0.0',
      writeRate: '0.0',
    };
    if (a !== undefined && b !== undefined) {
      if (interval > 0) {
        const read = delta(b.readBytes, a.readBytes);
        const written = delta(b.writeBytes, a.writeBytes);
        if (read !== undefined) stats.readRate = pyFloat(read / interval);
        if (written !== undefined) stats.writeRate = pyFloat(written / interval);
      }
      stats.readLatency = latency(a, b, 'readOps', 'readTimeNs') ?? stats.readLatency;
      stats.writeLatency = latency(a, b, 'writeOps', 'writeTimeNs') ?? stats.writeLatency;
      stats.flushLatency = latency(a, b, 'flushOps', 'flushTimeNs') ?? stats.flushLatency;
      if (b.readOps !== undefined) stats.readOps = String(b.readOps);
      if (b.writeOps !== undefined) stats.writeOps = String(b.writeOps);
      if (b.readBytes !== undefined) stats.readBytes = String(b.readBytes);
      if (b.writeBytes !== undefined) stats.writtenBytes = String(b.writeBytes);
    }
    (out ??= {})[drive.name] = stats;
  }
  return out;
}
