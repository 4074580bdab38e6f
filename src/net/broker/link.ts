/**
 * The daemon's link to the broker: opens a session, subscribes to this host's request
 * destinations, serves what arrives (responder.ts), publishes events, and when the session ends
 * opens a new one after a backoff with jitter, forever, until stopped. Start does not wait for the
 * broker: direct clients on the management port are served whether the broker is there or not.
 */
import type { Logger } from '../../log.js';
import type { EventBus, HostEvent } from '../../rpc/events.js';
import type { Frame } from '../stomp/frame.js';
import { Backoff } from '../../concurrency/backoff.js';
import type { RpcEngine } from '../../rpc/serve.js';
import { Responder } from './responder.js';
import { BrokerSession } from './session.js';
import type { BrokerSettings } from './settings.js';
import type { BrokerStatus, LinkState } from './state.js';

export interface BrokerLinkOptions {
  settings: BrokerSettings;
  engine: RpcEngine;
  events?: EventBus;
  log: Logger;
}

export class BrokerLink {
  readonly name = 'broker';
  private readonly settings: BrokerSettings;
  private readonly log: Logger;
  private readonly backoff: Backoff;
  private readonly responder: Responder;
  private readonly events: EventBus | undefined;
  private session: BrokerSession | undefined;
  private state: LinkState = 'idle';
  private sessions = 0;
  private lastError: string | null = null;
  private connectedSince: number | null = null;
  private eventsPublished = 0;
  private eventsDropped = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private abort: AbortController | undefined;
  private unsubscribeEvents: (() => void) | undefined;
  /** Resolved on each (re)subscription; tests and benchmarks wait on it. */
  private readyWaiters: (() => void)[] = [];
  /** Subscription id → destination, the same ids on every session. */
  private readonly subscriptionIds: Map<string, string>;

  constructor(options: BrokerLinkOptions) {
    this.settings = options.settings;
    this.log = options.log;
    this.events = options.events;
    this.backoff = new Backoff({ initial: this.settings.reconnectMinMs, max: this.settings.reconnectMaxMs });
    this.responder = new Responder(options.engine, () => (this.session?.isOpen ? this.session : undefined), this.log);
    this.subscriptionIds = new Map(this.settings.requestDestinations.map((d, i) => [`hostvisor-req-${i}`, d]));
  }

  start(signal?: AbortSignal): void {
    if (this.state !== 'idle') return;
    this.abort = new AbortController();
    signal?.addEventListener('abort', () => this.abort?.abort(), { once: true });
    if (this.settings.eventsDestination !== '' && this.events) {
      this.unsubscribeEvents = this.events.subscribe((e) => this.publish(e));
    }
    this.log.info({ broker: this.where(), destinations: this.settings.requestDestinations, events: this.settings.eventsDestination }, 'broker mode: connecting');
    this.connect();
  }

  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.abort?.abort();
    clearTimeout(this.retryTimer);
    this.unsubscribeEvents?.();
    const session = this.session;
    this.session = undefined;
    this.connectedSince = null;
    await session?.disconnect(1000);
  }

  /** Resolves when the link is next (or already) connected and subscribed. */
  ready(): Promise<void> {
    if (this.state === 'connected') return Promise.resolve();
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  status(): BrokerStatus {
    const c = this.responder.counts;
    return {
      state: this.state,
      connected: this.state === 'connected',
      attempts: this.backoff.attempts,
      sessions: this.sessions,
      lastError: this.lastError,
      connectedSince: this.connectedSince,
      broker: this.where(),
      requestDestinations: this.settings.requestDestinations,
      served: c.served,
      redeliveredDropped: c.redeliveredDropped,
      repliesDropped: c.repliesDropped,
      eventsPublished: this.eventsPublished,
      eventsDropped: this.eventsDropped,
    };
  }

  private where(): string {
    return `${this.settings.tls ? 'stomp+ssl' : 'stomp'}://${this.settings.address}:${this.settings.port}`;
  }

  private connect(): void {
    if (this.state === 'stopped') return;
    this.state = this.sessions === 0 && this.backoff.attempts === 0 ? 'connecting' : 'reconnecting';
    void this.openSession().catch((err: unknown) => this.retry(err as Error));
  }

  private async openSession(): Promise<void> {
    const session = await BrokerSession.open(this.settings, this.log, this.abort?.signal);
    if (this.state === 'stopped') {
      session.close(new Error('stopped'));
      return;
    }
    session.attach({
      onFrame: (f) => this.onFrame(f, session),
      onClosed: (reason) => this.onClosed(session, reason),
    });
    // The broker answers frames in order, so the receipt of the last SUBSCRIBE means all are in place.
    const subs = [...this.subscriptionIds];
    subs.slice(0, -1).forEach(([id, destination]) => session.send('SUBSCRIBE', this.subscribeHeaders(id, destination)));
    const [lastId, lastDestination] = subs[subs.length - 1]!;
    await session.sendWithReceipt('SUBSCRIBE', this.subscribeHeaders(lastId, lastDestination), this.settings.connectTimeoutMs);
    if (!session.isOpen) throw new Error('broker closed the session while subscribing');
    this.session = session;
    this.sessions++;
    const hadFailed = this.backoff.attempts;
    this.backoff.reset();
    this.state = 'connected';
    this.connectedSince = Date.now();
    this.log.info({ broker: this.where(), session: this.sessions, afterAttempts: hadFailed, heartbeat: session.heartbeat }, 'broker connected and subscribed');
    const waiters = this.readyWaiters;
    this.readyWaiters = [];
    for (const w of waiters) w();
  }

  /** client-individual + prefetch-count: see responder.ts for why (flow control, at most once). */
  private subscribeHeaders(id: string, destination: string): [string, string][] {
    return [
      ['destination', destination],
      ['id', id],
      ['ack', 'client-individual'],
      ['prefetch-count', String(this.settings.maxInFlight)],
    ];
  }

  private onFrame(frame: Frame, session: BrokerSession): void {
    if (frame.command !== 'MESSAGE') return;
    if (!this.subscriptionIds.has(frame.headers.get('subscription') ?? '')) return;
    this.responder.serve(frame, session);
  }

  private onClosed(session: BrokerSession, reason: Error): void {
    if (this.state === 'stopped') return;
    if (this.session !== session) return; // a session that failed while subscribing: retry() handles it
    this.session = undefined;
    this.connectedSince = null;
    this.retry(reason);
  }

  private retry(err: Error): void {
    if (this.state === 'stopped') return;
    this.lastError = err.message;
    this.state = 'reconnecting';
    const delay = this.backoff.next();
    const level = this.backoff.attempts === 1 || this.backoff.attempts % 10 === 0 ? 'warn' : 'debug';
    this.log[level]({ broker: this.where(), error: err.message, attempt: this.backoff.attempts, delayMs: Math.round(delay) }, 'broker connection lost or refused: reconnecting');
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  private publish(event: HostEvent): void {
    const session = this.session;
    if (session === undefined || !session.send('SEND', [['destination', this.settings.eventsDestination], ['content-type', 'application/json']], event.bytes)) {
      this.eventsDropped++;
      return;
    }
    this.eventsPublished++;
  }
}
