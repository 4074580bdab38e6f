/**
 * The last `size` samples with the time each was appended (vdsm's SampleWindow): rates come from
 * the first and last of the window.
 */
export class SampleWindow<T> {
  private readonly samples: Array<{ ts: number; value: T }> = [];

  constructor(
    readonly size: number,
    private readonly clock: () => number = () => performance.now() / 1000,
  ) {
    if (!(size >= 1)) throw new RangeError('window size must be not less than 1');
  }

  append(value: T): void {
    this.samples.push({ ts: this.clock(), value });
    if (this.samples.length > this.size) this.samples.shift();
  }

  /** First, last and the seconds between them; undefined with fewer than two samples. */
  stats(): { first: T; last: T; interval: number } | undefined {
    if (this.samples.length < 2) return undefined;
    const first = this.samples[0]!;
    const last = this.samples[this.samples.length - 1]!;
    return { first: first.value, last: last.value, interval: last.ts - first.ts };
  }

  /** The nth-last sample (1 = newest), or undefined. */
  last(nth = 1): { ts: number; value: T } | undefined {
    return this.samples[this.samples.length - nth];
  }

  get length(): number {
    return this.samples.length;
  }
}
