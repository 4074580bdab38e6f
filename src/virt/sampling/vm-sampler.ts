/**
 * VM sampling, the body of a non-exclusive periodic Operation (vdsm's VMBulkstatsMonitor;
 * its rules are named in docs/protocol.md, "Sampling and executor rules"). All libvirt calls run in workers (workers/vm-sampling.ts);
 * this main-thread part picks the path, files the results into the StatsCache and keeps the
 * books on unresponsive VMs.
 *
 * - Every cycle is stamped with the cache's clock before anything is dispatched; the batch goes
 *   into StatsCache.put with that stamp, so a late result of a discarded worker is dropped there
 *   when a newer batch exists. A cycle stores at most one batch (its first result to arrive).
 * - Fast path: one bulk call (virConnectGetAllDomainStats, running domains, NOWAIT) for all VMs.
 * - A driver that does not fill the bulk groups (libvirt's test driver: only `state`) is detected
 *   from the first answer with running domains, and from then on cycles take the per-VM path with
 *   the per-domain calls; every 20th cycle tries the bulk call again, so a host that once answered
 *   without CPU stats (every VM in a transient state) is not sampled the slow way for ever.
 * - Per-VM path: the monitorable VMs that are neither in the skip cache nor stuck in a call,
 *   split into a few chunks sampled in parallel, one VM at a time inside a chunk. It is taken
 *   while a bulk call is still in flight (stuck; rule B2 of docs/protocol.md), while any VM is in the skip cache (rule D15) or
 *   stuck, and always for drivers without bulk stats. A VM whose call failed goes into the skip
 *   cache for 40 s (vdsm's TTL, not a multiple of the 15 s period nor of QEMU's 30 s monitor
 *   timeout); a VM whose call was discarded on timeout (found through the chunk's progress
 *   counter, shared with the worker) goes there too and stays out until that call returns.
 * - A VM that is gone (VIR_ERR_NO_DOMAIN) is reported to onVanished; nothing else happens to it.
 */
import { performance } from 'node:perf_hooks';
import { ResourceExhausted, TaskTimeout } from '../../concurrency/errors.js';
import type { OperationContext } from '../../concurrency/operation.js';
import type { Settled } from '../../concurrency/task.js';
import { getLogger, type Logger } from '../../log.js';
import { vmSamplingTasks, type SampleAllResult, type SampleAllTask, type SampleEachResult, type SampleEachTask } from '../../tasks/vm-sampling.js';
import { ListDomains, StatsFlags, StatsGroup } from '../libvirt/constants.js';
import { ExpiringCache } from './expiring-cache.js';
import type { StatsCache } from './stats-cache.js';
import type { VmSample } from './vm-sample.js';

/** What the sampler needs of a VM (a Vm from the registry fits). */
export interface SampledVm {
  readonly id: string;
  /** False during incoming migration, restore, or when not running: no per-VM calls then. */
  readonly monitorable: boolean;
  readonly devices: {
    readonly disks: readonly { readonly name: string }[];
    readonly nics: readonly { readonly name?: string | undefined; readonly mac?: string | undefined }[];
  };
}

/** 'unknown' until a bulk answer with running domains tells whether the driver fills the groups. */
export type SamplingMode = 'unknown' | 'bulk' | 'domain';

export interface VmSamplerOptions {
  uri: string;
  cache: StatsCache<VmSample>;
  /** Every VM of the registry, read at the start of each cycle. */
  vms: () => Iterable<SampledVm>;
  /** A VM's domain no longer exists (VIR_ERR_NO_DOMAIN). */
  onVanished?: (vmId: string) => void;
  /** Most per-VM tasks of one cycle (default 4: the periodic executor's workers). */
  chunks?: number;
  /** Fewest VMs worth a task of their own (default 50). */
  minChunk?: number;
  /** Seconds a VM whose call failed is left out (default 40, vdsm's). */
  skipTtl?: number;
  /** Cycles between bulk retries once the driver looked like it has no bulk stats (default 20). */
  reprobeCycles?: number;
  /** Ask libvirt not to wait for a busy QEMU monitor (default true, vdsm's nowait_domain_stats). */
  nowait?: boolean;
  log?: Logger;
}

/** What the last finished cycle did, for logs, tests and the benchmark. */
export interface CycleReport {
  sampledAt: number;
  path: 'fast' | 'per-vm';
  /** VMs in the stored batch (0 when nothing was stored). */
  sampled: number;
  stored: boolean;
  elapsedMs: number;
}

