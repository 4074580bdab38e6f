/**
 * The blocking face of hostvisor's libvirt addon: for worker threads only.
 *
 * Every call here is SYNCHRONOUS and may block for as long as libvirt does (a hung QEMU monitor,
 * an unreachable daemon). Blocking is the point of a piscina worker, and never allowed on the main
 * thread, so this module is not re-exported from the folder's index: the main thread holds a
 * LibvirtHandle (handle.ts) instead, which can open, close and listen, and nothing else.
 *
 * A BlockingLibvirt is one holder of the process-wide connection for its URI: every thread that
 * makes one for the same URI shares the same libvirt connection (and, with the test driver, the
 * same domains). The connection opens on first use; close() gives the reference back.
 *
 * Domains are named by UUID string. Each call looks the domain up and frees it before returning,
 * so no libvirt handle outlives a call. A failed call throws LibvirtError; an unknown UUID gives
 * code VIR_ERR_NO_DOMAIN (ErrorCode.NO_DOMAIN).
 */
import { ErrorCode, isLibvirtError } from './errors.js';
import { native, scratch, type NativeConnection, type NodeDeviceXml } from './native.js';
import { decodeSample } from './sample.js';
import type {
  BlockStats,
  DomainDevices,
  DomainIdentity,
  DomainInfo,
  DomainJobStats,
  DomainSample,
  DomainStateReason,
  DomainStatsRecord,
  HostIdentity,
  InterfaceStats,
  MemoryStats,
  MigrationParams,
  NodeCpuStats,
  NodeInfo,
} from './types.js';

/**
 * The libvirt calls, without the holder's own lifecycle: what a worker task may call by name
 * (the `verb` task of workers/libvirt.ts takes exactly the methods of this class).
 */
export class LibvirtCalls {
  protected constructor(protected readonly handle: NativeConnection) {}

  // Host.

  describe(): HostIdentity {
    return native.describe(this.handle);
  }
  nodeInfo(): NodeInfo {
    return native.nodeInfo(this.handle);
  }
  /** Nanosecond counters; `cpu` -1 (default) sums all CPUs. */
  nodeCpuStats(cpu = -1): NodeCpuStats {
    return native.nodeCpuStats(this.handle, cpu);
  }
  capabilities(): string {
    return native.capabilities(this.handle);
  }
  hostname(): string {
    return native.hostname(this.handle);
  }
  hypervisorType(): string {
    return native.hypervisorType(this.handle);
  }
  hypervisorVersion(): number {
    return native.hypervisorVersion(this.handle);
  }
  libVersion(): number {
    return native.libVersion(this.handle);
  }
  /** The URI libvirt reports (canonical form), as opposed to `uri`, the one asked for. */
  connectedUri(): string {
    return native.uri(this.handle);
  }

  // Domains.

