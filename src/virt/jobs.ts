/**
 * Long-running work the engine follows with Host.getJobs (vdsm's jobs): each has an id, a type,
 * a status and a description; work registers its job when it starts, updates it as it goes, and
 * the job is kept after it ends until `retention` has passed, so the engine sees how it ended.
 */
export type JobType = 'storage' | 'v2v' | 'migration';
export type JobStatus = 'pending' | 'running' | 'done' | 'failed' | 'aborted';

export interface JobInfo {
  id: string;
  job_type: JobType;
  status: JobStatus;
  description: string;
  progress?: number;
  error?: { code: number; message: string };
}

const ENDED: ReadonlySet<JobStatus> = new Set(['done', 'failed', 'aborted']);

export class JobRegistry {
  private readonly jobs = new Map<string, { info: JobInfo; endedAt: number | undefined }>();

  /** `retentionMs`: how long an ended job stays listed; `now` is a clock in milliseconds. */
  constructor(
    private readonly retentionMs = 3_600_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts following a job; an id already followed is an error (ids are the work's own). */
  add(info: JobInfo): void {
    if (this.jobs.has(info.id)) throw new Error(`job ${info.id} already registered`);
    this.jobs.set(info.id, { info: { ...info }, endedAt: ENDED.has(info.status) ? this.now() : undefined });
  }

  /** Changes a job's status, progress or error; unknown ids are ignored (the job was dropped). */
  update(id: string, change: Partial<Omit<JobInfo, 'id' | 'job_type'>>): void {
    const job = this.jobs.get(id);
    if (job === undefined) return;
    Object.assign(job.info, change);
    if (job.endedAt === undefined && ENDED.has(job.info.status)) job.endedAt = this.now();
  }

  /** The jobs of `type` (any when undefined) among `ids` (all when empty), by id. */
  list(type?: JobType, ids: readonly string[] = []): Record<string, JobInfo> {
    this.expire();
    const wanted = ids.length > 0 ? new Set(ids) : undefined;
    const out: Record<string, JobInfo> = {};
    for (const [id, { info }] of this.jobs) {
      if ((type === undefined || info.job_type === type) && (wanted === undefined || wanted.has(id))) out[id] = { ...info };
    }
    return out;
  }

  private expire(): void {
    const limit = this.now() - this.retentionMs;
    for (const [id, job] of this.jobs) if (job.endedAt !== undefined && job.endedAt < limit) this.jobs.delete(id);
  }
}
