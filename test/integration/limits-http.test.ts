/**
 * HTTP and WebSocket limits against the running daemon, with small values set by env:
 * - [http] ws_max_message: a message over it closes the WebSocket with 1009 (JSON-RPC and STOMP
 *   subprotocols), one just under it is served.
 * - [http] header_timeout: a request head still incomplete when it runs out is answered 408 and
 *   closed, even though bytes keep coming (it is a deadline for the whole head, not an
 *   inactivity timer); a head as slow but done in time is served.
 * - [http] idle_timeout: a keep-alive connection is kept between requests, and closed once idle
 *   that long.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import { QUICK_DAEMON, readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { RawClient as Raw } from '../helpers/raw-client.js';

const WS_MAX = 4096;
const HEADER_TIMEOUT_S = 1;
const IDLE_TIMEOUT_S = 2;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function openWs(port: number, protocol: string): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/jsonrpc`, protocol);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closeCode(ws: WebSocket, ms = 5000): Promise<number | 'timeout'> {
  return Promise.race([new Promise<number>((r) => ws.once('close', (code: number) => r(code))), sleep(ms).then(() => 'timeout' as const)]);
}

describe('HTTP and WebSocket limits against the running daemon', () => {
  let daemon: RunningDaemon;
  let port: number;

  beforeAll(async () => {
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...QUICK_DAEMON,
      HOSTVISOR_HTTP_WS_MAX_MESSAGE: String(WS_MAX),
      HOSTVISOR_HTTP_HEADER_TIMEOUT: String(HEADER_TIMEOUT_S),
      HOSTVISOR_HTTP_IDLE_TIMEOUT: String(IDLE_TIMEOUT_S),
    });
    port = await readyPort(daemon);
  }, 40_000);

  afterAll(async () => {
    expect(await stopDaemon(daemon)).toBe(0);
  }, 20_000);

  const stillServes = async (): Promise<void> => {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    await res.text();
    expect([200, 503]).toContain(res.status);
    expect(daemon.child.exitCode).toBeNull();
  };

  it('a JSON-RPC WebSocket message over ws_max_message closes with 1009; one just under it is answered', async () => {
    const ws = await openWs(port, 'jsonrpc');
    try {
      const answers: Array<{ id: string; result?: unknown }> = [];
      ws.on('message', (d: Buffer) => answers.push(JSON.parse(d.toString('utf8')) as { id: string }));
      // Just under the limit: the id carries the bulk.
      const under = JSON.stringify({ jsonrpc: '2.0', id: 'u'.repeat(WS_MAX - 60), method: 'Host.ping2' });
      expect(under.length).toBeLessThanOrEqual(WS_MAX);
      ws.send(under);
      for (let i = 0; i < 300 && answers.length === 0; i++) await sleep(10);
      expect(answers).toHaveLength(1);
      expect(answers[0]!.result).toBe(true);

      const over = JSON.stringify({ jsonrpc: '2.0', id: 'o'.repeat(WS_MAX), method: 'Host.ping2' });
      const closing = closeCode(ws);
      ws.send(over);
      expect(await closing).toBe(1009);
      expect(answers).toHaveLength(1);
      // The daemon logs why (its own side of the close is 1006: ws drops the socket after sending 1009).
      await daemon.waitForLog((l) => l.msg === 'WebSocket error: closing' && l['error'] === 'Max payload size exceeded', 5000);
    } finally {
      ws.terminate();
    }
    await stillServes();
  });

  it('a STOMP-over-WebSocket frame over ws_max_message closes with 1009', async () => {
    const ws = await openWs(port, 'v12.stomp');
    try {
      const frames: string[] = [];
      ws.on('message', (d: Buffer) => frames.push(d.toString('utf8')));
      ws.send(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', 'h'], ['heart-beat', '0,0']]));
      for (let i = 0; i < 300 && frames.length === 0; i++) await sleep(10);
      expect(frames[0]).toMatch(/^CONNECTED\n/);
      const closing = closeCode(ws);
      ws.send(encodeFrame('SEND', [['destination', 'jms.topic.vdsm_requests']], Buffer.alloc(WS_MAX, 'x')));
      expect(await closing).toBe(1009);
    } finally {
      ws.terminate();
    }
    await stillServes();
  });

  it('a request head trickling in slower than header_timeout is answered 408 and closed; as slow but done in time is served', async () => {
    // Done in time: the head in 6 pieces 100 ms apart (0.5 s < 1 s).
    const quick = await Raw.open(port);
    const head = 'GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';
    const step = Math.ceil(head.length / 6);
    for (let i = 0; i < head.length; i += step) {
      quick.socket.write(head.slice(i, i + step));
      await sleep(100);
    }
    await Promise.race([quick.closed, sleep(5000)]);
    expect(quick.text).toMatch(/^HTTP\/1\.1 (200|503) /);

    // Too slow: a byte every 100 ms that never ends the head. An inactivity timer would never
    // fire; the head's deadline must.
    const slow = await Raw.open(port);
    const t0 = Date.now();
    slow.socket.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Trickle: ');
    const trickle = setInterval(() => {
      if (!slow.socket.destroyed) slow.socket.write('a');
    }, 100);
    try {
      await Promise.race([slow.closed, sleep(8000)]);
    } finally {
      clearInterval(trickle);
    }
    expect(slow.closedAt).toBeDefined();
    const took = slow.closedAt! - t0;
    expect(slow.text).toMatch(/^HTTP\/1\.1 408 /);
    expect(took).toBeGreaterThanOrEqual(HEADER_TIMEOUT_S * 1000 - 100);
    expect(took).toBeLessThan(HEADER_TIMEOUT_S * 1000 + 4000);
    await daemon.waitForLog((l) => l.msg === 'bad HTTP request: closing' && l['status'] === 408, 5000);
    await stillServes();
  });

  it('an idle keep-alive connection is kept between requests and closed after idle_timeout', async () => {
    const c = await Raw.open(port);
    const get = 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n';
    c.socket.write(get);
    await c.until(() => c.responses().length === 1, 5000, 'the first answer');
    expect(c.text).toMatch(/^HTTP\/1\.1 (200|503) /);
    expect(c.text).toMatch(/\r\nConnection: keep-alive\r\n/i);
    // Idle for half the timeout: still open, and a second request is served on it.
    await sleep((IDLE_TIMEOUT_S * 1000) / 2);
    expect(c.closedAt).toBeUndefined();
    c.socket.write(get);
    await c.until(() => c.responses().length === 2, 5000, 'the second answer');
    const idleFrom = Date.now();
    // Now idle for good: closed by the daemon once the timeout runs out.
    await Promise.race([c.closed, sleep(IDLE_TIMEOUT_S * 1000 + 5000)]);
    expect(c.closedAt).toBeDefined();
    const idle = c.closedAt! - idleFrom;
    expect(idle).toBeGreaterThanOrEqual(IDLE_TIMEOUT_S * 1000 - 200);
    expect(idle).toBeLessThan(IDLE_TIMEOUT_S * 1000 + 4000);
    expect(c.responses()).toHaveLength(2);
    await stillServes();
  });

  it('never logged an uncaught error', () => {
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  });
});
