/**
 * HTTP-side benchmark, two comparisons in one run:
 * 1. XML-RPC `ping` per second through the whole front (acceptor, detection, node:http, saxes
 *    decoding, legacy verb mapping, encoding) against Python's SimpleXMLRPCServer (threaded,
 *    HTTP/1.1 keep-alive: what vdsm's XML-RPC server was built on) serving the same no-op verb
 *    with the same answer, `{'status': {'code': 0, 'message': 'Done'}}`. Each connection sends
 *    one call at a time, as xmlrpc.client does. Reported: calls/s, p50/p99 and the ratio.
 * 2. JSON-RPC `Host.ping2` over WebSocket against the same over STOMP on TCP: requests/s, p99.
 *
 * The servers run on the main thread (ours, as in the daemon) or in their own process (Python);
 * the load generator runs in a worker thread with its own event loop. Rounds alternate between
 * the two sides and the median round of each is reported (the machine is shared).
 *
 *   npm run bench:http   (env: BENCH_SECONDS=2 per run, BENCH_ROUNDS=3)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as net from 'node:net';
import { createInterface } from 'node:readline';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { pino } from 'pino';
import { WebSocket } from 'ws';
import { connectivityTable } from '../src/api/host-connectivity.js';
import { LegacyXmlRpc } from '../src/api/xmlrpc-legacy.js';
import { loadConfig } from '../src/config/load.js';
import { createFront } from '../src/net/front.js';
import { LoadWindow } from './load-window.js';

type Kind = 'xmlrpc' | 'ws' | 'stomp';

interface RunSpec {
  kind: Kind;
  port: number;
  connections: number;
  /** Requests outstanding per connection (always 1 for XML-RPC). */
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
}

// What xmlrpc.client sends for proxy.ping().
const XML_CALL = "<?xml version='1.0'?>\n<methodCall>\n<methodName>ping</methodName>\n<params>\n</params>\n</methodCall>\n";

function xmlRequest(port: number): Buffer {
  return Buffer.from(
    `POST /RPC2 HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUser-Agent: bench\r\nContent-Type: text/xml\r\nContent-Length: ${Buffer.byteLength(XML_CALL)}\r\n\r\n${XML_CALL}`,
    'latin1',
  );
}

function jsonRequest(n: number): string {
  return `{"jsonrpc":"2.0","method":"Host.ping2","params":{},"id":${n}}`;
}

function stompRequest(conn: number, n: number): string {
  const body = jsonRequest(n);
  return `SEND\ndestination:jms.topic.vdsm_requests\ncontent-type:application/json\nreply-to:bench-${conn}\ncontent-length:${body.length}\n\n${body}\0`;
}

// ---------------------------------------------------------------------------------------------
// Load generator (worker thread)

/** One connection's protocol: how to open it, send requests and recognise answers. */
interface Conn {
  send(ns: number[]): void;
  close(): void;
}

async function runClient(spec: RunSpec): Promise<RunResult> {
  const window = new LoadWindow();
  let failures = 0;
  const done: Promise<void>[] = [];

  for (let c = 0; c < spec.connections; c++) {
    done.push(
      new Promise<void>((resolve, reject) => {
        const sentAt = new Map<number, number>();
        let next = 0;
        let conn: Conn | undefined;
        const fill = (): void => {
          if (conn === undefined) return;
          if (window.stopping) {
            if (sentAt.size === 0) conn.close();
            return;
          }
          const ns: number[] = [];
          const now = performance.now();
          while (sentAt.size < spec.inFlight) {
            const n = next++;
            sentAt.set(n, now);
            ns.push(n);
          }
          if (ns.length > 0) conn.send(ns);
        };
        const answered = (n: number, ok: boolean): void => {
          const t0 = sentAt.get(n);
          if (t0 === undefined || !ok) failures++;
          else window.record(performance.now() - t0);
          sentAt.delete(n);
        };
        const ended = (): void => {
          failures += sentAt.size;
          sentAt.clear();
          resolve();
        };
        if (spec.kind === 'ws') conn = openWs(spec.port, answered, fill, ended, reject);
        else if (spec.kind === 'stomp') conn = openStomp(spec.port, c, answered, fill, ended, reject);
        else conn = openXml(spec.port, answered, fill, ended, reject);
      }),
    );
  }

  return { ...(await window.run(spec.warmupSeconds, spec.seconds, done)), failures };
}

