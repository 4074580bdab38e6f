/** WebSockets on the management port: STOMP (@stomp/stompjs with `ws` as its WebSocket) on the
 * same STOMP server as TCP, plain JSON-RPC with event push, and the limits: Origin allow-list,
 * message size (1009), subprotocols, ping keepalive. */
import { Type } from '@sinclair/typebox';
import { Client, type IMessage } from '@stomp/stompjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { Method } from '../../src/rpc/method-table.js';
import { RawClient, sendFrame, sleep } from './front-harness.js';
import { startHttpFront, type HttpRunning } from './http-harness.js';

const methods: Method[] = [
  { name: 'Test.echo', params: [{ name: 'text', schema: Type.String() }], handler: (a) => a['text'] },
  { name: 'Test.slow', params: [], handler: () => sleep(20).then(() => 'slow') },
];

let srv: HttpRunning;
const sockets: WebSocket[] = [];
beforeAll(async () => {
  srv = await startHttpFront({ 'http.ws_max_message': '4096', 'http.ws_allowed_origins': 'https://engine.example', 'http.ws_ping_interval': '0.2' }, methods);
});
afterAll(async () => {
  for (const ws of sockets) ws.terminate();
  await srv.stop();
});

function open(path = '/', protocols?: string | string[], options: ConstructorParameters<typeof WebSocket>[2] = {}): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}${path}`, protocols, options);
  sockets.push(ws);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

/** Collects every text message; `next` waits for one matching. */
function inbox(ws: WebSocket): { all: unknown[]; next(pred?: (m: any) => boolean, ms?: number): Promise<any> } {
  const all: unknown[] = [];
  let waiters: (() => void)[] = [];
  ws.on('message', (d: Buffer) => {
    all.push(JSON.parse(d.toString()));
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  });
  let seen = 0;
  return {
    all,
    async next(pred = () => true, ms = 3000) {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = all.slice(seen).findIndex(pred);
        if (i !== -1) {
          seen += i + 1;
          return all[seen - 1];
        }
        if (Date.now() > deadline) throw new Error('timed out waiting for a message');
        await new Promise<void>((r) => {
          const t = setTimeout(r, 50);
          waiters.push(() => (clearTimeout(t), r()));
        });
      }
    },
  };
}

function refusedWith(url: string, protocols: string[] | undefined, headers: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols, { headers });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('open', () => reject(new Error('opened')));
    ws.once('error', () => undefined);
  });
}

describe('STOMP over WebSocket with @stomp/stompjs', () => {
  it('connects with v12.stomp, calls a method and receives an event', async () => {
    const client = new Client({
      webSocketFactory: () => {
        const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/`, ['v12.stomp', 'v11.stomp']);
        sockets.push(ws);
        return ws;
      },
      reconnectDelay: 0,
      heartbeatIncoming: 0,
      heartbeatOutgoing: 0,
    });
    const received: IMessage[] = [];
    const connected = new Promise<void>((resolve) => (client.onConnect = () => resolve()));
    client.activate();
    await connected;
    client.subscribe('jms.queue.events', (m) => received.push(m));
    client.subscribe('my-replies', (m) => received.push(m));
    // The subscriptions reach the server before our SEND: frames on one socket stay in order.
    client.publish({ destination: 'jms.topic.vdsm_requests', headers: { 'reply-to': 'my-replies' }, body: JSON.stringify({ jsonrpc: '2.0', id: 'w1', method: 'Test.echo', params: { text: 'héllo' } }) });
    const until = async (n: number): Promise<void> => {
      for (let i = 0; i < 100 && received.length < n; i++) await sleep(20);
    };
    await until(1);
    expect(JSON.parse(received[0]!.body)).toEqual({ jsonrpc: '2.0', id: 'w1', result: 'héllo' });
    expect(received[0]!.headers['destination']).toBe('my-replies');
    const vmId = '407cb255-34be-432c-be45-4ad4ebd5ef4d';
    srv.front.events.emit('virt', 'VM_status', vmId, { [vmId]: { status: 'Paused', pauseCode: 'NOERR' } });
    await until(2);
    const event = JSON.parse(received[1]!.body);
    expect(received[1]!.headers['destination']).toBe('jms.queue.events');
    expect(event.method).toBe(`|virt|VM_status|${vmId}`);
    expect(event.params[vmId]).toEqual({ status: 'Paused', pauseCode: 'NOERR' });
    expect(srv.front.stomp.subscriberCount('jms.queue.events')).toBe(1);
    await client.deactivate();
    for (let i = 0; i < 50 && srv.front.stomp.subscriberCount('jms.queue.events') > 0; i++) await sleep(20);
    expect(srv.front.stomp.subscriberCount('jms.queue.events')).toBe(0);
  });

  it('a WebSocket STOMP client and a TCP STOMP client share destinations', async () => {
    const tcp = await RawClient.connect(srv.port);
    tcp.send(sendFrame('CONNECT', { 'accept-version': '1.2' }) + sendFrame('SUBSCRIBE', { destination: 'shared.topic', id: 't' }));
    await tcp.frame((f) => f.command === 'CONNECTED');
    const ws = await open('/', 'v11.stomp');
    expect(ws.protocol).toBe('v11.stomp');
    const frames: string[] = [];
    ws.on('message', (d: Buffer) => frames.push(d.toString()));
    ws.send(sendFrame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,0' }));
    ws.send(sendFrame('SEND', { destination: 'shared.topic', foo: 'bar' }, 'from-ws'));
    const m = await tcp.frame((f) => f.command === 'MESSAGE');
    expect(m.body.toString()).toBe('from-ws');
    expect(m.headers.get('foo')).toBe('bar');
    expect(frames[0]).toMatch(/^CONNECTED\nversion:1\.2\n/);
    tcp.close();
  });
});

