/**
 * STOMP JSON-RPC benchmark: Host.ping2 through the whole front (acceptor, detection, STOMP,
 * engine) on loopback, and, in the same run, a minimal raw TCP echo server exchanging messages
 * of the same sizes as the practical limit of this machine.
 *
 * The server runs on the main thread as in the daemon; the load generator runs in a worker
 * thread so it has its own event loop (the machine's second core) instead of stealing the
 * server's. Each connection keeps `inFlight` requests outstanding and writes the requests it can
 * send in one write per read.
 *
 *   npm run bench:stomp   (env: BENCH_SECONDS=2 per run, BENCH_ROUNDS=3, BENCH_SHAPES=1x1,4x16,4x256)
 */
import * as net from 'node:net';
import { Duplex } from 'node:stream';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { connectivityTable } from '../src/api/host-connectivity.js';
import { loadConfig } from '../src/config/load.js';
import { createFront, type Front } from '../src/net/front.js';
import { LoadWindow } from './load-window.js';

interface RunSpec {
  kind: 'stomp' | 'echo';
  port: number;
  connections: number;
  inFlight: number;
  seconds: number;
  warmupSeconds: number;
}

interface RunResult {
  requests: number;
  failures: number;
  seconds: number;
  p50: number;
  p99: number;
  requestBytes: number;
  responseBytes: number;
}

const ID_PREFIX = '00000000-0000-4000-8000-';

function requestFrame(conn: number, n: number): string {
  const body = `{"jsonrpc":"2.0","method":"Host.ping2","params":{},"id":"${ID_PREFIX}${String(n).padStart(12, '0')}"}`;
  return `SEND\ndestination:jms.topic.vdsm_requests\ncontent-type:application/json\nreply-to:bench-${conn}\ncontent-length:${body.length}\n\n${body}\0`;
}

// ---------------------------------------------------------------------------------------------
// Load generator (worker thread)

async function runClient(spec: RunSpec): Promise<RunResult> {
  const window = new LoadWindow();
  let failures = 0;
  let responseBytes = 0;
  const requestBytes = Buffer.byteLength(requestFrame(0, 0));
  const done: Promise<void>[] = [];

  for (let c = 0; c < spec.connections; c++) {
    done.push(
      new Promise<void>((resolve, reject) => {
        const socket = net.connect({ host: '127.0.0.1', port: spec.port });
        socket.setNoDelay(true);
        const sentAt = new Map<number, number>();
        const fifo: number[] = [];
        let next = 0;
        let outstanding = 0;
        let pending: Buffer | undefined;
        let connected = spec.kind === 'echo';

        const fill = (): void => {
          if (window.stopping) {
            if (outstanding === 0) socket.end();
            return;
          }
          let out = '';
          const now = performance.now();
          while (outstanding < spec.inFlight) {
            const n = next++;
            out += requestFrame(c, n);
            if (spec.kind === 'stomp') sentAt.set(n, now);
            else fifo.push(now);
            outstanding++;
          }
          if (out !== '') socket.write(out);
        };

        const answered = (frame: Buffer): void => {
          const now = performance.now();
          if (spec.kind === 'stomp') {
            const at = frame.indexOf('"id":"');
            const n = Number(frame.toString('latin1', at + 6 + ID_PREFIX.length, at + 6 + ID_PREFIX.length + 12));
            const t0 = sentAt.get(n);
            if (t0 === undefined || frame.indexOf('"result":true') === -1) failures++;
            else {
              sentAt.delete(n);
              window.record(now - t0);
            }
          } else {
            const t0 = fifo.shift()!;
            window.record(now - t0);
          }
          outstanding--;
        };

        socket.on('connect', () => {
          if (spec.kind === 'stomp') {
            socket.write(`CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\0SUBSCRIBE\ndestination:bench-${c}\nid:s${c}\nack:auto\n\n\0`);
          } else {
            fill();
          }
        });
        socket.on('data', (chunk: Buffer) => {
          const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
          let pos = 0;
          for (;;) {
            // Skip heart-beat newlines between frames.
            while (pos < buf.length && buf[pos] === 0x0a) pos++;
            const end = buf.indexOf(0, pos);
            if (end === -1) break;
            if (!connected) {
              connected = buf.toString('latin1', pos, pos + 9) === 'CONNECTED';
              if (!connected) {
                reject(new Error(`unexpected frame: ${buf.toString('utf8', pos, end)}`));
                return;
              }
              fill();
            } else {
              if (window.measuring) responseBytes = end + 1 - pos;
              answered(buf.subarray(pos, end));
            }
            pos = end + 1;
          }
          pending = pos < buf.length ? buf.subarray(pos) : undefined;
          fill();
        });
        socket.on('error', reject);
        socket.on('close', () => {
          failures += outstanding;
          resolve();
        });
      }),
    );
  }

  // Every request still outstanding must be answered; what is not within 10 s counts as failed.
  const measured = await window.run(spec.warmupSeconds, spec.seconds, done);
  return { ...measured, failures, requestBytes, responseBytes };
}

