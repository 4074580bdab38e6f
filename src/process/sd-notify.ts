/**
 * systemd integration: READY=1 once the acceptor listens, STOPPING=1 when a stop begins, and
 * WATCHDOG=1 from the main thread at half the watchdog interval. The watchdog ping is a timer on
 * the event loop, so a blocked loop misses it and systemd restarts the daemon: that is the point.
 */
import { native } from '../virt/libvirt/native.js';

/**
 * sd_notify(3): tells systemd about the daemon (`READY=1`, `STOPPING=1`, `WATCHDOG=1`); false
 * outside systemd. The libvirt addon provides it, being the native module at hand.
 */
export function sdNotify(state: string): boolean {
  return native.sdNotify(state);
}

export interface Notifier {
  ready(status: string): void;
  stopping(): void;
  /** Stops the watchdog pings. */
  close(): void;
}

export function systemdNotifier(env: NodeJS.ProcessEnv = process.env): Notifier {
  const watchdogUsec = Number(env['WATCHDOG_USEC']);
  const forUs = env['WATCHDOG_PID'] === undefined || Number(env['WATCHDOG_PID']) === process.pid;
  let timer: NodeJS.Timeout | undefined;
  if (watchdogUsec > 0 && forUs) {
    timer = setInterval(() => sdNotify('WATCHDOG=1'), Math.max(100, watchdogUsec / 2000));
    timer.unref();
  }
  return {
    ready: (status) => void sdNotify(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`),
    stopping: () => void sdNotify('STOPPING=1'),
    close: () => clearInterval(timer),
  };
}
