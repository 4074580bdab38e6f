/**
 * One live migration of a VM away from this host (vdsm's migration SourceThread):
 *
 * 1. The VM is "Migration Source" from the start, and waits for an outgoing slot.
 * 2. The destination's daemon is reached and pinged, then asked to take the VM
 *    (VM.migrationCreate with its domain XML). A busy destination (migrateLimit, 82) is asked
 *    again after the retry interval; any other refusal ends the migration with its error.
 * 3. libvirt migrates the domain peer to peer (one long call, in a worker). Meanwhile a monitor
 *    reads the job every monitor interval: progress events (never decreasing, 99 until the end)
 *    and the convergence schedule (downtime steps, then abort).
 * 4. Success: the VM goes Down here with exitReason 4, and a last VM_migration_status event
 *    carries the downtime. Failure or cancel: the libvirt job is aborted if it runs, the
 *    destination is told to destroy what it prepared, and the VM is Up here again; the error
 *    (code and message) is what VM.getMigrationStatus and the job report.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import type { JobRegistry } from '../jobs.js';
import { JobType } from '../libvirt/constants.js';
import type { DomainJobStats, MigrationParams } from '../libvirt/types.js';
import { ExitCode, ExitReason, exitInfo, type Vm } from '../vm.js';
import { ConvergenceTracker, type ConvergenceAction, type ConvergenceSchedule } from './convergence.js';
import { MigrationError, MigrationErrorCode } from './errors.js';
import { abortJob, changeBandwidth } from './job-control.js';
import { MigrationProgress } from './progress.js';
import type { OutgoingRequest } from './request.js';

/** A connection to the destination's daemon. */
export interface PeerConnection {
  call(method: string, params: Record<string, unknown>): Promise<unknown>;
  /** Called when the connection is lost: the destination's daemon is gone. */
  onLost(listener: () => void): void;
  close(): Promise<void>;
}

/** The libvirt calls a migration makes, each off the main thread. */
export interface MigrationLibvirt {
  /** The domain XML to send (migratable: no host-specific runtime details). */
  migratableXml(uuid: string): Promise<string>;
  /** Blocks in a worker until the migration ends; rejects with its libvirt error. */
  migrate(uuid: string, destinationUri: string, params: MigrationParams, flags: number): Promise<void>;
  jobStats(uuid: string, completed?: boolean): Promise<DomainJobStats>;
  abort(uuid: string): Promise<void>;
  setDowntime(uuid: string, ms: number): Promise<void>;
  setBandwidth(uuid: string, mibPerSecond: number): Promise<void>;
}

export interface OutgoingDeps {
  connect(dst: string): Promise<PeerConnection>;
  libvirt: MigrationLibvirt;
  /** Waits for an outgoing slot; the returned function gives it back. */
  slot(signal: AbortSignal): Promise<() => void>;
  /** Sends `|virt|VM_migration_status|<vmId>`. */
  statusEvent(vmId: string, status: { progress: number; downtime?: number; postcopy: boolean }): void;
  /** Where the migration shows as a job (Host.getJobs). */
  jobs: Pick<JobRegistry, 'add' | 'update'>;
  delay(ms: number, signal: AbortSignal): Promise<void>;
  /** Calls `tick` every interval until the returned function is called. */
  every(seconds: number, tick: () => Promise<void>): () => void;
  log: Logger;
}

export interface OutgoingSettings {
  /** The destination's libvirt URI for a destination host name. */
  libvirtUri(host: string): string;
  monitorIntervalSeconds: number;
  retryIntervalSeconds: number;
  /** Used when the engine sends no convergence schedule. */
  defaultSchedule: ConvergenceSchedule;
}

export type MigrationState = 'waiting' | 'preparing' | 'migrating' | 'done' | 'failed' | 'cancelled';

export class OutgoingMigration {
  private state: MigrationState = 'waiting';
  private readonly progress = new MigrationProgress();
  private readonly cancel = new AbortController();
  private downtime: number | undefined;
  private failure: MigrationError | undefined;
  /** Why the job was aborted, when not by a cancel: the schedule, or the destination gone. */
  private abortReason: string | undefined;
  /** Its id in Host.getJobs. */
  readonly jobId = randomUUID();
  readonly finished: Promise<void>;

  constructor(
    private readonly vm: Vm,
    private readonly request: OutgoingRequest,
    private readonly deps: OutgoingDeps,
    private readonly settings: OutgoingSettings,
  ) {
    this.vm.setStatus('Migration Source');
    this.vm.migrationReportsEnd = true;
    this.deps.jobs.add({ id: this.jobId, job_type: 'migration', status: 'running', progress: 0, description: `migration of VM ${vm.id} to ${request.dst}` });
    this.finished = this.run();
  }

  get status(): MigrationState {
    return this.state;
  }

