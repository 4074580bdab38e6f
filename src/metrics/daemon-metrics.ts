/**
 * The daemon's own figures, beyond vdsm: each executor's queue and workers, its rejected, failed
 * and timed-out tasks and how long tasks take; per JSON-RPC method the calls, errors and time; open
 * connections; event-loop delay. Counts and sums are cumulative (Prometheus counters; statsd gauges
 * of the total, which graphite turns into rates); maxima and the event-loop delay cover the time
 * since the last report (rollover()).
 *
 * Hooks: `onCall` is the JSON-RPC engine's observer (EngineOptions.onCall); `timed(executor)`
 * wraps an executor's dispatch so task durations are measured where the caller waits for them.
 */
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import type { TaskDispatcher } from '../concurrency/dispatcher.js';
import type { ExecutorState } from '../concurrency/executor.js';
import type { DispatchOptions, TaskSpec } from '../concurrency/task.js';
import type { MetricBatch } from './batch.js';
import { DAEMON } from './names.js';

/** Calls or tasks of one kind: cumulative count, errors and time; the slowest since the last report. */
class Timings {
  count = 0;
  errors = 0;
  seconds = 0;
  maxMs = 0;

  record(ms: number, failed: boolean): void {
    this.count++;
    if (failed) this.errors++;
    this.seconds += ms / 1000;
    if (ms > this.maxMs) this.maxMs = ms;
  }
}

/** What the metrics read of an executor (an Executor fits). */
export interface ObservedExecutor {
  readonly name: string;
  state(): ExecutorState;
}

export interface EventLoopDelay {
  meanMs: number;
  p99Ms: number;
  maxMs: number;
}

export interface DaemonMetricsOptions {
  executors: readonly ObservedExecutor[];
  /** Open connections on the management port (Acceptor.connectionCount). */
  connections?: () => number;
  /** Event-loop delay sampling resolution, ms (default 20). */
  loopResolutionMs?: number;
}

export class DaemonMetrics {
  private readonly executors: readonly ObservedExecutor[];
  private connections: (() => number) | undefined;
  private readonly rpc = new Map<string, Timings>();
  private readonly tasks = new Map<string, Timings>();
  /** Time between the sampling timer's ticks, nanoseconds, since the last rollover. */
  private readonly loop: RecordableHistogram = createHistogram();
  private readonly resolutionMs: number;
  private loopTimer: NodeJS.Timeout | undefined;
  /** When the sampling timer last ran, or when sampling started (performance.now()). */
  private lastTick = 0;

  constructor(options: DaemonMetricsOptions) {
    this.executors = options.executors;
    this.connections = options.connections;
    this.resolutionMs = options.loopResolutionMs ?? 20;
  }

  /** Counts open connections from now on (the acceptor is built after the metrics it reports to). */
  countConnections(source: () => number): void {
    this.connections = source;
  }

  /** The engine's hook: one answered call. Unknown methods never get here (bounded labels). */
  readonly onCall = (method: string, ms: number, errorCode?: number): void => {
    let t = this.rpc.get(method);
    if (t === undefined) this.rpc.set(method, (t = new Timings()));
    t.record(ms, errorCode !== undefined);
  };

  /** The executor's dispatch, timed from dispatch to outcome (queue wait included). */
  timed<E extends TaskDispatcher & { readonly name: string }>(executor: E): TaskDispatcher {
    let t = this.tasks.get(executor.name);
    if (t === undefined) this.tasks.set(executor.name, (t = new Timings()));
    const timings = t;
    const dispatcher: TaskDispatcher & { toString(): string } = {
      dispatch<R>(task: TaskSpec, options?: DispatchOptions<R>): Promise<R> {
        const t0 = performance.now();
        // Throws at once when the queue is full: that is the executor's `rejected` count.
        const promise = executor.dispatch<R>(task, options);
        promise.then(
          () => timings.record(performance.now() - t0, false),
          () => timings.record(performance.now() - t0, true),
        );
        return promise;
      },
      // Operations log their executor's repr in the "executor state" dump.
      toString: () => String(executor),
    };
    return dispatcher;
  }