describe('plain JSON-RPC over WebSocket', () => {
  it('requests, batches and errors, with subprotocol jsonrpc or none', async () => {
    for (const protocol of ['jsonrpc', undefined]) {
      const ws = await open('/jsonrpc', protocol);
      expect(ws.protocol).toBe(protocol ?? '');
      const box = inbox(ws);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Test.echo', params: ['a'] }));
      expect(await box.next()).toEqual({ jsonrpc: '2.0', id: 1, result: 'a' });
      ws.send(JSON.stringify([{ jsonrpc: '2.0', id: 2, method: 'Test.slow' }, { jsonrpc: '2.0', id: 3, method: 'Host.ping2' }]));
      expect(await box.next()).toEqual([{ jsonrpc: '2.0', id: 2, result: 'slow' }, { jsonrpc: '2.0', id: 3, result: true }]);
      ws.send(JSON.stringify({ jsonrpc: '2.0', id: 4, method: 'Host.nosuch' }));
      expect((await box.next()).error.code).toBe(-32601);
      ws.send('{not json');
      expect((await box.next()).error.code).toBe(-32700);
      ws.close();
    }
  });

  it('events are pushed as notifications after Events.subscribe, filtered by prefix, until Events.unsubscribe', async () => {
    const all = await open('/');
    const virtOnly = await open('/', 'jsonrpc');
    const none = await open('/');
    const [a, v, n] = [inbox(all), inbox(virtOnly), inbox(none)];
    all.send(JSON.stringify({ jsonrpc: '2.0', id: 's', method: 'Events.subscribe' }));
    virtOnly.send(JSON.stringify({ jsonrpc: '2.0', id: 's', method: 'Events.subscribe', params: { prefixes: ['|virt|'] } }));
    expect(await a.next()).toEqual({ jsonrpc: '2.0', id: 's', result: true });
    expect(await v.next()).toEqual({ jsonrpc: '2.0', id: 's', result: true });
    srv.front.events.emit('net', 'host_conn', 'no_id', {});
    srv.front.events.emit('virt', 'VM_status', 'vm1', { vm1: { status: 'Up' } });
    const e1 = await a.next();
    expect(e1).toMatchObject({ jsonrpc: '2.0', method: '|net|host_conn|no_id' });
    expect(e1.id).toBeUndefined();
    expect(typeof e1.params.notify_time).toBe('number');
    expect((await a.next()).method).toBe('|virt|VM_status|vm1');
    const e2 = await v.next();
    expect(e2.method).toBe('|virt|VM_status|vm1');
    expect(e2.params.vm1).toEqual({ status: 'Up' });
    all.send(JSON.stringify({ jsonrpc: '2.0', id: 'u', method: 'Events.unsubscribe' }));
    expect(await a.next()).toEqual({ jsonrpc: '2.0', id: 'u', result: true });
    srv.front.events.emit('virt', 'VM_status', 'vm2', { vm2: { status: 'Down' } });
    expect((await v.next()).method).toBe('|virt|VM_status|vm2');
    await sleep(100);
    expect(a.all).toHaveLength(4);
    expect(n.all).toHaveLength(0);
    virtOnly.send(JSON.stringify({ jsonrpc: '2.0', id: 'bad', method: 'Events.subscribe', params: { prefixes: 'x' } }));
    expect((await v.next()).error.code).toBe(-32602);
  });
});

describe('WebSocket limits', () => {
  it('a message over the size limit closes the socket with 1009', async () => {
    const ws = await open('/jsonrpc');
    const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
    ws.on('error', () => undefined);
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'Test.echo', params: ['x'.repeat(5000)] }));
    expect(await closed).toBe(1009);
  });

  it('Origin: refused unless allowed; clients without Origin are allowed', async () => {
    const url = `ws://127.0.0.1:${srv.port}/`;
    expect(await refusedWith(url, undefined, { Origin: 'https://evil.example' })).toBe(403);
    const ok = await open('/', undefined, { headers: { Origin: 'https://ENGINE.example' } });
    expect(ok.readyState).toBe(WebSocket.OPEN);
    const plain = await open('/');
    expect(plain.readyState).toBe(WebSocket.OPEN);
  });

  it('unsupported subprotocols and unknown paths are refused', async () => {
    expect(await refusedWith(`ws://127.0.0.1:${srv.port}/`, ['mqtt'], {})).toBe(400);
    expect(await refusedWith(`ws://127.0.0.1:${srv.port}/elsewhere`, undefined, {})).toBe(404);
  });

  it('a client that stops answering pings is dropped; one that answers stays', async () => {
    const dead = await open('/', undefined, { autoPong: false });
    const alive = await open('/');
    const t0 = Date.now();
    await new Promise((resolve) => dead.once('close', resolve));
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(alive.readyState).toBe(WebSocket.OPEN);
  });
});