  /** What VM.getMigrationStatus answers. */
  report(): { status: 'in_progress'; progress: number } | { status: 'done'; downtime: number } {
    return this.state === 'done' ? { status: 'done', downtime: this.downtime ?? 0 } : { status: 'in_progress', progress: this.progress.percent };
  }

  get error(): MigrationError | undefined {
    return this.failure;
  }

  get ended(): boolean {
    return this.state === 'done' || this.state === 'failed' || this.state === 'cancelled';
  }

  /** VM.migrateCancel: before libvirt starts, the run stops; during, the libvirt job is aborted. */
  async cancelMigration(): Promise<void> {
    if (this.ended) throw new MigrationError(MigrationErrorCode.migCancelErr, 'the migration has already ended');
    const running = this.state === 'migrating';
    this.cancel.abort();
    if (running) await abortJob(this.deps.libvirt, this.vm.id);
  }

  /** VM.migrateChangeParams: the bandwidth of the running migration. */
  async setBandwidth(mibPerSecond: number): Promise<void> {
    if (this.ended) throw new MigrationError(MigrationErrorCode.migNotInProgress, 'the migration has already ended');
    await changeBandwidth(this.deps.libvirt, this.vm.id, mibPerSecond);
  }

  private async run(): Promise<void> {
    let release: (() => void) | undefined;
    let peer: PeerConnection | undefined;
    let preparedThere = false;
    try {
      release = await this.deps.slot(this.cancel.signal);
      this.state = 'preparing';
      peer = await this.unlessCancelled(this.deps.connect(this.request.dst), (late) => void late.close().catch(() => undefined));
      await peer.call('Host.ping', {});
      const xml = await this.deps.libvirt.migratableXml(this.vm.id);
      await this.prepareDestination(peer, xml);
      preparedThere = true;
      this.checkCancelled();
      this.state = 'migrating';
      // Without its daemon the destination cannot take the VM up: stop sending it.
      peer.onLost(() => void this.destinationLost());
      await this.migrateDomain(xml);
      await this.succeeded();
    } catch (err) {
      if (preparedThere && peer) {
        // The destination removes what it prepared (a domain that arrived halfway included),
        // before the failure is reported: whoever reads it finds the destination clean.
        await peer.call('VM.destroy', { vmID: this.vm.id }).catch((e: unknown) => this.deps.log.warn({ vmId: this.vm.id, err: e }, 'the destination did not destroy its VM'));
      }
      this.failed(err);
    } finally {
      this.vm.migrationReportsEnd = false;
      release?.();
      await peer?.close().catch(() => undefined);
    }
  }

