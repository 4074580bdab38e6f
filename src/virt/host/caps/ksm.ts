/**
 * Kernel samepage merging: its state from /sys/kernel/mm/ksm, and the CPU the ksmd kernel thread
 * spends, from its /proc/<pid>/stat (user + system clock ticks) sampled twice.
 */
import { parsePidStat } from '../proc.js';

export interface KsmState {
  /** run = 1: ksmd is merging. */
  running: boolean;
  /** pages_to_scan: how many pages ksmd scans per wake-up (getStats' ksmPages). */
  pagesToScan: number;
  mergeAcrossNodes: boolean;
  /** pages_sharing: pages deduplicated into shared ones (memShared). */
  pagesSharing: number;
}

export function ksmState(files: { run?: number; pages_to_scan?: number; merge_across_nodes?: number; pages_sharing?: number }): KsmState {
  return {
    running: files.run === 1,
    pagesToScan: files.pages_to_scan ?? 0,
    // The kernel's default is to merge across nodes; an old kernel has no such file.
    mergeAcrossNodes: (files.merge_across_nodes ?? 1) === 1,
    pagesSharing: files.pages_sharing ?? 0,
  };
}

/** utime + stime of a /proc/<pid>/stat line, in clock ticks. */
export function cpuTicksOfStat(text: string): number | undefined {
  const { utime, stime } = parsePidStat(text);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : undefined;
}

/** The command name of a /proc/<pid>/stat line. */
export function commandOfStat(text: string): string | undefined {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  return open >= 0 && close > open ? text.slice(open + 1, close) : undefined;
}

/** Clock ticks per second of /proc's times (USER_HZ); 100 on every Linux ABI Node runs on. */
export const USER_HZ = 100;

/**
 * ksmCpu: the percentage of one CPU ksmd used between two samples of its ticks, whole, as MOM
 * reports it. 0 without a previous sample or when time did not advance.
 */
export function ksmCpuPercent(previousTicks: number | undefined, currentTicks: number | undefined, elapsedSeconds: number): number {
  if (previousTicks === undefined || currentTicks === undefined || elapsedSeconds <= 0) return 0;
  const used = Math.max(currentTicks - previousTicks, 0) / USER_HZ;
  return Math.round((100 * used) / elapsedSeconds);
}
