/**
 * A JSON-RPC client over STOMP 1.2, speaking to hostvisor (or vdsm) the way the engine does:
 * CONNECT, SUBSCRIBE to a response queue, SEND requests to `jms.topic.vdsm_requests` with
 * `reply-to`, match responses by id. Used by hostvisor-client and by the tests.
 */
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { encodeFrame } from '../net/stomp/encoder.js';
import type { Frame } from '../net/stomp/frame.js';
import { FrameParser } from '../net/stomp/parser.js';

export interface ClientOptions {
  host: string;
  port: number;
  /** A unix socket to connect to instead of host and port (plain only; a relay's, say). */
  path?: string;
  /** TLS with a client certificate; plain TCP when absent. */
  tls?: { cert: string | Buffer; key: string | Buffer; ca?: string | Buffer; insecure?: boolean };
  /** Default time to wait for a response, in ms; also the most a connection may take to open. */
  timeoutMs?: number;
  requestQueue?: string;
  responseQueue?: string;
  /** The CONNECT `host` header (a broker's virtual host); the address by default. */
  vhost?: string;
}

/** A JSON-RPC error answer. */
export class CallError extends Error {
  override name = 'CallError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

type MessageListener = (body: unknown, frame: Frame) => void;

export class JsonRpcClient {
  private readonly pending = new Map<string, Pending>();
  private readonly subscriptions = new Map<string, MessageListener>();
  private readonly frameWaiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (err: Error) => void }> = [];
  private readonly parser = new FrameParser({ maxFrameSize: 1 << 30, maxHeaders: 1000, maxHeaderLine: 1 << 20 }, (f) => this.onFrame(f));
  private readonly requestQueue: string;
  private readonly responseQueue: string;
  private closedError: Error | undefined;
  private readonly closeListeners: Array<(err: Error) => void> = [];

  private constructor(
    private readonly socket: net.Socket,
    private readonly timeoutMs: number,
    options: ClientOptions,
  ) {
    this.requestQueue = options.requestQueue ?? 'jms.topic.vdsm_requests';
    this.responseQueue = options.responseQueue ?? 'jms.topic.vdsm_responses';
    socket.on('data', (chunk: Buffer) => this.parser.push(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('connection closed')));
  }