  /**
   * Starts sampling the event-loop delay: a timer every `loopResolutionMs`, each tick recording the
   * time since the previous one. Not monitorEventLoopDelay: its histogram measures from its first
   * tick after enable() and after every reset(), so the loop held up right after the start or
   * right after a report (over that first tick) was never counted. Here every interval counts, the
   * first from the start, and a rollover does not restart the measure.
   */
  start(): void {
    if (this.loopTimer !== undefined) return;
    this.lastTick = performance.now();
    this.loopTimer = setInterval(this.tick, this.resolutionMs);
    // The daemon's other parts keep the process alive; this timer should not.
    this.loopTimer.unref();
  }

  stop(): void {
    clearInterval(this.loopTimer);
    this.loopTimer = undefined;
  }

  private readonly tick = (): void => {
    const now = performance.now();
    this.loop.record(Math.max(1, Math.round((now - this.lastTick) * 1e6)));
    this.lastTick = now;
  };

  executorStates(): ExecutorState[] {
    return this.executors.map((e) => e.state());
  }

  /** Since the last rollover; undefined before the first sample. */
  eventLoopDelay(): EventLoopDelay | undefined {
    if (this.loopTimer === undefined || this.loop.count === 0) return undefined;
    // The histogram holds the time between the sampling timer's ticks: an idle loop shows the
    // resolution itself. The delay is what comes on top of it.
    const delay = (ns: number): number => Math.max(0, ns / 1e6 - this.resolutionMs);
    return { meanMs: delay(this.loop.mean), p99Ms: delay(this.loop.percentile(99)), maxMs: delay(this.loop.max) };
  }

  /** Adds every figure to the batch; does not reset anything. */
  collect(batch: MetricBatch, states: readonly ExecutorState[] = this.executorStates()): void {
    for (const s of states) {
      const labels = [s.name];
      batch.add(DAEMON.queued, s.queued, labels);
      batch.add(DAEMON.active, s.active, labels);
      batch.add(DAEMON.busy, s.active - s.idle, labels);
      batch.add(DAEMON.discarded, s.discarded, labels);
      batch.add(DAEMON.threads, s.threads, labels);
      batch.add(DAEMON.rejected, s.counters.rejected, labels);
      batch.add(DAEMON.failed, s.counters.failed, labels);
      batch.add(DAEMON.timedOut, s.counters.timedOut, labels);
    }
    for (const [name, t] of this.tasks) {
      const labels = [name];
      batch.add(DAEMON.tasks, t.count, labels);
      batch.add(DAEMON.taskSeconds, t.seconds, labels);
      batch.add(DAEMON.taskMax, t.maxMs, labels);
    }
    for (const [method, t] of this.rpc) {
      const labels = [method];
      batch.add(DAEMON.rpcCalls, t.count, labels);
      batch.add(DAEMON.rpcErrors, t.errors, labels);
      batch.add(DAEMON.rpcSeconds, t.seconds, labels);
      batch.add(DAEMON.rpcMax, t.maxMs, labels);
    }
    if (this.connections) batch.add(DAEMON.connections, this.connections());
    const loop = this.eventLoopDelay();
    if (loop) {
      batch.add(DAEMON.loopMean, loop.meanMs);
      batch.add(DAEMON.loopP99, loop.p99Ms);
      batch.add(DAEMON.loopMax, loop.maxMs);
    }
  }

  /** Starts a new report interval: maxima and the event-loop histogram begin again (the interval
   * running across the rollover is counted in the next report). */
  rollover(): void {
    for (const t of this.rpc.values()) t.maxMs = 0;
    for (const t of this.tasks.values()) t.maxMs = 0;
    this.loop.reset();
  }
}
