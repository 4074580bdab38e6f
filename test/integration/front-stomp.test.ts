import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Method } from '../../src/rpc/method-table.js';
import { body, json, ping, RawClient, sendFrame, sleep, startFront, type Running } from './front-harness.js';

let inFlight = 0;
let maxInFlight = 0;
const seenFlows: (string | undefined)[] = [];
const methods: Method[] = [
  {
    name: 'Test.slow',
    params: [{ name: 'ms', schema: Type.Integer({ minimum: 0 }), default: 50 }],
    handler: async (a) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await sleep(a['ms'] as number);
      inFlight--;
      return a['ms'];
    },
  },
  { name: 'Test.flow', params: [], handler: (_a, ctx) => { seenFlows.push(ctx.flowId); return ctx.flowId ?? null; } },
];

let srv: Running;
const clients: RawClient[] = [];
async function client(): Promise<RawClient> {
  const c = await RawClient.connect(srv.port);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  srv = await startFront({ 'stomp.max_pending_requests': '4', 'stomp.heartbeat_grace': '0.3', 'stomp.max_frame_size': '65536', 'stomp.max_headers': '16' }, methods);
});
afterAll(async () => {
  for (const c of clients) c.close();
  await srv.stop();
});

describe('STOMP server over a real socket (vdsm wire facts)', () => {
  it("vdsm's own client exchange, byte for byte", async () => {
    const c = await client();
    c.send('CONNECT\naccept-version:1.2\nheart-beat:0,24000\n\n\0');
    c.send('SUBSCRIBE\ndestination:35f509f0-9f20-4b93-8cd4-cb1c35cc736b\nack:auto\nid:f4687f50-e511-4c43-b6e4-bdf3752de69d\n\n\0');
    await c.frame((f) => f.command === 'CONNECTED');
    expect(c.raw.toString()).toBe('CONNECTED\nversion:1.2\nheart-beat:24000,0\n\n\0');
    const req = '[{"jsonrpc": "2.0", "method": "Host.ping2", "params": {}, "id": "13ed466f-2e02-4a58-a7dc-4dcb5d6c2b57"}]';
    c.send(`SEND\ndestination:jms.topic.vdsm_requests\ncontent-type:application/json\nreply-to:35f509f0-9f20-4b93-8cd4-cb1c35cc736b\ncontent-length:${Buffer.byteLength(req)}\n\n${req}\0`);
    const m = await c.frame((f) => f.command === 'MESSAGE');
    const resp = '{"jsonrpc":"2.0","id":"13ed466f-2e02-4a58-a7dc-4dcb5d6c2b57","result":true}';
    expect(c.raw.toString().slice('CONNECTED\nversion:1.2\nheart-beat:24000,0\n\n\0'.length)).toBe(
      `MESSAGE\ndestination:35f509f0-9f20-4b93-8cd4-cb1c35cc736b\ncontent-type:application/json\nsubscription:f4687f50-e511-4c43-b6e4-bdf3752de69d\ncontent-length:${resp.length}\n\n${resp}\0`,
    );
    expect(json(m)).toEqual({ jsonrpc: '2.0', id: '13ed466f-2e02-4a58-a7dc-4dcb5d6c2b57', result: true });
  });

  it('the engine: bare object in, bare object out, on the shared response queue', async () => {
    const c = await client();
    c.send(sendFrame('CONNECT', { 'accept-version': '1.2', host: 'engine-id', 'heart-beat': '0,5000' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'jms.topic.vdsm_responses', id: 'r', ack: 'auto' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'jms.queue.events', id: 'e', ack: 'auto' }));
    await c.frame((f) => f.command === 'CONNECTED');
    const p = ping('eng-1', 'Test.flow');
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'jms.topic.vdsm_responses', ovirtCorrelationId: 'flow-42', 'content-length': String(p.length) }, p));
    const m = await c.frame((f) => f.command === 'MESSAGE');
    expect(m.headers.get('subscription')).toBe('r');
    expect(json(m)).toEqual({ jsonrpc: '2.0', id: 'eng-1', result: 'flow-42' });
    expect(seenFlows).toContain('flow-42');
  });

  it('accept-version lists containing 1.2 are accepted; others get ERROR and the connection stays', async () => {
    const c = await client();
    c.send(sendFrame('CONNECT', { 'accept-version': '1.0' }));
    await c.frame((f) => f.command === 'ERROR');
    expect(c.raw.toString()).toBe('ERROR\ncontent-length:19\n\nVersion unsupported\0');
    c.send('CONNECT\n\n\0');
    await c.frame((f) => f.command === 'ERROR', 1);
    c.send(sendFrame('STOMP', { 'accept-version': '1.0,1.1,1.2' }));
    const ok = await c.frame((f) => f.command === 'CONNECTED');
    expect(ok.headers.get('version')).toBe('1.2');
    expect(c.closed).toBe(false);
  });

  it.each([
    ['0,8000', '8000,0'],
    ['0,500', '1000,0'],
    ['6000,5000', '5000,6000'],
    [undefined, '0,0'],
    ['x,y', '0,0'],
  ])('heart-beat %s → %s', async (asked, answered) => {
    const c = await client();
    c.send(sendFrame('CONNECT', asked === undefined ? { 'accept-version': '1.2' } : { 'accept-version': '1.2', 'heart-beat': asked }));
    const f = await c.frame((x) => x.command === 'CONNECTED');
    expect(f.headers.get('heart-beat')).toBe(answered);
    c.close();
  });

  it('sends \\n heart-beats when asked, about every interval', async () => {
    const c = await client();
    c.send(sendFrame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '0,1000' }));
    await c.frame((f) => f.command === 'CONNECTED');
    const start = Date.now();
    const base = c.raw.length;
    await c.until(() => c.raw.length >= base + 2, 4000, 'two heart-beats');
    const took = Date.now() - start;
    expect(c.raw.subarray(base).toString()).toBe('\n\n');
    expect(took).toBeGreaterThanOrEqual(1500);
    expect(took).toBeLessThan(3800);
  });

  it('closes a client whose heart-beats stop (real timing), keeps one that sends them', async () => {
    const quiet = await client();
    const lively = await client();
    for (const c of [quiet, lively]) c.send(sendFrame('CONNECT', { 'accept-version': '1.2', 'heart-beat': '1000,0' }));
    await quiet.frame((f) => f.command === 'CONNECTED');
    await lively.frame((f) => f.command === 'CONNECTED');
    const start = Date.now();
    const beat = setInterval(() => lively.send('\n'), 300);
    await quiet.waitClosed(5000);
    const took = Date.now() - start;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThan(4000);
    await sleep(500);
    clearInterval(beat);
    expect(lively.closed).toBe(false);
  });

  it('SUBSCRIBE / UNSUBSCRIBE errors with vdsm bodies; close removes subscriptions', async () => {
    const c = await client();
    c.send(sendFrame('SUBSCRIBE', { id: 'a' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'x' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'sub.test', id: 'a' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'sub.test', id: 'a' }));
    c.send(sendFrame('UNSUBSCRIBE', {}));
    await c.until(() => c.frames.length >= 4);
    expect(c.frames.map((f) => [f.command, body(f)])).toEqual([
      ['ERROR', 'Missing destination or subscription id header'],
      ['ERROR', 'Missing destination or subscription id header'],
      ['ERROR', 'Subscription id already exists'],
      ['ERROR', 'Missing id header'],
    ]);
    expect(srv.front.stomp.subscriberCount('sub.test')).toBe(1);
    c.send(sendFrame('UNSUBSCRIBE', { id: 'nope' }));
    c.send(sendFrame('UNSUBSCRIBE', { id: 'a', receipt: 'u1' }));
    await c.frame((f) => f.command === 'RECEIPT');
    expect(srv.front.stomp.subscriberCount('sub.test')).toBe(0);
    c.send(sendFrame('SUBSCRIBE', { destination: 'sub.test', id: 'b' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'sub.test', id: 'c' }));
    await c.until(() => srv.front.stomp.subscriberCount('sub.test') === 2 || undefined);
    c.close();
    await c.waitClosed();
    await c.until(() => srv.front.stomp.subscriberCount('sub.test') === 0 || undefined, 2000, 'cleanup');
  });

  it('SEND needs no CONNECT; forwarding to exact and parent destinations, vdsm MESSAGE layout', async () => {
    const sub = await client();
    const sender = await client();
    for (const [d, id] of [['my.topic', 'x'], ['my', 'y'], ['my.top', 'z'], ['my.other', 'w']] as const) {
      sub.send(sendFrame('SUBSCRIBE', { destination: d, id }));
    }
    await sub.until(() => srv.front.stomp.subscriberCount('my.other') === 1 || undefined);
    sender.send('SEND\ndestination:my.topic.child\nfoo:bar\ncontent-length:2\n\nhi\0');
    await sub.until(() => sub.frames.length >= 2);
    await sleep(100);
    expect(sub.frames).toHaveLength(2);
    const text = sub.raw.toString();
    expect(text).toContain('MESSAGE\nsubscription:x\ndestination:my.topic.child\nfoo:bar\ncontent-length:2\n\nhi\0');
    expect(text).toContain('MESSAGE\nsubscription:y\ndestination:my.topic.child\nfoo:bar\ncontent-length:2\n\nhi\0');
    expect(sender.frames).toHaveLength(0);
  });

  it('SEND to an unknown destination: ERROR Subscription not available', async () => {
    const c = await client();
    c.send(sendFrame('SEND', { destination: 'nobody.here' }, 'x'));
    const f = await c.frame();
    expect([f.command, body(f)]).toEqual(['ERROR', 'Subscription not available']);
  });

  it('requests to a queue with subscribers reach both; <queue>. children and the IRS queue are requests', async () => {
    const watcher = await client();
    watcher.send(sendFrame('SUBSCRIBE', { destination: 'jms.topic', id: 'w' }));
    const c = await client();
    c.send(sendFrame('SUBSCRIBE', { destination: 'replies-1', id: 's' }));
    await c.until(() => srv.front.stomp.subscriberCount('replies-1') === 1 || undefined);
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests.child', 'reply-to': 'replies-1' }, ping('c1')));
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_irs_requests', 'reply-to': 'replies-1' }, ping('c2')));
    await c.until(() => c.frames.length >= 2);
    expect(c.frames.map((f) => (json(f) as { id: string }).id).sort()).toEqual(['c1', 'c2']);
    await watcher.until(() => watcher.frames.length >= 2);
    expect(watcher.frames.map((f) => f.headers.get('destination')).sort()).toEqual(['jms.topic.vdsm_irs_requests', 'jms.topic.vdsm_requests.child']);
  });

  it('same request id on two connections: each reply goes to its own reply-to (vdsm collides)', async () => {
    const a = await client();
    const b = await client();
    a.send(sendFrame('SUBSCRIBE', { destination: 'reply-a', id: '1' }));
    b.send(sendFrame('SUBSCRIBE', { destination: 'reply-b', id: '1' }));
    await a.until(() => srv.front.stomp.subscriberCount('reply-b') === 1 || undefined);
    a.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'reply-a' }, ping('same', 'Test.slow', { ms: 30 })));
    b.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'reply-b' }, ping('same', 'Test.slow', { ms: 10 })));
    const fa = await a.frame();
    const fb = await b.frame();
    expect(json(fa)).toEqual({ jsonrpc: '2.0', id: 'same', result: 30 });
    expect(json(fb)).toEqual({ jsonrpc: '2.0', id: 'same', result: 10 });
    expect(fa.headers.get('destination')).toBe('reply-a');
  });

  it('a response goes to every subscriber of reply-to, across connections', async () => {
    const a = await client();
    const b = await client();
    a.send(sendFrame('SUBSCRIBE', { destination: 'shared-replies', id: 'a' }));
    b.send(sendFrame('SUBSCRIBE', { destination: 'shared-replies', id: 'b' }));
    await a.until(() => srv.front.stomp.subscriberCount('shared-replies') === 2 || undefined);
    a.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'shared-replies' }, ping('s1')));
    expect((await a.frame()).headers.get('subscription')).toBe('a');
    expect((await b.frame()).headers.get('subscription')).toBe('b');
  });

  it('no reply-to: no response (vdsm); invalid JSON: error on jms.topic.vdsm_responses', async () => {
    const c = await client();
    c.send(sendFrame('SUBSCRIBE', { destination: 'jms.topic.vdsm_responses', id: 'd' }));
    c.send(sendFrame('SUBSCRIBE', { destination: 'mine', id: 'm' }));
    await c.until(() => srv.front.stomp.subscriberCount('mine') === 1 || undefined);
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests' }, ping('lost')));
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'mine' }, '{oops'));
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'mine' }, ping('after')));
    await c.until(() => c.frames.length >= 2);
    await sleep(100);
    const got = c.frames.map((f) => [f.headers.get('destination'), (json(f) as { id: unknown }).id]);
    expect(got).toContainEqual(['jms.topic.vdsm_responses', null]);
    expect(got).toContainEqual(['mine', 'after']);
    expect(got).toHaveLength(2);
  });

  it('batches are answered with an array; notification-only messages with nothing, and serving goes on', async () => {
    const c = await client();
    c.send(sendFrame('SUBSCRIBE', { destination: 'batch-replies', id: 'b' }));
    await c.until(() => srv.front.stomp.subscriberCount('batch-replies') === 1 || undefined);
    const send = (payload: string) => c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'batch-replies' }, payload));
    send('[{"jsonrpc":"2.0","method":"Host.ping2"}]');
    send('{"jsonrpc":"2.0","method":"Host.ping2"}');
    send(`[${ping('b1')},${ping('b2')}]`);
    const f = await c.frame();
    expect(json(f)).toEqual([
      { jsonrpc: '2.0', id: 'b1', result: true },
      { jsonrpc: '2.0', id: 'b2', result: true },
    ]);
    await sleep(100);
    expect(c.frames).toHaveLength(1);
  });

  it('DISCONNECT with receipt: RECEIPT and the connection stays; without: closed', async () => {
    const a = await client();
    a.send(sendFrame('DISCONNECT', { receipt: 'bye-1' }));
    await a.frame((f) => f.command === 'RECEIPT');
    expect(a.raw.toString()).toBe('RECEIPT\nreceipt-id:bye-1\n\n\0');
    await sleep(100);
    expect(a.closed).toBe(false);
    const b = await client();
    b.send(sendFrame('DISCONNECT', {}));
    await b.waitClosed();
    expect(b.frames).toHaveLength(0);
  });

  it.each([
    ['unknown command', 'SUBSCRIBE\ndestination:u\nid:u\n\n\0BEGIN\ntransaction:t\n\n\0', /Unknown command: BEGIN/],
    ['raw colon in a header', 'SEND\ndestination:a:b\n\n\0', /raw colon/],
    ['invalid escape', 'SEND\ndestination:a\\mb\n\n\0', /invalid escape/],
    ['wrong content-length', 'SEND\ndestination:a\ncontent-length:1\n\nxyz\0', /NULL byte/],
    ['frame too large', `SEND\ndestination:a\ncontent-length:100000\n\n`, /frame larger than 65536/],
    ['too many headers', `SEND\n${Array.from({ length: 20 }, (_, i) => `h${i}:v`).join('\n')}\n\n\0`, /more than 16 headers/],
  ])('%s: ERROR frame, then close', async (_name, wire, message) => {
    const c = await client();
    c.send(wire);
    const f = await c.frame();
    expect(f.command).toBe('ERROR');
    expect(body(f)).toMatch(message);
    await c.waitClosed();
  });

  it('events reach every subscriber of jms.queue.events, vdsm layout, encoded once', async () => {
    const a = await client();
    const b = await client();
    a.send(sendFrame('SUBSCRIBE', { destination: 'jms.queue.events', id: '9e1d4a6b' }));
    b.send(sendFrame('SUBSCRIBE', { destination: 'jms.queue.events', id: 'other' }));
    await a.until(() => srv.front.stomp.subscriberCount('jms.queue.events') >= 2 || undefined);
    const vm = '407cb255-34be-4ad5-9ba3-10d1e6b4d3d2';
    const ev = srv.front.events.emit('virt', 'VM_status', vm, { [vm]: { status: 'Paused', pauseCode: 'NOERR' } });
    await a.frame();
    await b.frame();
    expect(a.raw.toString()).toBe(
      `MESSAGE\ndestination:jms.queue.events\ncontent-type:application/json\nsubscription:9e1d4a6b\ncontent-length:${ev.bytes.length}\n\n${ev.json}\0`,
    );
    expect(json(b.frames[0]!)).toMatchObject({ jsonrpc: '2.0', method: `|virt|VM_status|${vm}`, params: { [vm]: { status: 'Paused' } } });
  });

  it('caps requests in flight per connection without failing any (backpressure)', async () => {
    maxInFlight = 0;
    const c = await client();
    c.send(sendFrame('SUBSCRIBE', { destination: 'bp', id: 'bp' }));
    await c.until(() => srv.front.stomp.subscriberCount('bp') === 1 || undefined);
    let wire = '';
    for (let i = 0; i < 20; i++) wire += sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'bp' }, ping(`p${i}`, 'Test.slow', { ms: 20 }));
    c.send(wire);
    await c.until(() => c.frames.length >= 20, 5000);
    expect(c.frames.every((f) => (json(f) as { result: number }).result === 20)).toBe(true);
    expect(maxInFlight).toBeLessThanOrEqual(4);
    expect(maxInFlight).toBeGreaterThanOrEqual(2);
  });

  it('RECEIPT for SEND and SUBSCRIBE that ask (STOMP 1.2; vdsm ignores them)', async () => {
    const c = await client();
    c.send(sendFrame('SUBSCRIBE', { destination: 'rc', id: 'rc', receipt: 'r-sub' }));
    c.send(sendFrame('SEND', { destination: 'rc', receipt: 'r-send' }, 'x'));
    await c.until(() => c.frames.length >= 3);
    expect(c.frames.map((f) => f.command)).toEqual(['RECEIPT', 'MESSAGE', 'RECEIPT']);
    expect(c.frames[2]!.headers.get('receipt-id')).toBe('r-send');
  });
});
