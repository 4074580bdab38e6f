/**
 * Decodes the per-domain sample the addon writes into the scratch Float64Array (a layout, not
 * objects: building objects key by key in C++ cost more than the libvirt calls themselves).
 * Layout, mirrored from native/stats.cc SampleDomain:
 *   [0..4] info; [5] active; if active: 5 slots per disk, 8 per NIC, 13 memory tags (NaN = absent).
 */
import type { BlockStats, DomainSample, InterfaceStats, MemoryStats } from './types.js';

/** virDomainMemoryStatTags in tag order, named as the Python binding names them. */
const MEMORY_TAGS = [
  'swap_in', 'swap_out', 'major_fault', 'minor_fault', 'unused', 'available', 'actual', 'rss', 'usable',
  'last_update', 'disk_caches', 'hugetlb_pgalloc', 'hugetlb_pgfail',
] as const satisfies readonly (keyof MemoryStats)[];

/** 1024 slots: room for (1024 - 19) / 13 ≈ 77 disk+NIC pairs per domain. */
export const SCRATCH_SLOTS = 1024;

export function decodeSample(s: Float64Array, disks: readonly string[], nics: readonly string[]): DomainSample {
  const sample: DomainSample = {
    info: { state: s[0]!, maxMemKiB: s[1]!, memoryKiB: s[2]!, vcpus: s[3]!, cpuTimeNs: s[4]! },
    active: s[5] === 1,
    block: {},
    interfaces: {},
  };
  if (!sample.active) return sample;
  let n = 6;
  for (const disk of disks) {
    const b: BlockStats = { rdReq: s[n]!, rdBytes: s[n + 1]!, wrReq: s[n + 2]!, wrBytes: s[n + 3]!, errs: s[n + 4]! };
    sample.block[disk] = b;
    n += 5;
  }
  for (const nic of nics) {
    const i: InterfaceStats = {
      rxBytes: s[n]!,
      rxPackets: s[n + 1]!,
      rxErrs: s[n + 2]!,
      rxDrop: s[n + 3]!,
      txBytes: s[n + 4]!,
      txPackets: s[n + 5]!,
      txErrs: s[n + 6]!,
      txDrop: s[n + 7]!,
    };
    sample.interfaces[nic] = i;
    n += 8;
  }
  const memory: MemoryStats = {};
  for (let t = 0; t < MEMORY_TAGS.length; t++) {
    const v = s[n + t]!;
    if (!Number.isNaN(v)) memory[MEMORY_TAGS[t]!] = v;
  }
  sample.memory = memory;
  return sample;
}
