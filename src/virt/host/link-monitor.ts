/**
 * The kernel's link and address changes, for the capabilities (nics, bridges, addresses) to follow
 * them instead of waiting for their slow period. iproute2's `ip -o monitor link address` reads
 * netlink in a child process, one line per change; the main thread only reads its lines.
 *
 * Changes come in bursts (a VM start adds a tap, sets it up and enslaves it to a bridge): a change
 * is reported once the kernel has been quiet for `quietMs`, or `maxDelayMs` after the first
 * change of a burst that does not end. When `ip` ends, it is started again after a backoff;
 * when there is no `ip` (or no setpriv) at all, the monitor says so once and the slow period is
 * all there is.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Backoff } from '../../concurrency/backoff.js';
import type { Part } from '../../lifecycle.js';
import type { Logger } from '../../log.js';

export interface LinkMonitorOptions {
  /** Called after a burst of changes ends. */
  onChange(): void;
  log: Logger;
  quietMs?: number;
  maxDelayMs?: number;
  /** The command, `ip` by default (tests name another). */
  command?: readonly string[];
}

/**
 * util-linux's setpriv has the kernel end `ip` when the daemon ends, however it ends (SIGKILL
 * included): an orphaned monitor would otherwise live on until its next write fails.
 */
const IP_MONITOR = ['setpriv', '--pdeathsig', 'TERM', 'ip', '-o', 'monitor', 'link', 'address'];
/** What a shell or setpriv exits with when the program to run is not there. */
const COMMAND_NOT_FOUND = 127;

export class LinkMonitor implements Part {
  readonly name = 'link-monitor';
  private child: ChildProcess | undefined;
  private stopped = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private quietTimer: NodeJS.Timeout | undefined;
  private burstStart: number | undefined;
  private readonly backoff = new Backoff({ initial: 1000, max: 60_000 });

  constructor(private readonly options: LinkMonitorOptions) {}

  start(): void {
    this.stopped = false;
    this.run();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.restartTimer);
    clearTimeout(this.quietTimer);
    this.burstStart = undefined;
    this.child?.kill();
    this.child = undefined;
  }

  private run(): void {
    const [file, ...args] = this.options.command ?? IP_MONITOR;
    const child = spawn(file!, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    this.child = child;
    const startedAt = Date.now();
    createInterface({ input: child.stdout! }).on('line', () => this.changed());
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') {
        this.missing(file!);
        return;
      }
      this.options.log.warn({ err }, 'the link monitor failed');
    });
    child.once('exit', (code, signal) => {
      if (this.child !== child || this.stopped) return;
      if (code === COMMAND_NOT_FOUND) {
        this.missing(args.join(' '));
        return;
      }
      this.child = undefined;
      // A monitor that ran a while before ending starts again at once, not after the last failures' delay.
      if (Date.now() - startedAt > 60_000) this.backoff.reset();
      const delay = this.backoff.next();
      this.options.log.warn({ code, signal, retryMs: Math.round(delay) }, 'the link monitor ended; starting it again');
      this.restartTimer = setTimeout(() => this.run(), delay);
    });
  }

  private missing(command: string): void {
    this.child = undefined;
    this.options.log.warn({ command }, 'no iproute2 or util-linux to run the link monitor: host capabilities follow network changes only on their period');
  }

  private changed(): void {
    const quietMs = this.options.quietMs ?? 1000;
    const maxDelayMs = this.options.maxDelayMs ?? 5000;
    const now = Date.now();
    this.burstStart ??= now;
    clearTimeout(this.quietTimer);
    const wait = Math.min(quietMs, Math.max(0, this.burstStart + maxDelayMs - now));
    this.quietTimer = setTimeout(() => {
      this.burstStart = undefined;
      this.options.onChange();
    }, wait);
  }
}
