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
import { fork, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { getHeapSpaceStatistics } from 'node:v8';
import { JsonRpcClient } from '../src/client/jsonrpc-client.js';
import { loadConfig } from '../src/config/load.js';
import { getLogger, setLogLevel } from '../src/log.js';
import { repoRoot } from '../src/paths.js';
import { buildDaemon } from '../src/daemon/build.js';
import { BlockingLibvirt } from '../src/virt/libvirt/blocking.js';
import { writeTestHost } from '../test/doubles/testhost.js';

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

/**
 * Where the process's memory is at one moment, from the kernel's and V8's books: V8's heap spaces
 * of the main thread, the anonymous/file split of RSS, and the number of threads. Printed at the
 * end so a change in RSS can be told apart from a change in one heap (worker threads' heaps, glibc
 * arenas and libvirt are in RssAnon but not in the main heap).
 */
function memoryDetail(): string {
  const status = readFileSync('/proc/self/status', 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+)`, 'm').exec(status)?.[1] ?? NaN);
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  const spaces = getHeapSpaceStatistics()
    .filter((s) => s.space_size > 0)
    .map((s) => `${s.space_name.replace(/_space$/, '')} ${mb(s.space_size)}/${mb(s.space_used_size)}`)
    .join(', ');
  return (
    `RssAnon ${Math.round(kb('RssAnon') / 1024)} MB, RssFile ${Math.round(kb('RssFile') / 1024)} MB, ` +
    `threads ${readdirSync('/proc/self/task').length}; main heap spaces MB (size/used): ${spaces}`
  );
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
  const dir = mkdtempSync(join(tmpdir(), 'hostvisor-bench-'));
  const host = writeTestHost({ dir, domains: Number(values.vms) });
  setLogLevel('warn');
  // The test driver's share: what opening the host costs before any of the daemon exists. Opened
  // here on the main thread, blocking (a harness may): opened on libuv's pool instead, the driver's
  // thousand domains land in another malloc arena and the RSS of every phase reads ~20 MB higher
  // for the same daemon, so figures from before and after such a change would not compare.
  const rssBefore = process.memoryUsage().rss;
  new BlockingLibvirt(host.uri).open();
  const driverBytes = process.memoryUsage().rss - rssBefore;
  const { config } = loadConfig({
    flags: {
      'libvirt.uri': host.uri,
      'addresses.management_port': '0',
      // The generated channels are there (no agent listens): the daemon's usual retries, not refusals.
      'guest_agent.channels_dir': dir,
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

  const details: string[] = [];
  const phase = async (name: string, durationS: number, withClient: boolean): Promise<PhaseReport> => {
    const child = withClient ? fork(process.argv[1]!, ['--client', String(port)], { stdio: 'inherit' }) : undefined;
    const loop = monitorEventLoopDelay({ resolution: 1 });
    const cycles: number[] = [];
    let seen = daemon.lastVmCycle()?.sampledAt;
    let rss = 0;
    let peakDetail = '';
    loop.enable();
    const end = Date.now() + durationS * 1000;
    while (Date.now() < end) {
      await new Promise((r) => setTimeout(r, 100));
      const last = daemon.lastVmCycle();
      if (last && last.sampledAt !== seen) {
        seen = last.sampledAt;
        cycles.push(last.elapsedMs);
      }
      const now = process.memoryUsage().rss;
      if (now > rss) {
        rss = now;
        peakDetail = memoryDetail();
      }
    }
    loop.disable();
    details.push(`${name}, at its RSS peak: ${peakDetail}`);
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
  const detail = memoryDetail();
  await daemon.lifecycle.stop(10_000);
  console.table([idle, loaded]);
  const mb = (n: number): number => Math.round(n / 2 ** 20);
  for (const line of details) console.log(line);
  console.log(`at the end: ${detail}`);
  console.log(`memory at the end: rss ${mb(mem.rss)} MB = main heap ${mb(mem.heapTotal)} MB + external ${mb(mem.external)} MB + the rest (worker threads' heaps, code, libvirt)`);
  console.log(
    `goals: cycle < 1000 ms (${loaded.cycleMaxMs <= 1000 ? 'met' : 'MISSED'}), ` +
      `event-loop p99 < 10 ms (${loaded.loopP99Ms < 10 ? 'met' : 'MISSED'}), ` +
      `RSS < 250 MB (${loaded.rssLessDriverMB < 250 ? 'met' : 'MISSED'} without the in-process test driver's ${Math.round(driverBytes / 2 ** 20)} MB; ${loaded.rssMB} MB with it); ` +
      `loop p99 with the client / without: ${(loaded.loopP99Ms / idle.loopP99Ms).toFixed(2)}x`,
  );
  process.exit(0);
}

/**
 * The daemon as shipped runs under the unit's Environment= lines (malloc arenas, V8 heap flags),
 * which only take effect when the process starts: the benchmark runs itself again under them, so
 * it measures what systemd starts. Returns the child's exit code, or null when already under them.
 */
function asShipped(): number | null {
  if (process.env['HOSTVISOR_BENCH_AS_SHIPPED'] === '1') return null;
  const unit = readFileSync(join(repoRoot, 'systemd', 'hostvisord.service'), 'utf8');
  const env: Record<string, string> = {};
  for (const [, name, value] of unit.matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(.*)$/gm)) env[name!] = value!;
  console.log(`as shipped: ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ') || '(no Environment= in the unit)'}`);
  const run = spawnSync(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, ...env, HOSTVISOR_BENCH_AS_SHIPPED: '1' },
  });
  return run.status ?? 1;
}

const at = process.argv.indexOf('--client');
if (at >= 0) await client(Number(process.argv[at + 1]));
else {
  const code = asShipped();
  if (code === null) await main();
  else process.exit(code);
}
