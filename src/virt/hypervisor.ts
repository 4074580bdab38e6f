/**
 * The daemon's hold on the hypervisor (a lifecycle Part): opens the process-wide libvirt
 * connection for `[libvirt] uri`, runs libvirt's event-loop thread, and hands domain events to
 * subscribers on the main thread. When libvirt reports the connection closed, subscribers hear
 * of it and the connection is reopened with backoff; worker calls meanwhile fail with a
 * LibvirtError (VIR_ERR_NO_CONNECT) instead of hanging or crashing.
 *
 * Nothing here blocks the main thread: the connection opens on libuv's thread pool, and the
 * only synchronous libvirt calls are registering for events and the event-loop start/stop.
 * Verbs and sampling run in workers, which open their own holder of the same connection.
 */
import { Backoff, type BackoffOptions } from '../concurrency/backoff.js';
import type { Part } from '../lifecycle.js';
import { getLogger, type Logger } from '../log.js';
import {
  LibvirtHandle,
  formatVersion,
  startEventLoop,
  stopEventLoop,
  type HostIdentity,
  type LibvirtEvent,
} from './libvirt/index.js';

export type HypervisorEvent = LibvirtEvent;
export type HypervisorEventKind = HypervisorEvent['kind'];
export type HypervisorListener<K extends HypervisorEventKind> = (event: Extract<HypervisorEvent, { kind: K }>) => void;

export interface HypervisorOptions {
  /** Delays between reopen attempts, milliseconds; DEFAULT_REOPEN_BACKOFF's by default. */
  reopenBackoff?: Partial<BackoffOptions>;
  /** How long stop() waits for the event-loop thread to finish. */
  eventLoopStopMs?: number;
  log?: Logger;
}

/**
 * Milliseconds: 0.5 s doubling to 10 s. No jitter: the peer is this host's own libvirtd, and the
 * delays stay predictable for whoever reads the log.
 */
const DEFAULT_REOPEN_BACKOFF: BackoffOptions = { initial: 500, max: 10_000, jitter: 0 };

export class Hypervisor implements Part {
  readonly name = 'hypervisor';
  private readonly log: Logger;
  private readonly reopenBackoff: Backoff;
  private readonly eventLoopStopMs: number;
  private readonly listeners = new Set<(event: HypervisorEvent) => void>();
  private connection: LibvirtHandle | undefined;
  private unsubscribe: (() => Promise<void>) | undefined;
  private loopStarted = false;
  private identity: HostIdentity | undefined;
  private reopenTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    /** The URI workers open to reach the same connection (`[libvirt] uri`). */
    readonly uri: string,
    options: HypervisorOptions = {},
  ) {
    this.log = options.log ?? getLogger('hypervisor');
    this.reopenBackoff = new Backoff({ ...DEFAULT_REOPEN_BACKOFF, ...options.reopenBackoff });
    this.eventLoopStopMs = options.eventLoopStopMs ?? 2000;
  }

  /** What the hypervisor said about itself when last (re)opened. */
  get host(): HostIdentity | undefined {
    return this.identity;
  }

  /** False between a reported drop and a successful reopen (and before start). */
  get connected(): boolean {
    return this.connection?.isOpen() ?? false;
  }

  async start(signal: AbortSignal): Promise<void> {
    this.stopped = false;
    // The loop must be running before events are registered, or they would queue forever.
    startEventLoop();
    this.loopStarted = true;
    this.connection = new LibvirtHandle(this.uri);
    let host: HostIdentity;
    try {
      host = await this.connection.openAsync();
      // An abort here is followed by stop(), which undoes the rest.
      if (signal.aborted) return;
      const unsubscribe = await this.connection.subscribe((event) => this.dispatch(event));
      // A stop while registering found nothing to give back yet: give it back now.
      if (this.stopped) {
        await unsubscribe();
        return;
      }
      this.unsubscribe = unsubscribe;
    } catch (err) {
      // The lifecycle does not stop a part whose start failed: undo what was done.
      await this.stop();
      throw err;
    }
    this.identity = host;
    this.log.info(
      {
        uri: host.uri,
        type: host.type,
        version: formatVersion(host.version),
        libvirtVersion: formatVersion(host.libVersion),
        hostname: host.hostname,
      },
      'connected to hypervisor',
    );
  }

  /**
   * Gives the events and the connection back to libvirt. Those are calls to libvirtd, made off the
   * main thread: a hung libvirtd leaves this promise pending, and the lifecycle's stop deadline
   * decides (the process then exits without waiting on the thread).
   */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.reopenTimer);
    this.reopenTimer = undefined;
    const unsubscribe = this.unsubscribe;
    this.unsubscribe = undefined;
    const connection = this.connection;
    this.connection = undefined;
    await unsubscribe?.();
    if (this.loopStarted) {
      this.loopStarted = false;
      if (!stopEventLoop(this.eventLoopStopMs)) {
        this.log.warn({ timeoutMs: this.eventLoopStopMs }, 'libvirt event loop did not stop in time; left behind');
      }
    }
    await connection?.closeAsync();
  }

  /** Events of one kind; returns the function that unsubscribes. */
  on<K extends HypervisorEventKind>(kind: K, listener: HypervisorListener<K>): () => void {
    return this.onAny((event) => {
      if (event.kind === kind) listener(event as Extract<HypervisorEvent, { kind: K }>);
    });
  }

  /** Every event, in the order libvirt sent them; returns the function that unsubscribes. */
  onAny(listener: (event: HypervisorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Fault hook: behave as if libvirt had dropped the connection (for fault tests). */
  simulateDrop(): void {
    this.connection?.simulateDrop();
  }

  private dispatch(event: HypervisorEvent): void {
    if (event.kind === 'connection-closed') {
      this.log.warn({ uri: this.uri, reason: event.reason }, 'hypervisor connection closed; reopening');
      this.scheduleReopen();
    } else if (event.kind === 'connection-reopened') {
      this.log.info({ uri: this.uri }, 'hypervisor connection reopened');
    }
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.log.error({ err, kind: event.kind }, 'hypervisor event listener failed');
      }
    }
  }

  private scheduleReopen(): void {
    if (this.stopped || this.reopenTimer !== undefined) return;
    this.reopenTimer = setTimeout(() => void this.reopen(), this.reopenBackoff.next());
    // A pending reopen must not keep a stopping process alive.
    this.reopenTimer.unref();
  }

  private async reopen(): Promise<void> {
    this.reopenTimer = undefined;
    const connection = this.connection;
    if (this.stopped || connection === undefined) return;
    try {
      this.identity = await connection.openAsync();
      this.reopenBackoff.reset();
    } catch (err) {
      if (this.stopped) return;
      this.log.warn({ err, uri: this.uri, attempt: this.reopenBackoff.attempts }, 'reopening the hypervisor connection failed');
      this.scheduleReopen();
    }
  }
}
