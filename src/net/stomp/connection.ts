/**
 * One STOMP client: its frames, heart-beats, subscriptions, outbound buffer and requests in flight.
 * Routing between clients (destinations, JSON-RPC) is the server's; this class only knows its
 * own transport (a socket or a WebSocket) and asks the server through StompRouter.
 */
import type { Logger } from '../../log.js';
import { InFlight } from '../../rpc/serve.js';
import { encodeConnected, encodeError, encodeMessage, encodeReceipt, HEARTBEAT, messagePrefix } from './encoder.js';
import { FrameError, type Frame, type FrameLimits } from './frame.js';
import { parseHeartBeat } from './heartbeat.js';
import { FrameParser } from './parser.js';
import type { StompTransport } from './transport.js';

export interface ConnectionSettings {
  readonly limits: FrameLimits;
  /** Bytes queued for a client that does not read before it is cut off. */
  readonly maxOutboundBuffer: number;
  /** Requests served at once for one client; past it the socket is not read until one finishes. */
  readonly maxPendingRequests: number;
  /** Slack on top of the client's heart-beat interval before it is declared dead. */
  readonly heartbeatGraceMs: number;
  /** Floor of the interval at which we send heart-beats when the client asks for them (0 = none). */
  readonly outgoingHeartbeatMs: number;
}

/** What a connection needs from the server. */
export interface StompRouter {
  send(conn: StompConnection, frame: Frame): void;
  subscribed(sub: Subscription): void;
  unsubscribed(sub: Subscription): void;
  closed(conn: StompConnection): void;
}

export class Subscription {
  private prefix: Buffer | undefined;
  private prefixText: string | undefined;

  constructor(
    readonly id: string,
    readonly destination: string,
    readonly conn: StompConnection,
  ) {}

  /** The MESSAGE head for JSON bodies to this subscription up to the content-length value, made once. */
  get messagePrefix(): Buffer {
    this.prefix ??= Buffer.from(this.messagePrefixText, 'utf8');
    return this.prefix;
  }

  get messagePrefixText(): string {
    this.prefixText ??= messagePrefix(this.destination, this.id);
    return this.prefixText;
  }
}

/**
 * How long a connection closed by us may take to flush its last frames (an ERROR frame) before it
 * is destroyed. Not for a stop's drain: a client reads its last answers for as long as the
 * acceptor's drain deadline allows (half of `[daemon] stop_timeout`), which then cuts it off.
 */
const LINGER_MS = 1000;

