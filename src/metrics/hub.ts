/**
 * Where reports go: one batch per report, to statsd (when [metrics] enabled) and to the Prometheus
 * registry. Reporters build a MetricBatch from names.ts and publish it; neither sink keeps its own
 * list of figures. A sink that fails is logged, never thrown back into a sampling operation.
 */
import type { Logger } from '../log.js';
import { MetricBatch } from './batch.js';
import type { PrometheusExport } from './prometheus.js';
import { ThrottledLog } from '../log-throttle.js';
import type { StatsdSink } from './statsd.js';
import type { StatsdReport } from './statsd-report.js';

/** The reporters: each replaces its own previous report on the Prometheus side. */
export type MetricSource = 'host' | 'vms' | 'health';

/** A report being built: add to `batch`, flush() what is new, end() once. */
export interface OpenReport {
  readonly batch: MetricBatch;
  flush(): void;
  end(): void;
}

export interface MetricsHubOptions {
  statsd?: StatsdSink | undefined;
  prometheus?: PrometheusExport | undefined;
  log: Logger;
}

export class MetricsHub {
  readonly statsd: StatsdSink | undefined;
  readonly prometheus: PrometheusExport | undefined;
  private readonly failures: ThrottledLog;

  constructor(options: MetricsHubOptions) {
    this.statsd = options.statsd;
    this.prometheus = options.prometheus;
    this.failures = new ThrottledLog(options.log, { period: 60, keyField: null });
  }

  /** One whole report. */
  publish(source: MetricSource, batch: MetricBatch): void {
    this.open(source, batch).end();
  }

  /**
   * A report built in slices (a 1000-VM cycle): statsd gets what the batch gained at each
   * flush(), so the main thread can yield between slices; Prometheus gets the whole report at end().
   */
  open(source: MetricSource, batch: MetricBatch = new MetricBatch()): OpenReport {
    let statsd: StatsdReport | undefined;
    try {
      statsd = this.statsd?.begin();
    } catch (err) {
      this.failures.log('failures', 'warn', { err, source }, 'sending metrics failed');
    }
    const guarded = (step: (r: StatsdReport) => void): void => {
      if (statsd === undefined) return;
      try {
        step(statsd);
      } catch (err) {
        statsd = undefined;
        this.failures.log('failures', 'warn', { err, source }, 'sending metrics failed');
      }
    };
    return {
      batch,
      flush: () => guarded((r) => r.pack(batch)),
      end: () => {
        guarded((r) => {
          r.pack(batch);
          r.end();
        });
        this.prometheus?.update(source, batch);
      },
    };
  }

  /** Starts resolving the collector's address; does not wait for it. */
  start(): void {
    void this.statsd?.start();
  }

  /** Flushes and closes the statsd socket. */
  async close(): Promise<void> {
    await this.statsd?.close();
  }
}
