/**
 * Executor: vdsm's executor.py on a piscina pool. The state machine lives on the main thread.
 * - A bounded FIFO of waiting tasks (maxTasks; running tasks not counted): dispatch on a full queue
 *   throws ResourceExhausted (1100), when not running NotRunning. It never blocks.
 * - Virtual workers `<name>/<n>` (ids never reused) each run one task at a time by handing it to
 *   piscina. start() makes workersCount of them. The pool has minThreads = workersCount and
 *   maxThreads = max(workersCount, maxWorkers), so a handed-off task finds a thread at once, and a
 *   task only reaches piscina when a virtual worker takes it: no more than maxWorkers threads ever
 *   run tasks for one executor, stuck ones included.
 * - A task's timeout (seconds) counts from when a thread is free for it (see thread-gate.ts), not
 *   from dispatch nor while a replacement thread boots; the check runs on the Scheduler.
 *   discard=true: the caller's promise rejects with TaskTimeout, the worker is discarded and
 *   replaced if may_add (active < workersCount && total < maxWorkers). The piscina
 *   task is NOT aborted (that would kill the thread); its eventual result goes to onLate, never to
 *   the caller, and only then does the discarded worker leave ("stopped": one more replacement
 *   may be added, which is how the queue drains again after max_workers was reached).
 *   discard=false: "Worker blocked" with the task and its duration every timeout, never replaced.
 * - A thread that dies (exits, throws at top level) rejects its task; piscina replaces the thread
 *   and the virtual worker is free again.
 * - stop(): queued tasks reject with NotRunning, later dispatch throws NotRunning, timeout checks
 *   are cancelled, then the pool is destroyed without waiting for stuck threads. Node cannot
 *   terminate a thread blocked in a system call (open(2) on a FIFO, a hung NFS read): it stays
 *   until the call returns, and Node joins every worker thread at process exit, process.exit()
 *   included, so such a thread keeps the process from exiting. stop() reports how many threads did
 *   not exit; the daemon has to end itself harder (or let systemd) if that is not 0.
 * Logs follow vdsm's executor.py wording. Node cannot read a busy thread's stack, so "Worker
 * blocked" carries vdsm's own fallback "(traceback not available)".
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import { getLogger, type Logger } from '../log.js';
import { AlreadyStarted, NotRunning, ResourceExhausted, TaskTimeout, WaitTimeout } from './errors.js';
import type { TaskDispatcher } from './dispatcher.js';
import type { Scheduler } from './scheduler.js';
import { Task, type DispatchOptions, type Settled, type TaskSpec } from './task.js';
import { TaskQueue } from './task-queue.js';
import { ThreadGate, type GateTicket } from './thread-gate.js';
import { VirtualWorker } from './virtual-worker.js';

export interface ExecutorOptions {
  /** The piscina worker module (path or file URL) tasks run in unless a task names its own. */
  filename: string;
  logger?: Logger;
  /** Milliseconds an idle thread beyond the warm ones lingers before it exits (piscina idleTimeout). */
  idleTimeout?: number;
  /**
   * OS threads kept running while idle (default workersCount). An executor that is idle most of
   * the time (API verbs) can keep fewer: each thread costs about 10 MB, and a cold one boots in
   * tens of milliseconds, not counted against its task's timeout.
   */
  warmThreads?: number;
}

export interface StopOptions {
  /** Seconds to let running tasks finish before the pool is destroyed; 0 by default. */
  wait?: number;
}

export interface StopReport {
  /** Worker threads that had not exited shortly after the pool was destroyed: blocked in a system call. */
  stuckThreads: number;
}

export interface WorkerState {
  name: string;
  discarded: boolean;
  /** The task's label, or null when waiting. */
  task: string | null;
  /** Seconds the current task has been running. */
  runningFor: number | null;
  tasksDone: number;
}

export interface ExecutorCounters {
  /** Accepted by dispatch. */
  dispatched: number;
  /** Refused with ResourceExhausted. */
  rejected: number;
  /** Results handed to callers. */
  completed: number;
  /** Errors handed to callers (timeouts not included). */
  failed: number;
  /** Tasks whose worker was discarded on timeout. */
  timedOut: number;
  /** Outcomes of discarded tasks that came back afterwards. */
  late: number;
  /** Queued tasks rejected by stop(). */
  dropped: number;
  /** "Worker blocked" reports. */
  blocked: number;
}

export interface ExecutorState {
  name: string;
  running: boolean;
  workersCount: number;
  maxWorkers: number | null;
  maxTasks: number;
  /** Workers not discarded, idle or busy. */
  active: number;
  /** Discarded workers whose task is still running. */
  discarded: number;
  /** active + discarded: the threads this executor may be holding. */
  total: number;
  idle: number;
  /** Waiting in the queue for a worker. */
  queued: number;
  /** Handed to the pool, waiting for a thread to boot or come free (timeout not yet counting). */
  starting: number;
  /** Live piscina threads (idle ones included). */
  threads: number;
  workers: WorkerState[];
  counters: ExecutorCounters;
}

