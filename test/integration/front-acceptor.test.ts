import * as net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Acceptor } from '../../src/net/acceptor.js';
import type { Method } from '../../src/rpc/method-table.js';
import { json, ping, RawClient, sendFrame, silent, sleep, startFront, type Running } from './front-harness.js';

const BLOB = 'x'.repeat(100 * 1024);
const methods: Method[] = [{ name: 'Test.blob', params: [], handler: () => BLOB }];

let srv: Running;
const clients: RawClient[] = [];
async function client(port = srv.port): Promise<RawClient> {
  const c = await RawClient.connect(port);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  srv = await startFront({ 'acceptor.detection_timeout': '0.4', 'stomp.max_outbound_buffer': '65536' }, methods);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await srv.stop();
});

/** Sequential pings on one connection; returns each latency in ms. */
async function pings(c: RawClient, replyTo: string, n: number): Promise<number[]> {
  c.send(sendFrame('SUBSCRIBE', { destination: replyTo, id: replyTo }));
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const before = c.frames.length;
    const t0 = performance.now();
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': replyTo }, ping(`${replyTo}-${i}`)));
    await c.until(() => c.frames.length > before, 5000, 'ping reply');
    out.push(performance.now() - t0);
  }
  return out;
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.99)]!;

describe('acceptor: detection', () => {
  it('closes a client that sends nothing after the detection timeout', async () => {
    const c = await client();
    const t0 = Date.now();
    await c.waitClosed(4000);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(3000);
  });

  it('a slow client that completes its first line in time is detected', async () => {
    const c = await client();
    c.send('CON');
    await sleep(150);
    c.send('NECT\naccept-version:1.2\n');
    await sleep(150);
    c.send('\n\0');
    const f = await c.frame();
    expect(f.command).toBe('CONNECTED');
  });

  it('unknown protocol: closed, five at once', async () => {
    const cs = await Promise.all(Array.from({ length: 5 }, () => client()));
    for (const c of cs) c.send('no such protocol\n');
    const t0 = Date.now();
    await Promise.all(cs.map((c) => c.waitClosed()));
    expect(Date.now() - t0).toBeLessThan(300);
    for (const c of cs) expect(c.raw.length).toBe(0);
  });

  it('HTTP is handed to the HTTP side (an empty XML-RPC call is a fault) and closes as asked', async () => {
    // A raw socket: RawClient parses STOMP, and HTTP header lines hold colons.
    const s = net.connect({ host: '127.0.0.1', port: srv.port });
    let raw = '';
    s.on('data', (d: Buffer) => (raw += d.toString()));
    const closed = new Promise((resolve) => s.on('close', resolve));
    s.write('POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    await closed;
    expect(raw).toMatch(/^HTTP\/1\.1 200 OK\r\n[^]*<fault>/);
  });

  it('leading heart-beat newlines and STOMP 1.2 STOMP are detected', async () => {
    const c = await client();
    c.send('\n\nSTOMP\naccept-version:1.2\n\n\0');
    expect((await c.frame()).command).toBe('CONNECTED');
  });
});

describe('acceptor: limits and fairness', () => {
  it('caps concurrent connections', async () => {
    const capped = await startFront({ 'acceptor.max_connections': '2' });
    try {
      const a = await client(capped.port);
      const b = await client(capped.port);
      a.send(sendFrame('CONNECT', { 'accept-version': '1.2' }));
      b.send(sendFrame('CONNECT', { 'accept-version': '1.2' }));
      await a.frame();
      await b.frame();
      const third = await client(capped.port);
      await third.waitClosed();
      expect(a.closed || b.closed).toBe(false);
    } finally {
      await capped.stop();
    }
  });

  it('a client dripping one byte at a time (every 20 ms) does not slow the others', async () => {
    const slow = await client();
    const frame = sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'slow-r' }, ping('slow'));
    slow.send(sendFrame('SUBSCRIBE', { destination: 'slow-r', id: 's' }));
    let i = 0;
    const drip = setInterval(() => {
      if (i < frame.length) slow.send(frame[i++]!);
    }, 20);
    try {
      const fast = await client();
      const lat = await pings(fast, 'fast-r', 200);
      expect(p99(lat)).toBeLessThan(250);
      expect(slow.frames).toHaveLength(0); // still dripping
    } finally {
      clearInterval(drip);
    }
  });

  it('a client that does not read is cut off; the others keep their latency', async () => {
    const good = await client();
    const baseline = await pings(good, 'good-base', 50);
    const bad = await client();
    bad.socket.pause(); // never reads
    bad.send(sendFrame('SUBSCRIBE', { destination: 'bad-r', id: 'b' }));
    let wire = '';
    for (let i = 0; i < 300; i++) wire += sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'bad-r' }, ping(`b${i}`, 'Test.blob'));
    bad.send(wire);
    const during = await pings(good, 'good-during', 100);
    await good.until(() => srv.front.stomp.subscriberCount('bad-r') === 0 || undefined, 10_000, 'bad client cut off');
    expect(srv.front.stomp.subscriberCount('good-during')).toBe(1);
    expect(p99(during)).toBeLessThan(Math.max(500, p99(baseline) * 20));
    expect(json(good.frames.at(-1)!)).toMatchObject({ result: true });
  });
});

describe('acceptor: lifecycle', () => {
  it('exposes the bound port, closes connections on stop', async () => {
    const s = await startFront();
    expect(s.port).toBeGreaterThan(0);
    const c = await client(s.port);
    c.send(sendFrame('CONNECT', { 'accept-version': '1.2' }));
    await c.frame();
    await s.stop();
    await c.waitClosed();
    await expect(new Promise((resolve, reject) => net.connect(s.port, '127.0.0.1').on('connect', resolve).on('error', reject))).rejects.toThrow();
  });
});
