/** /sys/kernel/mm/hugepages/hugepages-<size>kB/* and transparent_hugepage/enabled. */
import { selectedChoice } from '../proc.js';

/** `hugepages-2048kB` -> 2048; undefined for other names. */
export function hugepageSizeOfDir(name: string): number | undefined {
  const match = /^hugepages-(\d+)kB$/.exec(name);
  return match ? Number(match[1]) : undefined;
}

/** The counters kept per page size, as the kernel names its files. */
export const HUGEPAGE_COUNTERS = [
  'free_hugepages',
  'nr_hugepages',
  'nr_hugepages_mempolicy',
  'nr_overcommit_hugepages',
  'resv_hugepages',
  'surplus_hugepages',
] as const;

export type HugepageCounter = (typeof HUGEPAGE_COUNTERS)[number];

/** One page size's counters, plus what VMs may still take (`vm.free_hugepages`). */
export type HugepageState = Record<HugepageCounter, number> & { 'vm.free_hugepages': number };

/**
 * A page size's state from its counter files. `reserved` pages are kept back from VMs (the
 * daemon's own reservation); what VMs may take never goes below zero.
 */
export function hugepageState(counters: Partial<Record<HugepageCounter, number>>, reserved = 0): HugepageState {
  const state = Object.fromEntries(HUGEPAGE_COUNTERS.map((k) => [k, counters[k] ?? 0])) as Record<HugepageCounter, number>;
  return { ...state, 'vm.free_hugepages': Math.max(state.free_hugepages - reserved, 0) };
}

export type ThpState = 'always' | 'madvise' | 'never';

/** `always [madvise] never` -> `madvise`: the bracketed choice is the one in force. */
export function parseThpEnabled(text: string | undefined): ThpState | undefined {
  const choice = text === undefined ? undefined : selectedChoice(text);
  return choice === 'always' || choice === 'madvise' || choice === 'never' ? choice : undefined;
}
