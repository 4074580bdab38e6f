/** Test helpers for the network front: a front on loopback port 0 and a raw STOMP client. */
import * as net from 'node:net';
import * as tls from 'node:tls';
import { pino } from 'pino';
import { connectivityTable } from '../../src/api/host-connectivity.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { createFront, type Front } from '../../src/net/front.js';
import type { Frame } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';
import type { Method } from '../../src/rpc/method-table.js';

export const silent = pino({ level: process.env['FRONT_TEST_LOG'] ?? 'silent' });

export interface Running {
  front: Front;
  port: number;
  stop(): Promise<void>;
}

/** The config of a test front. flags: `section.key` → raw value, over the test defaults
 * (loopback, port 0, short timeouts). */
export function frontConfig(flags: Record<string, string> = {}): Config {
  return loadConfig({
    env: {},
    flags: {
      'addresses.management_ip': '127.0.0.1',
      'addresses.management_port': '0',
      'acceptor.detection_timeout': '2',
      'tls.handshake_timeout': '2',
      ...flags,
    },
  }).config;
}

/** A front on the test config with Host.ping2, Host.confirmConnectivity and `methods`. */
export async function startFront(flags: Record<string, string> = {}, methods: Method[] = []): Promise<Running> {
  const config = frontConfig(flags);
  const table = connectivityTable().register(...methods);
  const front = createFront(config, table, { log: silent });
  await front.acceptor.start(new AbortController().signal);
  return { front, port: front.acceptor.port, stop: () => Promise.resolve(front.acceptor.stop()) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A STOMP client on a raw socket: sends exact bytes, keeps every byte and frame received. */
export class RawClient {
  readonly frames: Frame[] = [];
  raw = Buffer.alloc(0);
  closed = false;
  error: Error | undefined;
  private waiters: (() => void)[] = [];
  private readonly parser = new FrameParser({ maxFrameSize: 1 << 30, maxHeaders: 1000, maxHeaderLine: 1 << 20 }, (f) => {
    this.frames.push({ ...f, body: Buffer.from(f.body) });
  });

  constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.raw = Buffer.concat([this.raw, chunk]);
      this.parser.push(chunk);
      this.wake();
    });
    socket.on('error', (err) => {
      this.error = err;
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  static connectTls(port: number, options: tls.ConnectionOptions): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = tls.connect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...options }, () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Waits until `check` holds (re-checked on every arrival), or fails after `ms`. */
  async until<T>(check: () => T | undefined | false, ms = 3000, what = 'condition'): Promise<T> {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = check();
      if (v !== undefined && v !== false) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 20));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** The next frame (after `from` frames) matching `pred`. */
  frame(pred: (f: Frame) => boolean = () => true, from = 0, ms = 3000): Promise<Frame> {
    return this.until(() => this.frames.slice(from).find(pred), ms, 'frame');
  }

  waitClosed(ms = 3000): Promise<true> {
    return this.until(() => this.closed, ms, 'close');
  }

  close(): void {
    this.socket.destroy();
  }
}

export const body = (f: Frame): string => f.body.toString('utf8');
export const json = (f: Frame): unknown => JSON.parse(body(f));

export function sendFrame(command: string, headers: Record<string, string>, payload = ''): string {
  let s = `${command}\n`;
  for (const [k, v] of Object.entries(headers)) s += `${k}:${v}\n`;
  return `${s}\n${payload}\0`;
}

export function ping(id: string, method = 'Host.ping2', params: unknown = {}): string {
  return JSON.stringify({ jsonrpc: '2.0', method, params, id });
}
