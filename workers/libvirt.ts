/**
 * piscina task module for libvirt (contract: src/tasks/libvirt.ts): each export takes plain data
 * and returns plain data. Calls block this worker thread, never the main one. Each worker thread
 * holds its own reference to the process-wide connection for a URI (opened on first use, kept for
 * the thread's life).
 *
 * libvirt failures come back as data (`{ ok: false, error }`) where a task can partly fail, and
 * as a thrown Error otherwise: structured cloning would strip a LibvirtError's fields, so callers
 * rebuild one with LibvirtError.fromData when they need it.
 */
import { connectionFor, libvirtVerbs, type LibvirtVerb } from '../src/virt/libvirt/blocking.js';
import { LibvirtError } from '../src/virt/libvirt/errors.js';
import type { Outcome } from '../src/virt/libvirt/outcome.js';
import type { DomainStatsRecord } from '../src/virt/libvirt/types.js';
import { sampleDomains } from '../src/virt/sampling/per-domain.js';
import type {
  BulkStatsTask,
  DomainStatsResult,
  DomainStatsTask,
  LibvirtTasks,
  NodeSample,
  VerbResult,
  VerbTask,
} from '../src/tasks/libvirt.js';

function attempt<T>(fn: () => T): Outcome<T> {
  try {
    return { ok: true, value: fn() };
  } catch (err) {
    if (err instanceof LibvirtError) return { ok: false, error: err.toData() };
    throw err;
  }
}

export function domainStats(task: DomainStatsTask): DomainStatsResult {
  const conn = connectionFor(task.uri);
  return sampleDomains(task.domains, (domain) => conn.sampleDomain(domain.uuid, domain));
}

export function bulkStats(task: BulkStatsTask): Outcome<DomainStatsRecord[]> {
  const conn = connectionFor(task.uri);
  return attempt(() =>
    task.uuids === undefined
      ? conn.allDomainStats(task.groups ?? 0, task.flags ?? 0)
      : conn.domainListStats(task.uuids, task.groups ?? 0, task.flags ?? 0),
  );
}

export function hostInfo(task: { uri: string }): Outcome<NodeSample> {
  const conn = connectionFor(task.uri);
  return attempt(() => ({ host: conn.describe(), node: conn.nodeInfo(), cpu: conn.nodeCpuStats() }));
}

export function verb<V extends LibvirtVerb>(task: VerbTask<V>): Outcome<VerbResult<V>> {
  // The name comes from another thread: only the blocking face's calls, never the holder's close.
  if (!libvirtVerbs.has(task.verb)) throw new TypeError(`not a libvirt verb: ${String(task.verb)}`);
  const conn = connectionFor(task.uri);
  const method = conn[task.verb] as (...args: unknown[]) => VerbResult<V>;
  return attempt(() => method.apply(conn, task.args as unknown[]));
}

export default verb;

// The compiler checks these exports against the contract the main thread calls through.
({ verb, hostInfo, domainStats, bulkStats }) satisfies LibvirtTasks;
