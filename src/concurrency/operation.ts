/**
 * Operation: a body run every `period` seconds (vdsm's periodic.Operation).
 * - The body is a main-thread function, typically async: it awaits executor dispatches (through
 *   context.dispatch, which carries the operation's own timeout and discard) and hands results to
 *   main-thread state. A run is complete when the body settles.
 * - start() runs the body at once. period <= 0 (or NaN) throws InvalidValue there, as vdsm checks
 *   it at start; a second start() throws AlreadyStarted.
 * - Non-exclusive: the next run is scheduled `period` after this one begins, so runs may overlap.
 *   Exclusive: the next run is scheduled `period` after this one completes, whatever the outcome:
 *   an error, a full queue (so it retries after a period) and a discard timeout (TaskTimeout)
 *   all count. vdsm's exclusive operation stops for good on a task that never returns; ours goes
 *   on as soon as the executor gives up on the task, if the operation dispatches with discard.
 *   A body that awaits something else that never settles still stops an exclusive operation.
 * - ResourceExhausted: "could not run ..., executor queue full", plus a throttled "executor state"
 *   dump (1st, 11th, ... occurrence); the schedule goes on. An executor stopped after the operation
 *   (the daemon stopping): debug only. Other errors: "... operation failed".
 * - stop() cancels the next run only; work already dispatched still runs (and completes).
 * Timing is relative to when a run begins or ends, as vdsm: no catch-up, drift allowed.
 */
import { getLogger, type Logger } from '../log.js';
import type { TaskDispatcher } from './dispatcher.js';
import { AlreadyStarted, InvalidValue, NotRunning, ResourceExhausted, TaskTimeout } from './errors.js';
import type { ScheduledCall, Scheduler } from './scheduler.js';
import type { DispatchOptions, TaskSpec } from './task.js';
import { ThrottledLog } from '../log-throttle.js';

/** What a run is given: the operation's timeout and discard, and a dispatch that applies them. */
export interface OperationContext {
  readonly timeout: number | null;
  readonly discard: boolean;
  /** The operation's executor's dispatch with this operation's timeout and discard. */
  dispatch<R = unknown>(task: TaskSpec, options?: Pick<DispatchOptions<R>, 'onLate'>): Promise<R>;
}

export type OperationBody = (context: OperationContext) => unknown;

export interface OperationOptions {
  /** For logs; the body's function name by default. */
  name?: string;
  exclusive?: boolean;
  /** Where context.dispatch sends tasks; its repr is the "executor state" dump. */
  executor?: TaskDispatcher;
  /** Seconds, for context.dispatch; period / 2 by default, null for none. */
  timeout?: number | null;
  discard?: boolean;
  logger?: Logger;
}

export interface OperationStats {
  runs: number;
  completed: number;
  failed: number;
  /** Runs refused by a full executor queue. */
  skipped: number;
  /** Runs whose task was discarded on timeout. */
  timedOut: number;
  inFlight: number;
}

/** The default task timeout for a period (vdsm's _timeout_from). */
export function timeoutFrom(period: number): number {
  return period / 2;
}

/** How many full-queue state dumps make one logged (vdsm's _THROTTLING_INTERVAL, a count). */
const STATE_DUMP_INTERVAL = 10;

export class Operation {
  readonly name: string;
  readonly period: number;
  readonly exclusive: boolean;
  readonly timeout: number | null;
  readonly discard: boolean;
  private readonly body: OperationBody;
  private readonly scheduler: Scheduler;
  private readonly executor: TaskDispatcher | undefined;
  private readonly log: Logger;
  private readonly throttled: ThrottledLog;
  private readonly context: OperationContext;
  private isRunning = false;
  private call: ScheduledCall | null = null;
  private readonly counts: OperationStats = { runs: 0, completed: 0, failed: 0, skipped: 0, timedOut: 0, inFlight: 0 };

  constructor(body: OperationBody, period: number, scheduler: Scheduler, options: OperationOptions = {}) {
    this.body = body;
    this.period = period;
    this.scheduler = scheduler;
    this.name = options.name ?? (body.name || 'operation');
    this.exclusive = options.exclusive ?? false;
    this.timeout = options.timeout === undefined ? timeoutFrom(period) : options.timeout;
    this.discard = options.discard ?? true;
    this.executor = options.executor;
    this.log = options.logger ?? getLogger('operation', { operation: this.name });
    this.throttled = new ThrottledLog(this.log);
    const { timeout, discard, name } = this;
    const executor = this.executor;
    this.context = {
      timeout,
      discard,
      dispatch<R>(task: TaskSpec, extra: Pick<DispatchOptions<R>, 'onLate'> = {}): Promise<R> {
        if (executor === undefined) throw new Error(`Operation ${name} has no executor to dispatch to`);
        return executor.dispatch<R>(task, { timeout, discard, onLate: extra.onLate });
      },
    };
  }

  get running(): boolean {
    return this.isRunning;
  }

  stats(): OperationStats {
    return { ...this.counts };
  }

  start(): void {
    this.throttled.throttle(this.name, STATE_DUMP_INTERVAL);
    if (!(this.period > 0)) throw new InvalidValue(`Invalid ${this.period} for period for Operation ${this.name}`);
    if (this.isRunning) throw new AlreadyStarted(`Operation ${this.name}`);
    this.log.debug('starting operation %s', this.name);
    this.isRunning = true;
    this.tick();
  }

  stop(): void {
    if (!this.isRunning) return;
    this.log.debug('stopping operation %s', this.name);
    this.isRunning = false;
    this.call?.cancel();
    this.call = null;
  }

  toString(): string {
    return `<Operation ${this.name} period=${this.period}${this.exclusive ? ' exclusive' : ''}${this.isRunning ? ' running' : ''}>`;
  }

  private readonly tick = (): void => {
    this.call = null;
    if (!this.isRunning) return;
    if (!this.exclusive) this.reschedule();
    this.counts.runs++;
    this.counts.inFlight++;
    let result: unknown;
    try {
      result = this.body(this.context);
    } catch (err) {
      this.completed(false, err);
      return;
    }
    if (isThenable(result)) {
      result.then(() => this.completed(true), (err: unknown) => this.completed(false, err));
    } else {
      this.completed(true);
    }
  };

  private completed(ok: boolean, error?: unknown): void {
    this.counts.inFlight--;
    if (ok) this.counts.completed++;
    else this.report(error);
    if (this.exclusive && this.isRunning) this.reschedule();
  }

  private report(error: unknown): void {
    if (error instanceof ResourceExhausted) {
      this.counts.skipped++;
      this.log.warn('could not run %s, executor queue full', this.name);
      const state = this.executor === undefined ? error.toString() : String(this.executor);
      this.throttled.warning(this.name, 'executor state: %s', state);
    } else if (error instanceof NotRunning && !this.isRunning) {
      // Stopped, then its executor stopped under the last run: the daemon is stopping.
      this.log.debug('%s operation ended with its executor', this.name);
    } else if (error instanceof TaskTimeout) {
      // The executor already logged the discard.
      this.counts.timedOut++;
      this.log.debug('%s operation timed out', this.name);
    } else {
      this.counts.failed++;
      this.log.error({ err: error }, '%s operation failed', this.name);
    }
  }

  private reschedule(): void {
    try {
      this.call = this.scheduler.schedule(this.period, this.tick);
    } catch (err) {
      this.log.error({ err }, 'cannot reschedule operation %s', this.name);
    }
  }
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}
