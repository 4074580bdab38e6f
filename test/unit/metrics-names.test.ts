import { describe, expect, it } from 'vitest';
import { MetricBatch } from '../../src/metrics/batch.js';
import { family, sanitisePart, statsdName } from '../../src/metrics/family.js';
import { hostMetrics } from '../../src/metrics/host-metrics.js';
import { ALL_FAMILIES, HEALTH } from '../../src/metrics/names.js';
import { vmMetrics } from '../../src/metrics/vm-metrics.js';
import type { VmStatsElement } from '../../src/virt/vm-stats.js';

/** Every `name:value` a batch would send to statsd, in a map. */
function names(batch: MetricBatch): Map<string, number> {
  const out = new Map<string, number>();
  for (const [f, s] of batch.families) s.values.forEach((v, i) => out.set(statsdName(f, s.labels[i]!), v));
  return out;
}

describe('metric names', () => {
  it("keeps vdsm's health names", () => {
    expect(HEALTH.cpuUser.path).toBe('hosts.vdsm.cpu.user_pct');
    expect(HEALTH.cpuSys.path).toBe('hosts.vdsm.cpu.sys_pct');
    expect(HEALTH.rss.path).toBe('hosts.vdsm.memory.rss');
    expect(HEALTH.threads.path).toBe('hosts.vdsm.threads_count');
  });

  it('sanitises a name part: dots become underscores, and so do what statsd and graphite cannot carry', () => {
    expect(sanitisePart('eth0.100')).toBe('eth0_100');
    expect(sanitisePart('web.example.com')).toBe('web_example_com');
    expect(sanitisePart('a:b|c@d#e f/g\nh')).toBe('a_b_c_d_e_f_g_h');
    expect(sanitisePart('vm-ü')).toBe('vm-ü');
    expect(sanitisePart('')).toBe('_');
  });

  it('fills templates with sanitised label values', () => {
    const f = family('vms.{vm}.disk.{drive}.read_ops', 'x', 'x', ['vm', 'drive']);
    expect(statsdName(f, ['db.prod', 'vda'])).toBe('vms.db_prod.disk.vda.read_ops');
    expect(() => family('a.{nope}', 'y', 'y', ['vm'])).toThrow(/not one of its labels/);
  });

  it('has unique statsd templates and Prometheus names', () => {
    expect(new Set(ALL_FAMILIES.map((f) => f.path)).size).toBe(ALL_FAMILIES.length);
    expect(new Set(ALL_FAMILIES.map((f) => f.promName)).size).toBe(ALL_FAMILIES.length);
    for (const f of ALL_FAMILIES) expect(f.promName).toMatch(/^hostvisor_[a-z0-9_]+$/);
  });

  it('leaves out values that are not numbers', () => {
    const batch = new MetricBatch();
    batch.add(HEALTH.rss, 'NaN');
    batch.add(HEALTH.rss, undefined);
    batch.add(HEALTH.rss, '');
    batch.add(HEALTH.threads, '12');
    expect(batch.size).toBe(1);
    expect(batch.get(HEALTH.threads)).toBe(12);
  });
});

describe('host metrics from Host.getStats', () => {
  const stats = {
    cpuUser: '12.50', cpuSys: '3.25', cpuIdle: '84.25', cpuLoad: '0.75', cpuUserVdsmd: '0.40', cpuSysVdsmd: '0.10',
    memFree: 2048, memUsed: '37', swapTotal: 4096, swapFree: 4000, anonHugePages: '512',
    vmCount: 3, vmActive: 2, elapsedTime: '120',
    haStats: { configured: false, score: 0 },
    network: {
      'eth0.100': { rx: '1000', tx: '2000', rxErrors: '1', txErrors: '2', rxDropped: '3', txDropped: '4', speed: '1000', rxRate: '0.00' },
    },
  };

  it("sends vdsm's historical host names, with the NIC's dots as underscores", () => {
    expect(Object.fromEntries(names(hostMetrics(stats)))).toEqual({
      'hosts.cpu.user': 12.5,
      'hosts.cpu.sys': 3.25,
      'hosts.cpu.idle': 84.25,
      'hosts.cpu.load': 0.75,
      'hosts.cpu.user_vdsmd': 0.4,
      'hosts.cpu.sys_vdsmd': 0.1,
      'hosts.memory.free_mb': 2048,
      'hosts.memory.usage_percent': 37,
      'hosts.memory.anon_huge_pages': 512,
      'hosts.swap.total_mb': 4096,
      'hosts.swap.free_mb': 4000,
      'hosts.vms.total': 3,
      'hosts.vms.active': 2,
      'hosts.elapsed_time': 120,
      'hosts.nic.eth0_100.rx': 1000,
      'hosts.nic.eth0_100.tx': 2000,
      'hosts.nic.eth0_100.rx_errors': 1,
      'hosts.nic.eth0_100.tx_errors': 2,
      'hosts.nic.eth0_100.rx_dropped': 3,
      'hosts.nic.eth0_100.tx_dropped': 4,
      'hosts.nic.eth0_100.speed': 1000,
    });
  });

  it('sends the HA score only when hosted-engine HA is configured, and KSM figures when present', () => {
    const sent = names(hostMetrics({ ...stats, haStats: { configured: true, score: 3400 }, ksmPages: 100, ksmCpu: '1.5', memAvailable: 900, memCommitted: 1024 }));
    expect(sent.get('hosts.ha_score')).toBe(3400);
    expect(sent.get('hosts.cpu.ksm_pages')).toBe(100);
    expect(sent.get('hosts.cpu.ksm_cpu_precent')).toBe(1.5);
    expect(sent.get('hosts.memory.available')).toBe(900);
    expect(sent.get('hosts.memory.committed')).toBe(1024);
  });
});

