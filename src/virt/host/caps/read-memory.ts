/** Readers of the host's memory: /proc/meminfo, NUMA nodes, huge pages, KSM. */
import { HUGEPAGE_COUNTERS, hugepageSizeOfDir, hugepageState, parseThpEnabled, type HugepageCounter, type HugepageState, type ThpState } from './hugepages.js';
import type { HostFiles } from './host-files.js';
import { parseIdList, parseIntFile } from './key-value.js';
import { commandOfStat, cpuTicksOfStat, ksmState, type KsmState } from './ksm.js';
import { parseMeminfo } from '../proc.js';
import { parseNodeDistances, parseNodeMeminfo, parseNumaBalancing, type AutoNumaBalancing, type NodeMemory } from './numa.js';

const NODE_ROOT = '/sys/devices/system/node';
const HUGEPAGES_ROOT = '/sys/kernel/mm/hugepages';

export function readMeminfo(files: HostFiles): Record<string, number> {
  return parseMeminfo(files.readFile('/proc/meminfo') ?? '');
}

export interface SysfsNumaNode {
  id: number;
  cpus: number[];
  memory: NodeMemory;
  distances: number[];
  /** Pages of each size (KiB) this node holds: total and free. */
  hugepages: Record<number, { total: number; free: number }>;
}

function readNodeHugepages(files: HostFiles, dir: string): SysfsNumaNode['hugepages'] {
  const out: SysfsNumaNode['hugepages'] = {};
  for (const entry of files.readdir(`${dir}/hugepages`)) {
    const size = hugepageSizeOfDir(entry);
    if (size === undefined) continue;
    const read = (name: string) => parseIntFile(files.readFile(`${dir}/hugepages/${entry}/${name}`)) ?? 0;
    out[size] = { total: read('nr_hugepages'), free: read('free_hugepages') };
  }
  return out;
}

/** The host's NUMA nodes; one node 0 holding everything on a kernel without NUMA. */
export function readNumaNodes(files: HostFiles): SysfsNumaNode[] {
  const ids = files.readdir(NODE_ROOT).flatMap((name) => (/^node\d+$/.test(name) ? [Number(name.slice(4))] : []));
  return ids
    .sort((a, b) => a - b)
    .map((id) => {
      const dir = `${NODE_ROOT}/node${id}`;
      return {
        id,
        cpus: parseIdList(files.readFile(`${dir}/cpulist`) ?? ''),
        memory: parseNodeMeminfo(files.readFile(`${dir}/meminfo`) ?? ''),
        distances: parseNodeDistances(files.readFile(`${dir}/distance`) ?? ''),
        hugepages: readNodeHugepages(files, dir),
      };
    });
}

export function readAutoNumaBalancing(files: HostFiles): AutoNumaBalancing {
  return parseNumaBalancing(files.readFile('/proc/sys/kernel/numa_balancing'));
}

/** Each huge page size (KiB) and its counters. */
export function readHugepages(files: HostFiles, reserved: Readonly<Record<number, number>> = {}): Record<number, HugepageState> {
  const out: Record<number, HugepageState> = {};
  for (const entry of files.readdir(HUGEPAGES_ROOT)) {
    const size = hugepageSizeOfDir(entry);
    if (size === undefined) continue;
    const counters: Partial<Record<HugepageCounter, number>> = {};
    for (const counter of HUGEPAGE_COUNTERS) {
      const value = parseIntFile(files.readFile(`${HUGEPAGES_ROOT}/${entry}/${counter}`));
      if (value !== undefined) counters[counter] = value;
    }
    out[size] = hugepageState(counters, reserved[size] ?? 0);
  }
  return out;
}

export function readThpState(files: HostFiles): ThpState | undefined {
  return parseThpEnabled(files.readFile('/sys/kernel/mm/transparent_hugepage/enabled'));
}

export function readKsm(files: HostFiles): KsmState {
  const read = (name: string) => parseIntFile(files.readFile(`/sys/kernel/mm/ksm/${name}`));
  return ksmState({ run: read('run'), pages_to_scan: read('pages_to_scan'), merge_across_nodes: read('merge_across_nodes'), pages_sharing: read('pages_sharing') });
}

/**
 * The ksmd kernel thread's CPU time so far, in clock ticks; undefined without KSM. Kernel threads
 * are children of kthreadd (pid 2) and start early, so the scan stops at the first match among
 * low pids; `pidHint` (the pid found last time) is tried first.
 */
export function readKsmdTicks(files: HostFiles, pidHint?: number): { pid: number; ticks: number } | undefined {
  const tryPid = (pid: number) => {
    const stat = files.readFile(`/proc/${pid}/stat`);
    if (stat === undefined || commandOfStat(stat) !== 'ksmd') return undefined;
    const ticks = cpuTicksOfStat(stat);
    return ticks === undefined ? undefined : { pid, ticks };
  };
  if (pidHint !== undefined) {
    const hinted = tryPid(pidHint);
    if (hinted) return hinted;
  }
  const pids = files.readdir('/proc').flatMap((name) => (/^\d+$/.test(name) ? [Number(name)] : [])).sort((a, b) => a - b);
  for (const pid of pids) {
    const found = tryPid(pid);
    if (found) return found;
  }
  return undefined;
}
