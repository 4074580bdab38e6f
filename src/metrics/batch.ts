/**
 * One report's figures (a host sample, a VM cycle, a health check), grouped by family so the
 * Prometheus side reads a family's samples without scanning the rest. Values that are not finite
 * numbers (a figure the stats did not carry, "NaN") are left out here, once, for both sinks.
 */
import type { Family } from './family.js';

export interface FamilySamples {
  readonly labels: (readonly string[])[];
  readonly values: number[];
}

const NO_LABELS: readonly string[] = [];

export class MetricBatch {
  readonly families = new Map<Family, FamilySamples>();
  private count = 0;

  get size(): number {
    return this.count;
  }

  /** Adds a figure; strings are parsed (vdsm's stats are strings such as "12.50"). */
  add(f: Family, value: number | string | undefined, labels: readonly string[] = NO_LABELS): void {
    const n = typeof value === 'number' ? value : value === undefined || value === '' ? NaN : Number(value);
    if (!Number.isFinite(n)) return;
    let samples = this.families.get(f);
    if (samples === undefined) {
      samples = { labels: [], values: [] };
      this.families.set(f, samples);
    }
    samples.labels.push(labels);
    samples.values.push(n);
    this.count++;
  }

  /** The value of one sample (tests, logs). */
  get(f: Family, labels: readonly string[] = NO_LABELS): number | undefined {
    const samples = this.families.get(f);
    if (samples === undefined) return undefined;
    const i = samples.labels.findIndex((l) => l.length === labels.length && l.every((v, k) => v === labels[k]));
    return i < 0 ? undefined : samples.values[i];
  }
}
