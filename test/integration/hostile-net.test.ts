/**
 * Hostile input against the running daemon: slow and idle clients during detection,
 * a connection cap, oversized STOMP frames, JSON nested 100k deep, invalid UTF-8, XML entity
 * tricks over HTTP, and a domain whose guest channel leaves the channels folder. After each, the
 * daemon still answers a well-behaved client, and it never exits.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import type { Frame } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';
import { FakeGuest } from '../doubles/fake-guest.js';
import { QUICK_DAEMON, readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';

const MAX_FRAME = 1024 * 1024; // room for JSON nested 100k deep (200 kB)
const dir = mkdtempSync(join(tmpdir(), 'hv-hostile-'));
const channelsDir = join(dir, 'channels');
mkdirSync(channelsDir);

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A raw STOMP connection that records the frames it gets and whether it was closed. */
class RawStomp {
  readonly frames: Frame[] = [];
  closed = false;
  readonly closedAt: Promise<void>;
  private constructor(readonly socket: net.Socket) {
    const parser = new FrameParser({ maxFrameSize: 1 << 26, maxHeaders: 100, maxHeaderLine: 1 << 16 }, (f) => this.frames.push(f));
    socket.on('data', (c: Buffer) => parser.push(c));
    socket.on('error', () => undefined);
    this.closedAt = new Promise((resolve) => socket.on('close', () => {
      this.closed = true;
      resolve();
    }));
  }

  static async open(port: number, connect = true): Promise<RawStomp> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const raw = new RawStomp(socket);
    if (connect) {
      socket.write(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', 'h'], ['heart-beat', '0,0']]));
      await raw.until((f) => f.command === 'CONNECTED');
      socket.write(encodeFrame('SUBSCRIBE', [['destination', 'jms.topic.vdsm_responses'], ['id', 's1'], ['ack', 'auto']]));
    }
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

  /** The JSON-RPC responses received so far. */
  responses(): Array<{ id: unknown; result?: unknown; error?: { code: number; message: string } }> {
    return this.frames.filter((f) => f.command === 'MESSAGE').map((f) => JSON.parse(f.body.toString('utf8')));
  }

  send(body: Buffer | string): void {
    this.socket.write(encodeFrame('SEND', [['destination', 'jms.topic.vdsm_requests'], ['reply-to', 'jms.topic.vdsm_responses']], typeof body === 'string' ? Buffer.from(body) : body));
  }
}

async function waitClosed(s: net.Socket, ms: number): Promise<boolean> {
  if (s.destroyed || s.closed) return true;
  return Promise.race([new Promise<boolean>((r) => s.once('close', () => r(true))), sleep(ms).then(() => false)]);
}

async function post(port: number, body: string | Buffer, path = '/RPC2'): Promise<{ status: number; text: string }> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method: 'POST', body, headers: { 'content-type': 'text/xml' } });
  return { status: res.status, text: await res.text() };
}