  /** `work`, or the cancel if it comes first (what `work` brings later goes to `late`). */
  private unlessCancelled<T>(work: Promise<T>, late: (value: T) => void): Promise<T> {
    const { signal } = this.cancel;
    return new Promise<T>((resolve, reject) => {
      const onCancel = (): void => reject(new MigrationError(MigrationErrorCode.migCancelErr, 'Migration canceled'));
      if (signal.aborted) onCancel();
      signal.addEventListener('abort', onCancel, { once: true });
      work.then(
        (value) => {
          signal.removeEventListener('abort', onCancel);
          if (signal.aborted) late(value);
          else resolve(value);
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onCancel);
          reject(err);
        },
      );
    });
  }

  private checkCancelled(): void {
    if (this.cancel.signal.aborted) throw new MigrationError(MigrationErrorCode.migCancelErr, 'Migration canceled');
  }

  /** VM.migrationCreate on the destination, again after the retry interval while it is busy. */
  private async prepareDestination(peer: PeerConnection, xml: string): Promise<void> {
    for (;;) {
      try {
        await peer.call('VM.migrationCreate', {
          vmID: this.vm.id,
          params: { vmId: this.vm.id, _srcDomXML: xml, elapsedTimeOffset: this.vm.elapsedSeconds() },
          incomingLimit: this.request.incomingLimit,
        });
        return;
      } catch (err) {
        const code = (err as { code?: unknown }).code;
        if (code !== MigrationErrorCode.migrateLimit) {
          throw new MigrationError(MigrationErrorCode.migrateErr, `the destination refused the VM: ${(err as Error).message}`);
        }
        this.deps.log.info({ vmId: this.vm.id, retryInSeconds: this.settings.retryIntervalSeconds }, 'destination busy with incoming migrations; asking again');
        await this.deps.delay(this.settings.retryIntervalSeconds * 1000, this.cancel.signal).catch(() => this.checkCancelled());
        this.checkCancelled();
      }
    }
  }

  private async migrateDomain(xml: string): Promise<void> {
    const { request } = this;
    const schedule = request.convergenceSchedule ?? this.settings.defaultSchedule;
    const tracker = new ConvergenceTracker(schedule);
    const uuid = this.vm.id;
    for (const action of tracker.start()) await this.act(action);
    let reading = false;
    const stopMonitor = this.deps.every(this.settings.monitorIntervalSeconds, async () => {
      if (reading) return;
      reading = true;
      try {
        await this.monitor(tracker);
      } finally {
        reading = false;
      }
    });
    try {
      await this.deps.libvirt.migrate(uuid, this.settings.libvirtUri(request.dstHost), { ...request.libvirtParams, destXml: xml }, request.flags);
    } catch (err) {
      if (this.cancel.signal.aborted) throw new MigrationError(MigrationErrorCode.migCancelErr, 'Migration canceled');
      if (this.abortReason !== undefined) throw new MigrationError(MigrationErrorCode.migrateErr, this.abortReason);
      throw MigrationError.fromLibvirt(err);
    } finally {
      stopMonitor();
    }
  }

  /** One monitor reading: the progress event, and the schedule's next action when one is due. */
  private async monitor(tracker: ConvergenceTracker): Promise<void> {
    let job: DomainJobStats;
    try {
      job = await this.deps.libvirt.jobStats(this.vm.id);
    } catch {
      return; // the job ended between two readings
    }
    if (job.type === JobType.NONE) return; // not started yet, or just ended
    const progress = this.progress.update(job.stats);
    this.deps.statusEvent(this.vm.id, { progress, postcopy: false });
    this.deps.jobs.update(this.jobId, { progress });
    const iteration = job.stats['memory_iteration'];
    if (iteration !== undefined) for (const action of tracker.observe(iteration)) await this.act(action);
  }

  private async act(action: ConvergenceAction): Promise<void> {
    const vmId = this.vm.id;
    switch (action.name) {
      case 'setDowntime':
        this.deps.log.debug({ vmId, downtimeMs: Number(action.params[0]) }, 'migration downtime step');
        await this.deps.libvirt.setDowntime(vmId, Number(action.params[0])).catch((err: unknown) => this.deps.log.warn({ vmId, err }, 'could not set the migration downtime'));
        return;
      case 'abort':
        this.deps.log.warn({ vmId }, 'migration does not converge: aborting it, as its schedule says');
        await this.abortJob('the migration did not converge: aborted by its convergence schedule');
        return;
      case 'postcopy':
        // Post-copy is not offered (its failure loses the VM): the next action follows.
        this.deps.log.info({ vmId }, 'post-copy asked by the convergence schedule: not supported, skipped');
        return;
    }
  }

  private async destinationLost(): Promise<void> {
    if (this.state !== 'migrating') return;
    this.deps.log.warn({ vmId: this.vm.id, dst: this.request.dst }, "lost the destination's daemon mid-migration: aborting it");
    await this.abortJob(`lost the connection to the destination's daemon at ${this.request.dst}`);
  }

  private async abortJob(reason: string): Promise<void> {
    this.abortReason ??= reason;
    await this.deps.libvirt.abort(this.vm.id).catch((err: unknown) => this.deps.log.error({ vmId: this.vm.id, err }, 'could not abort the migration'));
  }

  private async succeeded(): Promise<void> {
    const completed = await this.deps.libvirt.jobStats(this.vm.id, true).catch(() => undefined);
    this.downtime = completed?.stats['downtime'];
    this.state = 'done';
    const progress = this.progress.done();
    // libvirt's Stopped/Migrated event may not have come yet: the outcome is known now.
    if (this.vm.status !== 'Down') this.vm.markDown(exitInfo(ExitCode.NORMAL, ExitReason.MIGRATION_SUCCEEDED));
    this.deps.statusEvent(this.vm.id, { progress, postcopy: false, ...(this.downtime !== undefined ? { downtime: this.downtime } : {}) });
    this.deps.jobs.update(this.jobId, { status: 'done', progress });
    this.deps.log.info({ vmId: this.vm.id, dst: this.request.dst, downtimeMs: this.downtime }, 'migration done');
  }

  private failed(err: unknown): void {
    // A cancel is what ended it, whatever the step it interrupted then failed with.
    const error = this.cancel.signal.aborted
      ? new MigrationError(MigrationErrorCode.migCancelErr, 'Migration canceled')
      : err instanceof MigrationError
        ? err
        : new MigrationError(MigrationErrorCode.migrateErr, (err as Error).message ?? String(err));
    this.failure = error;
    const cancelled = error.code === MigrationErrorCode.migCancelErr;
    this.state = cancelled ? 'cancelled' : 'failed';
    if (this.vm.status === 'Migration Source') this.vm.setStatus('Up');
    this.deps.jobs.update(this.jobId, { status: cancelled ? 'aborted' : 'failed', error: { code: error.code, message: error.message } });
    this.deps.log.warn({ vmId: this.vm.id, dst: this.request.dst, code: error.code, reason: error.message }, cancelled ? 'migration cancelled' : 'migration failed');
  }
}
