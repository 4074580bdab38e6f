/**
 * STOMP limits against the running daemon:
 * - [stomp] max_outbound_buffer: a client that never reads while answers flow is cut off once
 *   its queued bytes pass the bound, and another client is served all along.
 * - [stomp] max_pending_requests: a client with more requests in flight than the cap is not read
 *   until some finish, and every request is still answered. The rpc executor is made so small
 *   (one thread, one queued task) that without the cap a burst is refused with ResourceExhausted;
 *   a JSON-RPC batch (one STOMP request holding several calls, so the cap does not split it) shows
 *   that refusal on the same daemon.
 */
import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import type { Frame } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';
import { QUICK_DAEMON, readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';

const MAX_OUTBOUND = 64 * 1024; // the smallest the config allows
const MAX_PENDING = 2;
const VM = '6695eb01-f6a4-8304-79aa-97f2502e193f'; // the test driver's own domain

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface Reply {
  id: unknown;
  result?: unknown;
  error?: { code: number; message: string };
}

/** A raw STOMP connection that records the frames it gets and whether it was closed. */
class RawStomp {
  readonly frames: Frame[] = [];
  bytesRead = 0;
  closed = false;
  readonly closedAt: Promise<void>;
  private constructor(readonly socket: net.Socket) {
    const parser = new FrameParser({ maxFrameSize: 1 << 26, maxHeaders: 100, maxHeaderLine: 1 << 16 }, (f) => this.frames.push(f));
    socket.on('data', (c: Buffer) => {
      this.bytesRead += c.length;
      parser.push(c);
    });
    socket.on('error', () => undefined);
    this.closedAt = new Promise((resolve) =>
      socket.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static async open(port: number): Promise<RawStomp> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const raw = new RawStomp(socket);
    socket.write(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', 'h'], ['heart-beat', '0,0']]));
    await raw.until((f) => f.command === 'CONNECTED');
    socket.write(encodeFrame('SUBSCRIBE', [['destination', 'jms.topic.vdsm_responses'], ['id', 's1'], ['ack', 'auto'], ['receipt', 'sub']]));
    await raw.until((f) => f.command === 'RECEIPT');
    return raw;
  }

  async until(match: (f: Frame) => boolean, ms = 10_000): Promise<Frame> {
    const deadline = Date.now() + ms;
    for (;;) {
      const f = this.frames.find(match);
      if (f) return f;
      if (Date.now() > deadline) throw new Error(`no matching frame in ${ms} ms; got ${this.frames.map((x) => x.command).join(',')}`);
      await sleep(20);
    }
  }

  /** The JSON-RPC answers received so far (a batch answer is one array). */
  replies(): Array<Reply | Reply[]> {
    return this.frames.filter((f) => f.command === 'MESSAGE').map((f) => JSON.parse(f.body.toString('utf8')) as Reply | Reply[]);
  }

  static send(body: unknown): Buffer {
    return encodeFrame('SEND', [['destination', 'jms.topic.vdsm_requests'], ['reply-to', 'jms.topic.vdsm_responses']], Buffer.from(JSON.stringify(body)));
  }
}

describe('STOMP limits against the running daemon', () => {
  let daemon: RunningDaemon;
  let port: number;
  let client: JsonRpcClient;

  beforeAll(async () => {
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...QUICK_DAEMON,
      HOSTVISOR_STOMP_MAX_OUTBOUND_BUFFER: String(MAX_OUTBOUND),
      HOSTVISOR_STOMP_MAX_PENDING_REQUESTS: String(MAX_PENDING),
      // At most one verb running and one waiting: a third at once is ResourceExhausted (1100).
      HOSTVISOR_RPC_WORKER_THREADS: '1',
      HOSTVISOR_RPC_TASKS_PER_WORKER: '1',
    });
    port = await readyPort(daemon);
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 15_000 });
  }, 40_000);

  afterAll(async () => {
    expect(await stopDaemon(daemon, client)).toBe(0);
  }, 20_000);

  it('a client that never reads is cut off past max_outbound_buffer; another client is answered meanwhile', async () => {
    const slow = await RawStomp.open(port);
    const readBefore = slow.bytesRead;
    slow.socket.pause(); // from now on it reads nothing

    // Every request gets an answer about as big as itself: a method that does not exist is
    // quoted back in the error. 32 kB each, until the daemon gives up on the client (at most 64 MB).
    const name = `No.such${'x'.repeat(32 * 1024)}`;
    const frame = (i: number): Buffer => RawStomp.send({ jsonrpc: '2.0', id: `flood-${i}`, method: name, params: {} });
    const cutOff = (): boolean => daemon.logs.some((l) => l.msg === 'client is not reading: outbound buffer over its bound, closing');

    // Meanwhile a well-behaved client keeps calling.
    let flooding = true;
    const latencies: number[] = [];
    const other = (async (): Promise<void> => {
      while (flooding) {
        const t0 = Date.now();
        expect(await client.call('Host.ping2')).toBe(true);
        latencies.push(Date.now() - t0);
        await sleep(10);
      }
    })();

    let sent = 0;
    try {
      while (!cutOff() && sent < 2048 && !slow.socket.destroyed) {
        for (let k = 0; k < 32; k++) {
          if (!slow.socket.write(frame(sent++))) await Promise.race([new Promise((r) => slow.socket.once('drain', r)), slow.closedAt, sleep(200)]);
          if (slow.socket.destroyed) break;
        }
        await sleep(5);
      }
      await daemon.waitForLog((l) => l.msg === 'client is not reading: outbound buffer over its bound, closing', 10_000);
      await sleep(200); // a few more answers to the other client after the cut-off
    } finally {
      flooding = false;
      await other;
    }

    const warn = daemon.logs.find((l) => l.msg === 'client is not reading: outbound buffer over its bound, closing')!;
    expect(warn.level).toBe(40);
    expect(warn['limit']).toBe(MAX_OUTBOUND);
    expect(warn['queued'] as number).toBeGreaterThan(MAX_OUTBOUND);
    // Cut off at the first flush over the bound: at most one turn's worth of answers over it.
    expect(warn['queued'] as number).toBeLessThan(MAX_OUTBOUND + 8 * 1024 * 1024);
    await daemon.waitForLog((l) => l.msg === 'STOMP client disconnected' && l['reason'] === 'outbound buffer over its bound');

    // The other client was served all along, and promptly.
    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(3000);
    expect(await client.call('Host.ping2')).toBe(true);

    // What the slow client can still read is what the kernel held: far from every answer.
    slow.socket.resume();
    await Promise.race([slow.closedAt, sleep(10_000)]);
    expect(slow.closed).toBe(true);
    const answered = slow.replies().length;
    expect(sent).toBeGreaterThan(answered);
    expect(answered).toBeLessThan(sent - 10);
    expect(slow.bytesRead - readBefore).toBeLessThan(sent * name.length);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('more requests in flight than max_pending_requests: the client is not read until some finish, and every request is answered', async () => {
    // Control: one STOMP request holding a batch of 6 verbs runs them at once (the cap counts
    // STOMP requests); the rpc executor, one running and one waiting, refuses the rest.
    const control = await RawStomp.open(port);
    try {
      const batch = Array.from({ length: 6 }, (_, i) => ({ jsonrpc: '2.0', id: `b${i}`, method: 'VM.setMemory', params: { vmID: VM, memory: 1024 } }));
      control.socket.write(RawStomp.send(batch));
      await control.until((f) => f.command === 'MESSAGE');
      const answers = control.replies()[0] as Reply[];
      expect(answers).toHaveLength(6);
      expect(answers.filter((a) => a.error?.code === 1100).length).toBeGreaterThan(0);
    } finally {
      control.socket.destroy();
    }

    expect(await client.call('Host.setLogLevel', { level: 'DEBUG' })).toBe(true);
    const bp = await RawStomp.open(port);
    const N = 60;
    try {
      // All of them in one write: the daemon could read them all at once, and must not.
      const wire = Buffer.concat(Array.from({ length: N }, (_, i) => RawStomp.send({ jsonrpc: '2.0', id: `p${i}`, method: 'VM.setMemory', params: { vmID: VM, memory: 1024 + (i % 2) } })));
      bp.socket.write(wire);
      const deadline = Date.now() + 20_000;
      while (bp.replies().length < N && Date.now() < deadline) await sleep(20);
      const replies = bp.replies() as Reply[];
      // Every request answered exactly once, and none refused for want of room.
      expect(replies.map((r) => r.id).sort()).toEqual(Array.from({ length: N }, (_, i) => `p${i}`).sort());
      expect(replies.filter((r) => r.error !== undefined)).toEqual([]);
      for (const r of replies) expect(r.result).toBe(true);
      // And the reason is backpressure: reading stopped at the cap.
      const paused = daemon.logs.filter((l) => l.msg === 'too many requests in flight: not reading until some finish');
      expect(paused.length).toBeGreaterThan(0);
      for (const l of paused) expect(l['pending']).toBe(MAX_PENDING);
    } finally {
      bp.socket.destroy();
      await client.call('Host.setLogLevel', { level: 'INFO' });
    }
    expect(await client.call('Host.ping2')).toBe(true);
  });

  it('never logged an uncaught error', () => {
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  });
});
