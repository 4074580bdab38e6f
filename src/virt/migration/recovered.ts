/**
 * A migration away from this host that recovery found running (the daemon restarted in the
 * middle). libvirt runs it on without us, so what is left to the engine is libvirt's job: its
 * progress (VM.getMigrationStatus, VM_migration_status events, a job in Host.getJobs), its cancel
 * and its bandwidth. It is read every monitor interval until it ends:
 * - the VM went Down here (libvirt's Stopped/Migrated event): it moved, the migration is done;
 * - the job ended and the VM still runs here: it failed or was cancelled, and the VM is Up again.
 *   libvirt keeps no reason for a job that ended, so the error says only that.
 */
import { randomUUID } from 'node:crypto';
import { JobType } from '../libvirt/constants.js';
import type { Vm } from '../vm.js';
import { MigrationError, MigrationErrorCode } from './errors.js';
import { abortJob, changeBandwidth } from './job-control.js';
import type { OutgoingDeps } from './outgoing.js';
import { MigrationProgress } from './progress.js';

export type RecoveredDeps = Pick<OutgoingDeps, 'libvirt' | 'jobs' | 'every' | 'statusEvent' | 'log'>;

export class RecoveredMigration {
  private readonly progress = new MigrationProgress();
  private state: 'migrating' | 'done' | 'failed' = 'migrating';
  private downtime = 0;
  private failure: MigrationError | undefined;
  readonly jobId = randomUUID();

  constructor(
    private readonly vm: Vm,
    private readonly deps: RecoveredDeps,
    intervalSeconds: number,
  ) {
    deps.jobs.add({ id: this.jobId, job_type: 'migration', status: 'running', progress: 0, description: `migration of VM ${vm.id} (found running at recovery)` });
    const stop = deps.every(intervalSeconds, async () => {
      if (await this.check()) stop();
    });
  }

  report(): { status: 'in_progress'; progress: number } | { status: 'done'; downtime: number } {
    return this.state === 'done' ? { status: 'done', downtime: this.downtime } : { status: 'in_progress', progress: this.progress.percent };
  }

  get error(): MigrationError | undefined {
    return this.failure;
  }

  get ended(): boolean {
    return this.state !== 'migrating';
  }

  async cancelMigration(): Promise<void> {
    if (this.ended) throw new MigrationError(MigrationErrorCode.migCancelErr, 'the migration has already ended');
    await abortJob(this.deps.libvirt, this.vm.id);
  }

  async setBandwidth(mibPerSecond: number): Promise<void> {
    if (this.ended) throw new MigrationError(MigrationErrorCode.migNotInProgress, 'the migration has already ended');
    await changeBandwidth(this.deps.libvirt, this.vm.id, mibPerSecond);
  }

  /** One reading of the job; true once the migration has ended. */
  private async check(): Promise<boolean> {
    if (this.vm.status !== 'Migration Source') {
      const completed = await this.deps.libvirt.jobStats(this.vm.id, true).catch(() => undefined);
      this.downtime = completed?.stats.downtime ?? 0;
      this.state = 'done';
      this.deps.statusEvent(this.vm.id, { progress: this.progress.done(), downtime: this.downtime, postcopy: false });
      this.deps.jobs.update(this.jobId, { status: 'done', progress: 100 });
      return true;
    }
    const job = await this.deps.libvirt.jobStats(this.vm.id).catch(() => undefined);
    if (job !== undefined && job.type !== JobType.NONE) {
      const progress = this.progress.update(job.stats);
      this.deps.statusEvent(this.vm.id, { progress, postcopy: false });
      this.deps.jobs.update(this.jobId, { progress });
      return false;
    }
    this.deps.log.info({ vmId: this.vm.id }, 'the migration found at recovery has ended; the VM runs here');
    this.state = 'failed';
    this.failure = new MigrationError(MigrationErrorCode.migrateErr, 'the migration found at recovery ended without the VM moving');
    this.deps.jobs.update(this.jobId, { status: 'failed', error: { code: this.failure.code, message: this.failure.message } });
    this.vm.setStatus('Up');
    return true;
  }
}
