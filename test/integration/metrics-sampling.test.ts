/**
 * Metrics after real sampling cycles: the periodic Executor over piscina, the host sample and VM
 * sampling workers, libvirt's test driver on a generated host. A UDP listener stands in for statsd
 * and reads the datagrams the hooks send after a host sample and a VM cycle; names and values are
 * checked exactly against what Host.getStats and VM.getStats answer for the same samples.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/concurrency/executor.js';
import type { OperationContext } from '../../src/concurrency/operation.js';
import { Scheduler } from '../../src/concurrency/scheduler.js';
import { getLogger } from '../../src/log.js';
import { MetricsHub } from '../../src/metrics/hub.js';
import { PrometheusExport } from '../../src/metrics/prometheus.js';
import { SamplingReporter } from '../../src/metrics/sampling-reporter.js';
import { StatsdSink } from '../../src/metrics/statsd.js';
import { workerModuleFile, type WorkerModule } from '../../src/tasks/contract.js';
import { HostMonitor } from '../../src/virt/host/monitor.js';
import { writeTestHost, type TestHost } from '../doubles/testhost.js';
import type { VmRegistry } from '../../src/virt/registry.js';
import { StatsCache } from '../../src/virt/sampling/stats-cache.js';
import type { VmSample } from '../../src/virt/sampling/vm-sample.js';
import { VmSampler } from '../../src/virt/sampling/vm-sampler.js';
import { vmStats, type DiskStats, type NicStats } from '../../src/virt/vm-stats.js';
import type { Vm } from '../../src/virt/vm.js';
import { udpCollector, type UdpCollector } from './metrics-harness.js';
import { registryOf } from '../helpers/test-host-registry.js';

const TIMEOUT = 7.5;
let dir: string;
let host: TestHost;
let scheduler: Scheduler;
let periodic: Executor;
let registry: VmRegistry;
let collector: UdpCollector;

beforeAll(async () => {
  for (const name of ['vm-sampling', 'host-sample', 'libvirt'] satisfies WorkerModule[]) {
    if (!existsSync(workerModuleFile(name))) throw new Error(`${workerModuleFile(name)} is missing: build first with npx tsc -p tsconfig.json`);
  }
  dir = mkdtempSync(join(tmpdir(), 'hostvisor-metrics-'));
  // Dots in the names: statsd paths must show them as underscores.
  host = writeTestHost({ dir, domains: 4, namePrefix: 'web.prod', stateOf: (i) => (i === 3 ? 'shutoff' : 'running') });
  scheduler = new Scheduler('test.Scheduler');
  scheduler.start();
  periodic = new Executor({ name: 'periodic', workers: 2, maxTasks: 100, maxWorkers: 10, scheduler, filename: workerModuleFile('libvirt') });
  periodic.start();
  registry = registryOf(host);
  collector = await udpCollector();
});

afterAll(async () => {
  await collector?.close();
  await periodic?.stop();
  scheduler?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const ctx = (): OperationContext => ({
  timeout: TIMEOUT,
  discard: true,
  dispatch: (task, extra = {}) => periodic.dispatch(task, { timeout: TIMEOUT, discard: true, onLate: extra.onLate }),
});

/** statsd's text of a figure as the stats element has it ("12.50" goes as 12.5). */
const sent = (v: unknown): string => String(Number(v));

