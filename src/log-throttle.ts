/**
 * Throttled logging: a message that recurs under a key is logged only now and then, and the next
 * line logged carries how many were held back (`suppressed`). A broken collector, a guest sending
 * garbage every millisecond or an executor queue full every period must not flood the log.
 * Two rules, per key:
 * - throttle(key, every, timeout), vdsm's throttledlog: the 1st, (every+1)th, ... call logs, and
 *   so does one `timeout` seconds or more after the last line logged;
 * - `period` (seconds, given at construction): keys not throttled explicitly log at most once per
 *   period. Without it, such keys always log.
 * Messages below the logger's level are neither logged nor counted.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from './log.js';

export type ThrottledLevel = 'debug' | 'info' | 'warn';

export interface ThrottledLogOptions {
  /** Seconds between two lines of a key not throttled explicitly; none by default (always log). */
  period?: number;
  /** Fields every line carries. */
  fields?: Record<string, unknown>;
  /** The field that names the key on each line, 'throttled' by default; null: none. */
  keyField?: string | null;
  /** Milliseconds, monotonic. */
  clock?: () => number;
}

interface Throttle {
  every: number;
  /** Milliseconds. */
  timeout: number;
  counter: number;
  lastLogged: number;
  suppressed: number;
}

export class ThrottledLog {
  private readonly throttles = new Map<string, Throttle>();
  private readonly periodMs: number | undefined;
  private readonly fields: Record<string, unknown>;
  private readonly keyField: string | null;
  private readonly clock: () => number;

  constructor(private readonly logger: Logger, options: ThrottledLogOptions = {}) {
    this.periodMs = options.period === undefined ? undefined : options.period * 1000;
    this.fields = options.fields ?? {};
    this.keyField = options.keyField === undefined ? 'throttled' : options.keyField;
    this.clock = options.clock ?? (() => performance.now());
  }

  /** Installs (or resets) vdsm's rule for `key`; timeout in seconds. */
  throttle(key: string, every: number, timeout = 3600): void {
    this.throttles.set(key, { every, timeout: timeout * 1000, counter: 0, lastLogged: -Infinity, suppressed: 0 });
  }

  /** Logs unless throttled; returns whether it did. */
  log(key: string, level: ThrottledLevel, fields: Record<string, unknown>, message: string, ...args: unknown[]): boolean {
    if (!this.logger.isLevelEnabled(level)) return false;
    const throttle = this.throttleOf(key);
    let suppressed = 0;
    if (throttle !== undefined) {
      const now = this.clock();
      const due = throttle.counter === 0 || now - throttle.lastLogged >= throttle.timeout;
      throttle.counter = (throttle.counter + 1) % throttle.every;
      if (!due) {
        throttle.suppressed++;
        return false;
      }
      throttle.lastLogged = now;
      suppressed = throttle.suppressed;
      throttle.suppressed = 0;
    }
    const line: Record<string, unknown> = { ...this.fields, ...fields };
    if (this.keyField !== null) line[this.keyField] = key;
    if (suppressed > 0) line['suppressed'] = suppressed;
    this.logger[level](line, message, ...args);
    return true;
  }

  debug(key: string, message: string, ...args: unknown[]): boolean {
    return this.log(key, 'debug', {}, message, ...args);
  }

  info(key: string, message: string, ...args: unknown[]): boolean {
    return this.log(key, 'info', {}, message, ...args);
  }

  warning(key: string, message: string, ...args: unknown[]): boolean {
    return this.log(key, 'warn', {}, message, ...args);
  }

  /** The key's rule: its own, or (with a period) a time-only one made on first use. */
  private throttleOf(key: string): Throttle | undefined {
    let throttle = this.throttles.get(key);
    if (throttle === undefined && this.periodMs !== undefined) {
      // Counting never makes a line due (every: Infinity): only the period does.
      throttle = { every: Infinity, timeout: this.periodMs, counter: 0, lastLogged: -Infinity, suppressed: 0 };
      this.throttles.set(key, throttle);
    }
    return throttle;
  }
}
