/**
 * The last two VM stats batches (vdsm's StatsCache). Batches are stamped with the monotonic time
 * their sampling *started*; a batch older than the newest one stored is a late result of a
 * discarded worker and is dropped (an equal stamp is accepted). Rates use the interval between the
 * two batches' append times; a VM's age uses the start stamp of the last batch that held it.
 */
import type { Logger } from '../../log.js';
import { SampleWindow } from './sample-window.js';

export interface StatsSample<S> {
  first: S;
  last: S;
  /** Seconds between the two batches. */
  interval: number;
}

export class StatsCache<S> {
  private readonly window: SampleWindow<Map<string, S>>;
  private lastSampleTime = 0;
  private readonly vmLastTimestamp = new Map<string, number>();

  constructor(
    private readonly log: Logger,
    readonly clock: () => number = () => performance.now() / 1000,
  ) {
    this.window = new SampleWindow(2, clock);
  }

  /** Warms a new VM's entry so it is not reported unresponsive before its first sample. */
  add(vmId: string): void {
    this.vmLastTimestamp.set(vmId, this.clock());
  }

  remove(vmId: string): void {
    this.vmLastTimestamp.delete(vmId);
  }

  /** Stores a batch sampled at `sampledAt` (this cache's clock); false when it was stale. */
  put(batch: Map<string, S>, sampledAt: number): boolean {
    if (sampledAt < this.lastSampleTime) {
      this.log.warn({ sampled: sampledAt, stored: this.lastSampleTime }, 'dropped stale old sample');
      return false;
    }
    this.window.append(batch);
    this.lastSampleTime = sampledAt;
    for (const vmId of batch.keys()) this.vmLastTimestamp.set(vmId, sampledAt);
    return true;
  }

  /** The VM's two samples, or undefined when either batch lacks it; and the age of its newest. */
  get(vmId: string): { sample: StatsSample<S> | undefined; age: number } {
    const age = this.clock() - (this.vmLastTimestamp.get(vmId) ?? 0);
    const stats = this.window.stats();
    const first = stats?.first.get(vmId);
    const last = stats?.last.get(vmId);
    if (!stats || first === undefined || last === undefined) return { sample: undefined, age };
    return { sample: { first, last, interval: stats.interval }, age };
  }

  /** Seconds since the newest batch was sampled (for /health); Infinity before the first. */
  newestAge(): number {
    return this.lastSampleTime === 0 ? Infinity : this.clock() - this.lastSampleTime;
  }
}
