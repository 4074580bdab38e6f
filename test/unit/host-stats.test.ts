import { describe, expect, it } from 'vitest';
import { CpuSetError, formatCpuSet, parseCpuSet } from '../../src/virt/cpuset.js';
import { parseLoadavg, parseMeminfo, parseNetDev, parsePidStat, parseProcStat, selectedChoice } from '../../src/virt/host/proc.js';
import type { HostResourceSample } from '../../src/virt/host/sample.js';
import type { StatsFacts } from '../../src/virt/host/caps/stats-facts.js';
import { hostStats } from '../../src/virt/host/stats.js';

const PROC_STAT = `cpu  100 10 50 800 20 5 5 10 0 0
cpu0 50 5 25 400 10 2 3 5 0 0
cpu1 50 5 25 400 10 3 2 5 0 0
intr 12345
btime 1700000000
`;

describe('/proc parsers', () => {
  it('reads cpu times and boot time', () => {
    const s = parseProcStat(PROC_STAT);
    expect(s.total).toEqual({ user: 100, nice: 10, system: 50, idle: 800, iowait: 20, irq: 5, softirq: 5, steal: 10 });
    expect(Object.keys(s.perCpu)).toEqual(['0', '1']);
    expect(s.bootTime).toBe(1700000000);
    expect(() => parseProcStat('intr 1\n')).toThrowError('no cpu line');
  });

  it('reads meminfo, loadavg, net/dev, pid stat and sysfs choices', () => {
    expect(parseMeminfo('MemTotal:       24682416 kB\nMemFree:  100 kB\nHugePages_Total:       0\n')).toEqual({
      MemTotal: 24682416,
      MemFree: 100,
      HugePages_Total: 0,
    });
    expect(parseLoadavg('0.56 0.29 0.11 1/200 1234\n')).toEqual([0.56, 0.29, 0.11]);
    const dev = parseNetDev(
      'Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n' +
        '  eth0: 1000 10 1 2 0 0 0 0 2000 20 3 4 0 0 0 0\n',
    );
    expect(dev['eth0']).toEqual({ rxBytes: 1000, rxPackets: 10, rxErrors: 1, rxDropped: 2, txBytes: 2000, txPackets: 20, txErrors: 3, txDropped: 4 });
    const stat = '1234 (node (main) x) S 1 1234 1234 0 -1 4194560 100 0 0 0 77 33 0 0 20 0 11 0 500 1000000 2500 18446744073709551615';
    expect(parsePidStat(stat)).toEqual({ utime: 77, stime: 33, threads: 11, rssPages: 2500 });
    expect(selectedChoice('always [madvise] never\n')).toBe('madvise');
  });
});

describe('vcpu_pin_set', () => {
  it('parses ranges, single CPUs and exclusions', () => {
    expect(parseCpuSet('0-3,^2,8')).toEqual([0, 1, 3, 8]);
    expect(parseCpuSet(' 4 , 1-2 ')).toEqual([1, 2, 4]);
    expect(formatCpuSet([0, 1, 2, 5, 7, 8])).toBe('0-2,5,7-8');
  });

  it('rejects what it cannot read, saying why', () => {
    expect(() => parseCpuSet('0-a')).toThrowError(CpuSetError);
    expect(() => parseCpuSet('0-a')).toThrowError('"0-a" is not N, N-M or ^N');
    expect(() => parseCpuSet('3-1')).toThrowError('range "3-1" runs backwards');
    expect(() => parseCpuSet('^1-2')).toThrowError('an exclusion "^1-2" takes one CPU');
    expect(() => parseCpuSet('1,^1')).toThrowError('it names no CPU');
    expect(() => parseCpuSet('0-99999999')).toThrowError('is too large');
  });
});

function sample(overrides: Partial<HostResourceSample>): HostResourceSample {
  return {
    time: 1000,
    cpu: { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 },
    perCpu: {},
    bootTime: 1700000000,
    meminfo: { MemTotal: 4 * 1024 * 1024, MemFree: 1024 * 1024, Cached: 512 * 1024, Buffers: 0, SReclaimable: 512 * 1024, SwapTotal: 2048, SwapFree: 1024 },
    loadavg: [0.5, 1.25, 2],
    nics: {},
    disks: { '/tmp': { freeMiB: 500, totalMiB: 1000 } },
    thpState: 'madvise',
    self: { utime: 0, stime: 0, threads: 10, rssKiB: 1000 },
    ...overrides,
  };
}

const COUNTS = { vmCount: 3, vmActive: 2, vmMigrating: 0, incomingVmMigrations: 0, outgoingVmMigrations: 0 };