export class StompConnection {
  private readonly parser: FrameParser;
  private readonly subscriptions = new Map<string, Subscription>();
  /** This client's requests in flight: reading stops at the cap, and a drain waits for them. */
  readonly requests: InFlight;
  private closed = false;
  /** Set by drain(): resolved when the connection has closed. */
  private drained: (() => void) | undefined;
  private outbox: (Buffer | string)[] = [];
  /** Characters or bytes in the outbox: a bound, not an exact byte count. */
  private outboxSize = 0;
  private lastRead = performance.now();
  private lastWrite = performance.now();
  private sendEvery = 0;
  private expectEvery = 0;
  private outTimer: NodeJS.Timeout | undefined;
  private inTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly transport: StompTransport,
    readonly peer: string,
    private readonly router: StompRouter,
    private readonly settings: ConnectionSettings,
    /** Shared, not a child per connection: pino children keep their level, and Host.setLogLevel
     * must reach long-lived connections. Every line carries the peer instead. */
    readonly log: Logger,
  ) {
    this.parser = new FrameParser(settings.limits, (frame) => this.dispatch(frame));
    this.requests = new InFlight(settings.maxPendingRequests, { pauseReading: () => this.holdReading(), resumeReading: () => this.releaseReading() });
    transport.listen({
      data: (chunk) => {
        if (this.expectEvery > 0) this.lastRead = performance.now();
        this.feed(() => this.parser.push(chunk));
      },
      close: () => this.close('peer closed', 'info'),
      error: (err) => this.log.debug({ peer: this.peer, err }, 'transport error'),
    });
  }

  /** Starts reading; `head` holds the bytes read while detecting the protocol. */
  start(head: Buffer): void {
    this.log.info({ peer: this.peer }, 'STOMP client connected');
    this.feed(() => this.parser.push(head));
    if (!this.closed && !this.parser.isPaused) this.transport.resumeReading();
  }

  get isClosed(): boolean {
    return this.closed;
  }

  /**
   * Queues a frame. Frames queued in one turn (all replies to one read, an event fanned out)
   * leave in one write from a microtask: it runs after the work already queued and before the
   * event loop moves on, so a lone reply is not delayed. A client that lets too much pile up
   * is cut off.
   */
  write(frame: Buffer | string): void {
    if (this.closed) return;
    this.outbox.push(frame);
    this.outboxSize += frame.length;
    if (this.sendEvery > 0) this.lastWrite = performance.now();
    if (this.outbox.length === 1) queueMicrotask(this.flush);
    // A burst within one turn (a fan-out of big events) must not pile up here either.
    else if (this.outboxSize > this.settings.maxOutboundBuffer) this.flush();
  }

  private readonly flush = (): void => {
    const out = this.outbox;
    if (out.length === 0 || this.closed) return;
    this.outbox = [];
    this.outboxSize = 0;
    this.transport.send(out);
    const queued = this.transport.queuedBytes;
    if (queued > this.settings.maxOutboundBuffer) {
      this.log.warn({ peer: this.peer, queued, limit: this.settings.maxOutboundBuffer }, 'client is not reading: outbound buffer over its bound, closing');
      this.close('outbound buffer over its bound', 'warn', false);
    }
  };

  /** A JSON MESSAGE already encoded as bytes (an event) to one of this client's subscriptions. */
  writeMessage(sub: Subscription, body: Buffer): void {
    this.write(encodeMessage(sub.messagePrefix, body));
  }

  /**
   * A JSON MESSAGE (a response) from its text in pieces. One piece: one string, encoded to UTF-8
   * in the socket write. More (a large answer): encoded straight into one buffer, never joined
   * into a string: a megabyte string lives in V8's old generation until a full GC, while a buffer's
   * memory goes back as soon as its small JS object dies young.
   */
  writeMessageText(sub: Subscription, pieces: readonly string[]): void {
    if (pieces.length === 1) {
      const json = pieces[0]!;
      this.write(`${sub.messagePrefixText}${Buffer.byteLength(json, 'utf8')}\n\n${json}\0`);
      return;
    }
    let bytes = 0;
    for (const piece of pieces) bytes += Buffer.byteLength(piece, 'utf8');
    const head = `${sub.messagePrefixText}${bytes}\n\n`;
    const frame = Buffer.allocUnsafe(Buffer.byteLength(head, 'utf8') + bytes + 1);
    let at = frame.write(head, 0, 'utf8');
    for (const piece of pieces) at += frame.write(piece, at, 'utf8');
    frame[at] = 0;
    this.write(frame);
  }

  sendError(text: string): void {
    this.log.info({ peer: this.peer, error: text }, 'ERROR frame sent');
    this.write(encodeError(text));
  }

  private holdReading(): void {
    this.log.debug({ peer: this.peer, pending: this.requests.size }, 'too many requests in flight: not reading until some finish');
    this.parser.pause();
    this.transport.pauseReading();
  }

  private releaseReading(): void {
    if (this.closed || this.drained) return;
    this.feed(() => this.parser.resume());
    if (!this.closed && !this.parser.isPaused) this.transport.resumeReading();
  }

  /**
   * Graceful stop: takes no more frames, answers the requests already taken, then closes (a frame
   * not taken is never served). Bytes keep being read and thrown away: a socket closed with unread
   * bytes is reset by the kernel, and a reset can destroy the last answers on their way out.
   */
  drain(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.drained = resolve;
      this.parser.halt();
      this.transport.resumeReading();
      this.requests.whenIdle(() => this.close('server stopping', 'info'));
    });
  }

  /**
   * Closes the connection once. `graceful` lets queued bytes (a last ERROR frame) go out first;
   * a client that does not read is destroyed at once.
   */
  close(reason: string, level: 'info' | 'warn' = 'info', graceful = true): void {
    if (this.closed) return;
    if (graceful && !this.transport.destroyed) {
      this.flush(); // a last ERROR frame goes out before the end
      if (this.closed) return; // the flush found the client not reading and closed it
    }
    this.closed = true;
    this.parser.halt();
    clearTimeout(this.outTimer);
    clearTimeout(this.inTimer);
    for (const sub of this.subscriptions.values()) this.router.unsubscribed(sub);
    this.subscriptions.clear();
    this.router.closed(this);
    this.log[level]({ peer: this.peer, reason }, 'STOMP client disconnected');
    this.drained?.();
    if (graceful && !this.transport.destroyed) {
      this.transport.end();
      // Draining, the answers still queued may be megabytes to a busy client: destroying them
      // after the linger would lose answers to requests already read (and a later answer that
      // went out first leaves a hole). The acceptor's drain deadline bounds the wait instead.
      if (this.drained === undefined) setTimeout(() => this.transport.destroy(), LINGER_MS).unref();
    } else {
      this.transport.destroy();
    }
  }

  /** Runs parser work; a bad frame is answered with ERROR and the connection closed. */
  private feed(work: () => void): void {
    try {
      work();
    } catch (err) {
      if (err instanceof FrameError) {
        this.log.warn({ peer: this.peer, error: err.message, kind: err.kind }, 'bad STOMP frame');
        this.sendError(err.message);
        this.close(`bad frame: ${err.message}`, 'warn');
      } else {
        this.log.error({ peer: this.peer, err }, 'failed handling a STOMP frame');
        this.close('internal error', 'warn');
      }
    }
  }

  private dispatch(frame: Frame): void {
    switch (frame.command) {
      case 'CONNECT':
      case 'STOMP':
        this.connect(frame);
        break;
      case 'SEND':
        this.router.send(this, frame);
        this.receipt(frame);
        break;
      case 'SUBSCRIBE':
        if (this.subscribe(frame)) this.receipt(frame);
        break;
      case 'UNSUBSCRIBE':
        if (this.unsubscribe(frame)) this.receipt(frame);
        break;
      case 'DISCONNECT':
        this.disconnect(frame);
        break;
      case 'ACK':
      case 'NACK':
        // Every subscription is ack:auto (as vdsm's); nothing to acknowledge.
        this.receipt(frame);
        break;
      default:
        this.log.warn({ peer: this.peer, command: frame.command.slice(0, 64) }, 'unknown STOMP command');
        this.sendError(`Unknown command: ${frame.command.slice(0, 64)}`);
        this.close('unknown command', 'warn');
    }
  }

  /** STOMP 1.2 RECEIPT for any frame that asks (vdsm answers only DISCONNECT; its client ignores extras). */
  private receipt(frame: Frame): void {
    const id = frame.headers.get('receipt');
    if (id !== undefined) this.write(encodeReceipt(id));
  }

  private connect(frame: Frame): void {
    const versions = frame.headers.get('accept-version');
    // vdsm takes only the exact string "1.2"; any list naming 1.2 is accepted here (stompit sends "1.0,1.1,1.2").
    if (versions === undefined || !versions.split(',').some((v) => v.trim() === '1.2')) {
      this.sendError('Version unsupported');
      return;
    }
    const [cx, cy] = parseHeartBeat(frame.headers.get('heart-beat'));
    // vdsm answers `cy,cx`: we send as often as the client wants to receive, and expect what it offers.
    this.sendEvery = cy === 0 ? 0 : Math.max(cy, this.settings.outgoingHeartbeatMs);
    this.expectEvery = cx;
    this.write(encodeConnected([this.sendEvery, this.expectEvery]));
    this.log.debug({ peer: this.peer, heartBeat: [this.sendEvery, this.expectEvery] }, 'STOMP CONNECTED');
    this.armHeartBeats();
  }

  private subscribe(frame: Frame): boolean {
    const destination = frame.headers.get('destination');
    const id = frame.headers.get('id');
    if (destination === undefined || id === undefined) {
      this.sendError('Missing destination or subscription id header');
      return false;
    }
    if (this.subscriptions.has(id)) {
      this.sendError('Subscription id already exists');
      return false;
    }
    const sub = new Subscription(id, destination, this);
    this.subscriptions.set(id, sub);
    this.router.subscribed(sub);
    this.log.debug({ peer: this.peer, destination, id }, 'subscribed');
    return true;
  }

  private unsubscribe(frame: Frame): boolean {
    const id = frame.headers.get('id');
    if (id === undefined) {
      this.sendError('Missing id header');
      return false;
    }
    const sub = this.subscriptions.get(id);
    if (sub !== undefined) {
      this.subscriptions.delete(id);
      this.router.unsubscribed(sub);
    }
    return true;
  }

  /** With a receipt: RECEIPT and the client closes (vdsm, the engine). Without: we close. */
  private disconnect(frame: Frame): void {
    const id = frame.headers.get('receipt');
    if (id === undefined) {
      this.close('DISCONNECT');
      return;
    }
    this.write(encodeReceipt(id));
    this.log.debug({ peer: this.peer }, 'DISCONNECT with receipt');
  }

  private armHeartBeats(): void {
    clearTimeout(this.outTimer);
    clearTimeout(this.inTimer);
    this.outTimer = undefined;
    this.inTimer = undefined;
    if (this.sendEvery > 0) {
      this.lastWrite = performance.now(); // CONNECTED just went out
      this.outTimer = setTimeout(this.beat, this.sendEvery);
    }
    if (this.expectEvery > 0) {
      this.lastRead = performance.now();
      this.inTimer = setTimeout(this.checkAlive, this.expectEvery + this.settings.heartbeatGraceMs);
    }
  }

  /** Sends `\n` when nothing was written for the agreed interval; re-arms for the next gap. */
  private readonly beat = (): void => {
    if (this.closed) return;
    const idle = performance.now() - this.lastWrite;
    if (idle >= this.sendEvery - 1) this.write(HEARTBEAT);
    const next = this.sendEvery - (performance.now() - this.lastWrite);
    this.outTimer = setTimeout(this.beat, Math.max(1, next));
  };

  /** Closes when nothing came from the client for its interval plus the grace. */
  private readonly checkAlive = (): void => {
    if (this.closed) return;
    const allowed = this.expectEvery + this.settings.heartbeatGraceMs;
    // While we hold off reading (backpressure), its heart-beats wait in the socket: not its fault.
    if (this.parser.isPaused) this.lastRead = performance.now();
    const silent = performance.now() - this.lastRead;
    if (silent >= allowed) {
      this.log.warn({ peer: this.peer, silentMs: Math.round(silent), heartBeatMs: this.expectEvery }, 'no heart-beat from client: closing');
      this.close('heart-beat timeout', 'warn', false);
      return;
    }
    this.inTimer = setTimeout(this.checkAlive, Math.max(1, allowed - silent));
  };
}