  /** Flags: ListDomains (0 = all). */
  listDomains(flags = 0): DomainIdentity[] {
    return native.listDomains(this.handle, flags);
  }
  lookupByUuid(uuid: string): DomainIdentity {
    return native.lookupByUuid(this.handle, uuid);
  }
  lookupByName(name: string): DomainIdentity {
    return native.lookupByName(this.handle, name);
  }
  defineXml(xml: string, flags = 0): DomainIdentity {
    return native.defineXml(this.handle, xml, flags);
  }
  /** Starts a transient domain. */
  createXml(xml: string, flags = 0): DomainIdentity {
    return native.createXml(this.handle, xml, flags);
  }
  start(uuid: string, flags = 0): void {
    native.start(this.handle, uuid, flags);
  }
  destroy(uuid: string, flags = 0): void {
    native.destroy(this.handle, uuid, flags);
  }
  shutdown(uuid: string, flags = 0): void {
    native.shutdown(this.handle, uuid, flags);
  }
  reboot(uuid: string, flags = 0): void {
    native.reboot(this.handle, uuid, flags);
  }
  /** A hard reset, as the reset button: the guest is not asked. */
  reset(uuid: string): void {
    native.reset(this.handle, uuid, 0);
  }
  suspend(uuid: string): void {
    native.suspend(this.handle, uuid);
  }
  resume(uuid: string): void {
    native.resume(this.handle, uuid);
  }
  /** Flags: UndefineFlags. */
  undefine(uuid: string, flags = 0): void {
    native.undefine(this.handle, uuid, flags);
  }
  identity(uuid: string): DomainIdentity {
    return native.identity(this.handle, uuid);
  }
  info(uuid: string): DomainInfo {
    return native.info(this.handle, uuid);
  }
  state(uuid: string): DomainStateReason {
    return native.state(this.handle, uuid);
  }
  /** Flags: XmlFlags. */
  xmlDesc(uuid: string, flags = 0): string {
    return native.xmlDesc(this.handle, uuid, flags);
  }
  isActive(uuid: string): boolean {
    return native.isActive(this.handle, uuid);
  }
  isPersistent(uuid: string): boolean {
    return native.isPersistent(this.handle, uuid);
  }
  /** Flags: VcpuFlags. */
  setVcpus(uuid: string, count: number, flags = 0): void {
    native.setVcpus(this.handle, uuid, count, flags);
  }
  /** Flags: MemoryFlags. */
  setMemory(uuid: string, kib: number, flags = 0): void {
    native.setMemory(this.handle, uuid, kib, flags);
  }
  /**
   * A QEMU guest-agent command through libvirt (libvirt-qemu); returns the reply JSON text.
   * `timeoutSec` ≥ 0, or AgentTimeout.BLOCK / DEFAULT.
   */
  qemuAgentCommand(uuid: string, command: string | object, timeoutSec: number, flags = 0): string {
    const text = typeof command === 'string' ? command : JSON.stringify(command);
    return native.qemuAgentCommand(this.handle, uuid, text, timeoutSec, flags);
  }
  /**
   * CFS bandwidth of each vCPU: `quota` µs of every `period` µs (-1: no limit). Flags:
   * Affect. The test driver answers VIR_ERR_INVALID_ARG (it keeps only a weight).
   */
  setVcpuBandwidth(uuid: string, quota: number, period: number, flags = 0): void {
    native.setVcpuBandwidth(this.handle, uuid, quota, period, flags);
  }
  /** Sets our element of the domain's <metadata>, in namespace `uri` with prefix `key`. Flags: Affect. */
  setMetadata(uuid: string, xml: string, key: string, uri: string, flags = 0): void {
    native.setMetadata(this.handle, uuid, xml, key, uri, flags);
  }

  // Live migration.

  /**
   * virDomainMigrateToURI3 (flags: MigrateFlags). Blocks until the migration ends, which may take
   * minutes: workers only, and the monitor calls below come from another worker meanwhile.
   */
  migrateToUri3(uuid: string, destinationUri: string, params: MigrationParams, flags: number): void {
    native.migrateToUri3(this.handle, uuid, destinationUri, params, flags);
  }
  /**
   * virDomainGetJobStats: the running job, or with JobStatsFlags.COMPLETED the last completed one;
   * type JobType.NONE when there is none. Only the numeric figures are kept: a completed job's
   * `success` (boolean) and `errmsg` (string) are left out, its type already says how it ended.
   * The test driver answers VIR_ERR_NO_SUPPORT.
   */
  jobStats(uuid: string, flags = 0): DomainJobStats {
    const { type, stats } = native.jobStats(this.handle, uuid, flags);
    const figures: Record<string, number> = {};
    for (const [name, value] of Object.entries(stats)) if (typeof value === 'number') figures[name] = value;
    return { type, stats: figures };
  }
  /** virDomainAbortJob: before the switch-over QEMU gives the migration up and the domain runs on here. */
  abortJob(uuid: string): void {
    native.abortJob(this.handle, uuid);
  }
  /**
   * virDomainMigrateSetMaxDowntime, ms: the longest pause the switch-over may take. The convergence
   * schedule raises it step by step while the migration runs.
   */
  migrateSetMaxDowntime(uuid: string, ms: number): void {
    native.migrateSetMaxDowntime(this.handle, uuid, ms);
  }
  /** virDomainMigrateSetMaxSpeed, MiB/s; QEMU takes it with no migration running too. */
  migrateSetMaxSpeed(uuid: string, mibPerSecond: number): void {
    native.migrateSetMaxSpeed(this.handle, uuid, mibPerSecond);
  }
  /** virDomainMigrateGetMaxSpeed, MiB/s. */
  migrateGetMaxSpeed(uuid: string): number {
    return native.migrateGetMaxSpeed(this.handle, uuid);
  }

  // Statistics.

