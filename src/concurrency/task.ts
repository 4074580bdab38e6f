/**
 * A task as the executor holds it (vdsm's executor._Task): what to run in a worker thread, its
 * timeout (seconds, counted from when a worker starts it, never from dispatch; null: none), whether
 * its worker is discarded on timeout, and the caller's promise.
 * duration is exactly 0 before the task starts, as vdsm's tests require.
 */
import { basename } from 'node:path';
import { performance } from 'node:perf_hooks';

/** Plain data naming a function of a worker module, and its argument. */
export interface TaskSpec {
  /** The export of the worker module to call. */
  name: string;
  /** Passed to the export; structured-cloned into the worker thread. */
  args?: unknown;
  /** The worker module (path or file URL); the executor's own module when omitted. */
  filename?: string;
}

/** A late task's outcome, as Promise.allSettled reports one. */
export type Settled<R> = PromiseSettledResult<R>;

export interface DispatchOptions<R = unknown> {
  /** Seconds from the start of the task; null or undefined: no timeout. 0 is a real timeout. */
  timeout?: number | null;
  /** On timeout, true: discard the worker and reject with TaskTimeout; false: log "Worker blocked". */
  discard?: boolean;
  /** Receives the result (or error) of a task that was discarded on timeout, when it finally comes. */
  onLate?: (outcome: Settled<R>) => void;
  /**
   * Seconds from dispatch within which a worker must take the task; a task still waiting then
   * leaves the queue and rejects with WaitTimeout. Undefined: it waits as long as it takes (vdsm).
   */
  startWithin?: number;
}

export class Task<R = unknown> {
  readonly spec: TaskSpec;
  readonly timeout: number | null;
  readonly discard: boolean;
  readonly onLate: ((outcome: Settled<R>) => void) | undefined;
  readonly startWithin: number | undefined;
  readonly promise: Promise<R>;
  /** performance.now() when a worker started the task. */
  startedAt: number | null = null;
  /** The caller was told of a timeout; the outcome goes to onLate. */
  timedOut = false;
  resolve!: (value: R) => void;
  reject!: (error: unknown) => void;

  constructor(spec: TaskSpec, options: DispatchOptions<R> = {}) {
    this.spec = spec;
    this.timeout = options.timeout ?? null;
    this.discard = options.discard ?? true;
    this.onLate = options.onLate;
    this.startWithin = options.startWithin;
    this.promise = new Promise<R>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
  }

  start(now = performance.now()): void {
    this.startedAt = now;
  }

  /** Seconds since the task started; exactly 0 before it started. */
  get duration(): number {
    return this.startedAt === null ? 0 : (performance.now() - this.startedAt) / 1000;
  }

  /** `name` or `name@module.mjs` when the task names its own module. */
  get label(): string {
    return this.spec.filename === undefined ? this.spec.name : `${this.spec.name}@${basename(this.spec.filename)}`;
  }

  toString(): string {
    const discardable = this.discard ? 'discardable ' : '';
    return `<Task ${discardable}${this.label} timeout=${this.timeout}, duration=${this.duration.toFixed(2)}>`;
  }
}
