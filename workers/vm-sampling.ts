/**
 * piscina task module for VM sampling (contract: src/tasks/vm-sampling.ts): libvirt calls in,
 * normalized VmSamples out (see src/virt/sampling/vm-sample.ts), so the main thread only files them.
 *
 * - `sampleAll`: the fast path, one virConnectGetAllDomainStats for every running domain. It also
 *   says whether the driver filled the groups asked for (libvirt's test driver fills only `state`).
 * - `sampleEach`: the per-VM path for a list of domains, one domain at a time, either through
 *   virDomainListGetStats (drivers with bulk stats) or the per-domain calls (drivers without).
 *   Before each domain it writes the domain's index into `progress` (a SharedArrayBuffer the main
 *   thread also sees), so when a call gets stuck the main thread knows which VM to stop asking.
 */
import type { SampleAllResult, SampleAllTask, SampleEachResult, SampleEachTask, VmSamplingTasks } from '../src/tasks/vm-sampling.js';
import { connectionFor, type BlockingLibvirt } from '../src/virt/libvirt/blocking.js';
import { LibvirtError, isNoDomain } from '../src/virt/libvirt/errors.js';
import type { DomainDevices } from '../src/virt/libvirt/types.js';
import { sampleDomains } from '../src/virt/sampling/per-domain.js';
import { recordHasCpuStats, sampleFromDomainSample, sampleFromStatsRecord, type VmSample } from '../src/virt/sampling/vm-sample.js';

export function sampleAll(task: SampleAllTask): SampleAllResult {
  const t0 = performance.now();
  const records = connectionFor(task.uri).allDomainStats(task.groups, task.flags);
  const result: SampleAllResult = { uuids: [], samples: [], filled: null, elapsedMs: 0 };
  for (const record of records) {
    result.uuids.push(record.uuid);
    result.samples.push(sampleFromStatsRecord(record.params));
    // A domain with an id is running; it should have CPU stats if the driver has the group.
    if (record.id >= 0 && result.filled !== true) result.filled = recordHasCpuStats(record.params);
  }
  result.elapsedMs = performance.now() - t0;
  return result;
}

function sampleOne(conn: BlockingLibvirt, task: SampleEachTask, domain: DomainDevices & { uuid: string }): VmSample | 'missing' {
  if (task.source === 'bulk') {
    const records = conn.domainListStats([domain.uuid], task.groups, task.flags);
    // The list call leaves out a UUID that no longer exists.
    return records.length === 0 ? 'missing' : sampleFromStatsRecord(records[0]!.params);
  }
  try {
    return sampleFromDomainSample(conn.sampleDomain(domain.uuid, domain));
  } catch (err) {
    // A device libvirt does not know (hot-unplugged, renamed) fails the whole call: keep the
    // domain's CPU and memory rather than lose the VM for the skip cache's 40 s.
    if (isNoDomain(err) || !(err instanceof LibvirtError)) throw err;
    if ((domain.disks?.length ?? 0) + (domain.nics?.length ?? 0) === 0) throw err;
    return sampleFromDomainSample(conn.sampleDomain(domain.uuid, {}));
  }
}

export function sampleEach(task: SampleEachTask): SampleEachResult {
  const conn = connectionFor(task.uri);
  return sampleDomains(task.domains, (domain) => sampleOne(conn, task, domain), task.progress);
}

// The compiler checks these exports against the contract the main thread calls through.
({ sampleAll, sampleEach }) satisfies VmSamplingTasks;
