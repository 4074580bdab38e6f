/**
 * Broker mode benchmark: N hosts' fronts (in-process, each its own method table and broker link)
 * behind one local RabbitMQ; an engine client asks every host for Host.ping2 in closed loops
 * (`BENCH_INFLIGHT` outstanding per host), first through the broker (`/queue/hostvisor.requests.<host>`,
 * replies on a `/temp-queue/`), then the same fronts directly over TCP (one STOMP connection per
 * host, `jms.topic.vdsm_requests`), in the same run. Reports requests/s, p50 and p99.
 *
 * A RabbitMQ already listening on 61613 is used; otherwise the local one is started for the run,
 * and stopped after it.
 *
 *   npm run bench:broker   (env: BENCH_HOSTS=20, BENCH_SECONDS=5, BENCH_INFLIGHT=4)
 */
import { randomUUID } from 'node:crypto';
import * as net from 'node:net';
import { pino } from 'pino';
import { connectivityTable } from '../src/api/host-connectivity.js';
import { loadConfig } from '../src/config/load.js';
import { createBrokerPart, type BrokerPart } from '../src/net/broker/part.js';
import { encodeFrame } from '../src/net/stomp/encoder.js';
import type { Frame } from '../src/net/stomp/frame.js';
import { FrameParser } from '../src/net/stomp/parser.js';
import { createFront, type Front } from '../src/net/front.js';
import { ensureRabbit, rabbitInstalled, STOMP_PORT, stopRabbit } from '../test/helpers/rabbitmq.js';

const HOSTS = Number(process.env['BENCH_HOSTS'] ?? 20);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const INFLIGHT = Number(process.env['BENCH_INFLIGHT'] ?? 4);
const BROKER_PORT = STOMP_PORT;
const silent = pino({ level: 'silent' });

/** A bare STOMP client: one socket, answers matched by JSON-RPC id. */
class Client {
  private readonly waiting = new Map<string, () => void>();
  private connected: ((f: Frame) => void) | undefined;
  private readonly parser = new FrameParser({ maxFrameSize: 1 << 24, maxHeaders: 100, maxHeaderLine: 1 << 16 }, (f) => this.onFrame(f));

  private constructor(private readonly socket: net.Socket) {
    socket.setNoDelay(true);
    socket.on('data', (c: Buffer) => this.parser.push(c));
  }

