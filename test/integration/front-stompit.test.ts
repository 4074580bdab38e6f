/** The front against an independent STOMP 1.2 client from npm (stompit). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error stompit ships no types
import stompit from 'stompit';
import { sleep, startFront, type Running } from './front-harness.js';

interface Message { headers: Record<string, string>; readString(enc: string, cb: (err: Error | null, body?: string) => void): void }
interface Client {
  subscribe(headers: Record<string, string>, cb: (err: Error | null, msg: Message) => void): { unsubscribe(): void };
  send(headers: Record<string, string>): { write(s: string): void; end(): void };
  disconnect(cb?: (err?: Error) => void): void;
  on(ev: string, cb: (err: Error) => void): void;
  destroy(): void;
}

let srv: Running;

function connect(heartBeat = '0,0'): Promise<Client> {
  return new Promise((resolve, reject) => {
    stompit.connect(
      { host: '127.0.0.1', port: srv.port, connectHeaders: { host: '/', 'heart-beat': heartBeat } },
      (err: Error | null, client: Client) => (err ? reject(err) : resolve(client)),
    );
  });
}

function next(client: Client, destination: string): { first: Promise<{ headers: Record<string, string>; body: string }> } {
  let resolveFirst!: (v: { headers: Record<string, string>; body: string }) => void;
  const first = new Promise<{ headers: Record<string, string>; body: string }>((r) => (resolveFirst = r));
  client.subscribe({ destination, ack: 'auto' }, (err, msg) => {
    if (err) return;
    msg.readString('utf-8', (_e, body) => resolveFirst({ headers: msg.headers, body: body ?? '' }));
  });
  return { first };
}

function send(client: Client, headers: Record<string, string>, body: string): void {
  const frame = client.send(headers);
  frame.write(body);
  frame.end();
}

beforeAll(async () => {
  srv = await startFront();
});
afterAll(async () => {
  await srv.stop();
});

describe('stompit against the front', () => {
  it('Host.ping2 round trip with accept-version 1.0,1.1,1.2', async () => {
    const client = await connect();
    const replies = next(client, 'stompit-replies');
    await sleep(50);
    send(client, { destination: 'jms.topic.vdsm_requests', 'reply-to': 'stompit-replies', 'content-type': 'application/json' },
      JSON.stringify({ jsonrpc: '2.0', method: 'Host.ping2', params: {}, id: 'sp-1' }));
    const m = await replies.first;
    expect(JSON.parse(m.body)).toEqual({ jsonrpc: '2.0', id: 'sp-1', result: true });
    expect(m.headers['destination']).toBe('stompit-replies');
    expect(m.headers['content-type']).toBe('application/json');
    await new Promise<void>((r) => client.disconnect(() => r()));
  });

  it('speaks 1.2 header escaping both ways (a raw colon would close the connection)', async () => {
    const client = await connect();
    const got = next(client, 'esc.topic');
    await sleep(50);
    send(client, { destination: 'esc.topic.x', 'x-key': 'a:b\nc\\d' }, 'hello');
    const m = await got.first;
    expect(m.headers['x-key']).toBe('a:b\nc\\d');
    expect(m.body).toBe('hello');
    client.destroy();
  });

  it('events arrive on jms.queue.events', async () => {
    const client = await connect();
    const got = next(client, 'jms.queue.events');
    await sleep(50);
    srv.front.events.emit('net', 'host_conn', 'no_id', {});
    const m = await got.first;
    expect(JSON.parse(m.body)).toMatchObject({ jsonrpc: '2.0', method: '|net|host_conn|no_id', params: { notify_time: expect.any(Number) } });
    client.destroy();
  });

  it('heart-beats both ways keep an idle connection alive', async () => {
    const client = await connect('1000,1000');
    let failed: Error | undefined;
    client.on('error', (e) => (failed = e));
    await sleep(2600);
    expect(failed).toBeUndefined();
    const replies = next(client, 'hb-replies');
    await sleep(50);
    send(client, { destination: 'jms.topic.vdsm_requests', 'reply-to': 'hb-replies' }, JSON.stringify({ jsonrpc: '2.0', method: 'Host.ping2', id: 'hb' }));
    expect(JSON.parse((await replies.first).body)).toMatchObject({ id: 'hb', result: true });
    client.destroy();
  });

  // vdsm's ERROR frames carry no `message` header (kept byte for byte), so stompit reports its generic text.
  it('an ERROR frame reaches the client as an error', async () => {
    const client = await connect();
    const err = new Promise<Error>((r) => client.on('error', r));
    send(client, { destination: 'nobody.listens' }, 'x');
    expect(String((await err).message)).toMatch(/ERROR frame/);
    client.destroy();
  });
});
