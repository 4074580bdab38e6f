/**
 * Loads the compiled addon (build/Release/hostvisor_libvirt.node, built by `npm run build:addon`)
 * and describes its raw surface. Only the face in this folder uses it directly.
 *
 * The addon is context-aware: each thread that imports this module gets its own instance, while
 * connections and the event-loop thread are shared by the whole process.
 */
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { repoRoot } from '../../paths.js';
import { LibvirtError } from './errors.js';
import { SCRATCH_SLOTS } from './sample.js';
import type { RawEvent } from './events.js';
import type {
  BlockStats,
  DomainIdentity,
  DomainInfo,
  DomainStateReason,
  DomainStatsRecord,
  HostIdentity,
  InterfaceStats,
  MemoryStats,
  MigrationParams,
  NodeCpuStats,
  NodeInfo,
  TypedParams,
} from './types.js';

export const ADDON_PATH = join(repoRoot, 'build', 'Release', 'hostvisor_libvirt.node');

/** One holder of the process-wide connection for a URI. */
export interface NativeConnection {
  readonly uri: string;
  /** Opens (or reopens) now, blocking; returns what the hypervisor says about itself. */
  open(): HostIdentity;
  /** The same, on libuv's thread pool. */
  openAsync(): Promise<HostIdentity>;
  isOpen(): boolean;
  /** Gives this holder's reference back; the last one closes the libvirt connection. */
  close(): void;
  /** The same, with the libvirt call on libuv's thread pool. */
  closeAsync(): Promise<void>;
  /** Fault hook: marks the shared connection dropped, as libvirt's close callback would. */
  simulateDrop(): void;
}

export interface NativeSubscription {
  /** Stops deliveries at once; gives the callbacks back to libvirt on libuv's thread pool. */
  closeAsync(): Promise<void>;
}

type C = NativeConnection;

export interface NativeAddon {
  Connection: new (uri: string) => NativeConnection;
  setErrorClass(cls: typeof LibvirtError): void;

  nodeInfo(c: C): NodeInfo;
  nodeCpuStats(c: C, cpu?: number): NodeCpuStats;
  capabilities(c: C): string;
  describe(c: C): HostIdentity;
  hostname(c: C): string;
  hypervisorType(c: C): string;
  hypervisorVersion(c: C): number;
  libVersion(c: C): number;
  uri(c: C): string;
  clientLibVersion(): number;

  listDomains(c: C, flags: number): DomainIdentity[];
  lookupByUuid(c: C, uuid: string): DomainIdentity;
  lookupByName(c: C, name: string): DomainIdentity;
  defineXml(c: C, xml: string, flags: number): DomainIdentity;
  createXml(c: C, xml: string, flags: number): DomainIdentity;
  start(c: C, uuid: string, flags: number): void;
  destroy(c: C, uuid: string, flags: number): void;
  shutdown(c: C, uuid: string, flags: number): void;
  reboot(c: C, uuid: string, flags: number): void;
  reset(c: C, uuid: string, flags: number): void;
  suspend(c: C, uuid: string): void;
  resume(c: C, uuid: string): void;
  undefine(c: C, uuid: string, flags: number): void;
  identity(c: C, uuid: string): DomainIdentity;
  info(c: C, uuid: string): DomainInfo;
  state(c: C, uuid: string): DomainStateReason;
  xmlDesc(c: C, uuid: string, flags: number): string;
  isActive(c: C, uuid: string): boolean;
  isPersistent(c: C, uuid: string): boolean;
  setVcpus(c: C, uuid: string, count: number, flags: number): void;
  setMemory(c: C, uuid: string, kib: number, flags: number): void;
  qemuAgentCommand(c: C, uuid: string, command: string, timeout: number, flags: number): string;
  migrateToUri3(c: C, uuid: string, duri: string, params: MigrationParams, flags: number): void;
  jobStats(c: C, uuid: string, flags: number): { type: number; stats: TypedParams };
  abortJob(c: C, uuid: string): void;
  migrateSetMaxDowntime(c: C, uuid: string, ms: number): void;
  migrateSetMaxSpeed(c: C, uuid: string, mibPerSecond: number): void;
  migrateGetMaxSpeed(c: C, uuid: string): number;
  setVcpuBandwidth(c: C, uuid: string, quota: number, period: number, flags: number): void;
  setMetadata(c: C, uuid: string, xml: string, key: string, uri: string, flags: number): void;

  allDomainStats(c: C, groups: number, flags: number): DomainStatsRecord[];
  domainListStats(c: C, uuids: readonly string[], groups: number, flags: number): DomainStatsRecord[];
  blockStats(c: C, uuid: string, path: string): BlockStats;
  interfaceStats(c: C, uuid: string, path: string): InterfaceStats;
  memoryStats(c: C, uuid: string): MemoryStats;
  /** Writes into the scratch array (see sample.ts) and returns the number of slots used. */
  sampleDomain(c: C, uuid: string, disks: readonly string[], nics: readonly string[]): number;
  setScratch(scratch: Float64Array): void;
  /** _exit(2): ends the process without joining threads stuck in system calls. */
  exitNow(code: number): never;
  /** sd_notify(3): false when not run by systemd. */
  sdNotify(state: string): boolean;
  /** SO_PEERCRED of a connected unix socket's file descriptor. */
  peerCredentials(fd: number): { pid: number; uid: number; gid: number };

  /** Registers for the connection's domain events on libuv's thread pool. */
  subscribe(c: C, callback: (event: RawEvent) => void): Promise<NativeSubscription>;
  startEventLoop(): void;
  stopEventLoop(timeoutMs: number): boolean;
  eventLoopRunning(): boolean;

  /** Empty strings let libvirt choose; VIR_ERR_NO_SUPPORT on drivers without it (test driver). */
  domainCapabilities(c: C, emulator: string, arch: string, machine: string, virttype: string): string;
  nodeDevices(c: C, flags: number): NodeDeviceXml[];
  sysinfo(c: C): string;
}

/** One host device as libvirt lists it: its name and its XML description. */
export interface NodeDeviceXml {
  name: string;
  xml: string;
}

function load(): NativeAddon {
  const require = createRequire(import.meta.url);
  let addon: NativeAddon;
  try {
    addon = require(ADDON_PATH) as NativeAddon;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`cannot load the libvirt addon ${ADDON_PATH} (run \`npm run build:addon\`): ${why}`);
  }
  addon.setErrorClass(LibvirtError);
  addon.setScratch(scratch);
  return addon;
}

/** This thread's scratch array for calls that return many numbers (see sample.ts). */
export const scratch = new Float64Array(SCRATCH_SLOTS);
export const native: NativeAddon = load();
