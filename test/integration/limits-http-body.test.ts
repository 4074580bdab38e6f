/**
 * [http] request_timeout against the running daemon: a client that sends the head of
 * a POST (XML-RPC on /RPC2 or /; the daemon has no other POST route) in time and then trickles its
 * body is cut off once the whole request has taken request_timeout, although bytes keep coming
 * (a deadline for the request, not an inactivity timer: idle_timeout is set far longer). Other
 * clients are served meanwhile. A body as slow but complete in time is served, and on a kept-alive
 * connection the deadline counts from the start of each request, not of the connection.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUICK_DAEMON, readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { RawClient as Raw } from '../helpers/raw-client.js';

const HEADER_TIMEOUT_S = 1;
const REQUEST_TIMEOUT_S = 3;
const IDLE_TIMEOUT_S = 30;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const PING = '<?xml version="1.0"?><methodCall><methodName>ping</methodName><params/></methodCall>';

function postHead(path: string, length: number, keepAlive = false): string {
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${length}\r\n${keepAlive ? '' : 'Connection: close\r\n'}\r\n`;
}

/** Writes `body` in `pieces` parts, `gapMs` apart; stops early if the socket is gone. */
async function trickle(raw: Raw, body: string, pieces: number, gapMs: number): Promise<number> {
  const step = Math.ceil(body.length / pieces);
  let written = 0;
  for (let i = 0; i < body.length; i += step) {
    if (raw.socket.destroyed || raw.closedAt !== undefined) break;
    raw.socket.write(body.slice(i, i + step));
    written += Math.min(step, body.length - i);
    if (i + step < body.length) await sleep(gapMs);
  }
  return written;
}

describe('HTTP request_timeout with a slow body, against the running daemon', () => {
  let daemon: RunningDaemon;
  let port: number;

  beforeAll(async () => {
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...QUICK_DAEMON,
      HOSTVISOR_HTTP_HEADER_TIMEOUT: String(HEADER_TIMEOUT_S),
      HOSTVISOR_HTTP_REQUEST_TIMEOUT: String(REQUEST_TIMEOUT_S),
      HOSTVISOR_HTTP_IDLE_TIMEOUT: String(IDLE_TIMEOUT_S),
    });
    port = await readyPort(daemon);
  }, 40_000);

  afterAll(async () => {
    expect(await stopDaemon(daemon)).toBe(0);
  }, 20_000);

  /** One XML-RPC ping over fetch: its latency. */
  const ping = async (): Promise<number> => {
    const t0 = Date.now();
    const res = await fetch(`http://127.0.0.1:${port}/RPC2`, { method: 'POST', body: PING, headers: { 'Content-Type': 'text/xml' } });
    const text = await res.text();
    expect(res.status).toBe(200);
    expect(text).toContain('<methodResponse>');
    expect(text).not.toContain('<fault>');
    return Date.now() - t0;
  };

  for (const path of ['/RPC2', '/']) {
    it(`a POST ${path} whose body trickles past request_timeout is answered 408 and closed; other clients are served meanwhile`, async () => {
      // The body never completes in time: 4 kB declared, a few bytes every 100 ms.
      const body = PING.padEnd(4096, ' ');
      const slow = await Raw.open(port);
      const t0 = Date.now();
      slow.socket.write(postHead(path, body.length));
      let trickling = true;
      let sent = 0;
      const writer = (async (): Promise<void> => {
        for (let i = 0; trickling && !slow.socket.destroyed && slow.closedAt === undefined && i < body.length; i += 8) {
          slow.socket.write(body.slice(i, i + 8));
          sent += 8;
          await sleep(100);
        }
      })();

      // Meanwhile other clients call, over and over.
      const latencies: number[] = [];
      const others = (async (): Promise<void> => {
        while (slow.closedAt === undefined && Date.now() - t0 < (REQUEST_TIMEOUT_S + 8) * 1000) {
          latencies.push(await ping());
          await sleep(50);
        }
      })();

      try {
        await Promise.race([slow.closed, sleep((REQUEST_TIMEOUT_S + 8) * 1000)]);
      } finally {
        trickling = false;
        await writer;
        await others;
      }
      expect(slow.closedAt).toBeDefined();
      const took = slow.closedAt! - t0;
      // Cut off at the request's deadline: not before, not much after (2 shared cores).
      expect(took).toBeGreaterThanOrEqual(REQUEST_TIMEOUT_S * 1000 - 100);
      expect(took).toBeLessThan(REQUEST_TIMEOUT_S * 1000 + 4000);
      // Bytes were still coming when it was cut off, and the body was far from complete.
      expect(sent).toBeGreaterThan(100);
      expect(sent).toBeLessThan(body.length);
      expect(slow.text).toMatch(/^HTTP\/1\.1 408 /);
      expect(slow.text).not.toContain('<methodResponse>');
      const logged = await daemon.waitForLog((l) => l.msg === 'bad HTTP request: closing' && l['status'] === 408 && (l['time'] as number) >= t0, 5000);
      expect(logged['error']).toBe('ERR_HTTP_REQUEST_TIMEOUT');

      // The other clients were served all along, and promptly.
      expect(latencies.length).toBeGreaterThan(5);
      expect(Math.max(...latencies)).toBeLessThan(2000);
      await ping();
      expect(daemon.child.exitCode).toBeNull();
    }, 20_000);
  }

  it('a body as slow but complete before request_timeout is served', async () => {
    // Past header_timeout (so the head's deadline is not what applies to the body) but within
    // request_timeout: the body in 8 pieces 200 ms apart, ~1.4 s after the head.
    const c = await Raw.open(port);
    const t0 = Date.now();
    c.socket.write(postHead('/RPC2', PING.length));
    expect(await trickle(c, PING, 8, 200)).toBe(PING.length);
    await Promise.race([c.closed, sleep(5000)]);
    expect(Date.now() - t0).toBeGreaterThan(HEADER_TIMEOUT_S * 1000);
    expect(c.text).toMatch(/^HTTP\/1\.1 200 /);
    expect(c.text).toContain('<methodResponse>');
    expect(c.text).not.toContain('<fault>');
  });

  it('on a kept-alive connection the deadline counts from the start of each request', async () => {
    const c = await Raw.open(port);
    const t0 = Date.now();
    try {
      // Three slow requests in a row on one connection: each takes ~1.4 s, well within
      // request_timeout, while the connection lives past it.
      for (let n = 1; n <= 3; n++) {
        c.socket.write(postHead('/RPC2', PING.length, true));
        await trickle(c, PING, 8, 200);
        await c.until(() => c.responses().length === n, 5000, `answer ${n}`);
        expect(c.closedAt).toBeUndefined();
      }
      expect(Date.now() - t0).toBeGreaterThan(REQUEST_TIMEOUT_S * 1000);
      for (const r of c.responses()) {
        expect(r).toMatch(/^HTTP\/1\.1 200 /);
        expect(r).toContain('<methodResponse>');
      }
    } finally {
      c.socket.destroy();
    }
  });

  it('never logged an uncaught error', () => {
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  });
});
