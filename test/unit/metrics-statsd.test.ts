import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MetricBatch } from '../../src/metrics/batch.js';
import { family } from '../../src/metrics/family.js';
import { VM } from '../../src/metrics/names.js';
import { MetricsHub } from '../../src/metrics/hub.js';
import { PrometheusExport } from '../../src/metrics/prometheus.js';
import { SamplingReporter } from '../../src/metrics/sampling-reporter.js';
import { parseCollectorAddress, StatsdSink } from '../../src/metrics/statsd.js';
import type { VmStatsElement } from '../../src/virt/vm-stats.js';
import { udpCollector, unusedUdpPort, waitUntil, type UdpCollector } from '../integration/metrics-harness.js';
import { captureLogger } from '../fixtures/concurrency.js';

/** A cycle's worth of per-VM figures: `vms` VMs with 10 gauges each. */
function vmBatch(vms: number, name = (i: number) => `vm-${String(i).padStart(4, '0')}`): MetricBatch {
  const batch = new MetricBatch();
  for (let i = 0; i < vms; i++) {
    const vm = [name(i)];
    batch.add(VM.cpuUser, i % 100, vm);
    batch.add(VM.cpuSys, 0.5, vm);
    batch.add(VM.cpuUsage, 1e12 + i, vm);
    batch.add(VM.balloonCur, 1048576, vm);
    batch.add(VM.balloonMax, 1048576, vm);
    for (const drive of ['vda', 'vdb']) batch.add(VM.diskReadOps, i * 7, [name(i), drive]);
    for (const drive of ['vda', 'vdb']) batch.add(VM.diskWriteRate, 12.5, [name(i), drive]);
    batch.add(VM.nicRxBytes, i * 1000, [name(i), 'vnet0']);
  }
  return batch;
}

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown): void => {
  unhandled.push(reason);
};

describe('statsd sink', () => {
  let collector: UdpCollector;
  beforeEach(async () => {
    collector = await udpCollector();
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled);
    await collector.close();
  });

  it('packs a 1000-VM report into full datagrams no larger than max_datagram, every line arriving', async () => {
    const { logger: log } = captureLogger();
    const sink = new StatsdSink({ address: `127.0.0.1:${collector.port}`, maxDatagram: 1432, log });
    const batch = vmBatch(1000);
    sink.send(batch);
    await collector.until(() => collector.lines().length >= batch.size);
    await sink.close();
    expect(collector.lines()).toHaveLength(10_000);
    expect(sink.counters).toMatchObject({ reports: 1, lines: 10_000, datagrams: collector.datagrams.length, errors: 0 });
    // ~40 bytes a line: some 30 lines a datagram, not one datagram a line.
    expect(collector.datagrams.length).toBeLessThan(400);
    for (const d of collector.datagrams) expect(d.length).toBeLessThanOrEqual(1432);
    // All but the last datagram are nearly full.
    for (const d of collector.datagrams.slice(0, -1)) expect(d.length).toBeGreaterThan(1432 - 80);
    const gauges = collector.gauges();
    expect(gauges.get('vms.vm-0007.cpu.user')).toBe('7');
    expect(gauges.get('vms.vm-0999.disk.vdb.read_ops')).toBe(String(999 * 7));
    expect(gauges.get('vms.vm-0001.cpu.usage')).toBe('1000000000001');
    expect(unhandled).toEqual([]);
  });

  it('counts UTF-8 bytes, so names with non-ASCII characters never make a datagram too large', async () => {
    const { logger: log } = captureLogger();
    const sink = new StatsdSink({ address: `127.0.0.1:${collector.port}`, maxDatagram: 512, log });
    const batch = vmBatch(50, (i) => `машина-${i}`);
    sink.send(batch);
    await collector.until(() => collector.lines().length >= batch.size);
    await sink.close();
    for (const d of collector.datagrams) expect(d.length).toBeLessThanOrEqual(512);
    expect(collector.gauges().get('vms.машина-3.cpu.user')).toBe('3');
  });

  it('adds the prefix, and sends a negative gauge as a reset then the value', async () => {
    const { logger: log } = captureLogger();
    const sink = new StatsdSink({ address: `127.0.0.1:${collector.port}`, prefix: 'hosts.host1', maxDatagram: 1432, log });
    const batch = new MetricBatch();
    const f = family('test.delta', 'test_delta', 'a test figure');
    batch.add(f, -5);
    sink.send(batch);
    await collector.until(() => collector.lines().length >= 2);
    await sink.close();
    expect(collector.lines()).toEqual(['hosts.host1.test.delta:0|g', 'hosts.host1.test.delta:-5|g']);
    expect(collector.datagrams).toHaveLength(1);
  });

  it('resolves a host name and sends to its address', async () => {
    const { logger: log } = captureLogger();
    const sink = new StatsdSink({ address: `localhost:${collector.port}`, maxDatagram: 1432, log, resolve: async () => ({ address: '127.0.0.1', family: 4 }) });
    await sink.start();
    sink.send(vmBatch(1));
    await collector.until(() => collector.lines().length === 10);
    await sink.close();
  });

  it('a collector that is down changes nothing: no throw, no unhandled rejection', async () => {
    const { logger: log } = captureLogger();
    const port = await unusedUdpPort();
    const sink = new StatsdSink({ address: `127.0.0.1:${port}`, maxDatagram: 1432, log });
    for (let i = 0; i < 5; i++) expect(() => sink.send(vmBatch(200))).not.toThrow();
    await new Promise((r) => setTimeout(r, 100));
    await sink.close();
    expect(sink.counters.reports).toBe(5);
    expect(unhandled).toEqual([]);
  });

  it('an unresolvable collector: reports are dropped and the problem logged once a minute, not per report', async () => {
    const { logger: log, lines } = captureLogger();
    let lookups = 0;
    const sink = new StatsdSink({
      address: 'statsd.invalid',
      maxDatagram: 1432,
      log,
      resolve: async () => {
        lookups++;
        throw Object.assign(new Error('getaddrinfo ENOTFOUND statsd.invalid'), { code: 'ENOTFOUND' });
      },
    });
    await sink.start();
    for (let i = 0; i < 20; i++) expect(() => sink.send(vmBatch(10))).not.toThrow();
    await new Promise((r) => setTimeout(r, 20));
    await sink.close();
    expect(sink.counters.dropped).toBe(20);
    // One lookup at start; the next waits for the retry period (30 s).
    expect(lookups).toBe(1);
    const warnings = lines.filter((l) => l['level'] === 40);
    expect(warnings).toHaveLength(1);
    expect(unhandled).toEqual([]);
  });

  it('a real lookup that fails is handled like any other error', async () => {
    const { logger: log } = captureLogger();
    const sink = new StatsdSink({ address: 'no-such-host.invalid:8125', maxDatagram: 1432, log });
    await sink.start();
    sink.send(vmBatch(3));
    await waitUntil(() => sink.counters.dropped === 1, 2000);
    await sink.close();
    expect(unhandled).toEqual([]);
  });
});

