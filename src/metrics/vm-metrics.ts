/**
 * Per-VM figures from the VM stats element (vm-stats.ts, what VM.getStats answers), under vdsm's
 * historical names `vms.<vmName>.*` (docs/protocol.md, "Metrics names"): the same numbers the engine reads, so a
 * dashboard and the engine never disagree. A VM without samples yet (or Down) sends nothing.
 */
import type { DiskStats, NicStats, VmStatsElement } from '../virt/vm-stats.js';
import { MetricBatch } from './batch.js';
import type { Family } from './family.js';
import { VM } from './names.js';

const DISK: readonly (readonly [keyof DiskStats, Family])[] = [
  ['readLatency', VM.diskReadLatency],
  ['readOps', VM.diskReadOps],
  ['readBytes', VM.diskReadBytes],
  ['readRate', VM.diskReadRate],
  ['writtenBytes', VM.diskWriteBytes],
  ['writeOps', VM.diskWriteOps],
  ['writeLatency', VM.diskWriteLatency],
  ['writeRate', VM.diskWriteRate],
  ['apparentsize', VM.diskApparentSize],
  ['flushLatency', VM.diskFlushLatency],
  ['truesize', VM.diskTrueSize],
];

const NIC: readonly (readonly [keyof NicStats, Family])[] = [
  ['speed', VM.nicSpeed],
  ['rx', VM.nicRxBytes],
  ['rxErrors', VM.nicRxErrors],
  ['rxDropped', VM.nicRxDropped],
  ['tx', VM.nicTxBytes],
  ['txErrors', VM.nicTxErrors],
  ['txDropped', VM.nicTxDropped],
];

const BALLOON = [
  ['balloon_max', VM.balloonMax],
  ['balloon_min', VM.balloonMin],
  ['balloon_target', VM.balloonTarget],
  ['balloon_cur', VM.balloonCur],
] as const;

type Figure = number | string | undefined;
const figure = (v: unknown): Figure => (typeof v === 'number' || typeof v === 'string' ? v : undefined);

/** Adds one VM's figures to the batch (a cycle's batch holds every VM). */
export function vmMetrics(element: Readonly<VmStatsElement>, batch = new MetricBatch()): MetricBatch {
  const name = element['vmName'];
  if (typeof name !== 'string' || !('cpuUser' in element)) return batch;
  const vm = [name];
  batch.add(VM.cpuUser, figure(element['cpuUser']), vm);
  batch.add(VM.cpuSys, figure(element['cpuSys']), vm);
  batch.add(VM.cpuUsage, figure(element['cpuUsage']), vm);
  const balloon = element['balloonInfo'] as Record<string, unknown> | undefined;
  if (balloon) for (const [key, f] of BALLOON) batch.add(f, figure(balloon[key]), vm);
  const memory = element['memoryStats'] as Record<string, unknown> | undefined;
  if (memory) for (const key in memory) batch.add(VM.mem, figure(memory[key]), [name, key]);
  const disks = element['disks'] as Record<string, DiskStats> | undefined;
  if (disks) {
    for (const drive in disks) {
      const d = disks[drive]!;
      const labels = [name, drive];
      for (const [key, f] of DISK) batch.add(f, d[key], labels);
    }
  }
  const network = element['network'] as Record<string, NicStats> | undefined;
  if (network) {
    for (const nic in network) {
      const n = network[nic]!;
      const labels = [name, nic];
      for (const [key, f] of NIC) batch.add(f, figure(n[key]), labels);
    }
  }
  return batch;
}
