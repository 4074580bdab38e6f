/**
 * Load and soak: the real daemon (`node dist/src/main.js`) as a child process on a
 * generated host of 1000 VMs, 1000 fake oVirt guest agents bound under its channels folder (a
 * second child process), metrics on and sent to a UDP port this process listens on, short
 * sampling intervals; 16 engine connections (a third child process, raw STOMP so that every
 * answer is counted by id, duplicates included) doing a mix of verbs and holding
 * `jms.queue.events` subscriptions, for `--minutes N`. Then SIGTERM in the middle of the load,
 * and a restart on the same host.
 *
 * Criteria (PASS/FAIL each):
 * - every request id answered exactly once during the soak, and no unexpected error answer;
 * - the daemon's RSS (/proc/<pid>/status VmRSS, every 2 s) grows under 5 % after the warm-up,
 *   read along the least-squares line through the samples (the first and last 30 s means are
 *   shown too; GC cycles swing them by ±10 %);
 * - event-loop delay p99 under 20 ms. Read from the daemon's own statsd gauge
 *   `hosts.vdsm.event_loop.delay_p99_ms` (one per health check, the histogram reset each time;
 *   the daemon reports the delay beyond its 20 ms sampling timer). The verdict
 *   uses the largest per-interval p99 after the warm-up, an upper bound of the run's p99;
 * - SIGTERM under load (the steady load plus a burst of 9 requests on every connection sent just
 *   before the signal): exit 0, every request either answered once or left unanswered only
 *   because its connection closed before the daemon read it. The daemon reads a connection's
 *   frames in order, so an unanswered request followed by an answered one on the same connection
 *   (a hole) was read and dropped: there must be none. No "unanswered at the drain deadline" line;
 * - restart on the same host: Host.getVMList has every VM, every guest channel reconnects and
 *   each fake guest's data (guestName) is back in VM.getStats.
 *
 *   npm run bench:soak [-- --minutes 10 --rate 20 --vms 1000 --connections 16]
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsonRpcClient } from '../src/client/jsonrpc-client.js';
import { encodeFrame } from '../src/net/stomp/encoder.js';
import type { Frame } from '../src/net/stomp/frame.js';
import { FrameParser } from '../src/net/stomp/parser.js';
import { repoRoot } from '../src/paths.js';
import { FakeGuest } from '../test/doubles/fake-guest.js';
import { writeTestHost } from '../test/doubles/testhost.js';

type Msg = { type: string; [key: string]: unknown };

const SELF = fileURLToPath(import.meta.url);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

function onMessage<T extends Msg = Msg>(child: ChildProcess | NodeJS.Process, type: string, ms = 120_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', handler);
      reject(new Error(`no '${type}' message from the child within ${ms} ms`));
    }, ms);
    const handler = (msg: Msg): void => {
      if (msg.type !== type) return;
      clearTimeout(timer);
      child.off('message', handler);
      resolve(msg as T);
    };
    child.on('message', handler);
  });
}

const pct = (xs: number[], p: number): number => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r2 = (n: number): number => Math.round(n * 100) / 100;

// --- the guests' process ---------------------------------------------------------------------

const APPS = Array.from({ length: 30 }, (_, i) => `package-${i}-1.${i}.${i % 7}-3.el8.x86_64`);

async function runGuests(): Promise<void> {
  const { paths } = await onMessage<Msg & { paths: string[] }>(process, 'start');
  const guests = paths.map((p) => new FakeGuest(p));
  await Promise.all(guests.map((g) => g.listen()));
  process.send!({ type: 'listening' });
  const seen = new Array<number>(guests.length).fill(0);
  const hello = (g: FakeGuest, i: number): void => {
    g.heartbeat(String(256 + (i % 512)), 3);
    g.send('host-name', { name: `guest-${i}` });
    g.send('os-version', { version: '4.18.0-513.el8.x86_64' });
    g.send('fqdn', { fqdn: `guest-${i}.example.com` });
    g.send('network-interfaces', { interfaces: [{ name: 'eth0', hw: '52:54:00:00:00:01', inet: [`10.0.${i >> 8}.${i & 255}`], inet6: [] }] });
    g.send('applications', { applications: APPS });
  };
  // Every 100 ms: any guest with a new connection says hello (what OGA sends on a refresh), and a
  // fiftieth of the guests send their heartbeat, so each guest beats every 5 s, as OGA does.
  const perTick = Math.ceil(guests.length / 50);
  let next = 0;
  const timer = setInterval(() => {
    for (let i = 0; i < guests.length; i++) {
      const g = guests[i]!;
      if (g.connections !== seen[i] && g.connected) {
        seen[i] = g.connections;
        hello(g, i);
      }
      // What the host sent is not needed: keep the fake's memory flat over a long run.
      if (g.received.length > 100) g.received.length = 0;
    }
    for (let k = 0; k < perTick; k++) {
      guests[next]!.heartbeat(String(256 + (next % 512)), 3);
      next = (next + 1) % guests.length;
    }
  }, 100);
  process.on('message', (msg: Msg) => {
    if (msg.type === 'status') {
      process.send!({
        type: 'status',
        connected: guests.filter((g) => g.connected).length,
        reconnected: guests.filter((g) => g.connections >= 2 && g.connected).length,
        connections: guests.reduce((n, g) => n + g.connections, 0),
      });
    } else if (msg.type === 'stop') {
      clearInterval(timer);
      void Promise.all(guests.map((g) => g.close())).then(() => process.exit(0));
    }
  });
}

// --- the engine's process: raw STOMP connections, every answer counted ------------------------

interface EngineOptions {
  port: number;
  connections: number;
  rate: number;
  allStatsEvery: number;
  pauseVms: number;
  vmIds: string[];
  maxInFlight: number;
  /** Every connection takes its answers from vdsm's one response topic (16x fan-out). */
  sharedReplies: boolean;
}