describe('VM metrics from the VM stats element', () => {
  const element: VmStatsElement = {
    vmId: 'u1',
    status: 'Up',
    statusTime: '1',
    vmName: 'web.prod',
    cpuUser: '12.50',
    cpuSys: '1.25',
    cpuUsage: '123456789000',
    memUsage: '40',
    memoryStats: { mem_total: '1048576', mem_unused: '524288', mem_free: '524288', swap_in: 0, swap_out: 0, majflt: 1, minflt: 2, pageflt: 3 },
    balloonInfo: { balloon_max: '1048576', balloon_min: '0', balloon_cur: '1000000', balloon_target: '1048576' },
    disks: {
      vda: {
        truesize: '100', apparentsize: '200', readLatency: '1500.5', writeLatency: '0', flushLatency: '0', writtenBytes: '4096',
        writeOps: '1', readOps: '2', readBytes: '8192', readRate: '546.1', writeRate: '0.0',
      },
    },
    network: { 'vnet0.1': { name: 'vnet0.1', macAddr: '52:54:00:00:00:01', speed: '1000', state: 'unknown', rx: '10', tx: '20', rxErrors: '0', txErrors: '0', rxDropped: '0', txDropped: '5', rxRate: '0.0', txRate: '0.0' } },
  };

  it("sends vdsm's historical VM names; the VM name and the NIC name are sanitised", () => {
    expect(Object.fromEntries(names(vmMetrics(element)))).toEqual({
      'vms.web_prod.cpu.user': 12.5,
      'vms.web_prod.cpu.sys': 1.25,
      'vms.web_prod.cpu.usage': 123456789000,
      'vms.web_prod.balloon.max': 1048576,
      'vms.web_prod.balloon.min': 0,
      'vms.web_prod.balloon.target': 1048576,
      'vms.web_prod.balloon.cur': 1000000,
      'vms.web_prod.mem.mem_total': 1048576,
      'vms.web_prod.mem.mem_unused': 524288,
      'vms.web_prod.mem.mem_free': 524288,
      'vms.web_prod.mem.swap_in': 0,
      'vms.web_prod.mem.swap_out': 0,
      'vms.web_prod.mem.majflt': 1,
      'vms.web_prod.mem.minflt': 2,
      'vms.web_prod.mem.pageflt': 3,
      'vms.web_prod.disk.vda.read_latency': 1500.5,
      'vms.web_prod.disk.vda.read_ops': 2,
      'vms.web_prod.disk.vda.read_bytes': 8192,
      'vms.web_prod.disk.vda.read_rate': 546.1,
      'vms.web_prod.disk.vda.write_bytes': 4096,
      'vms.web_prod.disk.vda.write_ops': 1,
      'vms.web_prod.disk.vda.write_latency': 0,
      'vms.web_prod.disk.vda.write_rate': 0,
      'vms.web_prod.disk.vda.apparent_size': 200,
      'vms.web_prod.disk.vda.flush_latency': 0,
      'vms.web_prod.disk.vda.true_size': 100,
      'vms.web_prod.nic.vnet0_1.speed': 1000,
      'vms.web_prod.nic.vnet0_1.rx_bytes': 10,
      'vms.web_prod.nic.vnet0_1.rx_errors': 0,
      'vms.web_prod.nic.vnet0_1.rx_dropped': 0,
      'vms.web_prod.nic.vnet0_1.tx_bytes': 20,
      'vms.web_prod.nic.vnet0_1.tx_errors': 0,
      'vms.web_prod.nic.vnet0_1.tx_dropped': 5,
    });
  });

  it('sends nothing for a Down VM or one not sampled yet', () => {
    expect(vmMetrics({ vmId: 'u2', status: 'Down', statusTime: '1' }).size).toBe(0);
    expect(vmMetrics({ vmId: 'u3', status: 'Up', statusTime: '1', vmName: 'new', vcpuCount: '2' }).size).toBe(0);
  });
});
