/**
 * VM sampling at scale: a generated host of 1000 VMs sampled every second, the daemon in this
 * process, a client in a child process looping Host.getAllVmStats over STOMP. Two phases in one
 * run: sampling alone (the baseline), then sampling with the client. Reported per phase: the wall
 * time of a VM cycle (p50/max), the main thread's event-loop delay (p50/p99/max), RSS.
 * Goals: a cycle under 1 s, event-loop p99 under 10 ms, RSS under 250 MB. libvirt's test driver
 * keeps its 1000 domains inside this process (on a real host they live in libvirtd), so its own
 * footprint is measured first and reported apart.
 *
 *   npm run bench:sampling [-- --seconds 60 --vms 1000]
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { JsonRpcClient } from '../src/client/jsonrpc-client.js';
import { loadConfig } from '../src/config/load.js';
import { getLogger, setLogLevel } from '../src/log.js';
import { buildDaemon } from '../src/supervisor.js';
import { LibvirtConnection } from '../src/virt/libvirt/index.js';
import { writeTestHost } from '../src/virt/libvirt/testhost.js';

interface PhaseReport {
  phase: string;
  cycles: number;
  cycleP50Ms: number;
  cycleMaxMs: number;
  loopP50Ms: number;
  loopP99Ms: number;
  loopMaxMs: number;
  rssMB: number;
  rssLessDriverMB: number;
  clientCalls?: number;
}

const ms = (ns: number): number => Math.round(ns / 1e4) / 100;
const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};

/** Child process: loops Host.getAllVmStats until told to stop, then reports its count. */
async function client(port: number): Promise<void> {
  const c = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
  let calls = 0;
  let running = true;
  process.on('message', () => (running = false));
  while (running) {
    const all = (await c.call('Host.getAllVmStats')) as unknown[];
    if (all.length === 0) throw new Error('no VMs');
    calls++;
  }
  await c.close();
  process.send!({ calls });
  process.exit(0);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '60' }, vms: { type: 'string', default: '1000' } } });
  const seconds = Number(values.seconds);
  const host = writeTestHost({ dir: mkdtempSync(join(tmpdir(), 'hostvisor-bench-')), domains: Number(values.vms) });
  setLogLevel('warn');
  // The test driver's share: what opening the host costs before any of the daemon exists.
  const rssBefore = process.memoryUsage().rss;
  new LibvirtConnection(host.uri).open();
  const driverBytes = process.memoryUsage().rss - rssBefore;
  const { config } = loadConfig({
    flags: {
      'libvirt.uri': host.uri,
      'addresses.management_port': '0',
      'vars.vm_sample_interval': '1',
      'vars.host_sample_stats_interval': '1',
      'metrics.enabled': 'false',
      'logging.level': 'warn',
    },
  });
  const daemon = buildDaemon(config, getLogger('bench'));
  await daemon.lifecycle.start();
  const port = daemon.port()!;
  // Warm-up: two cycles so the cache holds rates.
  await new Promise((r) => setTimeout(r, 3000));

  const phase = async (name: string, durationS: number, withClient: boolean): Promise<PhaseReport> => {
    const child = withClient ? fork(process.argv[1]!, ['--client', String(port)], { stdio: 'inherit' }) : undefined;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const cycles: number[] = [];
    let seen = daemon.lastVmCycle()?.sampledAt;
    let rss = 0;
    loop.enable();
    const end = Date.now() + durationS * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      const last = daemon.lastVmCycle();
      if (last && last.sampledAt !== seen) {
        seen = last.sampledAt;
        cycles.push(last.elapsedMs);
      }
      rss = Math.max(rss, process.memoryUsage().rss);
    }
    loop.disable();
    let clientCalls: number | undefined;
    if (child) {
      clientCalls = await new Promise<number>((resolve) => {
        child.once('message', (m: { calls: number }) => resolve(m.calls));
        child.send('stop');
      });
    }
    return {
      phase: name,
      cycles: cycles.length,
      cycleP50Ms: Math.round(pct(cycles, 50)),
      cycleMaxMs: Math.round(Math.max(...cycles)),
      loopP50Ms: ms(loop.percentile(50)),
      loopP99Ms: ms(loop.percentile(99)),
      loopMaxMs: ms(loop.max),
      rssMB: Math.round(rss / 2 ** 20),
      rssLessDriverMB: Math.round((rss - driverBytes) / 2 ** 20),
      ...(clientCalls !== undefined ? { clientCalls } : {}),
    };
  };

  const idle = await phase('sampling only', Math.max(10, seconds / 3), false);
  const loaded = await phase('sampling + client looping Host.getAllVmStats', seconds, true);
  const mem = process.memoryUsage();
  await daemon.lifecycle.stop(10_000);
  console.table([idle, loaded]);
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  console.log(`memory at the end: rss ${mb(mem.rss)} MB = main heap ${mb(mem.heapTotal)} MB + external ${mb(mem.external)} MB + the rest (worker threads' heaps, code, libvirt)`);
  console.log(
    `goals: cycle < 1000 ms (${loaded.cycleMaxMs <= 1000 ? 'met' : 'MISSED'}), ` +
      `event-loop p99 < 10 ms (${loaded.loopP99Ms < 10 ? 'met' : 'MISSED'}), ` +
      `RSS < 250 MB (${loaded.rssLessDriverMB < 250 ? 'met' : 'MISSED'} without the in-process test driver's ${Math.round(driverBytes / 2 ** 20)} MB; ${loaded.rssMB} MB with it); ` +
      `loop p99 with the client / without: ${(loaded.loopP99Ms / idle.loopP99Ms).toFixed(2)}x`,
  );
  process.exit(0);
}

const at = process.argv.indexOf('--client');
if (at >= 0) await client(Number(process.argv[at + 1]));
else await main();