interface Request {
  method: string;
  t0: number;
  answers: number;
  /** Answered at (ms, performance.now()); 0 while unanswered. */
  at: number;
  error?: string;
}

class EngineConnection {
  readonly requests: Request[] = [];
  inFlight = 0;
  throttled = 0;
  events = 0;
  vmStatusEvents = 0;
  unknownIds = 0;
  /** Answers to other connections' requests (only with a shared reply-to). */
  foreignAnswers = 0;
  closedAt = 0;
  /** Bytes of a frame begun but not finished when the connection closed (an answer cut off). */
  partialAtClose = 0;
  private readonly parser: FrameParser;
  private subscribed = new Map<string, (f: Frame) => void>();
  private receipts = new Map<string, () => void>();
  /** The status of the VM this connection pauses and resumes, as its events tell. */
  ownStatus = 'Up';

  constructor(
    readonly index: number,
    private readonly socket: net.Socket,
    private readonly ownVm: string | undefined,
    private readonly replyTo: string,
  ) {
    this.parser = new FrameParser({ maxFrameSize: 1 << 30, maxHeaders: 1000, maxHeaderLine: 1 << 20 }, (f) => this.onFrame(f));
    socket.on('data', (chunk: Buffer) => this.parser.push(chunk));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.closedAt = performance.now();
      this.partialAtClose = this.parser.pendingBytes;
    });
  }

  get open(): boolean {
    return this.closedAt === 0 && !this.socket.destroyed;
  }

  static async connect(index: number, port: number, ownVm: string | undefined, replyTo: string): Promise<EngineConnection> {
    const socket = await new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port }, () => resolve(s));
      s.once('error', reject);
    });
    const conn = new EngineConnection(index, socket, ownVm, replyTo);
    const connected = new Promise<void>((resolve) => conn.receipts.set('CONNECTED', resolve));
    socket.write(encodeFrame('CONNECT', [['accept-version', '1.2'], ['host', '127.0.0.1'], ['heart-beat', '0,0']]));
    await connected;
    await conn.subscribe(replyTo, (f) => conn.onResponse(f));
    await conn.subscribe('jms.queue.events', (f) => conn.onEvent(f));
    return conn;
  }

  private subscribe(destination: string, handler: (f: Frame) => void): Promise<void> {
    const id = `sub-${this.index}-${destination}`;
    this.subscribed.set(id, handler);
    const done = new Promise<void>((resolve) => this.receipts.set(id, resolve));
    this.socket.write(encodeFrame('SUBSCRIBE', [['destination', destination], ['id', id], ['ack', 'auto'], ['receipt', id]]));
    return done;
  }

  call(method: string, params: Record<string, unknown> = {}): number {
    const seq = this.requests.length;
    this.requests.push({ method, t0: performance.now(), answers: 0, at: 0 });
    this.inFlight++;
    const body = JSON.stringify({ jsonrpc: '2.0', method, params, id: `c${this.index}-${seq}` });
    this.socket.write(
      encodeFrame('SEND', [['destination', 'jms.topic.vdsm_requests'], ['content-type', 'application/json'], ['reply-to', this.replyTo]], body),
    );
    return seq;
  }

  private onFrame(f: Frame): void {
    if (f.command === 'CONNECTED') return this.receipts.get('CONNECTED')?.();
    if (f.command === 'RECEIPT') return this.receipts.get(f.headers.get('receipt-id') ?? '')?.();
    if (f.command === 'ERROR') {
      process.send!({ type: 'log', text: `connection ${this.index}: ERROR frame: ${f.body.toString()}` });
      return;
    }
    if (f.command === 'MESSAGE') this.subscribed.get(f.headers.get('subscription') ?? '')?.(f);
  }

  private onResponse(f: Frame): void {
    const now = performance.now();
    let body: unknown;
    try {
      body = JSON.parse(f.body.toString('utf8'));
    } catch {
      this.unknownIds++;
      return;
    }
    for (const answer of Array.isArray(body) ? body : [body]) {
      const { id, error } = (answer ?? {}) as { id?: unknown; error?: { code: number; message: string } };
      const m = typeof id === 'string' ? /^c(\d+)-(\d+)$/.exec(id) : null;
      if (m && Number(m[1]) !== this.index) {
        this.foreignAnswers++;
        continue;
      }
      const req = m ? this.requests[Number(m[2])] : undefined;
      if (!req) {
        this.unknownIds++;
        continue;
      }
      req.answers++;
      if (req.answers === 1) {
        req.at = now;
        this.inFlight--;
        if (error) req.error = `${error.code} ${String(error.message).slice(0, 120)}`;
      }
    }
  }

  private onEvent(f: Frame): void {
    this.events++;
    let body: { method?: string; params?: Record<string, { status?: string }> };
    try {
      body = JSON.parse(f.body.toString('utf8')) as typeof body;
    } catch {
      return;
    }
    if (!body.method?.startsWith('|virt|VM_status|')) return;
    this.vmStatusEvents++;
    const status = this.ownVm ? body.params?.[this.ownVm]?.status : undefined;
    if (status) this.ownStatus = status;
  }
}