function readings(at: number, cpu0: { user: number; idle: number }, ksmdTicks: number): StatsFacts {
  const times = { user: cpu0.user, nice: 0, system: 0, idle: cpu0.idle, iowait: 0, irq: 0, softirq: 0, steal: 0 };
  return {
    readAt: at * 1000,
    ksmState: true,
    ksmPages: 100,
    ksmMergeAcrossNodes: true,
    memShared: 12,
    ksmd: { pid: 42, ticks: ksmdTicks },
    hugepages: {},
    numaNodeMemFree: { '0': { memFree: '1024', memPercent: 50, hugepages: { '2048': { freePages: '3' } } } },
    cpuNodes: { '0': 0 },
    thpState: 'madvise',
    anonHugePagesMiB: 0,
    cpuTimes: { '0': times },
    bootTime: 1700000000,
  };
}

describe('Host.getStats from two samples', () => {
  it('computes cpu, memory, KSM, network and disk figures in vdsm\'s shapes', () => {
    const cpu0 = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0 };
    const nic = { rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 1, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 2, state: 'up' as const, speed: 0, duplex: 'full' };
    const first = sample({ cpu: cpu0, perCpu: { '0': cpu0 }, nics: { eth0: nic } });
    const last = sample({
      time: 1010,
      cpu: { ...cpu0, user: 30, system: 10, idle: 60 },
      perCpu: { '0': { ...cpu0, user: 25, idle: 75 } },
      nics: { eth0: { ...nic, rxBytes: 10_000, txBytes: 5_000 } },
      self: { utime: 100, stime: 50, threads: 10, rssKiB: 1000 },
    });
    const s = hostStats({
      first,
      last,
      readings: { previous: readings(1000, { user: 0, idle: 0 }, 0), current: readings(1010, { user: 25, idle: 75 }, 200) },
      driver: undefined,
      vms: COUNTS,
      daemonStartedAt: 900,
      netConfigDirty: 'True',
      momStatus: 'disabled',
    });
    expect(s['cpuUser']).toBe('30.00');
    expect(s['netConfigDirty']).toBe('True');
    expect(s['cpuSys']).toBe('10.00');
    expect(s['cpuIdle']).toBe('60.00');
    expect(s['cpuLoad']).toBe('1.25');
    expect(s['cpuStatistics']).toEqual({ '0': { nodeIndex: 0, cpuUser: '25.00', cpuSys: '0.00', cpuIdle: '75.00' } });
    // 100 ticks over 10 s on one CPU is 10 %.
    expect(s['cpuUserVdsmd']).toBe('10.00');
    expect(s['memFree']).toBe(2048);
    expect(s['memUsed']).toBe('50');
    expect(s['swapTotal']).toBe(2);
    expect(s['swapFree']).toBe(1);
    expect(s['vmCount']).toBe(3);
    // ksmd ran 2 s of the 10 s between the readings.
    expect(s).toMatchObject({ ksmState: true, ksmPages: 100, ksmCpu: 20, memShared: 12, momStatus: 'disabled' });
    expect(s['numaNodeMemFree']).toEqual({ '0': { memFree: '1024', memPercent: 50, hugepages: { '2048': { freePages: '3' } } } });
    // Exactly the keys of vdsm's HostNetworkInterfaceStats.
    expect(s['network']).toEqual({
      eth0: { name: 'eth0', rx: '10000', tx: '5000', rxErrors: '0', txErrors: '0', rxDropped: '1', txDropped: '2', speed: '1000', state: 'up', sampleTime: 1010 },
    });
    expect(s['rxDropped']).toBe('1');
    expect(s['txDropped']).toBe('2');
    expect(s['diskStats']).toEqual({ '/tmp': { free: '500' } });
    expect(s['elapsedTime']).toBe('110');
    expect(s['dateTime']).toBe('1970-01-01T00:16:50 GMT');
  });

  it('takes memory from the test driver\'s node when the figures are the driver\'s, never the real host\'s', () => {
    const one = sample({});
    const s = hostStats({ first: one, last: one, readings: undefined, driver: { totalMiB: 3072, usedByVmsMiB: 1024, cells: 2 }, vms: COUNTS, daemonStartedAt: 900, netConfigDirty: 'False', momStatus: 'disabled' });
    expect(s['memFree']).toBe(2048);
    expect(s['memUsed']).toBe('33');
    expect(s['numaNodeMemFree']).toEqual({ '0': { memFree: '1024', memPercent: 33, hugepages: {} }, '1': { memFree: '1024', memPercent: 33, hugepages: {} } });
    // Before any reading: what is known, with KSM off and no per-CPU figures.
    expect(s).toMatchObject({ ksmState: false, ksmCpu: 0, cpuStatistics: {} });
  });
});
