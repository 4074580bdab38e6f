/**
 * Host figures from Host.getStats (HostMonitor.stats), as vdsm's host report_stats sent them until
 * 2017 (docs/protocol.md, "Metrics names"). Keys the stats do not carry are left out rather than sent as 0.
 */
import { MetricBatch } from './batch.js';
import type { Family } from './family.js';
import { HOST } from './names.js';

/** Host.getStats key → family, for the plain figures. */
const PLAIN: readonly (readonly [string, Family])[] = [
  ['memAvailable', HOST.memAvailable],
  ['memCommitted', HOST.memCommitted],
  ['memFree', HOST.memFree],
  ['memUsed', HOST.memUsed],
  ['anonHugePages', HOST.anonHugePages],
  ['swapTotal', HOST.swapTotal],
  ['swapFree', HOST.swapFree],
  ['vmActive', HOST.vmActive],
  ['vmCount', HOST.vmCount],
  ['cpuLoad', HOST.cpuLoad],
  ['cpuUser', HOST.cpuUser],
  ['cpuSys', HOST.cpuSys],
  ['cpuIdle', HOST.cpuIdle],
  ['cpuSysVdsmd', HOST.cpuSysVdsmd],
  ['cpuUserVdsmd', HOST.cpuUserVdsmd],
  ['ksmPages', HOST.ksmPages],
  ['ksmCpu', HOST.ksmCpu],
  ['elapsedTime', HOST.elapsedTime],
];

/** network[<ifname>] key → family. */
const NIC: readonly (readonly [string, Family])[] = [
  ['speed', HOST.nicSpeed],
  ['rxErrors', HOST.nicRxErrors],
  ['txErrors', HOST.nicTxErrors],
  ['rxDropped', HOST.nicRxDropped],
  ['txDropped', HOST.nicTxDropped],
  ['rx', HOST.nicRx],
  ['tx', HOST.nicTx],
];

type Figure = number | string | undefined;

function figure(v: unknown): Figure {
  return typeof v === 'number' || typeof v === 'string' ? v : undefined;
}

export function hostMetrics(stats: Readonly<Record<string, unknown>>, batch = new MetricBatch()): MetricBatch {
  for (const [key, f] of PLAIN) batch.add(f, figure(stats[key]));
  // vdsm sent the score only when hosted-engine HA is configured on the host.
  const ha = stats['haStats'] as { configured?: unknown; score?: unknown } | undefined;
  if (ha?.configured === true) batch.add(HOST.haScore, figure(stats['haScore'] ?? ha.score));
  const network = stats['network'];
  if (network !== null && typeof network === 'object') {
    for (const [ifname, nic] of Object.entries(network as Record<string, Record<string, unknown>>)) {
      const labels = [ifname];
      for (const [key, f] of NIC) batch.add(f, figure(nic[key]), labels);
    }
  }
  return batch;
}
