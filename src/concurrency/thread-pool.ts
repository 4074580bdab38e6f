/**
 * ThreadPool: what the Executor needs of piscina, and nothing more. The Executor decides which
 * virtual worker runs which task; this module decides when piscina gets it, and reports when a
 * thread really starts it.
 * - A task is handed to piscina only when a thread can take it (hasRoom); until then it waits
 *   here, "taken but not submitted", and its timeout has not started.
 * - Once handed over, the ThreadGate says when a ready thread is free for it: that is the task's
 *   start, reported through onStart.
 * - minThreads/maxThreads bound the OS threads; since a task only arrives here once a virtual
 *   worker took it, no more threads ever run tasks than the Executor has workers, stuck ones
 *   included.
 * - destroy() terminates the threads and waits, within bounds, for those that can exit: Node
 *   cannot terminate a thread blocked in a system call (open(2) on a FIFO, a hung NFS read); it
 *   stays until the call returns, and Node joins every worker thread at process exit, so such a
 *   thread keeps the process from exiting. The report says how many did not exit.
 */
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { Piscina } from 'piscina';
import type { Logger } from '../log.js';
import type { Settled, TaskSpec } from './task.js';
import { ThreadGate } from './thread-gate.js';


/**
 * piscina loads a task module with require() first and falls back to import(). Node 20's
 * require() of an ES module has aborted a whole test process once, with a V8 fatal error inside
 * piscina's require() of a task module ("IsGraphAsync must be used on an instantiated module").
 * With require() of ES modules off in the worker threads, require() refuses at once and piscina's
 * import() fallback loads the module, the loading path Node has had for long. Only that flag is
 * given: the daemon's own flags (--max-semi-space-size, --prof) are V8's, which apply to every
 * thread anyway and which a worker's execArgv refuses.
 */
const WORKER_EXEC_ARGV = process.allowedNodeEnvironmentFlags.has('--no-experimental-require-module') ? ['--no-experimental-require-module'] : undefined;

export interface ThreadPoolOptions {
  /** The worker module (path or file URL) tasks run in unless a task names its own. */
  filename: string;
  /** OS threads kept running while idle. */
  minThreads: number;
  maxThreads: number;
  /** Milliseconds an idle thread beyond minThreads lingers before it exits. */
  idleTimeout: number;
  log: Logger;
}

export interface StopReport {
  /** Worker threads that had not exited shortly after the pool was destroyed: blocked in a system call. */
  stuckThreads: number;
}

/** A task taken by a worker (the key) and not yet handed to piscina. */
interface Waiting<K> {
  key: K;
  spec: TaskSpec;
  onStart: () => void;
  settle: (outcome: Settled<unknown>) => void;
}

/** How long destroy() gives terminated threads that ran a task to exit before reporting them stuck. */
const STUCK_EXIT_GRACE_MS = 200;
/** The most destroy() waits for threads to exit (booting ones included). */
const THREAD_EXIT_MAX_MS = 5000;

export class ThreadPool<K> {
  private readonly pool: Piscina;
  private readonly gate: ThreadGate;
  private readonly waiting: Waiting<K>[] = [];
  private readonly log: Logger;
  private closed = false;
  /** Set while the pool is being destroyed: errors then mean "stopped", not "the task failed". */
  destroying = false;

  constructor(options: ThreadPoolOptions) {
    this.log = options.log;
    this.pool = new Piscina({
      filename: options.filename,
      execArgv: WORKER_EXEC_ARGV,
      minThreads: options.minThreads,
      maxThreads: options.maxThreads,
      concurrentTasksPerWorker: 1,
      idleTimeout: options.idleTimeout,
      // piscina's own queue only ever holds a task while a new thread boots.
      maxQueue: Infinity,
    });
    // A thread error with no task to reject is emitted here; unhandled it would crash the daemon.
    this.pool.on('error', (err: unknown) => this.log.error({ err }, 'Worker thread failed'));
    this.gate = new ThreadGate(this.pool);
    // A thread became ready or went away: tasks held back by hasRoom may go now. After the
    // listeners and piscina's own hand-out of its queue, so the counts are settled.
    const retry = (): void => queueMicrotask(() => {
      if (!this.closed) this.submitWaiting();
    });
    this.pool.on('workerCreate', retry);
    this.pool.on('workerDestroy', retry);
  }

  /** Taken tasks waiting for a thread: not yet handed over, or handed over to a booting thread. */
  get starting(): number {
    return this.gate.queued + this.waiting.length;
  }

  /** Live threads, idle ones included. */
  get threads(): number {
    return this.pool.threads.length;
  }

  /**
   * Runs the task as soon as a thread can take it; onStart runs when a thread is free for it,
   * settle with the task's outcome (or its thread's death).
   */
  run(key: K, spec: TaskSpec, onStart: () => void, settle: (outcome: Settled<unknown>) => void): void {
    this.waiting.push({ key, spec, onStart, settle });
    this.submitWaiting();
  }

  /** Takes back the tasks never handed to a thread (they never settle); returns their keys. */
  withdraw(): K[] {
    this.closed = true;
    return this.waiting.splice(0).map((w) => w.key);
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
  private hasRoom(): boolean {
    if (this.gate.free > 0 && this.gate.queued === 0) return true;
    return this.pool.threads.length <= this.gate.handedOff;
  }

  /** Hands taken tasks to piscina, oldest first, while it can place them. */
  private submitWaiting(): void {
    while (this.waiting.length > 0 && this.hasRoom()) this.submit(this.waiting.shift() as Waiting<K>);
  }

  private submit({ spec, onStart, settle }: Waiting<K>): void {
    // The clock starts when a thread is free for the task, not while a new thread boots.
    const ticket = this.gate.enter(onStart);
    const { name, args, filename } = spec;
    let pending: Promise<unknown>;
    try {
      pending = this.pool.run(args, filename === undefined ? { name } : { name, filename });
    } catch (err) {
      pending = Promise.reject(err);
    }
    const done = (outcome: Settled<unknown>): void => {
      this.gate.leave(ticket);
      settle(outcome);
      // A thread came free: the next taken task may go.
      if (!this.closed) this.submitWaiting();
    };
    pending.then((value) => done({ status: 'fulfilled', value }), (reason: unknown) => done({ status: 'rejected', reason }));
  }

  /**
   * Destroys the pool and waits for its threads to exit: all of them, or all but `mayBeStuck`
   * (a booting or idle thread exits once terminated, one stuck in a task only when its system call
   * returns), within bounds.
   */
  async destroy(mayBeStuck: number): Promise<StopReport> {
    this.closed = true;
    const threads = this.pool.threads;
    let left = threads.length;
    const exited = threads.map((thread) => once(thread, 'exit').then(() => void left--, () => void left--));
    this.destroying = true;
    this.pool.destroy().catch((err: unknown) => this.log.error({ err }, 'Destroying the pool failed'));
    const started = performance.now();
    let allExited = false;
    void Promise.allSettled(exited).then(() => void (allExited = true));
    for (;;) {
      const waited = performance.now() - started;
      if (allExited || (left <= mayBeStuck && waited >= STUCK_EXIT_GRACE_MS) || waited >= THREAD_EXIT_MAX_MS) break;
      await sleep(10);
    }
    this.destroying = false;
    if (left > 0) {
      this.log.warn('%d worker threads did not exit: they are blocked in a system call, and the process cannot exit before they return', left);
    }
    return { stuckThreads: left };
  }
}
