/**
 * Delays between reconnection attempts: exponential from `minMs` up to `maxMs`, with "equal
 * jitter" (half fixed, half random) so a fleet of hosts cut off by one broker restart does not
 * come back in lockstep, while no host waits much less than the exponential step.
 */
export class Backoff {
  private attempt = 0;

  constructor(
    private readonly minMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failed attempts since the last success. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next attempt; counts one more failure. */
  next(): number {
    const step = Math.min(this.maxMs, this.minMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return step / 2 + (step / 2) * this.random();
  }

  reset(): void {
    this.attempt = 0;
  }
}