describe('hostile input against the running daemon', () => {
  let daemon: RunningDaemon;
  let port: number;
  let client: JsonRpcClient;

  beforeAll(async () => {
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...QUICK_DAEMON,
      HOSTVISOR_ACCEPTOR_DETECTION_TIMEOUT: '2',
      HOSTVISOR_ACCEPTOR_MAX_CONNECTIONS: '2100',
      HOSTVISOR_STOMP_MAX_FRAME_SIZE: String(MAX_FRAME),
      HOSTVISOR_HTTP_MAX_BODY_SIZE: String(MAX_FRAME),
      HOSTVISOR_HTTP_HEADER_TIMEOUT: '2',
      HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: channelsDir,
    });
    port = await readyPort(daemon);
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 15_000 });
  }, 40_000);

  afterAll(async () => {
    expect(await stopDaemon(daemon, client)).toBe(0);
  }, 20_000);

  const stillServes = async (): Promise<void> => {
    expect(await client.call('Host.ping2')).toBe(true);
    expect(daemon.child.exitCode).toBeNull();
  };

  it('one byte a second during detection: closed at the detection deadline', async () => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.on('error', () => undefined);
    const t0 = Date.now();
    let sent = 0;
    const text = 'CONNECT\naccept-version:1.2\n\n\0';
    const dribble = setInterval(() => {
      if (!s.destroyed) s.write(text[sent++ % text.length]!);
    }, 1000);
    try {
      expect(await waitClosed(s, 8000)).toBe(true);
    } finally {
      clearInterval(dribble);
    }
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(6000);
    await daemon.waitForLog((l) => l.msg === 'no protocol detected in time: closing' && l['timeoutMs'] === 2000);
    await stillServes();
  });

  it('2000 idle connections: the daemon keeps serving, and detection closes them all', async () => {
    const sockets: net.Socket[] = [];
    let closed = 0;
    for (let i = 0; i < 2000; i++) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      s.on('close', () => closed++);
      sockets.push(s);
      if (i % 200 === 199) await sleep(10);
    }
    await Promise.all(sockets.map((s) => new Promise<void>((r) => (s.readyState === 'open' ? r() : s.once('connect', () => r()).once('close', () => r())))));
    // With 2000 connections in detection, a real client still gets an answer quickly.
    const t0 = Date.now();
    await stillServes();
    expect(Date.now() - t0).toBeLessThan(5000);
    const deadline = Date.now() + 10_000;
    while (closed < 2000 && Date.now() < deadline) await sleep(100);
    expect(closed).toBe(2000);
    await stillServes();
  }, 30_000);

  it('an oversized frame, a header line over the limit, too many headers: ERROR, then the connection closes', async () => {
    const cases: [Buffer, RegExp][] = [
      [encodeFrame('SEND', [['destination', 'jms.topic.vdsm_requests']], Buffer.alloc(MAX_FRAME + 1, 0x20)), new RegExp(`frame larger than ${MAX_FRAME} bytes`)],
      // No content-length: the body streams until the cap, without being buffered further.
      [Buffer.concat([Buffer.from('SEND\ndestination:jms.topic.vdsm_requests\n\n'), Buffer.alloc(4 * MAX_FRAME, 0x20)]), /frame larger than/],
      [Buffer.from(`SEND\nx:${'a'.repeat(9000)}\n\n\0`), /header line longer than 8192 bytes/],
      [Buffer.from(`SEND\n${Array.from({ length: 65 }, (_, i) => `h${i}:v`).join('\n')}\n\n\0`), /more than 64 headers/],
      [Buffer.from('SEND\ncontent-length:99999999999999\n\n'), /frame larger than/],
    ];
    for (const [bytes, message] of cases) {
      const raw = await RawStomp.open(port);
      raw.socket.write(bytes);
      const err = await raw.until((f) => f.command === 'ERROR');
      expect(err.body.toString('utf8')).toMatch(message);
      await Promise.race([raw.closedAt, sleep(5000)]);
      expect(raw.closed).toBe(true);
    }
    await stillServes();
  });

  it('JSON nested 100k deep: answered with the documented error, the daemon unharmed', async () => {
    const n = 100_000;
    const raw = await RawStomp.open(port);
    const deep = '['.repeat(n) + ']'.repeat(n);
    raw.send(deep);
    raw.send(`{"jsonrpc":"2.0","id":"p","method":"Host.ping2","params":{"x":${deep}}}`);
    raw.send(`{"jsonrpc":"2.0","id":"c","method":"VM.create","params":{"vmParams":${'{"a":'.repeat(n)}1${'}'.repeat(n)}}}`);
    const deadline = Date.now() + 10_000;
    while (raw.responses().length < 3 && Date.now() < deadline) await sleep(50);
    const byId = new Map(raw.responses().map((r) => [r.id, r]));
    expect(byId.get(null)?.error?.code).toBe(-32600);
    expect(byId.get('p')?.result).toBe(true);
    expect(byId.get('c')?.error).toBeDefined();
    for (const r of raw.responses()) expect(JSON.stringify(r).length).toBeLessThan(10_000);
    raw.socket.destroy();
    await stillServes();
  });

  it('invalid UTF-8 in a request: -32700 for broken JSON, replacement characters inside strings', async () => {
    const raw = await RawStomp.open(port);
    raw.send(Buffer.from([0xff, 0xfe, 0x7b, 0xc0, 0x80]));
    raw.send(Buffer.concat([Buffer.from('{"jsonrpc":"2.0","method":"Host.ping2","id":"a'), Buffer.from([0xed, 0xa0, 0x80, 0xff]), Buffer.from('"}')]));
    const deadline = Date.now() + 10_000;
    while (raw.responses().length < 2 && Date.now() < deadline) await sleep(50);
    const [bad, ok] = raw.responses();
    expect(bad?.error?.code).toBe(-32700);
    expect(ok).toMatchObject({ id: 'a\uFFFD\uFFFD\uFFFD\uFFFD', result: true });
    // Invalid UTF-8 in a header does not break the frame either.
    raw.socket.write(Buffer.concat([Buffer.from('SEND\ndestination:jms.topic.vdsm_requests\nreply-to:jms.topic.vdsm_responses\nx:'), Buffer.from([0xff, 0xc3]), Buffer.from('\n\n{"jsonrpc":"2.0","method":"Host.ping2","id":"h"}\0')]));
    await raw.until((f) => f.command === 'MESSAGE' && f.body.toString().includes('"h"'));
    raw.socket.destroy();
    await stillServes();
  });

  it('XML over HTTP: billion laughs, external entities and invalid UTF-8 are faults; a big body is 413', async () => {
    const lol = `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">${Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`).join('')}]><methodCall><methodName>&lol9;</methodName><params/></methodCall>`;
    const xxe = '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>getVdsStats</methodName><params><param><value>&x;</value></param></params></methodCall>';
    for (const body of [lol, xxe]) {
      const t0 = Date.now();
      const res = await post(port, body);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<fault>');
      expect(res.text).toContain('a DOCTYPE is not allowed in XML-RPC');
      expect(res.text).not.toContain('root:');
      expect(Date.now() - t0).toBeLessThan(3000);
    }
    const badUtf8 = Buffer.concat([Buffer.from('<?xml version="1.0"?><methodCall><methodName>getVdsStats</methodName><params><param><value><string>'), Buffer.from([0xff, 0xc0, 0xaf]), Buffer.from('</string></value></param></params></methodCall>')]);
    const u = await post(port, badUtf8);
    expect(u.status).toBe(200);
    expect(u.text).toMatch(/<methodResponse>/);
    const deep = `<methodCall><methodName>list</methodName><params><param>${'<value><array><data>'.repeat(1000)}${'</data></array></value>'.repeat(1000)}</param></params></methodCall>`;
    expect((await post(port, deep)).text).toContain('nesting deeper than 32');
    const big = await post(port, `<methodCall><methodName>list</methodName><params><param><value>${'x'.repeat(MAX_FRAME + 1)}</value></param></params></methodCall>`);
    expect(big.status).toBe(413);
    // The legacy verbs still work afterwards.
    const okRes = await post(port, '<?xml version="1.0"?><methodCall><methodName>list</methodName><params/></methodCall>');
    expect(okRes.text).toContain('<methodResponse>');
    expect(okRes.text).not.toContain('<fault>');
    await stillServes();
  });

  it('a domain whose guest channel leaves the channels folder: the channel is refused, nothing connects outside', async () => {
    const outsideSock = join(dir, 'outside.sock');
    const outside = new FakeGuest(outsideSock);
    await outside.listen();
    const linkTarget = join(dir, 'linked.sock');
    const linked = new FakeGuest(linkTarget);
    await linked.listen();
    symlinkSync(linkTarget, join(channelsDir, 'link.ovirt-guest-agent.0'));
    const domain = (uuid: string, name: string, path: string): string => `<domain type='test'>
  <name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices><channel type='unix'><source mode='bind' path='${path}'/><target type='virtio' name='ovirt-guest-agent.0'/></channel></devices>
</domain>`;
    try {
      await client.call('VM.create', { vmParams: { xml: domain('aaaaaaaa-0000-0000-0000-000000000001', 'escape-dots', `${channelsDir}/../outside.sock`) } });
      await client.call('VM.create', { vmParams: { xml: domain('aaaaaaaa-0000-0000-0000-000000000002', 'escape-link', join(channelsDir, 'link.ovirt-guest-agent.0')) } });
      await daemon.waitForLog((l) => l.msg === 'guest agent channel refused: outside the channels folder', 10_000);
      await daemon.waitForLog((l) => l.msg === 'guest agent channel refused: resolves outside the channels folder', 10_000);
      await sleep(500);
      expect(outside.connections).toBe(0);
      expect(linked.connections).toBe(0);
    } finally {
      await outside.close();
      await linked.close();
      for (const id of ['aaaaaaaa-0000-0000-0000-000000000001', 'aaaaaaaa-0000-0000-0000-000000000002']) {
        await client.call('VM.destroy', { vmID: id }).catch((e: unknown) => e);
      }
    }
    await stillServes();
  });

  it('never logged an uncaught error', () => {
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  });
});