async function runEngine(): Promise<void> {
  const opts = JSON.parse(process.argv[3]!) as EngineOptions;
  const conns = await Promise.all(
    Array.from({ length: opts.connections }, (_, i) =>
      // The engine's own response queue per connection, unless the shared one is asked for: a
      // reply goes to every subscriber of its reply-to (as in vdsm).
      EngineConnection.connect(i, opts.port, i < opts.pauseVms ? opts.vmIds[i] : undefined, opts.sharedReplies ? 'jms.topic.vdsm_responses' : `jms.topic.vdsm_responses.soak-${i}`),
    ),
  );
  process.send!({ type: 'ready' });
  await onMessage(process, 'go', 600_000);
  const vmCount = opts.vmIds.length;
  const randomVm = (): string => opts.vmIds[opts.pauseVms + Math.floor(Math.random() * (vmCount - opts.pauseVms))]!;
  const timers: NodeJS.Timeout[] = [];
  let missingEvents = 0;
  let sigtermAt = 0;
  let soakEndSeq: number[] = [];

  for (const c of conns) {
    // The cheap mix, at `rate` per second on each connection.
    timers.push(
      setInterval(() => {
        if (!c.open) return;
        if (c.inFlight >= opts.maxInFlight) {
          c.throttled++;
          return;
        }
        const x = Math.random();
        if (x < 0.4) c.call('Host.ping2');
        else if (x < 0.8) c.call('VM.getStats', { vmID: randomVm() });
        else if (x < 0.9) c.call('Host.getStats');
        else c.call('Host.getVMList', { onlyUUID: false });
      }, 1000 / opts.rate),
    );
    // The heavy one, every `allStatsEvery` seconds, staggered over the connections.
    const every = opts.allStatsEvery * 1000;
    timers.push(
      setTimeout(() => {
        const tick = (): void => void (c.open && c.call('Host.getAllVmStats'));
        tick();
        timers.push(setInterval(tick, every));
      }, (every * c.index) / conns.length),
    );
    // Pause and resume its own VM, one verb at a time, each next step once the event has come.
    const vm = c.index < opts.pauseVms ? opts.vmIds[c.index] : undefined;
    if (vm !== undefined) {
      void (async () => {
        const waitFor = async (seq: number, status: string): Promise<void> => {
          const deadline = performance.now() + 15_000;
          while ((c.requests[seq]!.answers === 0 || c.ownStatus !== status) && c.open) {
            if (performance.now() > deadline) {
              missingEvents++;
              return;
            }
            await sleep(20);
          }
        };
        await sleep(500 + 250 * c.index);
        while (c.open && sigtermAt === 0) {
          await waitFor(c.call('VM.pause', { vmID: vm }), 'Paused');
          if (!c.open || sigtermAt !== 0) break;
          await sleep(200);
          await waitFor(c.call('VM.cont', { vmID: vm }), 'Up');
          await sleep(1000);
        }
      })();
    }
  }

  process.on('message', (msg: Msg) => {
    if (msg.type === 'sigterm') {
      sigtermAt = performance.now();
      soakEndSeq = conns.map((c) => c.requests.length);
      // A burst on every connection just before the signal, so that the stop finds requests of
      // every kind being read and served (the steady load alone keeps only a few in flight).
      for (const c of conns) {
        if (!c.open) continue;
        c.call('Host.getAllVmStats');
        for (let k = 0; k < 8; k++) c.call(k % 2 === 0 ? 'Host.ping2' : 'VM.getStats', k % 2 === 0 ? {} : { vmID: randomVm() });
      }
      process.send!({ type: 'sigterm-marked' });
    } else if (msg.type === 'progress') {
      const sent = conns.reduce((n, c) => n + c.requests.length, 0);
      const inFlight = conns.reduce((n, c) => n + c.inFlight, 0);
      process.send!({ type: 'progress', sent, inFlight, open: conns.filter((c) => c.open).length });
    } else if (msg.type === 'report') {
      for (const t of timers) clearInterval(t);
      process.send!({ type: 'report', ...engineReport(conns, soakEndSeq, sigtermAt, missingEvents) });
      process.exit(0);
    }
  });
}

