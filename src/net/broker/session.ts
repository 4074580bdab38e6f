/**
 * One STOMP 1.2 client session with the broker: the socket (TCP or TLS), CONNECT → CONNECTED,
 * heart-beats both ways, frames in and out. A session never reconnects; when it ends it says why,
 * once, and the link (link.ts) makes a new one.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Logger } from '../../log.js';
import { encodeFrame, HEARTBEAT, type HeaderList } from '../stomp/encoder.js';
import type { Frame } from '../stomp/frame.js';
import { FrameParser } from '../stomp/parser.js';
import { negotiate, type HeartbeatPlan } from '../stomp/heartbeat.js';
import type { BrokerSettings } from './settings.js';

/** Missing this many expected heart-beats in a row means the broker (or the path to it) is gone. */
const MISSED_BEATS_ALLOWED = 2;

export interface SessionEvents {
  /** Every frame after CONNECTED (MESSAGE, RECEIPT, ERROR). */
  onFrame(frame: Frame): void;
  /** The session is over (socket closed, ERROR, heart-beat timeout); called once. */
  onClosed(reason: Error): void;
}

export class BrokerSession {
  private readonly parser: FrameParser;
  private plan: HeartbeatPlan = { sendEveryMs: 0, expectEveryMs: 0 };
  private lastRead = Date.now();
  private lastWrite = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private closed: Error | undefined;
  private connected: ((frame: Frame) => void) | undefined;
  private readonly receipts = new Map<string, () => void>();
  /** Set by the link once CONNECTED came back. */
  private events: SessionEvents | undefined;

  private constructor(
    private readonly socket: net.Socket,
    settings: BrokerSettings,
    private readonly log: Logger,
  ) {
    this.parser = new FrameParser(settings.limits, (f) => this.onFrame(f));
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.lastRead = Date.now();
      try {
        this.parser.push(chunk);
      } catch (err) {
        this.close(err as Error);
      }
    });
    socket.on('error', (err) => this.close(err));
    socket.on('close', () => this.close(new Error('broker closed the connection')));
  }

  /** Connects and completes CONNECT; rejects on refusal, error or timeout. */
  static async open(settings: BrokerSettings, log: Logger, signal?: AbortSignal): Promise<BrokerSession> {
    const socket = openSocket(settings);
    const session = new BrokerSession(socket, settings, log);
    const offered: [number, number] = [settings.heartbeatMs, settings.heartbeatMs];
    const reply = new Promise<Frame>((resolve) => (session.connected = resolve));
    const failed = new Promise<never>((_, reject) => {
      session.events = { onFrame: () => undefined, onClosed: reject };
    });
    const timeout = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new Error(`no CONNECTED within ${settings.connectTimeoutMs} ms`)), settings.connectTimeoutMs);
      failed.catch(() => clearTimeout(t));
      void reply.then(() => clearTimeout(t));
    });
    const onAbort = (): void => session.close(new Error('stopped'));
    signal?.addEventListener('abort', onAbort, { once: true });
    // Written at once: the socket queues it until connected (TCP) or the handshake is done (TLS).
    socket.write(
      encodeFrame('CONNECT', [
        ['accept-version', '1.2'],
        ['host', settings.vhost],
        ['login', settings.login],
        ['passcode', settings.passcode],
        ['heart-beat', `${offered[0]},${offered[1]}`],
      ]),
    );
    try {
      const frame = await Promise.race([reply, failed, timeout]);
      if (frame.command !== 'CONNECTED') {
        const why = frame.headers.get('message') ?? frame.body.toString('utf8').trim();
        throw new Error(`broker refused CONNECT: ${why}`);
      }
      session.plan = negotiate(offered, frame.headers.get('heart-beat'));
      session.startHeartbeats();
      return session;
    } catch (err) {
      session.close(err as Error);
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  /** Where frames and the end go from now on. */
  attach(events: SessionEvents): void {
    this.events = events;
    if (this.closed) events.onClosed(this.closed);
  }

  get isOpen(): boolean {
    return this.closed === undefined;
  }

  get heartbeat(): HeartbeatPlan {
    return this.plan;
  }

  /** Writes a frame; false when the session is over (the frame is not sent). */
  send(command: string, headers: HeaderList, body?: Buffer | string): boolean {
    if (this.closed) return false;
    this.lastWrite = Date.now();
    this.socket.write(encodeFrame(command, headers, body));
    return true;
  }

  /** Sends a frame with a `receipt` header and resolves when the broker confirms it. */
  sendWithReceipt(command: string, headers: [string, string][], timeoutMs: number): Promise<void> {
    const id = randomUUID();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.receipts.delete(id);
        reject(new Error(`no RECEIPT for ${command} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.receipts.set(id, () => {
        clearTimeout(t);
        resolve();
      });
      if (!this.send(command, [...headers, ['receipt', id]])) {
        clearTimeout(t);
        reject(this.closed);
      }
    });
  }

  /** DISCONNECT with a receipt (bounded wait), then closes the socket. */
  async disconnect(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    await this.sendWithReceipt('DISCONNECT', [], timeoutMs).catch(() => undefined);
    this.close(new Error('disconnected'));
  }

  /** Ends the session now. */
  close(reason: Error): void {
    if (this.closed) return;
    this.closed = reason;
    clearInterval(this.timer);
    this.parser.halt();
    this.socket.destroy();
    for (const resolve of this.receipts.values()) resolve();
    this.receipts.clear();
    this.events?.onClosed(reason);
  }

  private onFrame(frame: Frame): void {
    if (this.connected) {
      const resolve = this.connected;
      this.connected = undefined;
      resolve(frame);
      return;
    }
    if (frame.command === 'RECEIPT') {
      const id = frame.headers.get('receipt-id') ?? '';
      this.receipts.get(id)?.();
      this.receipts.delete(id);
      return;
    }
    if (frame.command === 'ERROR') {
      // The broker closes after ERROR (STOMP 1.2); say why it did.
      const why = frame.headers.get('message') ?? frame.body.toString('utf8').trim();
      this.log.warn({ error: why, detail: frame.body.toString('utf8').slice(0, 500) }, 'broker sent ERROR');
      this.events?.onFrame(frame);
      this.close(new Error(`broker error: ${why}`));
      return;
    }
    this.events?.onFrame(frame);
  }

  private startHeartbeats(): void {
    const { sendEveryMs, expectEveryMs } = this.plan;
    if (sendEveryMs === 0 && expectEveryMs === 0) return;
    const tick = Math.max(50, Math.min(sendEveryMs || Infinity, expectEveryMs || Infinity) / 2);
    this.timer = setInterval(() => {
      const now = Date.now();
      if (expectEveryMs > 0 && now - this.lastRead > expectEveryMs * MISSED_BEATS_ALLOWED) {
        this.close(new Error(`no heart-beat from the broker for ${now - this.lastRead} ms`));
        return;
      }
      if (sendEveryMs > 0 && now - this.lastWrite >= sendEveryMs - tick) {
        this.lastWrite = now;
        this.socket.write(HEARTBEAT);
      }
    }, tick);
    this.timer.unref();
  }
}

function openSocket(s: BrokerSettings): net.Socket {
  if (s.tls === undefined) return net.connect({ host: s.address, port: s.port });
  const pem = (path: string): Buffer | undefined => (path === '' ? undefined : readFileSync(path));
  const ca = pem(s.tls.caFile);
  const cert = pem(s.tls.certFile);
  const key = pem(s.tls.keyFile);
  return tls.connect({
    host: s.address,
    port: s.port,
    servername: net.isIP(s.address) ? undefined : s.address,
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    rejectUnauthorized: true,
  });
}
