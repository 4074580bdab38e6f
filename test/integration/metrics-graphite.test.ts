/**
 * The metrics through a real Etsy statsd (the npm package `statsd`, started here as a child process)
 * with its graphite backend pointed at a TCP line receiver in the test: the figures arrive in
 * graphite's plaintext protocol under the expected paths (statsd puts gauges under stats.gauges.).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import { MetricBatch } from '../../src/metrics/batch.js';
import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { HealthMonitor } from '../../src/metrics/health-monitor.js';
import { hostMetrics } from '../../src/metrics/host-metrics.js';
import { MetricsHub } from '../../src/metrics/hub.js';
import { StatsdSink } from '../../src/metrics/statsd.js';
import { vmMetrics } from '../../src/metrics/vm-metrics.js';
import { graphiteReceiver, unusedTcpPort, unusedUdpPort, waitUntil, type LineReceiver } from './metrics-harness.js';

const statsdMain = join(dirname(createRequire(import.meta.url).resolve('statsd/package.json')), 'stats.js');
let dir: string;
let graphite: LineReceiver;
let statsd: ChildProcess;
let statsdPort: number;
let output = '';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hostvisor-statsd-'));
  graphite = await graphiteReceiver();
  statsdPort = await unusedUdpPort();
  const config = {
    address: '127.0.0.1',
    port: statsdPort,
    mgmt_address: '127.0.0.1',
    mgmt_port: await unusedTcpPort(),
    backends: ['./backends/graphite'],
    graphiteHost: '127.0.0.1',
    graphitePort: graphite.port,
    flushInterval: 200,
    automaticConfigReload: false,
  };
  const file = join(dir, 'statsd-config.js');
  writeFileSync(file, JSON.stringify(config));
  statsd = spawn(process.execPath, [statsdMain, file], { cwd: dirname(statsdMain), stdio: ['ignore', 'pipe', 'pipe'] });
  statsd.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  statsd.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitUntil(() => output.includes('server is up') || statsd.exitCode !== null, 10_000);
  if (statsd.exitCode !== null) throw new Error(`statsd exited: ${output}`);
});

afterAll(async () => {
  if (statsd && statsd.exitCode === null) {
    const exited = new Promise((r) => statsd.once('exit', r));
    statsd.kill('SIGTERM');
    await exited;
  }
  await graphite?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('metrics through Etsy statsd to graphite', () => {
  it('arrive in graphite plaintext under stats.gauges.<vdsm name>', async () => {
    const sink = new StatsdSink({ address: `localhost:${statsdPort}`, maxDatagram: 1432, log: getLogger('statsd') });
    const hub = new MetricsHub({ statsd: sink, log: getLogger('metrics') });
    const daemon = new DaemonMetrics({ executors: [] });
    daemon.countConnections(() => 3);
    daemon.onCall('Host.getStats', 12, undefined);
    const health = new HealthMonitor({ intervalSeconds: 3600, hub, daemon, log: getLogger('health') });
    health.start();
    await sink.start();

    hub.publish(
      'host',
      hostMetrics({ cpuUser: '12.50', memFree: 2048, vmCount: 2, network: { 'eth0.100': { rx: '1000', speed: '1000' } } }),
    );
    hub.publish(
      'vms',
      vmMetrics({
        vmId: 'u1', status: 'Up', statusTime: '1', vmName: 'web.prod', cpuUser: '7.25', cpuSys: '0.50', cpuUsage: '1000',
        balloonInfo: { balloon_max: '1048576', balloon_min: '0', balloon_cur: '524288', balloon_target: '1048576' },
      }, new MetricBatch()),
    );
    await health.check();
    await health.stop();

    const expected: Record<string, string> = {
      'stats.gauges.hosts.cpu.user': '12.5',
      'stats.gauges.hosts.memory.free_mb': '2048',
      'stats.gauges.hosts.vms.total': '2',
      'stats.gauges.hosts.nic.eth0_100.rx': '1000',
      'stats.gauges.vms.web_prod.cpu.user': '7.25',
      'stats.gauges.vms.web_prod.cpu.sys': '0.5',
      'stats.gauges.vms.web_prod.balloon.cur': '524288',
      'stats.gauges.hosts.vdsm.connections': '3',
      'stats.gauges.hosts.vdsm.rpc.Host_getStats.calls': '1',
      'stats.gauges.hosts.vdsm.rpc.Host_getStats.max_ms': '12',
    };
    await graphite.until(() => Object.keys(expected).every((p) => graphite.paths.has(p)) && graphite.paths.has('stats.gauges.hosts.vdsm.threads_count'));
    for (const [path, value] of Object.entries(expected)) expect([path, graphite.paths.get(path)?.[0]]).toEqual([path, value]);
    expect(Number(graphite.paths.get('stats.gauges.hosts.vdsm.threads_count')![0])).toBeGreaterThan(1);
    expect(Number(graphite.paths.get('stats.gauges.hosts.vdsm.memory.rss')![0])).toBeGreaterThan(1000);
    expect(graphite.paths.has('stats.gauges.hosts.vdsm.cpu.user_pct')).toBe(true);
    expect(graphite.paths.has('stats.gauges.hosts.vdsm.cpu.sys_pct')).toBe(true);
    // Graphite's timestamps are seconds since the epoch.
    const ts = Number(graphite.paths.get('stats.gauges.hosts.cpu.user')![1]);
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(60);
    // statsd saw packed datagrams, and no bad lines.
    expect(output).not.toMatch(/Bad line/);
    expect(graphite.paths.get('stats_counts.statsd.bad_lines_seen')?.[0]).toBe('0');
  });
});
