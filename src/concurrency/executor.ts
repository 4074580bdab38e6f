/**
 * Executor: vdsm's executor.py, its state machine on the main thread.
 * - A bounded FIFO of waiting tasks (maxTasks; running tasks not counted): dispatch on a full queue
 *   throws ResourceExhausted (1100), when not running NotRunning. It never blocks.
 * - Virtual workers `<name>/<n>` (ids never reused) each run one task at a time on a thread of the
 *   ThreadPool (thread-pool.ts: when piscina gets the task and when it really starts). start()
 *   makes `workers` of them.
 * - A task's timeout (seconds) counts from when a thread is free for it, not from dispatch nor
 *   while a replacement thread boots; the check runs on the Scheduler.
 *   discard=true: the caller's promise rejects with TaskTimeout, the worker is discarded and
 *   replaced if may_add (active < workers && total < maxWorkers). The thread's task is NOT
 *   aborted (that would kill the thread); its eventual result goes to onLate, never to the caller,
 *   and only then does the discarded worker leave ("stopped": one more replacement may be added,
 *   which is how the queue drains again after max_workers was reached).
 *   discard=false: "Worker blocked" with the task and its duration every timeout, never replaced.
 * - A thread that dies (exits, throws at top level) rejects its task; piscina replaces the thread
 *   and the virtual worker is free again.
 * - stop(): queued tasks reject with NotRunning, later dispatch throws NotRunning, timeout checks
 *   are cancelled, then the pool is destroyed without waiting for stuck threads; stop() reports
 *   how many threads did not exit, and the daemon has to end itself harder if that is not 0.
 * Logs follow vdsm's executor.py wording. Node cannot read a busy thread's stack, so "Worker
 * blocked" carries vdsm's own fallback "(traceback not available)".
 */
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { getLogger, type Logger } from '../log.js';
import { AlreadyStarted, NotRunning, ResourceExhausted, TaskTimeout, WaitTimeout } from './errors.js';
import type { TaskDispatcher } from './dispatcher.js';
import type { Scheduler } from './scheduler.js';
import { Task, type DispatchOptions, type Settled, type TaskSpec } from './task.js';
import type { ExecutorCounters, ExecutorState, StopOptions, WorkerState } from './executor-state.js';
import { TaskQueue } from './task-queue.js';
import { ThreadPool, type StopReport } from './thread-pool.js';
import { VirtualWorker } from './virtual-worker.js';

export type { StopReport } from './thread-pool.js';
export type { ExecutorCounters, ExecutorState, StopOptions, WorkerState } from './executor-state.js';

export interface ExecutorOptions {
  /** For logs and worker names. */
  name: string;
  /** Virtual workers kept active. */
  workers: number;
  /** Waiting tasks accepted; more are refused with ResourceExhausted. */
  maxTasks: number;
  /** Cap on workers, discarded ones included; null: no cap. */
  maxWorkers: number | null;
  /** Runs the timeout checks. */
  scheduler: Scheduler;
  /** The piscina worker module (path or file URL) tasks run in unless a task names its own. */
  filename: string;
  logger?: Logger;
  /** Milliseconds an idle thread beyond the warm ones lingers before it exits (piscina idleTimeout). */
  idleTimeout?: number;
  /**
   * OS threads kept running while idle (default `workers`). An executor that is idle most of
   * the time (API verbs) can keep fewer: each thread costs about 10 MB, and a cold one boots in
   * tens of milliseconds, not counted against its task's timeout.
   */
  warmThreads?: number;
}

type Lifecycle = 'new' | 'running' | 'stopped';

const NO_TRACEBACK = '(traceback not available)';

