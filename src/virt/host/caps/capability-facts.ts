/**
 * Everything Host.getCapabilities reports about the host, read from the host and libvirt, named
 * and shaped as the engine reads it. What is not a reading (cluster levels, reserved memory,
 * the daemon's own version) is added by the verb, not here.
 */
import type { CpuTopologyEntry } from './cpu-topology.js';
import type { HbaInventory } from './storage-hba.js';
import type { NetworkDevices } from './network-devices.js';
import type { ManagedNetworkFacts } from './networks.js';
import type { AutoNumaBalancing } from './numa.js';
import type { OperatingSystem } from './os-release.js';
import type { PackageVersion } from './packages.js';
import type { FigureSource } from './figures.js';

export interface CapabilityNumaNode {
  cpus: number[];
  totalMemory: string;
  /** Pages per size in KiB: `{ 2048: { totalPages: '0' } }`. */
  hugepages: Record<string, { totalPages: string }>;
}

export interface CapabilityFacts extends NetworkDevices, ManagedNetworkFacts {
  /** Which host the memory and CPU figures describe (see figures.ts). */
  figureSource: FigureSource;
  /** libvirt's host UUID ('' when libvirt gives none). */
  uuid: string;
  kvmEnabled: 'true' | 'false';
  cpuSockets: string;
  cpuCores: string;
  cpuThreads: string;
  onlineCpus: string;
  cpuTopology: CpuTopologyEntry[];
  cpuSpeed: string;
  cpuModel: string;
  /** Comma-separated: the kernel's flags, the host model's features, `model_<Name>` per usable CPU model. */
  cpuFlags: string;
  memSize: string;
  numaNodes: Record<string, CapabilityNumaNode>;
  numaNodeDistance: Record<string, number[]>;
  autoNumaBalancing: AutoNumaBalancing;
  /** Huge page sizes (KiB) the kernel offers. */
  hugepages: number[];
  emulatedMachines: string[];
  rngSources: Array<'random' | 'hwrng'>;
  HBAInventory: HbaInventory;
  ISCSIInitiatorName: string;
  kdumpStatus: -1 | 0 | 1;
  selinux: { mode: string };
  nameservers: string[];
  supportsIPv6: boolean;
  hostdevPassthrough: 'true' | 'false';
  operatingSystem: OperatingSystem;
  packages2: Record<string, PackageVersion>;
  /** Seconds since the epoch (/proc/stat btime). */
  bootTime: number;
  /** The kernel's command line. */
  kernelArgs: string;
  /** The CPUs the daemon may run on. */
  vdsmToCpusAffinity: number[];
  /** What libvirt itself says it is, for logs and the figure rule. */
  hypervisor: { type: string; libVersion: number };
}
