/**
 * Starting and stopping the daemon's parts in order (vdsm's clientIF does this by hand).
 *
 * Parts start one after another in the order given; a part's start may await anything it needs
 * (the hypervisor, a first sample). They stop in reverse order, each bounded by what is left of one
 * overall deadline. A stop requested during start aborts the start (the part being started sees
 * its AbortSignal fire) and then stops the parts already started. A part whose start fails stops
 * the parts before it; the error names the part.
 */
import type { Logger } from './log.js';

export interface Part {
  readonly name: string;
  start(signal: AbortSignal): Promise<void> | void;
  stop(): Promise<void> | void;
}

export class PartFailed extends Error {
  override name = 'PartFailed';
  constructor(
    readonly part: string,
    readonly reason: unknown,
  ) {
    super(`${part} failed to start: ${reason instanceof Error ? reason.message : String(reason)}`);
  }
}

export class StartAborted extends Error {
  override name = 'StartAborted';
  constructor(readonly part: string) {
    super(`start aborted by a stop request while starting ${part}`);
  }
}

export interface StopResult {
  clean: boolean;
  /** Parts that threw or did not stop within the deadline. */
  failed: string[];
}

export class Lifecycle {
  private readonly started: Part[] = [];
  private readonly abort = new AbortController();
  private starting: Promise<void> | undefined;
  private stopping: Promise<StopResult> | undefined;

  constructor(
    private readonly parts: readonly Part[],
    private readonly log: Logger,
  ) {}

  start(): Promise<void> {
    this.starting ??= this.startAll();
    return this.starting;
  }

  private async startAll(): Promise<void> {
    for (const part of this.parts) {
      if (this.abort.signal.aborted) throw new StartAborted(part.name);
      const t0 = performance.now();
      this.log.debug({ part: part.name }, 'starting');
      try {
        await raceAbort(Promise.resolve(part.start(this.abort.signal)), this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) {
          // The part may have got some way; stopping it is the safe side.
          this.started.push(part);
          throw new StartAborted(part.name);
        }
        throw new PartFailed(part.name, err);
      }
      this.started.push(part);
      this.log.info({ part: part.name, ms: Math.round(performance.now() - t0) }, 'started');
    }
  }

  /** Stops whatever has started, in reverse order, within `deadlineMs` in all. Idempotent. */
  stop(deadlineMs: number): Promise<StopResult> {
    this.stopping ??= this.stopAll(deadlineMs);
    return this.stopping;
  }

  private async stopAll(deadlineMs: number): Promise<StopResult> {
    this.abort.abort();
    const deadline = performance.now() + deadlineMs;
    const failed: string[] = [];
    // A start in progress settles through the abort race at once; let it record its part.
    await this.starting?.catch(() => undefined);
    while (this.started.length > 0) {
      const part = this.started.pop()!;
      const left = deadline - performance.now();
      try {
        const outcome = await withTimeout(Promise.resolve().then(() => part.stop()), Math.max(0, left));
        if (outcome === 'timeout') {
          this.log.error({ part: part.name, deadlineMs }, 'part did not stop within the deadline');
          failed.push(part.name);
        } else {
          this.log.info({ part: part.name }, 'stopped');
        }
      } catch (err) {
        this.log.error({ part: part.name, err }, 'part failed to stop');
        failed.push(part.name);
      }
    }
    return { clean: failed.length === 0, failed };
  }
}

function raceAbort<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

async function withTimeout(p: Promise<void>, ms: number): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), ms);
  });
  try {
    return await Promise.race([p.then(() => 'done' as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