export class Executor implements TaskDispatcher {
  readonly name: string;
  readonly workersCount: number;
  readonly maxTasks: number;
  readonly maxWorkers: number | null;
  private readonly scheduler: Scheduler;
  private readonly options: ExecutorOptions;
  private readonly log: Logger;
  private readonly queue: TaskQueue<Task<any>>;
  private readonly workers = new Set<VirtualWorker>();
  private readonly idle: VirtualWorker[] = [];
  private discardedCount = 0;
  private nextWorkerId = 0;
  private lifecycle: Lifecycle = 'new';
  private pool: ThreadPool<VirtualWorker> | null = null;
  private readonly counters: ExecutorCounters = {
    dispatched: 0, rejected: 0, completed: 0, failed: 0, timedOut: 0, late: 0, dropped: 0, blocked: 0,
  };

  constructor(options: ExecutorOptions) {
    this.name = options.name;
    this.workersCount = options.workers;
    this.maxTasks = options.maxTasks;
    this.maxWorkers = options.maxWorkers;
    this.scheduler = options.scheduler;
    this.options = options;
    this.log = options.logger ?? getLogger('executor', { executor: this.name });
    this.queue = new TaskQueue(this.name, this.maxTasks);
  }

  get running(): boolean {
    return this.lifecycle === 'running';
  }

  start(): void {
    this.log.debug('Starting executor');
    if (this.lifecycle !== 'new') throw new AlreadyStarted(`Executor ${this.name}`);
    this.pool = new ThreadPool({
      filename: this.options.filename,
      minThreads: Math.min(this.workersCount, this.options.warmThreads ?? this.workersCount),
      maxThreads: Math.max(1, this.workersCount, this.maxWorkers ?? Number.MAX_SAFE_INTEGER),
      idleTimeout: this.options.idleTimeout ?? 1000,
      log: this.log,
    });
    this.lifecycle = 'running';
    for (let i = 0; i < this.workersCount; i++) this.addWorker();
  }

  /**
   * Queues a task for a worker thread; the promise settles with its result or error, or rejects
   * with TaskTimeout when a discardable task outlives its timeout. Throws NotRunning or
   * ResourceExhausted at once, never through the promise.
   */
  dispatch<R = unknown>(spec: TaskSpec, options: DispatchOptions<R> = {}): Promise<R> {
    if (this.lifecycle !== 'running') throw new NotRunning(`Executor ${this.name}`);
    const task = new Task<R>(spec, options);
    try {
      this.queue.push(task);
    } catch (err) {
      if (err instanceof ResourceExhausted) this.counters.rejected++;
      throw err;
    }
    this.counters.dispatched++;
    this.handOff();
    // Still queued after the hand-off (the oldest go first, so this one is among them): watch its wait.
    if (task.startWithin !== undefined && this.queue.length > 0) this.armWait(task, task.startWithin);
    return task.promise;
  }

  /** A task with `startWithin` that no worker took by then leaves the queue, rejected. */
  private armWait(task: Task<any>, seconds: number): void {
    const expire = (): void => {
      if (!this.queue.remove(task)) return; // a worker took it, or stop() drained the queue
      this.counters.dropped++;
      this.log.warn({ task: task.label, waited: seconds }, 'Task found no free worker in time: %s', String(this));
      task.reject(new WaitTimeout(task.label, seconds));
    };
    try {
      this.scheduler.schedule(seconds, expire);
    } catch (err) {
      this.log.error({ err }, 'Cannot watch %s for its wait', String(task));
    }
  }

  /**
   * Stops accepting tasks and rejects the queued ones with NotRunning. Running tasks get `wait`
   * seconds to finish, then the pool is destroyed: tasks still running reject with NotRunning.
   * Never waits long for a stuck thread; the report says how many did not exit.
   */
  async stop(options: StopOptions = {}): Promise<StopReport> {
    if (this.lifecycle !== 'running') {
      this.lifecycle = 'stopped';
      return { stuckThreads: 0 };
    }
    this.log.debug('Stopping executor');
    this.lifecycle = 'stopped';
    const pool = this.pool as ThreadPool<VirtualWorker>;
    for (const task of this.queue.drain()) {
      this.counters.dropped++;
      task.reject(new NotRunning(`Executor ${this.name}`));
    }
    // Taken but never handed to a thread: nothing runs them now.
    for (const worker of pool.withdraw()) {
      this.counters.dropped++;
      worker.task?.reject(new NotRunning(`Executor ${this.name}`));
      worker.task = null;
      this.workers.delete(worker);
    }
    for (const worker of this.workers) {
      worker.check?.cancel();
      worker.check = null;
    }
    const wait = options.wait ?? 0;
    if (wait > 0) await settledOrTimeout([...this.workers].map((w) => w.running), wait * 1000);
    return pool.destroy([...this.workers].filter((w) => w.task !== null).length);
  }

