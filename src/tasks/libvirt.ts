/**
 * The contract of workers/libvirt.ts: single libvirt calls by name for the API verbs, the host's
 * node facts for host sampling, and the raw stats paths the libvirt tests and benchmark measure.
 * libvirt failures come back as data (Outcome) where a caller wants them as vdsm errors:
 * structured cloning would strip a thrown LibvirtError's fields.
 */
import type { LibvirtCalls, LibvirtVerb } from '../virt/libvirt/blocking.js';
import { unwrap, type Outcome } from '../virt/libvirt/outcome.js';
import type { DomainDevices, DomainSample, DomainStatsRecord, HostIdentity, NodeCpuStats, NodeInfo } from '../virt/libvirt/types.js';
import type { PerDomainResult } from '../virt/sampling/per-domain.js';
import type { DispatchOptions } from '../concurrency/index.js';
import { workerTasks, type Dispatcher } from './contract.js';

export type { LibvirtVerb, Outcome };

/** What libvirt says about the host, for the host monitor. */
export interface NodeSample {
  host: HostIdentity;
  node: NodeInfo;
  cpu: NodeCpuStats;
}

export interface DomainStatsTask {
  uri: string;
  domains: readonly (DomainDevices & { uuid: string })[];
}

/** `samples[i]` is domain i's sample from the per-domain calls (info, block, interface, memory). */
export type DomainStatsResult = PerDomainResult<DomainSample>;

export interface BulkStatsTask {
  uri: string;
  /** Only these domains (virDomainListGetStats); all of them when absent (virConnectGetAllDomainStats). */
  uuids?: readonly string[];
  /** StatsGroup bits; 0 = every group the driver has. */
  groups?: number;
  flags?: number;
}

/** One libvirt call by name, e.g. `{ uri, verb: 'suspend', args: [uuid] }`. */
export interface VerbTask<V extends LibvirtVerb = LibvirtVerb> {
  uri: string;
  verb: V;
  args: Parameters<LibvirtCalls[V]>;
}

export type VerbResult<V extends LibvirtVerb> = ReturnType<LibvirtCalls[V]>;

export interface LibvirtTasks {
  verb<V extends LibvirtVerb>(task: VerbTask<V>): Outcome<VerbResult<V>>;
  hostInfo(task: { uri: string }): Outcome<NodeSample>;
  /** The per-domain path for a list of domains, as libvirt gives it (benchmarks, tests). */
  domainStats(task: DomainStatsTask): DomainStatsResult;
  /** The bulk path; the test driver fills only the `state` group. */
  bulkStats(task: BulkStatsTask): Outcome<DomainStatsRecord[]>;
}

export const libvirtTasks = workerTasks<LibvirtTasks>('libvirt', { verb: true, hostInfo: true, domainStats: true, bulkStats: true });

/**
 * One libvirt call by name in a worker, its result unwrapped: the value, or a LibvirtError.
 * The contract's caller cannot carry the verb's own type parameter: this cast says the result is
 * this verb's.
 */
export async function callVerb<V extends LibvirtVerb>(
  dispatcher: Dispatcher,
  task: VerbTask<V>,
  options?: DispatchOptions<Outcome<VerbResult<LibvirtVerb>>>,
): Promise<VerbResult<V>> {
  return unwrap((await libvirtTasks.verb(dispatcher, task, options)) as Outcome<VerbResult<V>>);
}
