/**
 * The contract of workers/host-sample.ts: reads of /proc, /sys and statvfs, which can block for
 * minutes on a dead NFS mount or a hung /proc entry.
 */
import type { HostFacts, HostResourceSample } from '../virt/host/sample.js';
import { workerTasks } from './contract.js';

export type { HostFacts, HostResourceSample };

export interface HostSampleTasks {
  hostSample(task: { statvfsPaths: string[] }): HostResourceSample;
  /** Facts about the host that do not change while the daemon runs (Host.getCapabilities). */
  hostFacts(): HostFacts;
}

export const hostSampleTasks = workerTasks<HostSampleTasks>('host-sample', { hostSample: true, hostFacts: true });