  state(): ExecutorState {
    const now = performance.now();
    const workers = [...this.workers].map((w): WorkerState => ({
      name: w.name,
      discarded: w.discarded,
      task: w.task?.label ?? null,
      runningFor: w.task?.startedAt != null ? (now - w.task.startedAt) / 1000 : null,
      tasksDone: w.taskCounter,
    }));
    return {
      name: this.name,
      running: this.running,
      workersCount: this.workersCount,
      maxWorkers: this.maxWorkers,
      maxTasks: this.maxTasks,
      active: this.activeCount(),
      discarded: this.discardedCount,
      total: this.workers.size,
      idle: this.idle.length,
      queued: this.queue.length,
      starting: this.pool?.starting ?? 0,
      threads: this.pool?.threads ?? 0,
      workers,
      counters: { ...this.counters },
    };
  }

  toString(): string {
    return `<Executor ${this.name} workers=${this.workers.size} max_workers=${this.maxWorkers ?? 'None'} ${String(this.queue)}>`;
  }

  private activeCount(): number {
    return this.workers.size - this.discardedCount;
  }

  /** vdsm's may_add: below the target of active workers and below the cap on all of them. */
  private mayAdd(): boolean {
    return this.activeCount() < this.workersCount && (this.maxWorkers === null || this.workers.size < this.maxWorkers);
  }

  private addWorker(): VirtualWorker {
    const worker = new VirtualWorker(`${this.name}/${this.nextWorkerId++}`);
    this.log.debug('Starting worker %s', worker.name);
    this.workers.add(worker);
    this.idle.push(worker);
    return worker;
  }

  /** Gives waiting tasks to idle workers, oldest task first. */
  private handOff(): void {
    while (this.queue.length > 0 && this.idle.length > 0) {
      const worker = this.idle.pop() as VirtualWorker;
      this.run(worker, this.queue.shift() as Task<any>);
    }
  }

  /** The worker takes the task; the pool starts it when a thread is free for it. */
  private run(worker: VirtualWorker, task: Task<any>): void {
    // The task is set before the check is armed (vdsm's Q1 the right way round).
    worker.task = task;
    worker.running = new Promise((settled) => {
      const onStart = (): void => {
        task.start();
        if (task.timeout !== null) this.armCheck(worker, task.timeout);
      };
      (this.pool as ThreadPool<VirtualWorker>).run(worker, task.spec, onStart, (outcome) => {
        this.finish(worker, task, outcome);
        settled();
      });
    });
  }

  private armCheck(worker: VirtualWorker, timeout: number): void {
    if (this.lifecycle !== 'running') return; // stop() cancelled every check
    const token = worker.taskCounter;
    try {
      worker.check = this.scheduler.schedule(timeout, () => this.check(worker, token));
    } catch (err) {
      this.log.error({ err }, 'Cannot watch %s for its timeout', String(worker));
    }
  }