describe('metrics after sampling cycles on a generated host', () => {
  it('sends the host and VM figures under vdsm names, with the values Host.getStats and VM.getStats give', async () => {
    const cache = new StatsCache<VmSample>(getLogger('stats-cache'));
    for (const vm of registry.all()) cache.add(vm.id);
    const sampler = new VmSampler({ uri: host.uri, cache, vms: () => registry.all() });
    const monitor = new HostMonitor({
      uri: host.uri,
      statvfsPaths: [],
      instancesPath: dir,
      vcpuPinSet: '',
      vms: () => registry.all(),
      onResources: () => undefined,
      log: getLogger('host-monitor'),
    });
    const statsOf = (vm: Vm) => vmStats(vm, cache.get(vm.id), { commandTimeout: 60 });
    const statsd = new StatsdSink({ address: `127.0.0.1:${collector.port}`, maxDatagram: 1432, log: getLogger('statsd') });
    const prometheus = new PrometheusExport();
    const hub = new MetricsHub({ statsd, prometheus, log: getLogger('metrics') });
    const reporter = new SamplingReporter<Vm>({
      hub,
      hostStats: () => monitor.stats(registry.counts()),
      vms: () => registry.all(),
      vmStats: statsOf,
      log: getLogger('metrics'),
    });

    // Two cycles each: rates need two samples.
    await monitor.sample(ctx());
    await sampler.sample(ctx());
    await new Promise((r) => setTimeout(r, 100));
    await monitor.sample(ctx());
    reporter.afterHostSample();
    await sampler.sample(ctx());
    await reporter.afterVmCycle();

    const hostStats = monitor.stats(registry.counts());
    const expected = new Map<string, string>([
      ['hosts.cpu.user', sent(hostStats['cpuUser'])],
      ['hosts.cpu.sys', sent(hostStats['cpuSys'])],
      ['hosts.cpu.idle', sent(hostStats['cpuIdle'])],
      ['hosts.cpu.load', sent(hostStats['cpuLoad'])],
      ['hosts.cpu.user_vdsmd', sent(hostStats['cpuUserVdsmd'])],
      ['hosts.cpu.sys_vdsmd', sent(hostStats['cpuSysVdsmd'])],
      ['hosts.memory.free_mb', sent(hostStats['memFree'])],
      ['hosts.memory.usage_percent', sent(hostStats['memUsed'])],
      ['hosts.memory.anon_huge_pages', sent(hostStats['anonHugePages'])],
      ['hosts.swap.total_mb', sent(hostStats['swapTotal'])],
      ['hosts.swap.free_mb', sent(hostStats['swapFree'])],
      ['hosts.vms.total', '4'],
      ['hosts.vms.active', '3'],
      ['hosts.elapsed_time', sent(hostStats['elapsedTime'])],
    ]);
    for (const [ifname, nic] of Object.entries(hostStats['network'] as Record<string, Record<string, string>>)) {
      const path = `hosts.nic.${ifname.replace(/\./g, '_')}`;
      expected.set(`${path}.rx`, sent(nic['rx']));
      expected.set(`${path}.tx`, sent(nic['tx']));
      expected.set(`${path}.speed`, sent(nic['speed']));
      expected.set(`${path}.rx_errors`, sent(nic['rxErrors']));
      expected.set(`${path}.tx_dropped`, sent(nic['txDropped']));
    }

    const running = host.domains.filter((d) => d.state === 'running');
    expect(running).toHaveLength(3);
    for (const d of running) {
      const element = statsOf(registry.get(d.uuid)!);
      const vm = `vms.${d.name.replace(/\./g, '_')}`;
      expect(vm).toMatch(/^vms\.web_prod-000\d$/);
      expected.set(`${vm}.cpu.user`, sent(element['cpuUser']));
      expected.set(`${vm}.cpu.sys`, sent(element['cpuSys']));
      expected.set(`${vm}.cpu.usage`, sent(element['cpuUsage']));
      expected.set(`${vm}.balloon.max`, '1048576');
      expected.set(`${vm}.balloon.min`, '0');
      expected.set(`${vm}.balloon.cur`, '1048576');
      expected.set(`${vm}.balloon.target`, '1048576');
      const disks = element['disks'] as Record<string, DiskStats>;
      expect(Object.keys(disks)).toEqual(['vda', 'vdb']);
      for (const [drive, disk] of Object.entries(disks)) {
        expected.set(`${vm}.disk.${drive}.read_ops`, sent(disk.readOps));
        expected.set(`${vm}.disk.${drive}.read_bytes`, sent(disk.readBytes));
        expected.set(`${vm}.disk.${drive}.read_rate`, sent(disk.readRate));
        expected.set(`${vm}.disk.${drive}.write_bytes`, sent(disk.writtenBytes));
        expected.set(`${vm}.disk.${drive}.write_rate`, sent(disk.writeRate));
        expected.set(`${vm}.disk.${drive}.true_size`, sent(disk.truesize));
      }
      const nics = element['network'] as Record<string, NicStats>;
      expect(Object.keys(nics)).toEqual(['testnet0']);
      expected.set(`${vm}.nic.testnet0.speed`, '1000');
      expected.set(`${vm}.nic.testnet0.rx_bytes`, sent(nics['testnet0']!.rx));
      expected.set(`${vm}.nic.testnet0.tx_bytes`, sent(nics['testnet0']!.tx));
      expected.set(`${vm}.nic.testnet0.rx_errors`, sent(nics['testnet0']!.rxErrors));
      // The test driver's counters move: these must be real figures, not zeros.
      expect(Number(element['cpuUser'])).toBeGreaterThan(0);
      expect(Number(disks['vda']!.readRate)).toBeGreaterThan(0);
    }

    const total = reporter.lastHost!.figures + reporter.lastVms!.figures;
    await collector.until(() => collector.lines().length >= total);
    const gauges = collector.gauges();
    for (const [name, value] of expected) expect([name, gauges.get(name)]).toEqual([name, value]);
    // The shut-off VM sends nothing; every line is a gauge under hosts. or vms.
    const off = host.domains.find((d) => d.state === 'shutoff')!;
    expect([...gauges.keys()].some((n) => n.includes(off.name.replace(/\./g, '_')))).toBe(false);
    for (const line of collector.lines()) expect(line).toMatch(/^(hosts|vms)\.[^:|\s]+:-?[0-9.e+-]+\|g$/);
    // Packed: far fewer datagrams than lines, none over the limit.
    expect(collector.datagrams.length).toBeLessThan(collector.lines().length / 5);
    for (const d of collector.datagrams) expect(d.length).toBeLessThanOrEqual(1432);

    // The same figures on /metrics.
    const text = await prometheus.registry.metrics();
    const first = running[0]!;
    expect(text).toContain(`hostvisor_vm_cpu_user_percent{vm="${first.name}"} ${sent(statsOf(registry.get(first.uuid)!)['cpuUser'])}`);
    expect(text).toContain('hostvisor_host_vms_total 4');
    await hub.close();
  });
});