/** vdsm's BULK_STATS_TYPES. */
export const BULK_STATS_GROUPS =
  StatsGroup.STATE | StatsGroup.CPU_TOTAL | StatsGroup.BALLOON | StatsGroup.VCPU | StatsGroup.INTERFACE | StatsGroup.BLOCK;

/** One cycle's bookkeeping: its stamp, and whether a batch of it reached the cache. */
interface Cycle {
  readonly sampledAt: number;
  /** Ids of every VM known at the start; records of other domains are not kept. */
  readonly known: ReadonlySet<string>;
  stored: boolean;
}

export class VmSampler {
  private readonly uri: string;
  private readonly cache: StatsCache<VmSample>;
  private readonly vms: () => Iterable<SampledVm>;
  private readonly onVanished: (vmId: string) => void;
  private readonly maxChunks: number;
  private readonly minChunk: number;
  private readonly nowait: boolean;
  private readonly log: Logger;
  /** VMs whose last call failed, left out until the entry expires. */
  private readonly skip: ExpiringCache<string, true>;
  /** VMs inside a discarded call that has not come back. */
  private readonly stuck = new Set<string>();
  /** A fast-path call has not come back (vdsm's semaphore). */
  private bulkInFlight = false;
  private currentMode: SamplingMode = 'unknown';
  private readonly reprobeCycles: number;
  private cyclesSinceProbe = 0;
  private last: CycleReport | undefined;

  constructor(options: VmSamplerOptions) {
    this.uri = options.uri;
    this.cache = options.cache;
    this.vms = options.vms;
    const vanished = options.onVanished;
    this.onVanished = (vmId) => {
      try {
        vanished?.(vmId);
      } catch (err) {
        this.log.error({ err, vmId }, 'vanished VM callback failed');
      }
    };
    this.maxChunks = Math.max(1, options.chunks ?? 4);
    this.minChunk = Math.max(1, options.minChunk ?? 50);
    this.nowait = options.nowait ?? true;
    this.reprobeCycles = Math.max(1, options.reprobeCycles ?? 20);
    this.log = options.log ?? getLogger('vm-sampling');
    this.skip = new ExpiringCache(options.skipTtl ?? 40, () => this.cache.clock());
  }

  /**
   * One sampling cycle: the Operation body (`new Operation(sampler.sample, period, scheduler,
   * { executor: periodic })`), or awaited from one. Bound, so it can be passed as is.
   */
  readonly sample = (context: OperationContext): Promise<void> => this.cycle(context);

  get mode(): SamplingMode {
    return this.currentMode;
  }

  get lastCycle(): CycleReport | undefined {
    return this.last;
  }

  /** Whether the VM is left out of per-VM sampling now (skip cache or a stuck call). */
  isSkipped(vmId: string): boolean {
    return this.stuck.has(vmId) || this.skip.has(vmId);
  }

  /** Drops what the sampler remembers of a VM (call when it leaves the registry). */
  forget(vmId: string): void {
    this.skip.delete(vmId);
    this.stuck.delete(vmId);
  }

  private async cycle(context: OperationContext): Promise<void> {
    const t0 = performance.now();
    // Stamped before any call, so a late batch of an older cycle is recognisably older.
    const sampledAt = this.cache.clock();
    const all = [...this.vms()];
    const cycle: Cycle = { sampledAt, known: new Set(all.map((vm) => vm.id)), stored: false };
    const bulkWorth = this.currentMode !== 'domain' || ++this.cyclesSinceProbe >= this.reprobeCycles;
    // isEmpty() also purges expired entries (vdsm's bool(cache)).
    const fast = bulkWorth && !this.bulkInFlight && this.stuck.size === 0 && this.skip.isEmpty();
    let path: CycleReport['path'] = 'fast';
    let sampled = 0;
    if (fast) {
      const outcome = await this.fastPath(context, cycle);
      if (outcome === 'unfilled') {
        path = 'per-vm';
        sampled = await this.perVmPath(context, cycle, all);
      } else {
        sampled = outcome;
      }
    } else {
      path = 'per-vm';
      sampled = await this.perVmPath(context, cycle, all);
    }
    const elapsedMs = performance.now() - t0;
    this.last = { sampledAt, path, sampled, stored: cycle.stored, elapsedMs };
    this.log.debug('sampled timestamp %s elapsed %s path %s domains %d', sampledAt.toFixed(3), (elapsedMs / 1000).toFixed(3), path, sampled);
  }

