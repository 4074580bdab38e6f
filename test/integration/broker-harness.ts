/**
 * Test helpers for broker mode: an engine-side STOMP client speaking to it, and broker-mode hosts built around a
 * front's engine and events bus (the way the daemon wires them). RabbitMQ itself is started by
 * test/helpers/rabbitmq.ts.
 */
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { loadConfig } from '../../src/config/load.js';
import { createBrokerPart, type BrokerPart } from '../../src/net/broker/part.js';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import type { Frame } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';
import type { Method } from '../../src/rpc/method-table.js';
import { STOMP_PORT } from '../helpers/rabbitmq.js';
import { silent, startFront, type Running } from './front-harness.js';

/** The engine's side: requests to a host's queue, replies on a temp queue, event subscriptions. */
export class EngineClient {
  private readonly pending = new Map<string, (reply: { result?: unknown; error?: { code: number; message: string } }) => void>();
  private readonly receipts = new Map<string, () => void>();
  readonly messages: Frame[] = [];
  private readonly listeners = new Map<string, (body: unknown, frame: Frame) => void>();
  closed = false;
  private connected: ((f: Frame) => void) | undefined;
  private readonly parser = new FrameParser({ maxFrameSize: 1 << 26, maxHeaders: 1000, maxHeaderLine: 1 << 16 }, (f) => this.onFrame(f));
  readonly replyTo = `/temp-queue/engine-${randomUUID()}`;

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.parser.push(c));
    socket.on('close', () => (this.closed = true));
    socket.on('error', () => undefined);
  }

  static async connect(port = STOMP_PORT): Promise<EngineClient> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new EngineClient(socket);
    const got = new Promise<Frame>((r) => (c.connected = r));
    socket.write(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', '/'], ['login', 'guest'], ['passcode', 'guest'], ['heart-beat', '0,0']]));
    const f = await got;
    if (f.command !== 'CONNECTED') throw new Error(`CONNECT refused: ${f.body.toString()}`);
    return c;
  }

  private onFrame(f: Frame): void {
    if (this.connected) {
      const r = this.connected;
      this.connected = undefined;
      r(f);
      return;
    }
    if (f.command === 'RECEIPT') {
      const id = f.headers.get('receipt-id') ?? '';
      this.receipts.get(id)?.();
      this.receipts.delete(id);
      return;
    }
    if (f.command !== 'MESSAGE') return;
    const frame = { ...f, body: Buffer.from(f.body) };
    this.messages.push(frame);
    const body = JSON.parse(frame.body.toString('utf8')) as unknown;
    const sub = f.headers.get('subscription') ?? '';
    const listener = this.listeners.get(sub);
    if (listener) return listener(body, frame);
    for (const answer of Array.isArray(body) ? body : [body]) {
      const a = answer as { id?: string; result?: unknown; error?: { code: number; message: string } };
      const p = a.id === undefined ? undefined : this.pending.get(a.id);
      if (p) {
        this.pending.delete(a.id!);
        p(a);
      }
    }
  }

  /** Sends a request to `destination`; resolves with the answer (result or error object). */
  request(destination: string, method: string, params: unknown = {}, timeoutMs = 5000): Promise<{ result?: unknown; error?: { code: number; message: string } }> {
    const id = randomUUID();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`no answer to ${method} on ${destination} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.pending.set(id, (a) => {
        clearTimeout(t);
        resolve(a);
      });
      this.sendRaw(destination, JSON.stringify({ jsonrpc: '2.0', method, params, id }));
    });
  }

  sendRaw(destination: string, body: string, headers: [string, string][] = []): void {
    this.socket.write(encodeFrame('SEND', [['destination', destination], ['content-type', 'application/json'], ['reply-to', this.replyTo], ...headers], body));
  }

  /** Subscribes and waits for the broker's receipt. */
  subscribe(destination: string, listener: (body: unknown, frame: Frame) => void): Promise<void> {
    const id = randomUUID();
    const receipt = randomUUID();
    this.listeners.set(id, listener);
    return new Promise((resolve) => {
      this.receipts.set(receipt, resolve);
      this.socket.write(encodeFrame('SUBSCRIBE', [['destination', destination], ['id', id], ['ack', 'auto'], ['receipt', receipt]]));
    });
  }

  get localPort(): number | undefined {
    return this.socket.localPort;
  }

  close(): void {
    this.socket.destroy();
  }
}

export interface BrokerHost {
  name: string;
  front: Running;
  broker: BrokerPart;
  /** The request destination engines send to. */
  queue: string;
  stop(): Promise<void>;
}

/** Flags for a broker-mode host, over the test defaults. */
export function brokerFlags(name: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'vars.broker_enable': 'true',
    'vars.broker_address': '127.0.0.1',
    'vars.broker_port': String(STOMP_PORT),
    'broker.host_name': name,
    'broker.heartbeat': '1000',
    'broker.reconnect_min': '0.2',
    'broker.reconnect_max': '2',
    'broker.connect_timeout': '5',
    ...extra,
  };
}

/** A front (port 0) plus its broker Part, started and subscribed. */
export async function startBrokerHost(name: string, methods: Method[] = [], extra: Record<string, string> = {}): Promise<BrokerHost> {
  const flags = brokerFlags(name, extra);
  const front = await startFront(flags, methods);
  const { config } = loadConfig({ env: {}, flags: { 'addresses.management_port': '0', ...flags } });
  const broker = createBrokerPart(config, { engine: front.front.engine, events: front.front.events, log: silent });
  broker.start(new AbortController().signal);
  await broker.ready();
  return {
    name,
    front,
    broker,
    queue: broker.settings.requestDestinations[0]!,
    async stop() {
      await broker.stop();
      await front.stop();
    },
  };
}

/** A TCP relay to the broker, so a test can cut (or freeze) one host's link and nobody else's. */
export interface Relay {
  port: number;
  /** Destroys every relayed connection (both sides). */
  dropAll(): void;
  /** Stops forwarding bytes (a silent network); new connections hang too. */
  freeze(on: boolean): void;
  close(): Promise<void>;
}

export async function startRelay(targetPort = STOMP_PORT): Promise<Relay> {
  const pairs = new Set<[net.Socket, net.Socket]>();
  let frozen = false;
  const server = net.createServer((client) => {
    const upstream = net.connect({ host: '127.0.0.1', port: targetPort });
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    client.on('data', (d: Buffer) => !frozen && upstream.write(d));
    upstream.on('data', (d: Buffer) => !frozen && client.write(d));
    const end = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of pair) {
      s.on('close', end);
      s.on('error', end);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const dropAll = (): void => {
    for (const [a, b] of [...pairs]) {
      a.destroy();
      b.destroy();
    }
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    dropAll,
    freeze(on) {
      frozen = on;
    },
    close() {
      dropAll();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
