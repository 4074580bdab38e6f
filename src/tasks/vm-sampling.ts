/**
 * The contract of workers/vm-sampling.ts: libvirt's VM stats in, normalized VmSamples out, so the
 * main thread only files them.
 */
import type { DomainDevices } from '../virt/libvirt/types.js';
import type { PerDomainResult } from '../virt/sampling/per-domain.js';
import type { VmSample } from '../virt/sampling/vm-sample.js';
import { workerTasks } from './contract.js';

export interface SampleAllTask {
  uri: string;
  /** StatsGroup bits. */
  groups: number;
  /** Domain filters (ListDomains.RUNNING) and StatsFlags (NOWAIT). */
  flags: number;
}

export interface SampleAllResult {
  uuids: string[];
  /** Aligned with `uuids`. */
  samples: VmSample[];
  /** False when running domains came back without CPU stats (the driver fills only `state`); null with none running. */
  filled: boolean | null;
  elapsedMs: number;
}

export interface SampleEachTask {
  uri: string;
  /** 'bulk': virDomainListGetStats per domain; 'domain': info, block, interface and memory stats. */
  source: 'bulk' | 'domain';
  groups: number;
  /** StatsFlags only (NOWAIT): domain filters are not for virDomainListGetStats. */
  flags: number;
  /** Devices are used on the 'domain' path: disk targets, NIC MACs (or names). */
  domains: readonly (DomainDevices & { uuid: string })[];
  /** An Int32Array over a SharedArrayBuffer; [0] is set to the index of the domain being sampled. */
  progress?: Int32Array;
}

/** Aligned with `task.domains`. */
export type SampleEachResult = PerDomainResult<VmSample>;

export interface VmSamplingTasks {
  /**
   * The fast path: one virConnectGetAllDomainStats for every running domain, saying whether the
   * driver filled the groups asked for (libvirt's test driver fills only `state`).
   */
  sampleAll(task: SampleAllTask): SampleAllResult;
  /**
   * The per-VM path, one domain at a time, through virDomainListGetStats (drivers with bulk stats)
   * or the per-domain calls (drivers without), reporting progress as it goes.
   */
  sampleEach(task: SampleEachTask): SampleEachResult;
}

export const vmSamplingTasks = workerTasks<VmSamplingTasks>('vm-sampling', { sampleAll: true, sampleEach: true });