// ---------------------------------------------------------------------------------------------
// Servers and driver (main thread)

/** Echo server: for every NUL-terminated message, a reply of `replyBytes` bytes. */
function startEcho(replyBytes: number): Promise<net.Server> {
  const reply = Buffer.alloc(replyBytes, 0x61);
  reply[replyBytes - 1] = 0;
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      let count = 0;
      for (let at = chunk.indexOf(0); at !== -1; at = chunk.indexOf(0, at + 1)) count++;
      if (count === 1) socket.write(reply);
      else if (count > 1) socket.write(Buffer.concat(Array.from({ length: count }, () => reply)));
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

/** A socket stand-in that swallows writes: the server's own cost without the kernel's. */
class NullSocket extends Duplex {
  bytesOut = 0;
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.bytesOut += chunk.length;
    cb();
  }
  override _read(): void {}
  setNoDelay(): this {
    return this;
  }
}

/** Server CPU per request: frames pushed straight into a connection, 16 per read, no sockets. */
async function serverCost(front: Front, requests: number): Promise<number> {
  const socket = new NullSocket();
  front.stomp.accept(socket as unknown as net.Socket, Buffer.from('SUBSCRIBE\ndestination:bench-0\nid:s\n\n\0'), 'in-process');
  let batch = '';
  for (let i = 0; i < 16; i++) batch += requestFrame(0, i);
  const chunk = Buffer.from(batch);
  const run = async (n: number): Promise<number> => {
    const t0 = performance.now();
    for (let i = 0; i < n; i += 16) {
      socket.emit('data', chunk);
      await Promise.resolve(); // lets the connection flush its replies
    }
    return performance.now() - t0;
  };
  await run(requests / 4); // warm-up
  const before = socket.bytesOut;
  const ms = await run(requests);
  if (socket.bytesOut === before) throw new Error('no replies in the in-process run');
  socket.destroy();
  return (ms * 1000) / requests;
}

/** Runs the load in a worker; also measures how busy the server's event loop (this thread) was. */
function inWorker(spec: RunSpec): Promise<RunResult & { serverBusy: number }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec });
    let before: EventLoopUtilization | undefined;
    const startTimer = setTimeout(() => (before = performance.eventLoopUtilization()), spec.warmupSeconds * 1000);
    const endTimer = setTimeout(() => (busy = performance.eventLoopUtilization(before).utilization), (spec.warmupSeconds + spec.seconds) * 1000);
    let busy = NaN;
    worker.once('message', (r: RunResult) => {
      clearTimeout(startTimer);
      clearTimeout(endTimer);
      resolve({ ...r, serverBusy: busy });
    });
    worker.once('error', reject);
  });
}

type EventLoopUtilization = ReturnType<typeof performance.eventLoopUtilization>;