  /** The task's thread finished (or died): report, then free or retire the worker. */
  private finish(worker: VirtualWorker, task: Task<any>, outcome: Settled<unknown>): void {
    const destroying = (this.pool as ThreadPool<VirtualWorker>).destroying;
    worker.check?.cancel();
    worker.check = null;
    worker.taskCounter++;
    worker.task = null;
    worker.running = null;
    if (task.timedOut) {
      this.deliverLate(task, outcome, destroying);
    } else if (outcome.status === 'fulfilled') {
      this.counters.completed++;
      task.resolve(outcome.value);
    } else {
      this.counters.failed++;
      const stopped = destroying || (this.lifecycle === 'stopped' && isThreadTermination(outcome.reason));
      task.reject(stopped ? new NotRunning(`Executor ${this.name}`, { cause: outcome.reason }) : outcome.reason);
    }
    if (worker.discarded) {
      // At stop the pool rejects a stuck task while its thread is still blocked: no "was discarded".
      if (!destroying) this.log.info({ worker: worker.name }, 'Worker was discarded');
      this.workerStopped(worker);
    } else if (this.lifecycle === 'running') {
      this.idle.push(worker);
      this.handOff();
    } else {
      this.workers.delete(worker);
    }
  }

  private deliverLate(task: Task<any>, outcome: Settled<unknown>, destroying: boolean): void {
    this.counters.late++;
    if (destroying) return; // the pool's own "Terminating worker thread", not the task's outcome
    if (task.onLate === undefined) {
      this.log.debug('Late %s of discarded %s dropped', outcome.status === 'fulfilled' ? 'result' : 'error', String(task));
      return;
    }
    try {
      task.onLate(outcome);
    } catch (err) {
      this.log.error({ err }, 'Unhandled exception in the late-result hook of %s', String(task));
    }
  }

  /** The scheduled timeout check (vdsm's Worker._check). */
  private check(worker: VirtualWorker, token: number): void {
    const task = worker.task;
    if (worker.taskCounter !== token || task === null) return; // finished meanwhile
    worker.check = null;
    if (!task.discard) {
      this.counters.blocked++;
      this.armCheck(worker, task.timeout as number);
      this.log.warn({ worker: worker.name, task: task.label, duration: task.duration },
        'Worker blocked: %s, traceback:\n%s', String(worker), NO_TRACEBACK);
      return;
    }
    worker.discarded = true;
    this.discardedCount++;
    this.counters.timedOut++;
    task.timedOut = true;
    task.reject(new TaskTimeout(String(task), task.timeout as number, worker.name));
    this.workerDiscarded();
    this.log.info({ worker: worker.name }, 'Worker discarded: %s', String(worker));
    this.handOff();
  }

  /** vdsm's _worker_discarded: replace the worker if allowed, and say so either way. */
  private workerDiscarded(): void {
    if (this.lifecycle !== 'running') return;
    const added = this.mayAdd() ? this.addWorker() : null;
    if (added === null) this.log.warn('Too many workers (limit=%s), not adding more', this.maxWorkers);
    this.log.warn('executor state: count=%d workers=%s', this.workers.size, this.workerReprs());
  }

  /** vdsm's _worker_stopped: the worker is gone; replace it if allowed. */
  private workerStopped(worker: VirtualWorker): void {
    this.workers.delete(worker);
    if (worker.discarded) this.discardedCount--;
    if (this.lifecycle !== 'running' || !this.mayAdd()) return;
    this.addWorker();
    this.log.info('New worker added (%d active, %d total workers)', this.activeCount(), this.workers.size);
    this.handOff();
  }

  private workerReprs(): string {
    return `{${[...this.workers].map(String).join(', ')}}`;
  }
}

/** Waits for every pending promise to settle, or `ms` milliseconds. */
async function settledOrTimeout(pending: (Promise<void> | null)[], ms: number): Promise<void> {
  const running = pending.filter((p): p is Promise<void> => p !== null);
  if (running.length === 0) return;
  const timer = new AbortController();
  await Promise.race([Promise.allSettled(running), sleep(ms, undefined, { signal: timer.signal }).catch(() => {})]);
  timer.abort();
}

/** piscina's error for a task whose thread it terminated. */
function isThreadTermination(reason: unknown): boolean {
  return reason instanceof Error && /Terminating worker thread/.test(reason.message);
}
