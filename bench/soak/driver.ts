/** The driver: starts the daemon, the guests and the engine, samples the daemon, judges the run. */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { repoRoot } from '../../src/paths.js';
import { writeTestHost } from '../../test/doubles/testhost.js';
import { type Msg, sleep, onMessage, pct, r2 } from './common.js';
import type { engineReport, EngineOptions } from './engine.js';

/** The soak's entry, which every process of it runs (with a role for the children). */
const MAIN = fileURLToPath(new URL('./main.js', import.meta.url));

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

export async function drive(): Promise<void> {
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

  const guests = fork(MAIN, ['guests'], { stdio: 'inherit' });
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
  const engine = fork(MAIN, ['engine', JSON.stringify(engineOpts)], { stdio: 'inherit' });
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