async function main(): Promise<void> {
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 2);
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const { config } = loadConfig({ env: {}, flags: { 'addresses.management_ip': '127.0.0.1', 'addresses.management_port': '0' } });
  const log = pino({ level: 'silent' });
  const front = createFront(config, connectivityTable(), { log });
  await front.acceptor.start(new AbortController().signal);
  const stompPort = front.acceptor.port;

  const shapes: [number, number][] = [
    [1, 1],
    [4, 16],
    [4, 256],
  ].filter(([c, f]) => !process.env['BENCH_SHAPES'] || process.env['BENCH_SHAPES'].split(',').includes(`${c}x${f}`)) as [number, number][];
  const rows: { name: string; stomp: RunResult & { serverBusy: number }; echo: RunResult & { serverBusy: number } }[] = [];
  let echo: net.Server | undefined;
  // The machine is shared: STOMP and echo alternate in short rounds and the median round of each
  // is reported, so a burst of someone else's work does not decide a ratio.
  const medianByRate = <T extends RunResult>(rs: T[]): T => [...rs].sort((a, b) => a.requests / a.seconds - b.requests / b.seconds)[rs.length >> 1]!;
  for (const [connections, inFlight] of shapes) {
    const base = { connections, inFlight, seconds, warmupSeconds: 0.5 };
    const stompRounds: (RunResult & { serverBusy: number })[] = [];
    const echoRounds: (RunResult & { serverBusy: number })[] = [];
    for (let round = 0; round < rounds; round++) {
      const stomp = await inWorker({ kind: 'stomp', port: stompPort, ...base });
      stompRounds.push(stomp);
      echo ??= await startEcho(stomp.responseBytes || 160);
      echoRounds.push(await inWorker({ kind: 'echo', port: (echo.address() as net.AddressInfo).port, ...base }));
    }
    const stomp = medianByRate(stompRounds);
    // Every round's failures count, not just the median's.
    stomp.failures = stompRounds.reduce((n, r) => n + r.failures, 0);
    rows.push({ name: `${connections} conn x ${inFlight} in flight (${connections * inFlight})`, stomp, echo: medianByRate(echoRounds) });
  }
  echo?.close();
  const usPerRequest = await serverCost(front, 200_000);
  await front.acceptor.stop();

  const rate = (r: RunResult): number => r.requests / r.seconds;
  const ms = (n: number): string => n.toFixed(3).padStart(8);
  const num = (n: number, w: number): string => Math.round(n).toString().padStart(w);
  console.log(`hostvisor STOMP benchmark: Host.ping2, server on the main thread, load generator in a worker thread, loopback, median of ${rounds} alternating rounds of ${seconds} s`);
  const first = rows[0]?.stomp;
  if (first) console.log(`request frame ${first.requestBytes} B, response frame ${first.responseBytes} B (the echo server answers with the same sizes)`);
  console.log('');
  console.log('shape                               STOMP req/s  p50 ms   p99 ms  failed  busy |  echo req/s  p50 ms   p99 ms  busy | STOMP/echo');
  const busy = (r: { serverBusy: number }): string => `${Math.round(r.serverBusy * 100)}%`.padStart(5);
  for (const { name, stomp, echo: e } of rows) {
    console.log(
      `${name.padEnd(34)} ${num(rate(stomp), 12)} ${ms(stomp.p50)} ${ms(stomp.p99)} ${num(stomp.failures, 7)} ${busy(stomp)} | ${num(rate(e), 11)} ${ms(e.p50)} ${ms(e.p99)} ${busy(e)} | ${(rate(stomp) / rate(e)).toFixed(2).padStart(10)}`,
    );
  }
  console.log('(busy: event-loop utilisation of the server thread during the measured window)');
  console.log(
    `server cost without sockets (parse, route, JSON-RPC, encode; 16 requests per read): ${usPerRequest.toFixed(2)} us/request = ${Math.round(1e6 / usPerRequest)} req/s on one core`,
  );
  const find = (c: number, f: number) => rows.find((r) => r.name.startsWith(`${c} conn x ${f} `))?.stomp;
  const one = find(1, 1);
  const sixtyFour = find(4, 16);
  const big = find(4, 256);
  console.log('');
  if (one) console.log(`vs vdsm 3.2k req/s at 1 in flight: ${(rate(one) / 3200).toFixed(1)}x (goal >= 5x)`);
  if (sixtyFour) console.log(`vs vdsm 12k req/s at 64 in flight: ${(rate(sixtyFour) / 12000).toFixed(1)}x (goal >= 5x)`);
  console.log(`STOMP/echo: ${rows.map((r) => `${r.name.split(' (')[0]}: ${(rate(r.stomp) / rate(r.echo)).toFixed(2)}`).join(', ')} (goal >= 0.5)`);
  if (big) console.log(`failed requests at 1024 in flight: ${big.failures} (goal 0)`);
  process.exitCode = rows.every((r) => r.stomp.failures === 0) ? 0 : 1;
}

if (isMainThread) {
  await main();
} else {
  parentPort!.postMessage(await runClient(workerData as RunSpec));
}
