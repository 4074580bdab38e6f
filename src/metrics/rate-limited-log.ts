/**
 * Logs a recurring problem at most once per period, with how many were left out since. A collector
 * that is down would otherwise write a line per datagram, every cycle.
 */
import type { Logger } from '../log.js';

export class RateLimitedLog {
  private last = -Infinity;
  private suppressed = 0;

  constructor(
    private readonly log: Logger,
    private readonly periodMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Logs a warning now, or counts it toward the next one. True when it was written. */
  warn(fields: Record<string, unknown>, message: string): boolean {
    const t = this.now();
    if (t - this.last < this.periodMs) {
      this.suppressed++;
      return false;
    }
    this.log.warn(this.suppressed > 0 ? { ...fields, suppressed: this.suppressed } : fields, message);
    this.last = t;
    this.suppressed = 0;
    return true;
  }
}