function engineReport(conns: EngineConnection[], soakEndSeq: number[], sigtermAt: number, missingEvents: number) {
  const latencies = new Map<string, number[]>();
  const errors = new Map<string, number>();
  let sent = 0;
  let answeredOnce = 0;
  let duplicates = 0;
  let stuckAtMark = 0;
  let stopSent = 0;
  let stopAnswered = 0;
  let stopUnansweredClosed = 0;
  let stopUnansweredOpen = 0;
  let lostEarly = 0;
  let closedEarly = 0;
  let foreignAnswers = 0;
  let cutAnswers = 0;
  let cutBytes = 0;
  let holes = 0;
  let answeredAfterSigterm = 0;
  let unknownIds = 0;
  let events = 0;
  let vmStatusEvents = 0;
  let throttled = 0;
  let errorsAfterSigterm = 0;
  const holeSamples: string[] = [];
  for (const c of conns) {
    unknownIds += c.unknownIds;
    foreignAnswers += c.foreignAnswers;
    if (c.partialAtClose > 0) cutAnswers++;
    cutBytes += c.partialAtClose;
    const early = c.closedAt > 0 && (sigtermAt === 0 || c.closedAt < sigtermAt);
    if (early) closedEarly++;
    events += c.events;
    vmStatusEvents += c.vmStatusEvents;
    throttled += c.throttled;
    const cut = soakEndSeq[c.index] ?? c.requests.length;
    let lastAnswered = -1;
    c.requests.forEach((r, seq) => {
      sent++;
      if (r.answers > 0) lastAnswered = seq;
      if (r.answers === 1) answeredOnce++;
      if (r.answers > 1) duplicates++;
      if (r.answers > 0) {
        let l = latencies.get(r.method);
        if (!l) latencies.set(r.method, (l = []));
        l.push(r.at - r.t0);
        if (sigtermAt > 0 && r.at >= sigtermAt) answeredAfterSigterm++;
      }
      // Sent more than 30 s before the SIGTERM mark and still not answered by it: stuck.
      if (sigtermAt > 0 && r.t0 < sigtermAt - 30_000 && (r.answers === 0 || r.at >= sigtermAt)) stuckAtMark++;
      if (r.error) {
        const key = `${r.method}: ${r.error}`;
        errors.set(key, (errors.get(key) ?? 0) + 1);
        if (sigtermAt > 0 && r.at >= sigtermAt) errorsAfterSigterm++;
      }
      // Requests sent before the SIGTERM mark and not answered by it were in flight: they belong
      // to the stop's account, as do the ones sent after it.
      const inSoak = seq < cut && (r.answers > 0 ? r.at < sigtermAt || sigtermAt === 0 : false);
      if (r.answers === 0 && early) lostEarly++;
      else if (!inSoak) {
        stopSent++;
        if (r.answers > 0) stopAnswered++;
        else if (c.closedAt > 0) stopUnansweredClosed++;
        else stopUnansweredOpen++;
      }
    });
    // A request left unanswered before the last answered one on its connection was read (frames are
    // read in order) and never answered.
    for (let seq = 0; seq < lastAnswered; seq++) {
      if (c.requests[seq]!.answers === 0) {
        holes++;
        if (holeSamples.length < 5) holeSamples.push(`c${c.index}-${seq} ${c.requests[seq]!.method}`);
      }
    }
  }
  const perMethod = [...latencies].map(([method, l]) => ({
    method,
    calls: l.length,
    p50Ms: r2(pct(l, 50)),
    p99Ms: r2(pct(l, 99)),
    maxMs: r2(Math.max(...l)),
  }));
  return {
    sent,
    answeredOnce,
    duplicates,
    unknownIds,
    foreignAnswers,
    cutAnswers,
    cutBytes,
    closedEarly,
    lostEarly,
    stuckAtMark,
    holes,
    holeSamples,
    stopSent,
    stopAnswered,
    stopUnansweredClosed,
    stopUnansweredOpen,
    answeredAfterSigterm,
    errorsAfterSigterm,
    errors: Object.fromEntries(errors) as Record<string, number>,
    perMethod,
    events,
    vmStatusEvents,
    missingEvents,
    throttled,
  };
}

// --- the driver ------------------------------------------------------------------------------

