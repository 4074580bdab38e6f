import { describe, expect, it } from 'vitest';
import type { ExecutorState } from '../../src/concurrency/executor.js';
import type { TaskSpec } from '../../src/concurrency/task.js';
import { loadConfig } from '../../src/config/load.js';
import { createMetrics } from '../../src/metrics/index.js';
import { MetricBatch } from '../../src/metrics/batch.js';
import { DaemonMetrics } from '../../src/metrics/daemon-metrics.js';
import { HealthMonitor } from '../../src/metrics/health-monitor.js';
import { MetricsHub } from '../../src/metrics/hub.js';
import { DAEMON, HEALTH, VM } from '../../src/metrics/names.js';
import { threadsFromStat } from '../../src/metrics/process-stats.js';
import { PrometheusExport } from '../../src/metrics/prometheus.js';
import { StatsdSink } from '../../src/metrics/statsd.js';
import { LegacyXmlRpc } from '../../src/api/xmlrpc-legacy.js';
import { JsonRpcEngine } from '../../src/rpc/engine.js';
import { GeneralException } from '../../src/rpc/errors.js';
import type { Method, MethodTable } from '../../src/rpc/method-table.js';
import { udpCollector } from '../integration/metrics-harness.js';
import { captureLogger } from '../fixtures/concurrency.js';

function executorState(name: string, extra: Partial<ExecutorState> = {}): ExecutorState {
  return {
    name, running: true, workersCount: 4, maxWorkers: 30, maxTasks: 400, active: 4, discarded: 1, total: 5, idle: 1,
    queued: 7, starting: 0, threads: 5, workers: [],
    counters: { dispatched: 100, rejected: 3, completed: 90, failed: 2, timedOut: 1, late: 0, dropped: 0, blocked: 0 },
    ...extra,
  };
}

describe('Prometheus export', () => {
  it('serves the newest report of each source with labels; a VM gone from the report is gone', async () => {
    const prom = new PrometheusExport();
    const first = new MetricBatch();
    first.add(VM.cpuUser, '12.50', ['web.prod']);
    first.add(VM.cpuUser, 3, ['db']);
    first.add(VM.diskReadOps, 42, ['db', 'vda']);
    prom.update('vms', first);
    const health = new MetricBatch();
    health.add(DAEMON.rpcCalls, 5, ['Host.getStats']);
    prom.update('health', health);
    let text = await prom.registry.metrics();
    expect(text).toContain('hostvisor_vm_cpu_user_percent{vm="web.prod"} 12.5');
    expect(text).toContain('hostvisor_vm_cpu_user_percent{vm="db"} 3');
    expect(text).toContain('hostvisor_vm_disk_read_ops{vm="db",drive="vda"} 42');
    expect(text).toContain('# TYPE hostvisor_rpc_calls_total counter');
    expect(text).toContain('hostvisor_rpc_calls_total{method="Host.getStats"} 5');

    const second = new MetricBatch();
    second.add(VM.cpuUser, 1, ['db']);
    prom.update('vms', second);
    text = await prom.registry.metrics();
    expect(text).not.toContain('web.prod');
    expect(text).toContain('hostvisor_vm_cpu_user_percent{vm="db"} 1');
    expect(text).toContain('hostvisor_rpc_calls_total{method="Host.getStats"} 5');
  });
});

