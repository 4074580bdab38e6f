/**
 * Host.getCapabilities and Host.getStats answered from memory while 1000 VMs are sampled every
 * second, against Host.ping2 in the same run: the daemon in this process, a client in a child
 * process calling the three verbs in turn over STOMP, one call in flight, so each verb sees the same
 * load. Reported per verb: p50 and p99 latency and the ratio to ping2's (goal: within 2x). Then the
 * cost of one full capabilities refresh (what the worker does: host files, dpkg, libvirt), timed
 * in this process.
 *
 *   npm run bench:host-verbs [-- --seconds 30 --vms 1000]
 */
import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { JsonRpcClient } from '../src/client/jsonrpc-client.js';
import { loadConfig } from '../src/config/load.js';
import { buildDaemon } from '../src/daemon/build.js';
import { getLogger, setLogLevel } from '../src/log.js';
import { gatherCapabilityFacts, hostFilesAt, readLibvirtSources } from '../src/virt/host/caps/index.js';
import { BlockingLibvirt } from '../src/virt/libvirt/blocking.js';
import { writeTestHost } from '../test/doubles/testhost.js';

const VERBS = ['Host.ping2', 'Host.getCapabilities', 'Host.getStats'] as const;

const pct = (xs: readonly number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const round = (ms: number): number => Math.round(ms * 1000) / 1000;

/** Child process: calls the verbs in turn for `seconds`, then sends each verb's latencies (ms). */
async function client(port: number, seconds: number): Promise<void> {
  const c = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
  const times: Record<string, number[]> = Object.fromEntries(VERBS.map((v) => [v, []]));
  const end = Date.now() + seconds * 1000;
  while (Date.now() < end) {
    for (const verb of VERBS) {
      const t0 = performance.now();
      await c.call(verb);
      times[verb]!.push(performance.now() - t0);
    }
  }
  await c.close();
  // Exit once the message is out: a large one is still being written when send() returns.
  process.send!(times, () => process.exit(0));
}

/** One capabilities refresh as the worker does it, timed here (blocking is fine in a bench). */
function refreshCost(uri: string, rounds: number): number[] {
  const connection = new BlockingLibvirt(uri);
  const files = hostFilesAt();
  const out: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    gatherCapabilityFacts(files, readLibvirtSources(connection), { agent: { version: '0', release: '0' } });
    out.push(performance.now() - t0);
  }
  connection.close();
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { seconds: { type: 'string', default: '30' }, vms: { type: 'string', default: '1000' } } });
  const seconds = Number(values.seconds);
  const dir = mkdtempSync(join(tmpdir(), 'hostvisor-bench-'));
  const host = writeTestHost({ dir, domains: Number(values.vms) });
  setLogLevel('warn');
  const { config } = loadConfig({
    flags: {
      'libvirt.uri': host.uri,
      'addresses.management_port': '0',
      'guest_agent.channels_dir': dir,
      'vars.vm_sample_interval': '1',
      'vars.host_sample_stats_interval': '1',
      'metrics.enabled': 'false',
      'logging.level': 'warn',
    },
  });
  const daemon = buildDaemon(config, getLogger('bench'));
  await daemon.lifecycle.start();
  // Two sampling cycles first, so the stats hold rates and the caches are warm.
  await new Promise((r) => setTimeout(r, 3000));

  const child = fork(process.argv[1]!, ['--client', String(daemon.port()), String(seconds)], { stdio: 'inherit' });
  const times = await new Promise<Record<string, number[]>>((resolve) => child.once('message', resolve));
  const sampled = daemon.lastVmCycle();
  await daemon.lifecycle.stop(10_000);

  const ping = pct(times['Host.ping2']!, 50);
  const pingP99 = pct(times['Host.ping2']!, 99);
  const rows = VERBS.map((verb) => {
    const xs = times[verb]!;
    return {
      verb,
      calls: xs.length,
      p50Ms: round(pct(xs, 50)),
      p99Ms: round(pct(xs, 99)),
      'p50 / ping2': round(pct(xs, 50) / ping),
      'p99 / ping2': round(pct(xs, 99) / pingP99),
    };
  });
  console.log(`${values.vms} VMs sampled every second (last cycle ${Math.round(sampled?.elapsedMs ?? NaN)} ms), one call in flight, ${seconds} s`);
  console.table(rows);
  const refresh = refreshCost(host.uri, 5);
  console.log(`one full capabilities refresh (host files, dpkg, libvirt), 5 rounds: p50 ${round(pct(refresh, 50))} ms, max ${round(Math.max(...refresh))} ms`);
  const worst = Math.max(...rows.slice(1).map((r) => r['p50 / ping2']));
  console.log(`goal: getCapabilities and getStats within 2x of ping2 (p50): ${worst <= 2 ? 'met' : 'MISSED'} (${worst}x)`);
  process.exit(0);
}

const at = process.argv.indexOf('--client');
if (at >= 0) await client(Number(process.argv[at + 1]), Number(process.argv[at + 2]));
else await main();