type Answered = (n: number, ok: boolean) => void;

/** HTTP/1.1 keep-alive, one call at a time (inFlight is 1 for XML-RPC). */
function openXml(port: number, answered: Answered, fill: () => void, ended: () => void, fail: (e: Error) => void): Conn {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  const request = xmlRequest(port);
  let current = -1;
  let buf: Buffer = Buffer.alloc(0);
  socket.on('connect', fill);
  socket.on('data', (chunk: Buffer) => {
    buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
    for (;;) {
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd === -1) return;
      const head = buf.toString('latin1', 0, headEnd);
      const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
      const length = m ? Number(m[1]) : 0;
      if (buf.length < headEnd + 4 + length) return;
      const body = buf.toString('latin1', headEnd + 4, headEnd + 4 + length);
      buf = buf.subarray(headEnd + 4 + length);
      answered(current, head.startsWith('HTTP/1.1 200') && body.includes('<int>0</int>') && !body.includes('<fault>'));
      fill();
    }
  });
  socket.on('error', fail);
  socket.on('close', ended);
  return {
    send: (ns) => {
      current = ns[0]!;
      socket.write(request);
    },
    close: () => socket.end(),
  };
}

function openWs(port: number, answered: Answered, fill: () => void, ended: () => void, fail: (e: Error) => void): Conn {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/jsonrpc`, 'jsonrpc', { perMessageDeflate: false });
  ws.on('open', fill);
  ws.on('message', (data: Buffer) => {
    const reply = JSON.parse(data.toString()) as { id: number; result?: unknown };
    answered(reply.id, reply.result === true);
    fill();
  });
  ws.on('error', fail);
  ws.on('close', ended);
  return {
    send: (ns) => {
      for (const n of ns) ws.send(jsonRequest(n));
    },
    close: () => ws.close(),
  };
}

function openStomp(port: number, c: number, answered: Answered, fill: () => void, ended: () => void, fail: (e: Error) => void): Conn {
  const socket = net.connect({ host: '127.0.0.1', port });
  socket.setNoDelay(true);
  let connected = false;
  let pending: Buffer | undefined;
  socket.on('connect', () => socket.write(`CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\0SUBSCRIBE\ndestination:bench-${c}\nid:s${c}\nack:auto\n\n\0`));
  socket.on('data', (chunk: Buffer) => {
    const buf = pending === undefined ? chunk : Buffer.concat([pending, chunk]);
    let pos = 0;
    for (;;) {
      while (pos < buf.length && buf[pos] === 0x0a) pos++;
      const end = buf.indexOf(0, pos);
      if (end === -1) break;
      if (!connected) {
        connected = buf.toString('latin1', pos, pos + 9) === 'CONNECTED';
        if (!connected) return fail(new Error(`unexpected frame: ${buf.toString('utf8', pos, end)}`));
      } else {
        const frame = buf.toString('latin1', pos, end);
        const m = /"id":(\d+)/.exec(frame);
        answered(m ? Number(m[1]) : -1, frame.includes('"result":true'));
      }
      pos = end + 1;
    }
    pending = pos < buf.length ? buf.subarray(pos) : undefined;
    fill();
  });
  socket.on('error', fail);
  socket.on('close', ended);
  return {
    send: (ns) => socket.write(ns.map((n) => stompRequest(c, n)).join('')),
    close: () => socket.end(),
  };
}

// ---------------------------------------------------------------------------------------------
// Servers and driver (main thread)

/** vdsm's XML-RPC server, minus vdsm: SimpleXMLRPCServer, threaded, HTTP/1.1, no-op ping. */
const PYTHON_SERVER = `
import sys
from socketserver import ThreadingMixIn
from xmlrpc.server import SimpleXMLRPCServer, SimpleXMLRPCRequestHandler
class Handler(SimpleXMLRPCRequestHandler):
    protocol_version = 'HTTP/1.1'
    rpc_paths = ('/', '/RPC2')
class Server(ThreadingMixIn, SimpleXMLRPCServer):
    daemon_threads = True
server = Server(('127.0.0.1', 0), requestHandler=Handler, logRequests=False)
server.register_function(lambda: {'status': {'code': 0, 'message': 'Done'}}, 'ping')
print(server.server_address[1], flush=True)
server.serve_forever()
`;

async function startPython(): Promise<{ port: number; child: ChildProcess }> {
  const child = spawn('python3', ['-c', PYTHON_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`python3 exited with ${code}`)));
  });
  return { port: Number(line), child };
}

function inWorker(spec: RunSpec): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL(import.meta.url), { workerData: spec });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

const rate = (r: RunResult): number => r.requests / r.seconds;
const medianByRate = (rs: RunResult[]): RunResult => {
  const m = { ...[...rs].sort((a, b) => rate(a) - rate(b))[rs.length >> 1]! };
  m.failures = rs.reduce((n, r) => n + r.failures, 0); // every round's failures count
  return m;
};

/** Alternating rounds of two sides with the same shape; the median round of each. */
async function compare(a: RunSpec, b: RunSpec, rounds: number): Promise<[RunResult, RunResult]> {
  const as: RunResult[] = [];
  const bs: RunResult[] = [];
  for (let i = 0; i < rounds; i++) {
    as.push(await inWorker(a));
    bs.push(await inWorker(b));
  }
  return [medianByRate(as), medianByRate(bs)];
}

async function main(): Promise<void> {
  const seconds = Number(process.env['BENCH_SECONDS'] ?? 2);
  const rounds = Number(process.env['BENCH_ROUNDS'] ?? 3);
  const { config } = loadConfig({ env: {}, flags: { 'addresses.management_ip': '127.0.0.1', 'addresses.management_port': '0' } });
  const log = pino({ level: 'silent' });
  const table = connectivityTable().serve({ 'Host.ping': () => true });
  const front = createFront(config, table, { log, xmlrpc: (engine) => new LegacyXmlRpc(engine) });
  await front.acceptor.start(new AbortController().signal);
  const port = front.acceptor.port;
  const python = await startPython();

  const num = (n: number, w: number): string => Math.round(n).toString().padStart(w);
  const ms = (n: number): string => n.toFixed(3).padStart(8);
  const row = (name: string, r: RunResult): string => `${name.padEnd(34)} ${num(rate(r), 9)} ${ms(r.p50)} ${ms(r.p99)} ${num(r.failures, 7)}`;
  const header = `${''.padEnd(34)} ${'req/s'.padStart(9)} ${'p50 ms'.padStart(8)} ${'p99 ms'.padStart(8)} ${'failed'.padStart(7)}`;
  let failed = 0;

  console.log(`hostvisor HTTP benchmark: load generator in a worker thread, loopback, median of ${rounds} alternating rounds of ${seconds} s`);
  console.log('');
  console.log('1. XML-RPC ping (one call at a time per connection, keep-alive) vs Python SimpleXMLRPCServer (threaded, HTTP/1.1)');
  console.log(header);
  const ratios: string[] = [];
  for (const connections of [1, 4, 16]) {
    const base = { connections, inFlight: 1, seconds, warmupSeconds: 0.5 };
    const [ours, theirs] = await compare({ kind: 'xmlrpc', port, ...base }, { kind: 'xmlrpc', port: python.port, ...base }, rounds);
    console.log(row(`hostvisor, ${connections} conn`, ours));
    console.log(row(`python SimpleXMLRPCServer, ${connections} conn`, theirs));
    ratios.push(`${connections} conn: ${(rate(ours) / rate(theirs)).toFixed(1)}x`);
    failed += ours.failures;
  }
  console.log(`hostvisor / python: ${ratios.join(', ')}`);
  python.child.kill();

  console.log('');
  console.log('2. JSON-RPC Host.ping2: WebSocket (/jsonrpc) vs STOMP over TCP');
  console.log(header);
  for (const [connections, inFlight] of [
    [1, 1],
    [4, 16],
  ] as const) {
    const base = { connections, inFlight, seconds, warmupSeconds: 0.5 };
    const [ws, stomp] = await compare({ kind: 'ws', port, ...base }, { kind: 'stomp', port, ...base }, rounds);
    console.log(row(`WebSocket, ${connections} conn x ${inFlight}`, ws));
    console.log(row(`STOMP/TCP, ${connections} conn x ${inFlight}`, stomp));
    console.log(`${''.padEnd(34)} WebSocket / STOMP: ${(rate(ws) / rate(stomp)).toFixed(2)}`);
    failed += ws.failures + stomp.failures;
  }
  front.http?.close();
  await front.acceptor.stop();
  process.exitCode = failed === 0 ? 0 : 1;
}

if (isMainThread) {
  await main();
} else {
  parentPort!.postMessage(await runClient(workerData as RunSpec));
}