describe('daemon metrics', () => {
  const methods: Method[] = [
    { name: 'Test.ok', params: [], handler: () => true },
    { name: 'Test.slow', params: [], handler: () => new Promise((r) => setTimeout(() => r(1), 30)) },
    { name: 'Test.fail', params: [], handler: () => { throw new GeneralException('no'); } },
  ];
  const table: MethodTable = { get: (name) => methods.find((m) => m.name === name) };

  it('reports an idle event loop as next to no delay, not as its sampling resolution', async () => {
    const daemon = new DaemonMetrics({ executors: [], loopResolutionMs: 20 });
    daemon.start();
    await new Promise((r) => setTimeout(r, 300));
    const delay = daemon.eventLoopDelay()!;
    daemon.stop();
    expect(delay.p99Ms).toBeGreaterThanOrEqual(0);
    expect(delay.p99Ms).toBeLessThan(15); // 20 ms and over before the resolution was taken off
  });

  it('counts JSON-RPC calls, errors and time per method through the engine hook; unknown methods are not labels', async () => {
    const daemon = new DaemonMetrics({ executors: [] });
    const engine = new JsonRpcEngine(table, { log: captureLogger().logger, onCall: daemon.onCall });
    const call = (method: string, id: number | null = 1) => engine.handle(JSON.stringify({ jsonrpc: '2.0', method, id }));
    await call('Test.ok');
    await call('Test.ok', null); // a notification is a call too
    await call('Test.slow');
    await call('Test.fail');
    await call('No.such');
    const batch = new MetricBatch();
    daemon.collect(batch);
    expect(batch.get(DAEMON.rpcCalls, ['Test.ok'])).toBe(2);
    expect(batch.get(DAEMON.rpcErrors, ['Test.ok'])).toBe(0);
    expect(batch.get(DAEMON.rpcCalls, ['Test.fail'])).toBe(1);
    expect(batch.get(DAEMON.rpcErrors, ['Test.fail'])).toBe(1);
    expect(batch.get(DAEMON.rpcMax, ['Test.slow'])).toBeGreaterThanOrEqual(25);
    expect(batch.get(DAEMON.rpcSeconds, ['Test.slow'])).toBeGreaterThanOrEqual(0.025);
    expect(batch.get(DAEMON.rpcCalls, ['No.such'])).toBeUndefined();
    daemon.rollover();
    const after = new MetricBatch();
    daemon.collect(after);
    expect(after.get(DAEMON.rpcMax, ['Test.slow'])).toBe(0);
    expect(after.get(DAEMON.rpcCalls, ['Test.slow'])).toBe(1);
  });

  it('counts XML-RPC calls too, legacy verbs under the method they call, through the same engine', async () => {
    const daemon = new DaemonMetrics({ executors: [] });
    const engine = new JsonRpcEngine(table, { log: captureLogger().logger, onCall: daemon.onCall });
    const xmlrpc = new LegacyXmlRpc(engine);
    const ctx = { peer: '192.0.2.7:4000', remoteAddress: '192.0.2.7', flowId: undefined };
    expect(await xmlrpc.call('Test.ok', [], ctx)).toEqual({ status: { code: 0, message: 'Done' } });
    expect((await xmlrpc.call('Test.fail', [], ctx))['status']).toMatchObject({ code: 100 });
    expect((await xmlrpc.call('No.such', [], ctx))['status']).toMatchObject({ code: -32601 });
    const batch = new MetricBatch();
    daemon.collect(batch);
    expect(batch.get(DAEMON.rpcCalls, ['Test.ok'])).toBe(1);
    expect(batch.get(DAEMON.rpcCalls, ['Test.fail'])).toBe(1);
    expect(batch.get(DAEMON.rpcErrors, ['Test.fail'])).toBe(1);
    expect(batch.get(DAEMON.rpcCalls, ['No.such'])).toBeUndefined();
  });

  it('an observer that throws does not change the answer', async () => {
    const engine = new JsonRpcEngine(table, { log: captureLogger().logger, onCall: () => { throw new Error('bug'); } });
    const reply = await engine.handle('{"jsonrpc":"2.0","method":"Test.ok","id":3}');
    expect(reply?.json).toBe('{"jsonrpc":"2.0","id":3,"result":true}');
  });

  it('reports executor state and task durations through a timed dispatcher', async () => {
    let settle!: (v: string) => void;
    const executor = {
      name: 'rpc',
      state: () => executorState('rpc'),
      dispatch<R>(_task: TaskSpec): Promise<R> {
        return new Promise<R>((resolve) => {
          settle = resolve as unknown as (v: string) => void;
        });
      },
      toString: () => '<Executor rpc>',
    };
    const daemon = new DaemonMetrics({ executors: [executor] });
    daemon.countConnections(() => 4);
    const timed = daemon.timed(executor);
    expect(String(timed)).toBe('<Executor rpc>');
    const result = timed.dispatch<string>({ name: 't', filename: 'x' });
    await new Promise((r) => setTimeout(r, 20));
    settle('done');
    expect(await result).toBe('done');
    const batch = new MetricBatch();
    daemon.collect(batch);
    const rpc = ['rpc'];
    expect(batch.get(DAEMON.queued, rpc)).toBe(7);
    expect(batch.get(DAEMON.active, rpc)).toBe(4);
    expect(batch.get(DAEMON.busy, rpc)).toBe(3);
    expect(batch.get(DAEMON.discarded, rpc)).toBe(1);
    expect(batch.get(DAEMON.rejected, rpc)).toBe(3);
    expect(batch.get(DAEMON.timedOut, rpc)).toBe(1);
    expect(batch.get(DAEMON.tasks, rpc)).toBe(1);
    expect(batch.get(DAEMON.taskMax, rpc)).toBeGreaterThanOrEqual(15);
    expect(batch.get(DAEMON.connections)).toBe(4);
  });

  it('reads the thread count from /proc/<pid>/stat, whatever the command name holds', () => {
    const stat = '1234 (node (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 50 20 0 0 20 0 11 0 100 1000000 2000 18446744073709551615';
    expect(threadsFromStat(stat)).toBe(11);
  });
});

