/**
 * Reconnect delays: exponential with "equal jitter" (half fixed, half random), so a thousand
 * channels that lost QEMU at once do not retry in lockstep. From 0.25 s doubling to 30 s, which is
 * about vdsm's five quick tries and then one every 30 s.
 */
export interface BackoffOptions {
  /** Seconds before the first retry. */
  initial?: number;
  /** Longest delay, seconds. */
  max?: number;
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly initial: number;
  private readonly max: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initial = options.initial ?? 0.25;
    this.max = options.max ?? 30;
    this.random = options.random ?? Math.random;
  }

  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next try, in seconds; counts one more failure. */
  next(): number {
    const base = Math.min(this.max, this.initial * 2 ** Math.min(this.failures, 30));
    this.failures++;
    return base / 2 + (this.random() * base) / 2;
  }

  reset(): void {
    this.failures = 0;
  }

  /** Puts the failure count back, e.g. when a connection turned out not to be a success. */
  restore(failures: number): void {
    this.failures = failures;
  }
}
