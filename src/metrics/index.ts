/**
 * Metrics, built from the config in one call for the daemon:
 * - `registry`: the prom-client Registry for createFront's `metrics` (GET /metrics);
 * - `health`: the lifecycle Part (health checks; owns the statsd socket: stop flushes it);
 * - `sampling.afterHostSample()` / `sampling.afterVmCycle()`: the hooks after each sampling cycle;
 * - `daemon.onCall`: the JSON-RPC engine's observer; `daemon.timed(executor)`: a timed dispatcher.
 * With [metrics] enabled false nothing is sent to statsd; /metrics still has every figure.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { getLogger, type Logger } from '../log.js';
import type { VmStatsElement } from '../virt/vm-stats.js';
import { DaemonMetrics, type ObservedExecutor } from './daemon-metrics.js';
import { HealthMonitor } from './health-monitor.js';
import { MetricsHub } from './hub.js';
import { PrometheusExport } from './prometheus.js';
import { SamplingReporter } from './sampling-reporter.js';
import { StatsdSink } from './statsd.js';

export interface MetricsSources<V> {
  executors: readonly ObservedExecutor[];
  hostStats: () => Readonly<Record<string, unknown>>;
  vms: () => Iterable<V>;
  vmStats: (vm: V) => VmStatsElement;
}

export interface Metrics<V> {
  readonly registry: Registry;
  readonly health: HealthMonitor;
  readonly sampling: SamplingReporter<V>;
  readonly daemon: DaemonMetrics;
  readonly hub: MetricsHub;
}

export function createMetrics<V>(config: Config, sources: MetricsSources<V>, log: Logger = getLogger('metrics')): Metrics<V> {
  const m = config.metrics;
  const statsd = m.enabled
    ? new StatsdSink({ address: m.collector_address, prefix: m.prefix, maxDatagram: m.max_datagram, log: log.child({ sink: 'statsd' }) })
    : undefined;
  const prometheus = new PrometheusExport();
  const hub = new MetricsHub({ statsd, prometheus, log });
  const daemon = new DaemonMetrics({ executors: sources.executors });
  const health = new HealthMonitor({ intervalSeconds: config.health.check_interval, hub, daemon, log: getLogger('health') });
  const sampling = new SamplingReporter<V>({ hub, hostStats: sources.hostStats, vms: sources.vms, vmStats: sources.vmStats, log });
  return { registry: prometheus.registry, health, sampling, daemon, hub };
}

export { MetricBatch } from './batch.js';
export { DaemonMetrics } from './daemon-metrics.js';
export { HealthMonitor } from './health-monitor.js';
export { MetricsHub } from './hub.js';
export { PrometheusExport } from './prometheus.js';
export { SamplingReporter } from './sampling-reporter.js';
export { StatsdSink, parseCollectorAddress } from './statsd.js';
