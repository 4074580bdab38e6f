/**
 * The outbound bound on WebSockets against the running daemon, as the plain STOMP path
 * has it (limits-stomp.test.ts): a WebSocket client that stops reading while answers pile up is
 * cut off once the bytes queued for it pass [stomp] max_outbound_buffer (the bound every
 * transport shares), the cut-off is logged with what was queued (so the daemon's memory for it
 * stays bounded), and other WebSocket and STOMP clients are served promptly all along.
 * - plain JSON-RPC over WebSocket (subprotocol `jsonrpc`), subscribed to events too;
 * - STOMP over WebSocket (subprotocol `v12.stomp`), on the same StompServer as TCP clients.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import { QUICK_DAEMON, readyPort, startDaemon, stopDaemon, type LogLine, type RunningDaemon } from '../helpers/daemon.js';

const MAX_OUTBOUND = 64 * 1024; // the smallest the config allows
const ANSWER_BYTES = 32 * 1024;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A WebSocket client that counts what it reads and records its close. */
class Ws {
  bytesRead = 0;
  readonly messages: string[] = [];
  closed = false;
  readonly closedAt: Promise<void>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d: Buffer) => {
      this.bytesRead += d.length;
      this.messages.push(d.toString('utf8'));
    });
    ws.on('error', () => undefined);
    this.closedAt = new Promise((resolve) =>
      ws.on('close', () => {
        this.closed = true;
        resolve();
      }),
    );
  }

  static open(port: number, protocol: string): Promise<Ws> {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/jsonrpc`, protocol, { perMessageDeflate: false });
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(new Ws(ws)));
      ws.once('error', reject);
    });
  }

  async until(match: (m: string) => boolean, ms = 10_000): Promise<string> {
    const deadline = Date.now() + ms;
    for (;;) {
      const m = this.messages.find(match);
      if (m !== undefined) return m;
      if (Date.now() > deadline) throw new Error(`no matching message in ${ms} ms; got ${this.messages.length}`);
      await sleep(20);
    }
  }

  /** Sends while the client's own outbound queue is small (it is not its side we test). */
  async send(data: string): Promise<void> {
    while (this.ws.bufferedAmount > 1 << 20 && !this.closed) await sleep(5);
    if (!this.closed) this.ws.send(data);
  }

  /** Stops reading: the socket under it is paused, so the daemon's answers pile up. */
  stopReading(): void {
    this.ws.pause();
  }

  resumeReading(): void {
    this.ws.resume();
  }
}

/** A JSON-RPC call whose error answer quotes the ~32 kB method name back. */
function bigCall(i: number): object {
  return { jsonrpc: '2.0', id: `flood-${i}`, method: `No.such${'x'.repeat(ANSWER_BYTES)}`, params: {} };
}

describe('WebSocket outbound bound against the running daemon', () => {
  let daemon: RunningDaemon;
  let port: number;
  let stomp: JsonRpcClient;

  beforeAll(async () => {
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...QUICK_DAEMON,
      HOSTVISOR_STOMP_MAX_OUTBOUND_BUFFER: String(MAX_OUTBOUND),
      // No pings: the client that does not read must be cut off for its queue, not a missed pong.
      HOSTVISOR_HTTP_WS_PING_INTERVAL: '0',
    });
    port = await readyPort(daemon);
    stomp = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 15_000 });
  }, 40_000);

  afterAll(async () => {
    expect(await stopDaemon(daemon, stomp)).toBe(0);
  }, 20_000);

  /**
   * Floods `slow` with requests (`frame(i)`) while a JSON-RPC WebSocket client and the STOMP
   * client call Host.ping2 over and over, until the daemon logs `cutOff` (or a cap on requests).
   * Returns the requests sent and the other clients' latencies.
   */
  async function flood(slow: Ws, frame: (i: number) => string, cutOff: (l: LogLine) => boolean): Promise<{ sent: number; latencies: number[] }> {
    const other = await Ws.open(port, 'jsonrpc');
    let flooding = true;
    const latencies: number[] = [];
    const others = (async (): Promise<void> => {
      for (let n = 0; flooding; n++) {
        const t0 = Date.now();
        other.ws.send(JSON.stringify({ jsonrpc: '2.0', id: `other-${n}`, method: 'Host.ping2' }));
        const answer = JSON.parse(await other.until((m) => m.includes(`"other-${n}"`), 10_000)) as { result?: unknown };
        expect(answer.result).toBe(true);
        expect(await stomp.call('Host.ping2')).toBe(true);
        latencies.push(Date.now() - t0);
        await sleep(10);
      }
    })();
    let sent = 0;
    try {
      // At most 64 MB of answers: far past any kernel buffering on loopback.
      while (!daemon.logs.some(cutOff) && sent < 2048 && !slow.closed) {
        for (let k = 0; k < 16 && !slow.closed; k++) await slow.send(frame(sent++));
        await sleep(5);
      }
      await daemon.waitForLog(cutOff, 10_000);
      await sleep(200); // a few more answers to the others after the cut-off
    } finally {
      flooding = false;
      await others;
    }
    expect(other.closed).toBe(false);
    other.ws.close();
    return { sent, latencies };
  }

  /** What the slow client can still read once it reads again: what the kernel held, not every answer. */
  async function drained(slow: Ws): Promise<void> {
    slow.resumeReading();
    await Promise.race([slow.closedAt, sleep(10_000)]);
    expect(slow.closed).toBe(true);
  }

  it('plain JSON-RPC over WebSocket: a client that stops reading is cut off past max_outbound_buffer; others are served meanwhile', async () => {
    const slow = await Ws.open(port, 'jsonrpc');
    // Subscribed to every event too: what piles up is answers and events alike.
    slow.ws.send(JSON.stringify({ jsonrpc: '2.0', id: 'sub', method: 'Events.subscribe' }));
    expect(JSON.parse(await slow.until((m) => m.includes('"sub"')))).toEqual({ jsonrpc: '2.0', id: 'sub', result: true });
    const readBefore = slow.bytesRead;
    slow.stopReading();

    const cutOff = (l: LogLine): boolean => l.msg === 'WebSocket client is not reading: closing';
    const { sent, latencies } = await flood(slow, (i) => JSON.stringify(bigCall(i)), cutOff);

    const warn = daemon.logs.find(cutOff)!;
    expect(warn.level).toBe(40);
    expect(warn['limit']).toBe(MAX_OUTBOUND);
    expect(warn['queued'] as number).toBeGreaterThan(MAX_OUTBOUND);
    // Checked at each message: at most one answer over the bound.
    expect(warn['queued'] as number).toBeLessThanOrEqual(MAX_OUTBOUND + ANSWER_BYTES + 1024);
    await daemon.waitForLog((l) => l.msg === 'WebSocket closed' && l['peer'] === warn['peer'], 5000);

    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(3000);

    await drained(slow);
    const answered = slow.messages.filter((m) => m.includes('"flood-')).length;
    expect(answered).toBeLessThan(sent - 10);
    expect(slow.bytesRead - readBefore).toBeLessThan(sent * ANSWER_BYTES);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('STOMP over WebSocket: a client that stops reading is cut off past max_outbound_buffer; others are served meanwhile', async () => {
    const slow = await Ws.open(port, 'v12.stomp');
    slow.ws.send(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', 'h'], ['heart-beat', '0,0']]));
    await slow.until((m) => m.startsWith('CONNECTED\n'));
    slow.ws.send(encodeFrame('SUBSCRIBE', [['destination', 'jms.topic.vdsm_responses'], ['id', 's1'], ['ack', 'auto'], ['receipt', 'sub']]));
    slow.ws.send(encodeFrame('SUBSCRIBE', [['destination', 'jms.queue.events'], ['id', 's2'], ['ack', 'auto'], ['receipt', 'sub2']]));
    await slow.until((m) => m.startsWith('RECEIPT\n') && m.includes('receipt-id:sub2'));
    const readBefore = slow.bytesRead;
    slow.stopReading();

    const send = (i: number): string =>
      encodeFrame('SEND', [['destination', 'jms.topic.vdsm_requests'], ['reply-to', 'jms.topic.vdsm_responses']], Buffer.from(JSON.stringify(bigCall(i)))).toString('utf8');
    const stompCutOff = (l: LogLine): boolean => l.msg === 'client is not reading: outbound buffer over its bound, closing' && l['peer'] !== undefined;
    const before = daemon.logs.filter(stompCutOff).length;
    const cutOff = (l: LogLine): boolean => stompCutOff(l) && daemon.logs.filter(stompCutOff).indexOf(l) >= before;
    const { sent, latencies } = await flood(slow, send, cutOff);

    const warn = daemon.logs.filter(stompCutOff)[before]!;
    expect(warn.level).toBe(40);
    expect(warn['limit']).toBe(MAX_OUTBOUND);
    expect(warn['queued'] as number).toBeGreaterThan(MAX_OUTBOUND);
    // Cut off at the first flush over the bound: at most one turn's worth of answers over it.
    expect(warn['queued'] as number).toBeLessThan(MAX_OUTBOUND + 8 * 1024 * 1024);
    await daemon.waitForLog((l) => l.msg === 'STOMP client disconnected' && l['reason'] === 'outbound buffer over its bound' && l['peer'] === warn['peer'], 5000);
    await daemon.waitForLog((l) => l.msg === 'WebSocket closed' && l['peer'] === warn['peer'], 5000);

    expect(latencies.length).toBeGreaterThan(5);
    expect(Math.max(...latencies)).toBeLessThan(3000);

    await drained(slow);
    const answered = slow.messages.filter((m) => m.startsWith('MESSAGE\n') && m.includes('"flood-')).length;
    expect(answered).toBeLessThan(sent - 10);
    expect(slow.bytesRead - readBefore).toBeLessThan(sent * ANSWER_BYTES);
    expect(await stomp.call('Host.ping2')).toBe(true);
    expect(daemon.child.exitCode).toBeNull();
  });

  it('never logged an uncaught error', () => {
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  });
});
