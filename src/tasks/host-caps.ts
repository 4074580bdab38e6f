/**
 * The contract of workers/host-caps.ts: what Host.getCapabilities, Host.getStats' host readings,
 * Host.getHardwareInfo and Host.hostdevListByCaps read from /proc, /sys, /etc, dpkg and libvirt.
 * Each read can block (a hung libvirtd, a slow dpkg database), so it runs in a worker; the main
 * thread keeps the answers and serves the verbs from memory.
 */
import type { CapabilityFacts } from '../virt/host/caps/capability-facts.js';
import type { FigureSource } from '../virt/host/caps/figures.js';
import type { HardwareInfo } from '../virt/host/caps/hardware.js';
import type { HostDevice } from '../virt/host/caps/node-device.js';
import type { PackageVersion } from '../virt/host/caps/packages.js';
import type { NetworkCapsOptions } from '../virt/host/caps/read-network.js';
import type { StatsFacts } from '../virt/host/caps/stats-facts.js';
import { workerTasks } from './contract.js';

export type { CapabilityFacts, HardwareInfo, HostDevice, StatsFacts };

export interface HostCapsTasks {
  /**
   * Everything capabilities report that is read from the host; `agent` is this daemon's version,
   * `network` where the managed networks' configuration is and which devices count as NICs.
   */
  capabilities(task: { uri: string; agent: PackageVersion; network: NetworkCapsOptions }): CapabilityFacts;
  /** KSM, huge pages, NUMA free memory and per-CPU times; `ksmdPid` is where ksmd was last seen. */
  statsFacts(task: { source: FigureSource; ksmdPid?: number }): StatsFacts;
  hardwareInfo(task: { uri: string }): HardwareInfo;
  hostDevices(task: { uri: string }): HostDevice[];
}

export const hostCapsTasks = workerTasks<HostCapsTasks>('host-caps', {
  capabilities: true,
  statsFacts: true,
  hardwareInfo: true,
  hostDevices: true,
});