/** How long stop() gives terminated threads that ran a task to exit before reporting them stuck. */
const STUCK_EXIT_GRACE_MS = 200;
/** The most stop() waits for threads to exit (booting ones included). */
const THREAD_EXIT_MAX_MS = 5000;
const NO_TRACEBACK = '(traceback not available)';

type Lifecycle = 'new' | 'running' | 'stopped';

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
  /**
   * Tasks a worker has taken that are not yet handed to piscina: they wait for a booting thread
   * (see poolHasRoom). Their timeout has not started, as for a task waiting in the ThreadGate.
   */
  private readonly unsubmitted: { worker: VirtualWorker; task: Task<any> }[] = [];
  private discardedCount = 0;
  private nextWorkerId = 0;
  private lifecycle: Lifecycle = 'new';
  /** Set while the pool is being destroyed: errors then mean "stopped", not "the task failed". */
  private destroying = false;
  private pool: Piscina | null = null;
  private gate: ThreadGate | null = null;
  private readonly counters: ExecutorCounters = {
    dispatched: 0, rejected: 0, completed: 0, failed: 0, timedOut: 0, late: 0, dropped: 0, blocked: 0,
  };

  constructor(
    name: string,
    workersCount: number,
    maxTasks: number,
    maxWorkers: number | null,
    scheduler: Scheduler,
    options: ExecutorOptions,
  ) {
    this.name = name;
    this.workersCount = workersCount;
    this.maxTasks = maxTasks;
    this.maxWorkers = maxWorkers;
    this.scheduler = scheduler;
    this.options = options;
    this.log = options.logger ?? getLogger('executor', { executor: name });
    this.queue = new TaskQueue(name, maxTasks);
  }

  get running(): boolean {
    return this.lifecycle === 'running';
  }

  start(): void {
    this.log.debug('Starting executor');
    if (this.lifecycle !== 'new') throw new AlreadyStarted(`Executor ${this.name}`);
    const maxThreads = Math.max(1, this.workersCount, this.maxWorkers ?? Number.MAX_SAFE_INTEGER);
    this.pool = new Piscina({
      filename: this.options.filename,
      minThreads: Math.min(this.workersCount, this.options.warmThreads ?? this.workersCount),
      maxThreads,
      concurrentTasksPerWorker: 1,
      idleTimeout: this.options.idleTimeout ?? 1000,
      // piscina's own queue only ever holds a task while a new thread boots.
      maxQueue: Infinity,
    });
    // A thread error with no task to reject is emitted here; unhandled it would crash the daemon.
    this.pool.on('error', (err: unknown) => this.log.error({ err }, 'Worker thread failed'));
    this.gate = new ThreadGate(this.pool);
    // A thread became ready or went away: tasks held back by poolHasRoom may go now. After the
    // listeners and piscina's own hand-out of its queue, so the counts are settled.
    const retry = (): void => queueMicrotask(() => {
      if (this.lifecycle === 'running') this.submitWaiting();
    });
    this.pool.on('workerCreate', retry);
    this.pool.on('workerDestroy', retry);
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
    for (const task of this.queue.drain()) {
      this.counters.dropped++;
      task.reject(new NotRunning(`Executor ${this.name}`));
    }
    // Taken but never handed to a thread: nothing runs them now.
    for (const { worker, task } of this.unsubmitted.splice(0)) {
      this.counters.dropped++;
      worker.task = null;
      this.workers.delete(worker);
      task.reject(new NotRunning(`Executor ${this.name}`));
    }
    for (const worker of this.workers) {
      worker.check?.cancel();
      worker.check = null;
    }
    const wait = options.wait ?? 0;
    if (wait > 0) await this.settledOrTimeout([...this.workers].map((w) => w.running), wait * 1000);
    return this.destroyPool();
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
      starting: (this.gate?.queued ?? 0) + this.unsubmitted.length,
      threads: this.pool?.threads.length ?? 0,
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

  /**
   * Whether piscina can take one more task without starting a thread nobody needs. piscina starts
   * a thread for every task it cannot place at once, and for every task that arrives while its
   * own queue is not empty, booting threads not counted; and when a thread comes free it takes the
   * oldest queued task, so a thread booted for that task finds nothing to do. With the QEMU agent
   * poller's 1000 short tasks every 5 s, that made the 4-worker `qga` pool start 7 threads per
   * round, ~10 MB each (bench/sampling.ts). So a task is handed over only when a ready thread is
   * free and nothing waits in piscina's queue (it runs at once), or when every thread already has
   * a task (piscina then starts exactly one thread, for this one). Otherwise a thread without a
   * task is still booting: the task waits here until it is ready (workerCreate) or one comes free.
   */
  private poolHasRoom(): boolean {
    const pool = this.pool as Piscina;
    const gate = this.gate as ThreadGate;
    if (gate.free > 0 && gate.queued === 0) return true;
    return pool.threads.length <= gate.handedOff;
  }

  /** The worker has taken the task; it goes to piscina as soon as the pool has room for it. */
  private run(worker: VirtualWorker, task: Task<any>): void {
    worker.task = task;
    this.unsubmitted.push({ worker, task });
    this.submitWaiting();
  }

  /** Hands taken tasks to piscina, oldest first, while it can place them (poolHasRoom). */
  private submitWaiting(): void {
    while (this.unsubmitted.length > 0 && this.poolHasRoom()) {
      const { worker, task } = this.unsubmitted.shift() as { worker: VirtualWorker; task: Task<any> };
      this.submit(worker, task);
    }
  }

  private submit(worker: VirtualWorker, task: Task<any>): void {
    // The clock starts when a thread is free for the task, not while a new thread boots.
    // The task is set before the check is armed (vdsm's Q1 the right way round).
    const ticket = (this.gate as ThreadGate).enter(() => {
      task.start();
      if (task.timeout !== null) this.armCheck(worker, task.timeout);
    });
    const { name, args, filename } = task.spec;
    let pending: Promise<unknown>;
    try {
      pending = (this.pool as Piscina).run(args, filename === undefined ? { name } : { name, filename });
    } catch (err) {
      pending = Promise.reject(err);
    }
    worker.running = pending.then(
      (value) => this.finish(worker, task, ticket, { status: 'fulfilled', value }),
      (reason) => this.finish(worker, task, ticket, { status: 'rejected', reason }),
    );
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
  private finish(worker: VirtualWorker, task: Task<any>, ticket: GateTicket, outcome: Settled<unknown>): void {
    (this.gate as ThreadGate).leave(ticket);
    worker.check?.cancel();
    worker.check = null;
    worker.taskCounter++;
    worker.task = null;
    worker.running = null;
    if (task.timedOut) {
      this.deliverLate(task, outcome);
    } else if (outcome.status === 'fulfilled') {
      this.counters.completed++;
      task.resolve(outcome.value);
    } else {
      this.counters.failed++;
      const stopped = this.destroying || (this.lifecycle === 'stopped' && isThreadTermination(outcome.reason));
      task.reject(stopped ? new NotRunning(`Executor ${this.name}`, { cause: outcome.reason }) : outcome.reason);
    }
    if (worker.discarded) {
      // At stop the pool rejects a stuck task while its thread is still blocked: no "was discarded".
      if (!this.destroying) this.log.info({ worker: worker.name }, 'Worker was discarded');
      this.workerStopped(worker);
    } else if (this.lifecycle === 'running') {
      this.idle.push(worker);
      this.handOff();
      this.submitWaiting();
    } else {
      this.workers.delete(worker);
    }
  }

  private deliverLate(task: Task<any>, outcome: Settled<unknown>): void {
    this.counters.late++;
    if (this.destroying) return; // the pool's own "Terminating worker thread", not the task's outcome
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

  private async settledOrTimeout(pending: (Promise<void> | null)[], ms: number): Promise<void> {
    const running = pending.filter((p): p is Promise<void> => p !== null);
    if (running.length === 0) return;
    const timer = new AbortController();
    await Promise.race([Promise.allSettled(running), sleep(ms, undefined, { signal: timer.signal }).catch(() => {})]);
    timer.abort();
  }

  /**
   * Destroys the pool and waits for its threads to exit: all of them, or all but those that may
   * be stuck in a task (a booting or idle thread exits once terminated, a stuck one only when its
   * system call returns), within bounds.
   */
  private async destroyPool(): Promise<StopReport> {
    const pool = this.pool as Piscina;
    const threads = pool.threads;
    const mayBeStuck = [...this.workers].filter((w) => w.task !== null).length;
    let left = threads.length;
    const exited = threads.map((thread) => once(thread, 'exit').then(() => void left--, () => void left--));
    this.destroying = true;
    pool.destroy().catch((err: unknown) => this.log.error({ err }, 'Destroying the pool failed'));
    const started = performance.now();
    let allExited = false;
    await Promise.race([
      Promise.allSettled(exited).then(() => void (allExited = true)),
      this.until(() => {
        const waited = performance.now() - started;
        return allExited || (left <= mayBeStuck && waited >= STUCK_EXIT_GRACE_MS) || waited >= THREAD_EXIT_MAX_MS;
      }),
    ]);
    this.destroying = false;
    if (left > 0) {
      this.log.warn('%d worker threads did not exit: they are blocked in a system call, and the process cannot exit before they return', left);
    }
    return { stuckThreads: left };
  }

  /** Polls cond every few milliseconds. */
  private async until(cond: () => boolean): Promise<void> {
    while (!cond()) await sleep(10);
  }
}

/** piscina's error for a task whose thread it terminated. */
function isThreadTermination(reason: unknown): boolean {
  return reason instanceof Error && /Terminating worker thread/.test(reason.message);
}