describe('reports sent in slices', () => {
  it('sends each figure once, packed across slices; Prometheus gets the whole report at the end', async () => {
    const collector = await udpCollector();
    const { logger: log } = captureLogger();
    const statsd = new StatsdSink({ address: `127.0.0.1:${collector.port}`, maxDatagram: 1432, log });
    const prometheus = new PrometheusExport();
    const hub = new MetricsHub({ statsd, prometheus, log });
    const report = hub.open('vms');
    for (let i = 0; i < 10; i++) {
      report.batch.add(VM.cpuUser, i, [`vm-${i}`]);
      report.batch.add(VM.diskReadOps, i, [`vm-${i}`, 'vda']);
      if (i % 3 === 2) report.flush();
    }
    expect(await prometheus.registry.metrics()).not.toContain('vm-0');
    report.end();
    await collector.until(() => collector.lines().length >= 20);
    await hub.close();
    const lines = collector.lines();
    expect(lines).toHaveLength(20);
    expect(new Set(lines).size).toBe(20);
    // Small slices do not mean small datagrams: the one being filled waits across slices.
    expect(collector.datagrams).toHaveLength(1);
    expect(await prometheus.registry.metrics()).toContain('hostvisor_vm_cpu_user_percent{vm="vm-9"} 9');
    await collector.close();
  });

  it('the VM hook yields between slices of VMs and sends every VM; a second call while one runs is skipped', async () => {
    const collector = await udpCollector();
    const { logger: log } = captureLogger();
    const statsd = new StatsdSink({ address: `127.0.0.1:${collector.port}`, maxDatagram: 1432, log });
    const hub = new MetricsHub({ statsd, log });
    const vms = Array.from({ length: 7 }, (_, i) => `vm-${i}`);
    let turns = 0;
    const reporter = new SamplingReporter<string>({
      hub,
      hostStats: () => ({}),
      vms: () => vms,
      vmStats: (name): VmStatsElement => {
        turns++;
        return { vmId: name, status: 'Up', statusTime: '1', vmName: name, cpuUser: '1.50', cpuSys: '0.00', cpuUsage: '10' };
      },
      log,
      sliceVms: 2,
    });
    const first = reporter.afterVmCycle();
    expect(turns).toBe(2); // the first slice ran synchronously, the rest waits for the loop
    await reporter.afterVmCycle(); // skipped: the first is still sending
    await first;
    expect(turns).toBe(7);
    expect(reporter.lastVms?.figures).toBe(21);
    await collector.until(() => collector.lines().length >= 21);
    await hub.close();
    expect(collector.gauges().get('vms.vm-6.cpu.user')).toBe('1.5');
    await collector.close();
  });
});

describe('collector_address', () => {
  it('takes vdsm\'s bare host (port 8125), host:port and IPv6 forms', () => {
    expect(parseCollectorAddress('localhost')).toEqual({ host: 'localhost', port: 8125 });
    expect(parseCollectorAddress('10.0.0.5:9125')).toEqual({ host: '10.0.0.5', port: 9125 });
    expect(parseCollectorAddress('[::1]:8127')).toEqual({ host: '::1', port: 8127 });
    expect(parseCollectorAddress('[::1]')).toEqual({ host: '::1', port: 8125 });
    expect(parseCollectorAddress('fe80::1')).toEqual({ host: 'fe80::1', port: 8125 });
  });

  it('refuses what is not an address', () => {
    for (const bad of ['', 'host:', 'host:0', 'host:70000', 'host:12a', 'a b']) expect(() => parseCollectorAddress(bad)).toThrow(/collector_address/);
  });
});
