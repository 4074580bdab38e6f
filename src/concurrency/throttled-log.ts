/**
 * Throttled logging (vdsm's throttledlog.py): throttle(name, interval, timeout) makes messages under
 * `name` log only on the 1st, (interval+1)th, ... call, or when `timeout` seconds passed since the
 * last one logged. Names never throttled always log; messages below the logger's level are not
 * counted. Operations use it for the "executor state"
 * dump on a full queue, which would otherwise repeat every period.
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';

type Level = 'debug' | 'info' | 'warn';

interface Throttle {
  interval: number;
  /** Milliseconds. */
  timeout: number;
  counter: number;
  lastLogged: number;
}

export class ThrottledLog {
  private readonly throttles = new Map<string, Throttle>();

  constructor(
    private readonly logger: Logger,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Installs (or resets) the throttle for `name`; timeout in seconds. */
  throttle(name: string, interval: number, timeout = 3600): void {
    this.throttles.set(name, { interval, timeout: timeout * 1000, counter: 0, lastLogged: -Infinity });
  }

  /** Logs unless throttled; returns whether it did. */
  log(name: string, level: Level, message: string, ...args: unknown[]): boolean {
    if (!this.logger.isLevelEnabled(level)) return false;
    const throttle = this.throttles.get(name);
    let due = true;
    if (throttle !== undefined) {
      const now = this.clock();
      due = throttle.counter === 0 || now - throttle.lastLogged >= throttle.timeout;
      throttle.counter = (throttle.counter + 1) % throttle.interval;
      if (due) throttle.lastLogged = now;
    }
    if (due) this.logger[level]({ throttled: name }, message, ...args);
    return due;
  }

  debug(name: string, message: string, ...args: unknown[]): boolean {
    return this.log(name, 'debug', message, ...args);
  }

  info(name: string, message: string, ...args: unknown[]): boolean {
    return this.log(name, 'info', message, ...args);
  }

  warning(name: string, message: string, ...args: unknown[]): boolean {
    return this.log(name, 'warn', message, ...args);
  }
}