describe('health monitor', () => {
  it('every check_interval sends vdsm\'s health gauges and the daemon figures, logs a line, and stop flushes', async () => {
    const collector = await udpCollector();
    const { logger: log, lines } = captureLogger();
    const statsd = new StatsdSink({ address: `127.0.0.1:${collector.port}`, maxDatagram: 1432, log });
    const prometheus = new PrometheusExport();
    const hub = new MetricsHub({ statsd, prometheus, log });
    const daemon = new DaemonMetrics({ executors: [{ name: 'periodic', state: () => executorState('periodic') }], });
    daemon.countConnections(() => 2);
    const monitor = new HealthMonitor({ intervalSeconds: 0.1, hub, daemon, log });
    monitor.start();
    // Busy the loop a little so there is CPU and delay to report.
    const end = Date.now() + 30;
    while (Date.now() < end);
    await collector.until(() => collector.gauges().has('hosts.vdsm.threads_count'));
    await monitor.stop();
    const gauges = collector.gauges();
    expect(Number(gauges.get('hosts.vdsm.cpu.user_pct'))).toBeGreaterThanOrEqual(0);
    expect(Number(gauges.get('hosts.vdsm.cpu.sys_pct'))).toBeGreaterThanOrEqual(0);
    const rss = Number(gauges.get('hosts.vdsm.memory.rss'));
    expect(rss).toBeGreaterThan(10_000); // KiB, as vdsm
    expect(rss).toBeLessThan(10_000_000);
    expect(Number(gauges.get('hosts.vdsm.threads_count'))).toBeGreaterThan(1);
    expect(gauges.get('hosts.vdsm.executor.periodic.queued')).toBe('7');
    expect(gauges.get('hosts.vdsm.executor.periodic.discarded')).toBe('1');
    expect(gauges.get('hosts.vdsm.connections')).toBe('2');
    // Each report covers the time since the previous one: on a busy machine a later, quiet report
    // can follow the one that saw the busy loop. The 30 ms busy loop right after start() is counted
    // (less the 20 ms sampling resolution): not a timer's jitter.
    const loopMax = collector.lines().filter((l) => l.startsWith('hosts.vdsm.event_loop.delay_max_ms:')).map((l) => Number(l.split(/[:|]/)[1]));
    expect(Math.max(...loopMax)).toBeGreaterThanOrEqual(5);
    expect(monitor.checks).toBeGreaterThanOrEqual(1);
    const logged = lines.find((l) => typeof l['msg'] === 'string' && (l['msg'] as string).startsWith('user='));
    expect(logged?.['executors']).toEqual([{ name: 'periodic', queued: 7, active: 4, busy: 3, discarded: 1, threads: 5, rejected: 3, timedOut: 1 }]);
    const text = await prometheus.registry.metrics();
    expect(text).toMatch(/hostvisor_process_threads \d+/);
    expect(HEALTH.rss.promName).toBe('hostvisor_process_rss_kibibytes');
    await collector.close();
  });
});

describe('createMetrics', () => {
  const sources = { executors: [], hostStats: () => ({ vmCount: 1 }), vms: () => [] as string[], vmStats: () => ({ vmId: '', status: 'Down', statusTime: '0' }) };

  it('builds the statsd sink from [metrics] and the health Part from [health]', async () => {
    const { config } = loadConfig({ env: {}, flags: { 'metrics.collector_address': '127.0.0.1:9125', 'metrics.max_datagram': '8932', 'health.check_interval': '60' } });
    const metrics = createMetrics(config, sources, captureLogger().logger);
    expect(metrics.hub.statsd?.collector).toBe('127.0.0.1:9125');
    expect(metrics.health.name).toBe('health');
    metrics.sampling.afterHostSample();
    expect(await metrics.registry.metrics()).toContain('hostvisor_host_vms_total 1');
    await metrics.hub.close();
  });

  it('with [metrics] enabled false sends nothing to statsd, and /metrics still has every figure', async () => {
    const { config } = loadConfig({ env: {}, flags: { 'metrics.enabled': 'false' } });
    const metrics = createMetrics(config, sources, captureLogger().logger);
    expect(metrics.hub.statsd).toBeUndefined();
    metrics.sampling.afterHostSample();
    expect(await metrics.registry.metrics()).toContain('hostvisor_host_vms_total 1');
  });
});
