/**
 * piscina task module for libvirt: each export takes plain data and returns plain data. Calls
 * block this worker thread, never the main one. Each worker thread holds its own reference to
 * the process-wide connection for a URI (opened on first use, kept for the thread's life).
 *
 * libvirt failures come back as data (`{ ok: false, error }`) where a task can partly fail, and
 * as a thrown Error otherwise: structured cloning would strip a LibvirtError's fields, so callers
 * rebuild one with LibvirtError.fromData when they need it.
 *
 * Run one with `pool.run(task, { name: 'domainStats' })`; the default export is `verb`.
 */
import {
  LibvirtConnection,
  LibvirtError,
  isNoDomain,
  type DomainDevices,
  type DomainSample,
  type DomainStatsRecord,
  type HostIdentity,
  type LibvirtErrorData,
  type NodeCpuStats,
  type NodeInfo,
} from '../src/virt/libvirt/index.js';
import type { Outcome } from '../src/virt/libvirt/outcome.js';
import { connectionFor } from '../src/virt/libvirt/worker-connection.js';


export type { Outcome };

function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof LibvirtError) return { ok: false, error: err.toData() };
    throw err;
  }
}

export interface DomainStatsTask {
  uri: string;
  domains: readonly (DomainDevices & { uuid: string })[];
}

export interface DomainStatsResult {
  /** Aligned with `task.domains`: `samples[i]` is domain i's sample, null when it failed. */
  samples: (DomainSample | null)[];
  /** Domains that no longer exist (VIR_ERR_NO_DOMAIN). */
  missing: string[];
  /** Domains whose sampling failed otherwise. */
  failed: Record<string, LibvirtErrorData>;
  /** Time spent in libvirt and decoding, inside the worker (excludes queueing and transfer). */
  elapsedMs: number;
}

/** The per-domain sampling path (info, block, interface, memory stats) for a list of domains. */
export function domainStats(task: DomainStatsTask): DomainStatsResult {
  const conn = connectionFor(task.uri);
  const t0 = performance.now();
  // An array, not an object keyed by UUID: a thousand fresh keys per task cost more than the
  // libvirt calls of a hundred domains.
  const result: DomainStatsResult = { samples: [], missing: [], failed: {}, elapsedMs: 0 };
  for (const domain of task.domains) {
    try {
      result.samples.push(conn.sampleDomain(domain.uuid, domain));
    } catch (err) {
      result.samples.push(null);
      if (isNoDomain(err)) result.missing.push(domain.uuid);
      else if (err instanceof LibvirtError) result.failed[domain.uuid] = err.toData();
      else throw err;
    }
  }
  result.elapsedMs = performance.now() - t0;
  return result;
}

export interface BulkStatsTask {
  uri: string;
  /** Only these domains (virDomainListGetStats); all of them when absent (virConnectGetAllDomainStats). */
  uuids?: readonly string[];
  /** StatsGroup bits; 0 = every group the driver has. */
  groups?: number;
  flags?: number;
}

/** The bulk path. The test driver fills only the `state` group. */
export function bulkStats(task: BulkStatsTask): Outcome<DomainStatsRecord[]> {
  const conn = connectionFor(task.uri);
  return attempt(() =>
    task.uuids === undefined
      ? conn.allDomainStats(task.groups ?? 0, task.flags ?? 0)
      : conn.domainListStats(task.uuids, task.groups ?? 0, task.flags ?? 0),
  );
}

export interface HostSample {
  host: HostIdentity;
  node: NodeInfo;
  cpu: NodeCpuStats;
}

export function hostInfo(task: { uri: string }): Outcome<HostSample> {
  const conn = connectionFor(task.uri);
  return attempt(() => ({ host: conn.describe(), node: conn.nodeInfo(), cpu: conn.nodeCpuStats() }));
}

/** The LibvirtConnection methods a verb task may call (all but the holder's own lifecycle). */
export type VerbName = Exclude<
  {
    [K in keyof LibvirtConnection]: LibvirtConnection[K] extends (...args: never[]) => unknown ? K : never;
  }[keyof LibvirtConnection],
  'open' | 'openAsync' | 'close' | 'simulateDrop' | 'subscribe' | 'isOpen'
>;

const VERBS: ReadonlySet<string> = new Set<VerbName>([
  'describe', 'nodeInfo', 'nodeCpuStats', 'capabilities', 'hostname', 'hypervisorType', 'hypervisorVersion',
  'libVersion', 'connectedUri', 'listDomains', 'lookupByUuid', 'lookupByName', 'defineXml', 'createXml', 'start',
  'destroy', 'shutdown', 'reboot', 'suspend', 'resume', 'undefine', 'identity', 'info', 'state', 'xmlDesc',
  'isActive', 'isPersistent', 'setVcpus', 'setMemory', 'qemuAgentCommand', 'migrateToUri', 'allDomainStats',
  'domainListStats', 'blockStats', 'interfaceStats', 'memoryStats', 'sampleDomain',
]);

export interface VerbTask<V extends VerbName = VerbName> {
  uri: string;
  verb: V;
  args: Parameters<LibvirtConnection[V]>;
}

/** One libvirt call by name, e.g. `{ uri, verb: 'suspend', args: [uuid] }`. */
export function verb<V extends VerbName>(task: VerbTask<V>): Outcome<ReturnType<LibvirtConnection[V]>> {
  if (!VERBS.has(task.verb)) throw new TypeError(`not a libvirt verb: ${String(task.verb)}`);
  const conn = connectionFor(task.uri);
  const method = conn[task.verb] as (...args: unknown[]) => ReturnType<LibvirtConnection[V]>;
  return attempt(() => method.apply(conn, task.args as unknown[]));
}

export default verb;