  static async connect(port: number, headers: [string, string][]): Promise<Client> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const c = new Client(socket);
    const got = new Promise<Frame>((r) => (c.connected = r));
    socket.write(encodeFrame('CONNECT', [['accept-version', '1.2'], ['heart-beat', '0,0'], ...headers]));
    if ((await got).command !== 'CONNECTED') throw new Error('CONNECT refused');
    return c;
  }

  private onFrame(f: Frame): void {
    if (this.connected) {
      const r = this.connected;
      this.connected = undefined;
      return r(f);
    }
    if (f.command !== 'MESSAGE') return;
    // The id sits at a fixed place in the engine's replies: no full JSON parse on the client.
    const text = f.body.toString('utf8');
    const at = text.indexOf('"id":"');
    const id = at < 0 ? '' : text.slice(at + 6, text.indexOf('"', at + 6));
    const done = this.waiting.get(id);
    if (done) {
      this.waiting.delete(id);
      done();
    }
  }

  subscribe(destination: string): void {
    this.socket.write(encodeFrame('SUBSCRIBE', [['destination', destination], ['id', randomUUID()], ['ack', 'auto']]));
  }

  request(destination: string, replyTo: string): Promise<void> {
    const id = randomUUID();
    const body = `{"jsonrpc":"2.0","method":"Host.ping2","params":{},"id":"${id}"}`;
    return new Promise((resolve) => {
      this.waiting.set(id, resolve);
      this.socket.write(encodeFrame('SEND', [['destination', destination], ['content-type', 'application/json'], ['reply-to', replyTo]], body));
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

interface Result {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
}

/** Closed loops, INFLIGHT per target, for SECONDS after a one-second warm-up. */
async function drive(targets: { send: () => Promise<void> }[]): Promise<Result> {
  const latencies: number[] = [];
  let measuring = false;
  let stop = false;
  const loops = targets.flatMap((t) =>
    Array.from({ length: INFLIGHT }, async () => {
      while (!stop) {
        const t0 = performance.now();
        await t.send();
        if (measuring) latencies.push(performance.now() - t0);
      }
    }),
  );
  await sleep(1000);
  measuring = true;
  const t0 = performance.now();
  await sleep(SECONDS * 1000);
  measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  stop = true;
  await Promise.all(loops);
  latencies.sort((a, b) => a - b);
  const q = (p: number): number => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))] ?? NaN;
  return { requests: latencies.length, rps: latencies.length / elapsed, p50: q(0.5), p99: q(0.99) };
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function main(): Promise<void> {
  const hosts: { front: Front; broker: BrokerPart; name: string }[] = [];
  for (let i = 0; i < HOSTS; i++) {
    const name = `bench-host-${String(i).padStart(2, '0')}`;
    const { config } = loadConfig({
      env: {},
      flags: {
        'addresses.management_ip': '127.0.0.1',
        'addresses.management_port': '0',
        'vars.broker_enable': 'true',
        'vars.broker_port': String(BROKER_PORT),
        'broker.host_name': name,
        'broker.max_in_flight': String(INFLIGHT * 4),
      },
    });
    const front = createFront(config, connectivityTable(), { log: silent });
    await front.acceptor.start(new AbortController().signal);
    const broker = createBrokerPart(config, { engine: front.engine, events: front.events, log: silent });
    broker.start(new AbortController().signal);
    hosts.push({ front, broker, name });
  }
  await Promise.race([Promise.all(hosts.map((h) => h.broker.ready())), sleep(30_000).then(() => Promise.reject(new Error('broker not reachable on 61613')))]);

  // Through the broker: one engine connection, replies on its temp queue.
  const engine = await Client.connect(BROKER_PORT, [['host', '/'], ['login', 'guest'], ['passcode', 'guest']]);
  const replyTo = `/temp-queue/bench-${randomUUID()}`;
  const viaBroker = await drive(hosts.map((h) => ({ send: () => engine.request(h.broker.settings.requestDestinations[0]!, replyTo) })));
  engine.close();

  // Directly: one STOMP connection per host, as an engine without a broker holds.
  const direct = await Promise.all(
    hosts.map(async (h) => {
      const c = await Client.connect(h.front.acceptor.port, []);
      c.subscribe('bench-replies');
      return c;
    }),
  );
  await sleep(100);
  const viaTcp = await drive(direct.map((c) => ({ send: () => c.request('jms.topic.vdsm_requests', 'bench-replies') })));
  for (const c of direct) c.close();

  const row = (what: string, r: Result): string =>
    `${what.padEnd(22)} ${String(Math.round(r.rps)).padStart(8)} req/s   p50 ${r.p50.toFixed(2).padStart(7)} ms   p99 ${r.p99.toFixed(2).padStart(7)} ms   (${r.requests} requests)`;
  console.log(`broker mode benchmark: ${HOSTS} hosts, Host.ping2, ${INFLIGHT} in flight per host, ${SECONDS} s per run`);
  console.log(row('through RabbitMQ STOMP', viaBroker));
  console.log(row('direct TCP (STOMP)', viaTcp));
  const served = hosts.map((h) => h.broker.status()!.served);
  console.log(`served through the broker per host: min ${Math.min(...served)}, max ${Math.max(...served)}`);

  await Promise.all(hosts.map((h) => h.broker.stop()));
  await Promise.all(hosts.map((h) => h.front.acceptor.stop()));
  for (const h of hosts) h.front.http?.close();
}

async function withRabbit(): Promise<void> {
  if (!rabbitInstalled()) throw new Error('rabbitmq-server is not installed: run scripts/setup.sh');
  const started = await ensureRabbit();
  try {
    await main();
  } finally {
    if (started) await stopRabbit();
  }
}

withRabbit().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  },
);
