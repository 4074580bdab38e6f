/** NUMA facts from /sys/devices/system/node and /proc/sys/kernel/numa_balancing. */
import { parseMeminfo } from '../proc.js';

/** capabilities' autoNumaBalancing: 0 off, 1 on, 2 unknown (no such sysctl: kernel without NUMA balancing). */
export type AutoNumaBalancing = 0 | 1 | 2;

export function parseNumaBalancing(text: string | undefined): AutoNumaBalancing {
  const value = text?.trim();
  if (value === '0') return 0;
  // Newer kernels also write 2 (memory tiering) or 3: balancing is on either way.
  if (value !== undefined && /^[1-9]\d*$/.test(value)) return 1;
  return 2;
}

/** nodeN/distance: `10 21` -> [10, 21]. */
export function parseNodeDistances(text: string): number[] {
  return text.trim().split(/\s+/).filter((v) => v !== '').map(Number);
}

export interface NodeMemory {
  totalKiB: number;
  freeKiB: number;
}

/** nodeN/meminfo: /proc/meminfo's lines, each prefixed with `Node N `. */
export function parseNodeMeminfo(text: string): NodeMemory {
  const fields = parseMeminfo(text.replace(/^Node\s+\d+\s+/gm, ''));
  return { totalKiB: fields['MemTotal'] ?? 0, freeKiB: fields['MemFree'] ?? 0 };
}

/** getStats' numaNodeMemFree entry: free MiB as a string and the used percentage. */
export function nodeMemFree(memory: NodeMemory): { memFree: string; memPercent: number } {
  const percent = memory.totalKiB > 0 ? Math.round((100 * (memory.totalKiB - memory.freeKiB)) / memory.totalKiB) : 0;
  return { memFree: String(Math.floor(memory.freeKiB / 1024)), memPercent: percent };
}