interface DaemonRun {
  child: ChildProcess;
  port: Promise<number>;
  exited: Promise<number | string>;
  levels: Map<number, number>;
  /** warn and above, message → count. */
  notable: Map<string, number>;
  /** The first log line of each of those, as logged. */
  firstNotable: Map<string, string>;
  sawLine(msg: string): boolean;
}

function startDaemon(env: Record<string, string>): DaemonRun {
  const child = spawn(process.execPath, [join(repoRoot, 'dist', 'src', 'main.js'), '--listen', '127.0.0.1:0'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const levels = new Map<number, number>();
  const notable = new Map<string, number>();
  const firstNotable = new Map<string, string>();
  const msgs = new Set<string>();
  let resolvePort: (port: number) => void;
  let rejectPort: (err: Error) => void;
  const port = new Promise<number>((resolve, reject) => ((resolvePort = resolve), (rejectPort = reject)));
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const text of lines) {
      if (text.trim() === '') continue;
      let line: { level?: number; msg?: string; port?: number };
      try {
        line = JSON.parse(text) as typeof line;
      } catch {
        line = { level: 0, msg: text };
      }
      const level = line.level ?? 0;
      levels.set(level, (levels.get(level) ?? 0) + 1);
      const msg = line.msg ?? '';
      msgs.add(msg);
      if (level >= 40) {
        const key = `${level >= 50 ? 'ERROR' : 'warn'} ${msg}`;
        notable.set(key, (notable.get(key) ?? 0) + 1);
        if (!firstNotable.has(key)) firstNotable.set(key, text.slice(0, 600));
      }
      if (msg === 'hostvisord ready' && typeof line.port === 'number') resolvePort(line.port);
    }
  });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  const exited = new Promise<number | string>((resolve) =>
    child.on('exit', (code, signal) => {
      rejectPort(new Error(`daemon exited (${code ?? signal}) before it was ready: ${stderr.slice(-2000)}`));
      resolve(code ?? signal ?? -1);
    }),
  );
  return { child, port, exited, levels, notable, firstNotable, sawLine: (msg) => msgs.has(msg) };
}

/**
 * The least-squares line through (x, y) points, as a function of x. RSS growth is read along it:
 * the heap's GC cycles swing RSS by ±10 % within a minute, so the means of two 30 s windows
 * measure where in that swing each window fell more than any trend.
 */
function fittedLine(points: Array<[number, number]>): (x: number) => number {
  const n = points.length;
  let sx = 0;
  let sy = 0;
  let sxx = 0;
  let sxy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
    sxx += x * x;
    sxy += x * y;
  }
  const slope = (n * sxy - sx * sy) / (n * sxx - sx * sx);
  const intercept = (sy - slope * sx) / n;
  return (x) => intercept + slope * x;
}

