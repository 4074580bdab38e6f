/**
 * The health monitor (vdsm's health.Monitor), a lifecycle Part.
 * Every [health] check_interval, the first one interval after start as vdsm: the daemon's CPU
 * user/sys %, RSS, threads, plus what vdsm never looked at: event-loop delay and each executor's
 * state, with the rest of the daemon figures (RPC methods, connections, task durations). Logged
 * in one line and published as one report. Checks never overlap; a failed check is logged and the
 * next one runs on time. The Part also owns the sinks' lifetime: start begins resolving the
 * collector, stop runs after the sampling operations have stopped and flushes and closes statsd.
 */
import type { ExecutorState } from '../concurrency/executor.js';
import type { Part } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { MetricBatch } from './batch.js';
import type { DaemonMetrics } from './daemon-metrics.js';
import type { MetricsHub } from './hub.js';
import { HEALTH } from './names.js';
import { ProcessSampler } from './process-stats.js';

export interface HealthMonitorOptions {
  /** [health] check_interval, seconds. */
  intervalSeconds: number;
  hub: MetricsHub;
  daemon: DaemonMetrics;
  log: Logger;
  process?: ProcessSampler;
}

export class HealthMonitor implements Part {
  readonly name = 'health';
  private readonly intervalMs: number;
  private readonly process: ProcessSampler;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private started = false;
  /** Checks done, for tests and /health. */
  checks = 0;

  constructor(private readonly options: HealthMonitorOptions) {
    this.intervalMs = options.intervalSeconds * 1000;
    this.process = options.process ?? new ProcessSampler();
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    this.options.log.info({ interval: this.options.intervalSeconds }, 'Starting health monitor');
    this.options.hub.start();
    this.options.daemon.start();
    // The first "previous" figures are taken now, so the first check covers one full interval.
    void this.process.sample().catch(() => undefined);
    this.schedule();
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.options.log.info('Stopping health monitor');
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.options.daemon.stop();
    await this.options.hub.close();
  }

  /** One check: figures logged and published. Exposed for tests; the timer calls it. */
  async check(): Promise<MetricBatch> {
    const figures = await this.process.sample();
    const daemon = this.options.daemon;
    const states = daemon.executorStates();
    const loop = daemon.eventLoopDelay();
    const batch = new MetricBatch();
    batch.add(HEALTH.cpuUser, figures.userPct);
    batch.add(HEALTH.cpuSys, figures.sysPct);
    batch.add(HEALTH.rss, figures.rssKiB);
    batch.add(HEALTH.heapUsed, figures.heapUsedKiB);
    batch.add(HEALTH.threads, figures.threads);
    daemon.collect(batch, states);
    daemon.rollover();
    this.options.hub.publish('health', batch);
    this.checks++;
    this.options.log.info(
      {
        userPct: round(figures.userPct),
        sysPct: round(figures.sysPct),
        rssKiB: figures.rssKiB,
        rssDeltaKiB: figures.rssDeltaKiB,
        threads: figures.threads,
        eventLoopMs: loop && { mean: round(loop.meanMs), p99: round(loop.p99Ms), max: round(loop.maxMs) },
        executors: states.map(summary),
      },
      'user=%s%%, sys=%s%%, rss=%d kB (%s%d), threads=%s',
      figures.userPct.toFixed(2),
      figures.sysPct.toFixed(2),
      figures.rssKiB,
      figures.rssDeltaKiB >= 0 ? '+' : '-',
      Math.abs(figures.rssDeltaKiB),
      figures.threads ?? '?',
    );
    return batch;
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      this.running = this.check()
        .catch((err: unknown) => this.options.log.error({ err }, 'Error checking health'))
        .finally(() => {
          this.running = undefined;
          if (this.started) this.schedule();
        });
    }, this.intervalMs);
    // The daemon's other parts keep the process alive; a lone health timer should not.
    this.timer.unref();
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

function summary(s: ExecutorState): Record<string, unknown> {
  return {
    name: s.name,
    queued: s.queued,
    active: s.active,
    busy: s.active - s.idle,
    discarded: s.discarded,
    threads: s.threads,
    rejected: s.counters.rejected,
    timedOut: s.counters.timedOut,
  };
}
