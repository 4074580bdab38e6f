/**
 * Warnings about what a guest sends, at most one per kind per interval: a hostile or broken guest
 * sending garbage every millisecond must not flood the log. The count of the ones held back goes
 * with the next one logged.
 */
import type { Logger } from '../../log.js';

export class RateLimitedWarnings {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly fields: Record<string, unknown>,
    private readonly intervalMs = 60_000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  warn(kind: string, message: string, details: Record<string, unknown> = {}): void {
    const t = this.now();
    const entry = this.last.get(kind);
    if (entry !== undefined && t - entry.at < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    const suppressed = entry?.suppressed ?? 0;
    this.last.set(kind, { at: t, suppressed: 0 });
    this.log.warn({ ...this.fields, ...details, kind, ...(suppressed > 0 ? { suppressed } : {}) }, message);
  }
}