function rssKiB(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

async function drive(): Promise<void> {
  const { values } = parseArgs({
    options: {
      minutes: { type: 'string', default: '10' },
      vms: { type: 'string', default: '1000' },
      connections: { type: 'string', default: '16' },
      rate: { type: 'string', default: '20' },
      'all-stats-every': { type: 'string', default: '5' },
      'pause-vms': { type: 'string', default: '8' },
      'sample-interval': { type: 'string', default: '2' },
      warmup: { type: 'string' },
      'shared-reply-to': { type: 'boolean', default: false },
      keep: { type: 'boolean', default: false },
    },
  });
  const minutes = Number(values.minutes);
  const vms = Number(values.vms);
  const connections = Number(values.connections);
  const rate = Number(values.rate);
  const soakMs = minutes * 60_000;
  const warmupMs = values.warmup !== undefined ? Number(values.warmup) * 1000 : Math.min(60_000, Math.max(30_000, soakMs / 10));
  const windowMs = 30_000;
  if (soakMs < warmupMs + 2 * windowMs) throw new Error(`--minutes ${minutes} is too short: the warm-up and two 30 s windows need ${(warmupMs + 2 * windowMs) / 60_000} min`);

  const dir = mkdtempSync(join(tmpdir(), 'hv-soak-'));
  const channelsDir = join(dir, 'channels');
  const host = writeTestHost({ dir, domains: vms, channelsDir });
  const t00 = performance.now();
  const clock = (): string => `${((performance.now() - t00) / 1000).toFixed(1).padStart(6)} s`;
  const say = (text: string): void => console.log(`[${clock()}] ${text}`);

  // statsd: the daemon's metrics land here.
  const statsd = createSocket('udp4');
  let datagrams = 0;
  const loopP99: Array<{ at: number; raw: number }> = [];
  const loopMax: Array<{ at: number; raw: number }> = [];
  statsd.on('message', (buf) => {
    datagrams++;
    const text = buf.toString('utf8');
    if (!text.includes('event_loop')) return;
    for (const line of text.split('\n')) {
      const m = /event_loop\.delay_(p99|max)_ms:([\d.]+)\|g/.exec(line);
      if (m) (m[1] === 'p99' ? loopP99 : loopMax).push({ at: performance.now(), raw: Number(m[2]) });
    }
  });
  await new Promise<void>((resolve) => statsd.bind(0, '127.0.0.1', resolve));
  const statsdPort = statsd.address().port;

  const env: Record<string, string> = {
    HOSTVISOR_LIBVIRT_URI: host.uri,
    HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: channelsDir,
    HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: values['sample-interval']!,
    HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: values['sample-interval']!,
    HOSTVISOR_METRICS_ENABLED: 'true',
    HOSTVISOR_METRICS_COLLECTOR_ADDRESS: `127.0.0.1:${statsdPort}`,
    HOSTVISOR_HEALTH_CHECK_INTERVAL: '5',
    HOSTVISOR_DAEMON_STOP_TIMEOUT: '30',
    HOSTVISOR_LOGGING_LEVEL: 'info',
  };

  const guests = fork(SELF, ['guests'], { stdio: 'inherit' });
  const guestStatus = async (): Promise<{ connected: number; reconnected: number; connections: number }> => {
    guests.send({ type: 'status' });
    return onMessage(guests, 'status') as unknown as Promise<{ connected: number; reconnected: number; connections: number }>;
  };
  guests.send({ type: 'start', paths: host.domains.map((d) => d.channels.ovirt) });
  await onMessage(guests, 'listening');
  say(`${vms} fake guests listening under ${channelsDir}; statsd on udp ${statsdPort}`);

  // --- phase 1: the soak -----------------------------------------------------------------------
  const d1 = startDaemon(env);
  const port = await d1.port;
  const pid = d1.child.pid!;
  say(`daemon pid ${pid} ready on port ${port}`);
  const tGuests = performance.now();
  for (;;) {
    const s = await guestStatus();
    if (s.connected === vms) break;
    if (performance.now() - tGuests > 120_000) throw new Error(`only ${s.connected} of ${vms} guest channels connected after 120 s`);
    await sleep(250);
  }
  const guestsConnectS = (performance.now() - tGuests) / 1000;
  say(`all ${vms} guest channels connected in ${guestsConnectS.toFixed(1)} s`);

  const engineOpts: EngineOptions = {
    port,
    connections,
    rate,
    allStatsEvery: Number(values['all-stats-every']),
    pauseVms: Number(values['pause-vms']),
    vmIds: host.domains.map((d) => d.uuid),
    maxInFlight: 256,
    sharedReplies: values['shared-reply-to'] === true,
  };
  const engine = fork(SELF, ['engine', JSON.stringify(engineOpts)], { stdio: 'inherit' });
  engine.on('message', (m: Msg) => m.type === 'log' && say(`engine: ${String(m['text'])}`));
  await onMessage(engine, 'ready');
  say(`${connections} engine connections subscribed to jms.queue.events; load for ${minutes} min (warm-up ${warmupMs / 1000} s)`);
  const tLoad = performance.now();
  engine.send({ type: 'go' });

  const rss: Array<{ at: number; kib: number }> = [];
  let lastProgress = 0;
  while (performance.now() - tLoad < soakMs) {
    await sleep(2000);
    const kib = rssKiB(pid);
    if (Number.isFinite(kib)) rss.push({ at: performance.now() - tLoad, kib });
    if (d1.child.exitCode !== null) throw new Error(`daemon exited during the soak: ${d1.child.exitCode}`);
    if (performance.now() - lastProgress > 30_000) {
      lastProgress = performance.now();
      engine.send({ type: 'progress' });
      const p = await onMessage(engine, 'progress');
      const last = loopP99.at(-1);
      say(`sent ${p['sent']}, in flight ${p['inFlight']}, rss ${Math.round(kib / 1024)} MB, loop p99 (raw) ${last ? last.raw.toFixed(1) : '-'} ms, datagrams ${datagrams}`);
    }
  }
  const soakEnd = performance.now();

  // --- phase 2: SIGTERM in the middle of the load ----------------------------------------------
  engine.send({ type: 'sigterm' });
  await onMessage(engine, 'sigterm-marked');
  const tTerm = performance.now();
  d1.child.kill('SIGTERM');
  const exit1 = await d1.exited;
  const stopS = (performance.now() - tTerm) / 1000;
  say(`daemon exited ${exit1} ${stopS.toFixed(2)} s after SIGTERM`);
  await sleep(500); // the engine's sockets see the close
  engine.send({ type: 'report' });
  const rep = (await onMessage(engine, 'report')) as unknown as ReturnType<typeof engineReport>;

  // --- phase 3: restart on the same host -------------------------------------------------------
  const d2 = startDaemon(env);
  const tRestart = performance.now();
  const port2 = await d2.port;
  const readyS = (performance.now() - tRestart) / 1000;
  const client = await JsonRpcClient.connect({ host: '127.0.0.1', port: port2, timeoutMs: 60_000 });
  const list = (await client.call('Host.getVMList')) as Array<{ vmId: string; status: string }>;
  const listed = new Set(list.map((v) => v.vmId));
  const recoveredVms = host.domains.filter((d) => listed.has(d.uuid)).length;
  const upVms = list.filter((v) => v.status === 'Up').length;
  say(`restarted daemon ready in ${readyS.toFixed(1)} s: Host.getVMList has ${list.length} VMs, ${recoveredVms} of the host's ${vms}, ${upVms} Up`);
  let withGuestData = 0;
  let reconnected = 0;
  const tChannels = performance.now();
  const pendingVms = new Set(host.domains.map((_, i) => i));
  while (performance.now() - tChannels < 120_000) {
    reconnected = (await guestStatus()).reconnected;
    const batch = [...pendingVms];
    for (let k = 0; k < batch.length; k += 100) {
      await Promise.all(
        batch.slice(k, k + 100).map(async (i) => {
          const [stats] = (await client.call('VM.getStats', { vmID: host.domains[i]!.uuid })) as Array<Record<string, unknown>>;
          if (stats?.['guestName'] === `guest-${i}`) pendingVms.delete(i);
        }),
      );
    }
    withGuestData = vms - pendingVms.size;
    if (withGuestData === vms && reconnected === vms) break;
    await sleep(1000);
  }
  const channelsS = (performance.now() - tChannels) / 1000;
  say(`after the restart: ${reconnected} of ${vms} guest channels reconnected, ${withGuestData} VMs with their guest's data in VM.getStats (${channelsS.toFixed(1)} s)`);
  await client.close();
  d2.child.kill('SIGTERM');
  const exit2 = await d2.exited;
  guests.send({ type: 'stop' });
  statsd.close();

  // --- figures ---------------------------------------------------------------------------------
  const loadMs = soakEnd - tLoad;
  const afterWarmup = (at: number): boolean => at - tLoad >= warmupMs && at <= soakEnd;
  const rssAfter = rss.filter((s) => s.at >= warmupMs);
  const base = rssAfter.filter((s) => s.at < warmupMs + windowMs).map((s) => s.kib);
  const end = rssAfter.filter((s) => s.at >= soakMs - windowMs).map((s) => s.kib);
  const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
  const rssBase = mean(base);
  const rssEnd = mean(end);
  const rssMax = Math.max(...rssAfter.map((s) => s.kib));
  const rssTrend = fittedLine(rssAfter.map((s) => [s.at, s.kib]));
  const rssFitStart = rssTrend(rssAfter[0]!.at);
  const rssFitEnd = rssTrend(rssAfter.at(-1)!.at);
  const rssGrowth = (rssFitEnd - rssFitStart) / rssFitStart;
  const p99s = loopP99.filter((s) => afterWarmup(s.at)).map((s) => s.raw);
  const maxes = loopMax.filter((s) => afterWarmup(s.at)).map((s) => s.raw);
  const rawMin = Math.min(...loopP99.map((s) => s.raw));
  const loopWorst = Math.max(...p99s);
  const errorCount = Object.values(rep.errors).reduce((a, b) => a + b, 0);
  const daemonErrors = [...d1.notable].filter(([k]) => k.startsWith('ERROR')).reduce((n, [, v]) => n + v, 0);

  console.log('\nper method (soak and stop; answered calls):');
  console.table(rep.perMethod);
  console.log('daemon warn/error log lines, first run:', Object.fromEntries(d1.notable));
  console.log('daemon warn/error log lines, restart:', Object.fromEntries(d2.notable));
  console.log('the first of each, first run:');
  for (const line of d1.firstNotable.values()) console.log(`  ${line}`);
  if (errorCount > 0) console.log('error answers:', rep.errors);
  if (rep.holes > 0) console.log('holes (read, never answered):', rep.holeSamples);

  const summary: Record<string, string | number> = {
    'load (min)': r2(loadMs / 60_000),
    'warm-up (s)': warmupMs / 1000,
    'VMs / fake guests': `${vms} / ${vms}`,
    'connections, cheap verbs per s each': `${connections}, ${rate}`,
    'reply-to': engineOpts.sharedReplies ? 'shared (jms.topic.vdsm_responses)' : 'one per connection',
    'requests sent': rep.sent,
    'requests/s (mean)': Math.round(rep.sent / (loadMs / 1000)),
    'answered exactly once': rep.answeredOnce,
    'duplicate answers': rep.duplicates,
    'unanswered 30 s after sending (soak)': rep.stuckAtMark,
    'answers with unknown ids': rep.unknownIds,
    'answers to other connections (shared reply-to)': rep.foreignAnswers,
    'connections closed before SIGTERM': rep.closedEarly,
    'requests lost with them': rep.lostEarly,
    'error answers': errorCount,
    'events received (VM_status)': `${rep.events} (${rep.vmStatusEvents})`,
    'pause/cont steps without their event in 15 s': rep.missingEvents,
    'sends skipped at the in-flight cap': rep.throttled,
    'statsd datagrams': datagrams,
    'daemon error log lines (run 1)': daemonErrors,
    'RSS after warm-up, first 30 s (MB)': r2(rssBase / 1024),
    'RSS last 30 s (MB)': r2(rssEnd / 1024),
    'RSS max after warm-up (MB)': r2(rssMax / 1024),
    'RSS trend after warm-up (MB)': `${r2(rssFitStart / 1024)} → ${r2(rssFitEnd / 1024)}`,
    'RSS growth (trend)': `${(rssGrowth * 100).toFixed(2)} %`,
    'loop delay p99, best interval (ms)': r2(rawMin),
    'loop delay p99, worst interval (ms)': r2(loopWorst),
    'loop delay p99, median interval (ms)': r2(pct(p99s, 50)),
    'loop delay max, worst interval (ms)': r2(Math.max(...maxes)),
    'SIGTERM: exit code / stop time (s)': `${exit1} / ${stopS.toFixed(2)}`,
    'SIGTERM: in flight or sent after the mark': rep.stopSent,
    'SIGTERM: answered': rep.stopAnswered,
    'SIGTERM: unanswered, connection closed': rep.stopUnansweredClosed,
    'SIGTERM: unanswered, connection still open': rep.stopUnansweredOpen,
    'SIGTERM: answers received after the signal': rep.answeredAfterSigterm,
    'SIGTERM: holes (read, not answered)': rep.holes,
    'SIGTERM: connections closed inside a frame (bytes)': `${rep.cutAnswers} (${rep.cutBytes})`,
    'restart: ready (s)': r2(readyS),
    'restart: VMs in Host.getVMList': `${recoveredVms} of ${vms} (${list.length} listed, ${upVms} Up)`,
    'restart: guest channels reconnected': `${reconnected} of ${vms}`,
    'restart: VMs with guest data (s)': `${withGuestData} of ${vms} (${channelsS.toFixed(1)})`,
    'restart: exit code on SIGTERM': String(exit2),
  };
  console.log('\nsummary:');
  console.table(summary);

  const criteria: Array<[string, boolean, string]> = [
    ['every request id answered exactly once', rep.duplicates === 0 && rep.unknownIds === 0 && rep.stuckAtMark === 0 && rep.lostEarly === 0 && rep.closedEarly === 0 && rep.holes === 0 && rep.stopUnansweredOpen === 0 && rep.answeredOnce + rep.stopUnansweredClosed === rep.sent, `${rep.answeredOnce} of ${rep.sent} once, ${rep.duplicates} twice or more, ${rep.unknownIds} unknown, ${rep.stuckAtMark} stuck, ${rep.lostEarly} lost with ${rep.closedEarly} connections closed early, ${rep.stopUnansweredClosed} unread at the stop`],
    ['no unexpected error', errorCount === 0 && rep.missingEvents === 0 && daemonErrors === 0, `${errorCount} error answers, ${rep.missingEvents} missing events, ${daemonErrors} daemon error lines`],
    ['RSS growth after warm-up < 5 %', rssGrowth < 0.05, `${(rssGrowth * 100).toFixed(2)} % along the trend (${r2(rssFitStart / 1024)} → ${r2(rssFitEnd / 1024)} MB; first/last 30 s ${r2(rssBase / 1024)} / ${r2(rssEnd / 1024)} MB)`],
    ['event-loop delay p99 < 20 ms', p99s.length > 0 && loopWorst < 20, `worst 5 s interval ${r2(loopWorst)} ms over ${p99s.length} intervals`],
    ['SIGTERM under load: read requests answered, exit 0', exit1 === 0 && rep.holes === 0 && rep.stopUnansweredOpen === 0 && rep.errorsAfterSigterm === 0 && rep.answeredAfterSigterm > 0 && !d1.sawLine('requests still unanswered at the drain deadline: closing') && d1.sawLine('stopped cleanly'), `exit ${exit1}, ${rep.answeredAfterSigterm} answered after the signal, ${rep.stopUnansweredClosed} closed unread, ${rep.holes} holes`],
    ['restart: every VM recovered', recoveredVms === vms, `${recoveredVms} of ${vms}`],
    ['restart: guest channels reconnected, data back', reconnected === vms && withGuestData === vms, `${reconnected} reconnected, ${withGuestData} with data`],
  ];
  console.log('\ncriteria:');
  for (const [name, ok, detail] of criteria) console.log(`  ${ok ? 'PASS' : 'FAIL'}  ${name}: ${detail}`);
  const allOk = criteria.every(([, ok]) => ok);
  console.log(allOk ? '\nPASS' : '\nFAIL');
  if (!values.keep) rmSync(dir, { recursive: true, force: true });
  await sleep(300);
  process.exit(allOk ? 0 : 1);
}

const role = process.argv[2];
if (role === 'guests') await runGuests();
else if (role === 'engine') await runEngine();
else await drive();
