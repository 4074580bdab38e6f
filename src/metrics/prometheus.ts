/**
 * The Prometheus side of the same figures: a prom-client Registry (GET /metrics serves it) with one
 * metric per family of names.ts, filled at scrape time from the newest report of each source (host,
 * VMs, health). Nothing is copied per report: a report only replaces its source's batch, so a VM
 * that is gone disappears with the next report; a scrape refills a family only when a report came
 * since the last scrape.
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { MetricBatch } from './batch.js';
import type { Family } from './family.js';
import { ALL_FAMILIES } from './names.js';

type Filled = Gauge<string> | Counter<string>;

export class PrometheusExport {
  readonly registry: Registry;
  private readonly latest = new Map<string, MetricBatch>();
  /** Bumped by every report; a family refills only when it changed since its last fill. */
  private version = 0;

  constructor(families: readonly Family[] = ALL_FAMILIES, registry: Registry = new Registry()) {
    this.registry = registry;
    for (const f of families) this.register(f);
  }

  /** The newest report of a source replaces its previous one. */
  update(source: string, batch: MetricBatch): void {
    this.latest.set(source, batch);
    this.version++;
  }

  private register(f: Family): void {
    // prom-client calls collect with the metric as `this`; between reports it keeps the values.
    let filled = -1;
    const fill = (metric: Filled): void => {
      if (filled === this.version) return;
      filled = this.version;
      this.fill(f, metric);
    };
    const options = {
      name: f.promName,
      help: f.help,
      labelNames: [...f.labels],
      registers: [this.registry],
      collect(this: Filled): void {
        fill(this);
      },
    };
    if (f.type === 'counter') new Counter(options);
    else new Gauge(options);
  }

  private fill(f: Family, metric: Filled): void {
    metric.reset();
    for (const batch of this.latest.values()) {
      const samples = batch.families.get(f);
      if (samples === undefined) continue;
      for (let i = 0; i < samples.values.length; i++) {
        const value = samples.values[i]!;
        const labels: Record<string, string> = {};
        const values = samples.labels[i]!;
        for (let k = 0; k < f.labels.length; k++) labels[f.labels[k]!] = values[k] ?? '';
        if (metric instanceof Counter) {
          if (value >= 0) metric.inc(labels, value);
        } else {
          metric.set(labels, value);
        }
      }
    }
  }
}