  /**
   * virConnectGetAllDomainStats. `groups`: StatsGroup bits (0 = every group the driver has);
   * `flags`: ListDomains filters and StatsFlags. The test driver fills only the `state` group.
   */
  allDomainStats(groups = 0, flags = 0): DomainStatsRecord[] {
    return native.allDomainStats(this.handle, groups, flags);
  }
  /** virDomainListGetStats for these domains; UUIDs that no longer exist are left out. */
  domainListStats(uuids: readonly string[], groups = 0, flags = 0): DomainStatsRecord[] {
    return native.domainListStats(this.handle, uuids, groups, flags);
  }
  /** `path`: the disk's target name (`vda`) or source path. */
  blockStats(uuid: string, path: string): BlockStats {
    return native.blockStats(this.handle, uuid, path);
  }
  /** `path`: the interface's host-side name or its MAC address. */
  interfaceStats(uuid: string, path: string): InterfaceStats {
    return native.interfaceStats(this.handle, uuid, path);
  }
  memoryStats(uuid: string): MemoryStats {
    return native.memoryStats(this.handle, uuid);
  }
  /** The per-domain path in one call: info, and block/interface/memory stats if active. */
  sampleDomain(uuid: string, devices: DomainDevices = {}): DomainSample {
    const disks = devices.disks ?? [];
    const nics = devices.nics ?? [];
    native.sampleDomain(this.handle, uuid, disks, nics);
    return decodeSample(scratch, disks, nics);
  }

  // Host hardware: what capabilities, hostdevListByCaps and getHardwareInfo read.

  /**
   * virConnectGetDomainCapabilities for the default emulator, arch, machine and virt type unless
   * given. Null when the driver does not implement it (the test driver): the host then has no
   * usable CPU model list, which is not an error.
   */
  domainCapabilities(options: { emulator?: string; arch?: string; machine?: string; virttype?: string } = {}): string | null {
    try {
      return native.domainCapabilities(this.handle, options.emulator ?? '', options.arch ?? '', options.machine ?? '', options.virttype ?? '');
    } catch (err) {
      if (isLibvirtError(err, ErrorCode.NO_SUPPORT)) return null;
      throw err;
    }
  }
  /** Every host device libvirt knows (virConnectListAllNodeDevices) with its XML; flags filter by capability. */
  nodeDevices(flags = 0): NodeDeviceXml[] {
    return native.nodeDevices(this.handle, flags);
  }
  /**
   * The host's SMBIOS tables as libvirt reads them (virConnectGetSysinfo). Null when the host has
   * none (virtual machines without SMBIOS, some arm boards) or the driver cannot read them.
   */
  sysinfo(): string | null {
    try {
      return native.sysinfo(this.handle);
    } catch (err) {
      if (isLibvirtError(err, ErrorCode.NO_SUPPORT) || isLibvirtError(err, ErrorCode.CONFIG_UNSUPPORTED)) return null;
      throw err;
    }
  }
}

/** A holder of the process-wide connection for `uri`, with the blocking calls. */
export class BlockingLibvirt extends LibvirtCalls {
  constructor(uri: string) {
    super(new native.Connection(uri));
  }

  get uri(): string {
    return this.handle.uri;
  }

  isOpen(): boolean {
    return this.handle.isOpen();
  }

  /** Opens now (or reopens a dropped connection), blocking. Calls open it lazily too. */
  open(): HostIdentity {
    return this.handle.open();
  }

  /** Gives this holder's reference back. Later calls throw (VIR_ERR_INVALID_CONN). */
  close(): void {
    this.handle.close();
  }
}

/** The name of a libvirt call a worker task may make. */
export type LibvirtVerb = {
  [K in keyof LibvirtCalls]: LibvirtCalls[K] extends (...args: never[]) => unknown ? K : never;
}[keyof LibvirtCalls];

/** The same names at run time, read from the class itself. */
export const libvirtVerbs: ReadonlySet<string> = new Set(
  Object.getOwnPropertyNames(LibvirtCalls.prototype).filter((name) => name !== 'constructor'),
);

const holders = new Map<string, BlockingLibvirt>();

/**
 * This thread's holder for `uri`, made on first use and kept for the thread's life (the addon
 * shares one connection among all threads, so a holder per thread costs nothing).
 */
export function connectionFor(uri: string): BlockingLibvirt {
  let holder = holders.get(uri);
  if (holder === undefined) {
    holder = new BlockingLibvirt(uri);
    holders.set(uri, holder);
  }
  return holder;
}
