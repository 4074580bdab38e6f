/**
 * Delays between reconnection attempts: exponential from `initial`, doubling up to `max`, with a
 * random part so that many peers cut off at once (a fleet of hosts by one broker restart, a
 * thousand guest channels by a QEMU upgrade) do not come back in lockstep. The default "equal
 * jitter" keeps half of each step fixed, so no attempt comes much sooner than the exponential
 * step. Delays are in the caller's unit (milliseconds or seconds): `initial` and `max` set it.
 */
export interface BackoffOptions {
  /** The delay before the first retry. */
  initial: number;
  /** The longest delay. */
  max: number;
  /** The random share of each delay, from 0 (none: exactly the exponential step) to 1; 0.5 by default. */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private failures = 0;
  private readonly initial: number;
  private readonly max: number;
  private readonly jitter: number;
  private readonly random: () => number;

  constructor(options: BackoffOptions) {
    this.initial = options.initial;
    this.max = options.max;
    this.jitter = options.jitter ?? 0.5;
    this.random = options.random ?? Math.random;
  }

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const step = Math.min(this.max, this.initial * 2 ** Math.min(this.failures, 30));
    this.failures++;
    if (this.jitter === 0) return step;
    return step * (1 - this.jitter) + step * this.jitter * this.random();
  }

  reset(): void {
    this.failures = 0;
  }

  /** Puts the failure count back, e.g. when a connection turned out not to be a success. */
  restore(failures: number): void {
    this.failures = failures;
  }
}