  /** One bulk call; 'unfilled' when the driver left the groups out. Returns the VMs stored. */
  private async fastPath(context: OperationContext, cycle: Cycle): Promise<number | 'unfilled'> {
    const task: SampleAllTask = {
      uri: this.uri,
      groups: BULK_STATS_GROUPS,
      flags: ListDomains.RUNNING | (this.nowait ? StatsFlags.NOWAIT : 0),
    };
    this.bulkInFlight = true;
    let result: SampleAllResult;
    try {
      result = await vmSamplingTasks.sampleAll(context, task, {
        onLate: (outcome) => this.lateBulk(cycle, outcome),
      });
    } catch (err) {
      // A discarded call is still running: the flag stays up until its late outcome.
      if (!(err instanceof TaskTimeout)) this.bulkInFlight = false;
      throw err;
    }
    this.bulkInFlight = false;
    if (this.learn(result) === 'domain') return 'unfilled';
    const batch = this.bulkBatch(cycle, result);
    this.store(cycle, batch);
    return batch.size;
  }

  private lateBulk(cycle: Cycle, outcome: Settled<SampleAllResult>): void {
    this.bulkInFlight = false;
    if (outcome.status === 'rejected') {
      this.log.warn({ err: outcome.reason }, 'late vm sampling call failed');
      return;
    }
    if (this.learn(outcome.value) === 'domain') return;
    this.store(cycle, this.bulkBatch(cycle, outcome.value));
  }

  /** Learns from a bulk answer whether the driver fills the groups. */
  private learn(result: SampleAllResult): SamplingMode {
    if (result.filled === false) {
      if (this.currentMode !== 'domain') this.log.info('the driver does not fill the bulk stats groups: sampling per domain');
      this.currentMode = 'domain';
      this.cyclesSinceProbe = 0;
    } else if (result.filled === true) {
      if (this.currentMode === 'domain') this.log.info('the driver fills the bulk stats groups again: bulk sampling');
      this.currentMode = 'bulk';
    }
    return this.currentMode;
  }

  private bulkBatch(cycle: Cycle, result: SampleAllResult): Map<string, VmSample> {
    const batch = new Map<string, VmSample>();
    result.uuids.forEach((uuid, i) => {
      if (cycle.known.has(uuid)) batch.set(uuid, result.samples[i]!);
    });
    return batch;
  }

  /** Chunks of responsive VMs sampled in parallel, one VM at a time. Returns the VMs stored. */
  private async perVmPath(context: OperationContext, cycle: Cycle, all: readonly SampledVm[]): Promise<number> {
    const targets = all.filter((vm) => vm.monitorable && !this.stuck.has(vm.id) && !this.skip.has(vm.id));
    if (targets.length === 0) {
      // As vdsm: nothing to ask is still a (empty) batch.
      this.store(cycle, new Map());
      return 0;
    }
    const source: SampleEachTask['source'] = this.currentMode === 'bulk' ? 'bulk' : 'domain';
    const chunks = split(targets, this.maxChunks, this.minChunk);
    const runs = chunks.map((chunk) => this.dispatchChunk(context, cycle, chunk, source));
    const settled = await Promise.allSettled(runs.map((r) => r.promise));
    const batch = new Map<string, VmSample>();
    const errors: unknown[] = [];
    settled.forEach((outcome, i) => {
      const { chunk, progress } = runs[i]!;
      if (outcome.status === 'fulfilled') {
        this.collect(chunk, outcome.value, batch);
      } else if (outcome.reason instanceof TaskTimeout) {
        this.markStuck(chunk, progress);
        errors.push(outcome.reason);
      } else {
        errors.push(outcome.reason);
      }
    });
    if (errors.length === chunks.length) throw errors.find((e) => !(e instanceof TaskTimeout)) ?? errors[0];
    if (errors.length > 0) this.logChunkErrors(errors, chunks.length);
    this.store(cycle, batch);
    return batch.size;
  }

