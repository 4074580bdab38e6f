/** The engine's process: raw STOMP connections doing a mix of verbs, every answer counted by id. */
import * as net from 'node:net';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import type { Frame } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';
import { type Msg, sleep, onMessage, pct, r2 } from './common.js';

export interface EngineOptions {
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

export async function runEngine(): Promise<void> {
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

export function engineReport(conns: EngineConnection[], soakEndSeq: number[], sigtermAt: number, missingEvents: number) {
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