  static async connect(options: ClientOptions): Promise<JsonRpcClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = options.tls
        ? tls.connect({
            host: options.host,
            port: options.port,
            cert: options.tls.cert,
            key: options.tls.key,
            ...(options.tls.ca ? { ca: options.tls.ca } : {}),
            rejectUnauthorized: !options.tls.insecure,
            // Host certificates name the host's address or anything; vdsm's clients skip the name check too.
            checkServerIdentity: () => undefined,
          }, () => resolve(s))
        : net.connect(options.path !== undefined ? { path: options.path } : { host: options.host, port: options.port }, () => resolve(s));
      s.once('error', reject);
      // An address nobody answers at would hold the caller for the kernel's minutes.
      const timer = setTimeout(() => s.destroy(new Error(`connecting to ${options.host}:${options.port} timed out`)), options.timeoutMs ?? 60_000);
      s.once(options.tls ? 'secureConnect' : 'connect', () => clearTimeout(timer));
      s.once('close', () => clearTimeout(timer));
    });
    const client = new JsonRpcClient(socket, options.timeoutMs ?? 60_000, options);
    const connected = client.nextFrame((f) => f.command === 'CONNECTED' || f.command === 'ERROR');
    socket.write(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', options.vhost ?? options.host], ['heart-beat', '0,0']]));
    const reply = await withTimeout(connected, client.timeoutMs, 'CONNECTED');
    if (reply.command === 'ERROR') throw new Error(`server refused CONNECT: ${reply.body.toString()}`);
    await client.subscribe(client.responseQueue, (body) => client.onResponse(body));
    return client;
  }

  /** Calls `method`; resolves with its result, rejects with a CallError for an error answer. */
  call(method: string, params: unknown = {}, timeoutMs = this.timeoutMs): Promise<unknown> {
    if (this.closedError) return Promise.reject(this.closedError);
    const id = randomUUID();
    const body = JSON.stringify({ jsonrpc: '2.0', method, params, id });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer });
      this.socket.write(
        encodeFrame('SEND', [['destination', this.requestQueue], ['content-type', 'application/json'], ['reply-to', this.responseQueue]], body),
      );
    });
  }

  /** Subscribes to a destination (e.g. `jms.queue.events`); resolves once the server has it. */
  async subscribe(destination: string, listener: MessageListener): Promise<string> {
    const id = randomUUID();
    this.subscriptions.set(id, listener);
    const receipt = randomUUID();
    const done = this.nextFrame((f) => (f.command === 'RECEIPT' && f.headers.get('receipt-id') === receipt) || f.command === 'ERROR');
    this.socket.write(encodeFrame('SUBSCRIBE', [['destination', destination], ['id', id], ['ack', 'auto'], ['receipt', receipt]]));
    const reply = await withTimeout(done, this.timeoutMs, 'subscription receipt');
    if (reply.command === 'ERROR') throw new Error(`subscription to ${destination} refused: ${reply.body.toString()}`);
    return id;
  }

  /** DISCONNECT with a receipt, then close. */
  async close(): Promise<void> {
    if (this.closedError) return;
    const receipt = randomUUID();
    const done = this.nextFrame((f) => f.command === 'RECEIPT' && f.headers.get('receipt-id') === receipt);
    this.socket.write(encodeFrame('DISCONNECT', [['receipt', receipt]]));
    await withTimeout(done, 2000, 'DISCONNECT receipt').catch(() => undefined);
    this.socket.end();
    this.fail(new Error('client closed'));
  }

  private onFrame(frame: Frame): void {
    const waiter = this.frameWaiters.findIndex((w) => w.match(frame));
    if (waiter >= 0) {
      this.frameWaiters.splice(waiter, 1)[0]!.resolve(frame);
      return;
    }
    if (frame.command !== 'MESSAGE') return;
    const listener = this.subscriptions.get(frame.headers.get('subscription') ?? '');
    if (!listener) return;
    let body: unknown;
    try {
      body = JSON.parse(frame.body.toString('utf8'));
    } catch {
      return; // not JSON: not for us
    }
    listener(body, frame);
  }

  private onResponse(body: unknown): void {
    for (const answer of Array.isArray(body) ? body : [body]) {
      const { id, result, error } = (answer ?? {}) as { id?: unknown; result?: unknown; error?: { code: number; message: string } };
      const pending = typeof id === 'string' ? this.pending.get(id) : undefined;
      if (!pending) continue;
      this.pending.delete(id as string);
      clearTimeout(pending.timer);
      if (error) pending.reject(new CallError(error.code, error.message));
      else pending.resolve(result);
    }
  }

  /** The next frame that matches; rejects when the connection is lost first. */
  private nextFrame(match: (f: Frame) => boolean): Promise<Frame> {
    if (this.closedError) return Promise.reject(this.closedError);
    return new Promise((resolve, reject) => this.frameWaiters.push({ match, resolve, reject }));
  }

  /** Called once when the connection is lost (or closed), with why. */
  onClose(listener: (err: Error) => void): void {
    if (this.closedError) listener(this.closedError);
    else this.closeListeners.push(listener);
  }

  private fail(err: Error): void {
    if (this.closedError) return;
    this.closedError = err;
    for (const listener of this.closeListeners.splice(0)) listener(err);
    for (const waiter of this.frameWaiters.splice(0)) waiter.reject(err);
    for (const [id, pending] of this.pending) {
      clearTimeout(pending.timer);
      pending.reject(err);
      this.pending.delete(id);
    }
  }
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