  private dispatchChunk(
    context: OperationContext,
    cycle: Cycle,
    chunk: readonly SampledVm[],
    source: SampleEachTask['source'],
  ): { chunk: readonly SampledVm[]; progress: Int32Array; promise: Promise<SampleEachResult> } {
    const progress = new Int32Array(new SharedArrayBuffer(4));
    progress[0] = -1;
    const task: SampleEachTask = {
      uri: this.uri,
      source,
      groups: BULK_STATS_GROUPS,
      flags: this.nowait ? StatsFlags.NOWAIT : 0,
      domains: chunk.map((vm) => (source === 'bulk' ? { uuid: vm.id } : { uuid: vm.id, ...devicesOf(vm) })),
      progress,
    };
    let promise: Promise<SampleEachResult>;
    try {
      promise = vmSamplingTasks.sampleEach(context, task, {
        onLate: (outcome) => this.lateChunk(cycle, chunk, outcome),
      });
    } catch (err) {
      promise = Promise.reject(err);
    }
    return { chunk, progress, promise };
  }

  /** Files a chunk's samples into the batch; reports vanished VMs, skips failed ones. */
  private collect(chunk: readonly SampledVm[], result: SampleEachResult, batch: Map<string, VmSample>): void {
    result.samples.forEach((sample, i) => {
      if (sample !== null) batch.set(chunk[i]!.id, sample);
    });
    for (const vmId of result.missing) this.onVanished(vmId);
    const failed = Object.keys(result.failed);
    for (const vmId of failed) this.skip.set(vmId, true);
    if (failed.length > 0) {
      const first = result.failed[failed[0]!]!;
      this.log.warn({ vms: failed, error: first.message }, 'sampling failed for %d VMs; skipping them for %ds', failed.length, this.skip.ttl);
    }
  }

  /** The VM the discarded chunk was inside goes out until its call returns, and 40 s more. */
  private markStuck(chunk: readonly SampledVm[], progress: Int32Array): void {
    const index = Atomics.load(progress, 0);
    const vm = chunk[index];
    if (vm === undefined) return; // the task never started, or finished its loop
    this.stuck.add(vm.id);
    this.skip.set(vm.id, true);
    this.log.warn({ vmId: vm.id }, 'VM %s unresponsive: its sampling call is stuck; leaving it out', vm.id);
  }

  private lateChunk(cycle: Cycle, chunk: readonly SampledVm[], outcome: Settled<SampleEachResult>): void {
    for (const vm of chunk) this.stuck.delete(vm.id);
    if (outcome.status === 'rejected') {
      this.log.warn({ err: outcome.reason }, 'late vm sampling call failed');
      return;
    }
    const batch = new Map<string, VmSample>();
    this.collect(chunk, outcome.value, batch);
    // Only a cycle that stored nothing (every chunk discarded) may still store.
    if (!this.store(cycle, batch)) this.log.debug('late samples of %d VMs dropped: their cycle is stored', batch.size);
  }

  /** At most one batch per cycle reaches the cache; the cache drops it if a newer one is there. */
  private store(cycle: Cycle, batch: Map<string, VmSample>): boolean {
    if (cycle.stored) return false;
    cycle.stored = true;
    for (const sample of batch.values()) sample.sampledAt = cycle.sampledAt;
    return this.cache.put(batch, cycle.sampledAt);
  }

  private logChunkErrors(errors: unknown[], chunks: number): void {
    const exhausted = errors.filter((e) => e instanceof ResourceExhausted).length;
    const timedOut = errors.filter((e) => e instanceof TaskTimeout).length;
    const other = errors.length - exhausted - timedOut;
    this.log.warn(
      { err: errors.find((e) => !(e instanceof ResourceExhausted) && !(e instanceof TaskTimeout)) },
      '%d of %d sampling tasks did not complete (%d queue full, %d timed out, %d failed)',
      errors.length, chunks, exhausted, timedOut, other,
    );
  }
}

/** Disk targets and NICs as the per-domain calls take them: the MAC first (the test driver wants it). */
function devicesOf(vm: SampledVm): { disks: string[]; nics: string[] } {
  const disks = vm.devices.disks.map((d) => d.name).filter((name) => name !== '');
  const nics: string[] = [];
  for (const nic of vm.devices.nics) {
    const path = nic.mac ?? nic.name;
    if (path) nics.push(path);
  }
  return { disks, nics };
}

/** At most `most` chunks of at least `least` items (but one chunk for a short list), evenly sized. */
export function split<T>(items: readonly T[], most: number, least: number): T[][] {
  const count = Math.max(1, Math.min(most, Math.floor(items.length / least)));
  const chunks: T[][] = [];
  for (let i = 0; i < count; i++) {
    chunks.push(items.slice(Math.floor((i * items.length) / count), Math.floor(((i + 1) * items.length) / count)));
  }
  return chunks;
}
