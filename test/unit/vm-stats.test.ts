// The VM stats element (docs/protocol.md, "Host and VM results"; vdsm's vmstats.py) from two known samples, field by
// field: shapes, string formats and rates; the element before two samples; monitorResponse; Down
// VMs; guest data; the per-domain path's samples.
import { describe, expect, it } from 'vitest';
import type { VmSample } from '../../src/virt/sampling/vm-sample.js';
import { Vm, exitInfo, ExitCode, ExitReason, type VmStatus } from '../../src/virt/vm.js';
import { vmStats, type VmStatsEntry } from '../../src/virt/vm-stats.js';

const MAC0 = '52:54:00:aa:bb:00';
const MAC1 = '52:54:00:aa:bb:01';
const opts = { commandTimeout: 60 };

function makeVm(status: VmStatus = 'Up', startedSecondsAgo = 125): Vm {
  let mono = 1000;
  const vm = new Vm('vm-1', 'web-1', status, () => undefined, { eventTime: () => 4_300_000_123, monotonic: () => mono });
  mono += startedSecondsAgo;
  vm.describe({
    uuid: 'vm-1',
    name: 'web-1',
    vcpus: 2,
    memoryKiB: 4 * 1048576,
    devices: {
      disks: [
        { name: 'vda', source: '/images/vda.img', readonly: false },
        { name: 'hdc', source: undefined, readonly: true },
      ],
      nics: [
        { name: 'vnet0', mac: MAC0, model: 'virtio' },
        { name: 'vnet1', mac: MAC1, model: 'rtl8139' },
      ],
      channels: [],
    },
    timeOffset: '0',
    devicesHash: '',
    destroyOnReboot: false,
  });
  return vm;
}

/** Bulk-path samples 15 s apart with round numbers. */
function bulkSamples(): { first: VmSample; last: VmSample; interval: number } {
  const first: VmSample = {
    sampledAt: 500,
    cpu: { time: 10e9, user: 1e9, system: 0.5e9 },
    balloon: { current: 4194304, maximum: 4194304, available: 4000000, unused: 1000000, swapIn: 0, swapOut: 0, majorFault: 100, minorFault: 1000 },
    vcpu: { current: 2, maximum: 4 },
    nics: { vnet0: { rxBytes: 0, rxPackets: 0, rxErrors: 0, rxDropped: 0, txBytes: 0, txPackets: 0, txErrors: 0, txDropped: 0 } },
    disks: {
      vda: { readOps: 100, readBytes: 1e6, readTimeNs: 1e8, writeOps: 50, writeBytes: 5e5, writeTimeNs: 2e8, flushOps: 10, flushTimeNs: 3e7, allocation: 1e9, capacity: 1e10, physical: 2e9 },
    },
  };
  const last: VmSample = {
    sampledAt: 515,
    cpu: { time: 25e9, user: 2.5e9, system: 1e9 },
    balloon: { current: 3145728, maximum: 4194304, available: 4000000, unused: 1048576, swapIn: 0, swapOut: 30, majorFault: 250, minorFault: 2500 },
    vcpu: { current: 2, maximum: 4 },
    nics: {
      vnet0: { rxBytes: 187_500_000, rxPackets: 1000, rxErrors: 1, rxDropped: 2, txBytes: 1_875_000, txPackets: 500, txErrors: 3, txDropped: 4 },
      vnet1: { rxBytes: 5, txBytes: 5 },
    },
    disks: {
      vda: { readOps: 250, readBytes: 2.5e6, readTimeNs: 4e8, writeOps: 50, writeBytes: 1.25e6, writeTimeNs: 2e8, flushOps: 15, flushTimeNs: 4e7, allocation: 1.5e9, capacity: 1e10, physical: 2e9 },
    },
  };
  return { first, last, interval: 15 };
}

const entry = (sample: VmStatsEntry['sample'], age = 3): VmStatsEntry => ({ sample, age });

describe('vmStats from two bulk samples', () => {
  const stats = vmStats(makeVm(), entry(bulkSamples()), opts);

  it('identity, status and the constant fields', () => {
    expect(stats).toMatchObject({
      vmId: 'vm-1',
      status: 'Up',
      statusTime: '4300000123',
      vmName: 'web-1',
      vmType: 'kvm',
      kvmEnable: 'true',
      acpiEnable: 'true',
      elapsedTime: '125',
      monitorResponse: '0',
      pauseCode: 'NOERR',
      vcpuCount: '2',
    });
  });

  it('CPU as vdsm: cpuSys = QEMU user+system, cpuUser = the rest of cpu.time, percent of one CPU; cpuUsage cumulative ns', () => {
    // Δcpu.time 15e9, Δ(user+system) 2e9, over 15 s.
    expect(stats['cpuSys']).toBe('13.33');
    expect(stats['cpuUser']).toBe('86.67');
    expect(stats['cpuUsage']).toBe('3500000000');
  });

  it('memory: memUsage from the guest unused memory, memoryStats, balloonInfo in KiB strings', () => {
    expect(stats['memUsage']).toBe('75');
    expect(stats['memoryStats']).toEqual({
      mem_total: '4000000',
      mem_unused: '1048576',
      mem_free: '1048576',
      swap_in: 0,
      swap_out: 2,
      majflt: 10,
      minflt: 100,
      pageflt: 110,
    });
    expect(stats['balloonInfo']).toEqual({ balloon_max: '4194304', balloon_min: '0', balloon_cur: '3145728', balloon_target: '4194304' });
  });

  it('network per NIC in both samples: exactly the schema\'s keys, counters as strings, the sample time', () => {
    expect(stats['network']).toEqual({
      vnet0: {
        name: 'vnet0',
        macAddr: MAC0,
        speed: '1000',
        state: 'unknown',
        rxErrors: '1',
        rxDropped: '2',
        txErrors: '3',
        txDropped: '4',
        rx: '187500000',
        tx: '1875000',
        sampleTime: 515,
      },
    });
  });

  it('disks per drive: byte rates, latencies in ns per request, counters, sizes; a drive without stats gets the defaults', () => {
    expect(stats['disks']).toEqual({
      vda: {
        truesize: '1500000000',
        apparentsize: '2000000000',
        readRate: '100000.0',
        writeRate: '50000.0',
        readLatency: '2000000.0',
        writeLatency: '0',
        flushLatency: '2000000.0',
        readOps: '250',
        writeOps: '50',
        readBytes: '2500000',
        writtenBytes: '1250000',
      },
      hdc: {
        truesize: '0',
        apparentsize: '0',
        readRate: '0.0',
        writeRate: '0.0',
        readLatency: '0',
        writeLatency: '0',
        flushLatency: '0',
        readOps: '0',
        writeOps: '0',
        readBytes: '0',
        writtenBytes: '0',
      },
    });
  });

  it('every value is a string except cpuActual, guestCPUCount, the memory rates, sampleTime and nested objects', () => {
    expect(stats).toMatchObject({ cpuActual: true, guestCPUCount: -1 });
    for (const [key, value] of Object.entries(stats)) {
      if (typeof value === 'object' || key === 'cpuActual' || key === 'guestCPUCount') continue;
      expect(typeof value, key).toBe('string');
    }
  });
});

describe('vmStats without two samples, and the edges', () => {
  it('before two samples: what is known without them, CPU at 0 and not actual, no NIC or disk entry', () => {
    const stats = vmStats(makeVm('Powering up', 3), entry(undefined, 1), opts);
    expect(stats).toEqual({
      vmId: 'vm-1',
      status: 'Powering up',
      statusTime: '4300000123',
      vmName: 'web-1',
      vmType: 'kvm',
      kvmEnable: 'true',
      acpiEnable: 'true',
      elapsedTime: '3',
      monitorResponse: '0',
      pauseCode: 'NOERR',
      timeOffset: '0',
      clientIp: '',
      pid: '0',
      cpuUser: '0.00',
      cpuSys: '0.00',
      cpuActual: false,
      network: {},
      disks: {},
      displayInfo: [],
      displayPort: '-1',
      displaySecurePort: '-1',
      vcpuCount: '2',
      guestIPs: '',
      guestFQDN: '',
      username: 'Unknown',
      session: 'Unknown',
      guestCPUCount: -1,
      memUsage: '0',
    });
  });

  it('consoles from the graphics devices, the clock offset and the devices digest from the domain XML', () => {
    const vm = makeVm();
    vm.devices.graphics = [
      { type: 'spice', port: '5900', tlsPort: '5901', listen: '192.0.2.7' },
      { type: 'vnc', port: '5902', tlsPort: '-1', listen: '' },
    ];
    vm.timeOffset = '3600';
    vm.devicesHash = '123456';
    const stats = vmStats(vm, entry(undefined, 1), opts);
    expect(stats).toMatchObject({ timeOffset: '3600', hash: '123456', displayPort: '5900', displaySecurePort: '5901' });
    expect(stats['displayInfo']).toEqual([
      { type: 'spice', port: '5900', tlsPort: '5901', ipAddress: '192.0.2.7' },
      { type: 'vnc', port: '5902', tlsPort: '-1', ipAddress: '' },
    ]);
  });

  it('monitorResponse is -1 once the stats are vm_command_timeout old, unless the VM migrates away', () => {
    const vm = makeVm();
    expect(vmStats(vm, entry(bulkSamples(), 59.9), opts)['monitorResponse']).toBe('0');
    expect(vmStats(vm, entry(bulkSamples(), 60), opts)['monitorResponse']).toBe('-1');
    expect(vmStats(vm, entry(undefined, 600), opts)['monitorResponse']).toBe('-1');
    expect(vmStats(makeVm('Migration Source'), entry(undefined, 600), opts)['monitorResponse']).toBe('0');
  });

  it('a Down VM: identity, status and exit information only', () => {
    const vm = makeVm();
    vm.markDown(exitInfo(ExitCode.ERROR, ExitReason.LOST_QEMU_CONNECTION));
    expect(vmStats(vm, entry(bulkSamples()), opts)).toEqual({
      vmId: 'vm-1',
      status: 'Down',
      statusTime: '4300000123',
      exitCode: 1,
      exitReason: 2,
      exitMessage: 'Lost connection with qemu process',
    });
    const never = makeVm('Down');
    expect(vmStats(never, entry(undefined), opts)).toMatchObject({ exitCode: 0, exitReason: 0, exitMessage: '' });
  });

  it('guest data is merged in, but never over the computed keys', () => {
    const vm = makeVm();
    vm.guest = { guestFQDN: 'web-1.example', netIfaces: [{ name: 'eth0' }], status: 'Hacked', vmId: 'other', memUsage: '12' };
    const stats = vmStats(vm, entry(bulkSamples()), opts);
    expect(stats['guestFQDN']).toBe('web-1.example');
    expect(stats['netIfaces']).toEqual([{ name: 'eth0' }]);
    expect(stats['status']).toBe('Up');
    expect(stats['vmId']).toBe('vm-1');
    expect(stats['memUsage']).toBe('75');
    // Without balloon stats the guest agent's memUsage is used; '0' when nobody knows.
    const { first, last } = bulkSamples();
    delete last.balloon.unused;
    expect(vmStats(vm, entry({ first, last, interval: 15 }), opts)['memUsage']).toBe('12');
    vm.guest = {};
    expect(vmStats(vm, entry({ first, last, interval: 15 }), opts)['memUsage']).toBe('0');
  });

  it('per-domain samples (no user/system split, NICs by MAC, no block times): cpu.time counts as cpuUser', () => {
    const vm = makeVm();
    vm.devices.nics = [{ name: 'testnet0', mac: MAC0, model: 'virtio' }];
    const first: VmSample = {
      cpu: { time: 1e9 },
      balloon: { current: 4194304, maximum: 4194304 },
      vcpu: { current: 2 },
      nics: { [MAC0]: { rxBytes: 0, txBytes: 0, rxErrors: 0, rxDropped: 0, txErrors: 0, txDropped: 0 } },
      disks: { vda: { readOps: 0, readBytes: 0, writeOps: 0, writeBytes: 0, errors: 0 } },
    };
    const last: VmSample = {
      sampledAt: 42,
      cpu: { time: 4e9 },
      balloon: { current: 4194304, maximum: 4194304 },
      vcpu: { current: 2 },
      nics: { [MAC0]: { rxBytes: 1_250_000, txBytes: 0, rxErrors: 0, rxDropped: 0, txErrors: 0, txDropped: 0 } },
      disks: { vda: { readOps: 10, readBytes: 4096, writeOps: 0, writeBytes: 0, errors: 0 } },
    };
    const stats = vmStats(vm, entry({ first, last, interval: 10 }), opts);
    expect(stats).toMatchObject({ cpuUser: '30.00', cpuSys: '0.00', cpuUsage: '4000000000', memUsage: '0' });
    expect(stats['memoryStats']).toBeUndefined();
    expect(stats['balloonInfo']).toEqual({ balloon_max: '4194304', balloon_min: '0', balloon_cur: '4194304', balloon_target: '4194304' });
    expect(stats['network']).toMatchObject({ testnet0: { name: 'testnet0', macAddr: MAC0, rx: '1250000', tx: '0', sampleTime: 42 } });
    expect(stats['cpuActual']).toBe(false);
    expect((stats['disks'] as Record<string, unknown>)['vda']).toMatchObject({ readRate: '409.6', readOps: '10', readLatency: '0' });
  });

  it('a zero interval gives zero rates rather than Infinity or NaN; counters that went back give 0', () => {
    const { first, last } = bulkSamples();
    const flat = vmStats(makeVm(), entry({ first, last, interval: 0 }), opts);
    expect(flat).toMatchObject({ cpuUser: '0.00', cpuSys: '0.00', cpuActual: false });
    expect((flat['disks'] as Record<string, Record<string, string>>)['vda']!['readRate']).toBe('0.0');
    const reset = vmStats(makeVm(), entry({ first: last, last: first, interval: 15 }), opts);
    expect(reset).toMatchObject({ cpuUser: '0.00', cpuSys: '0.00' });
    expect((reset['disks'] as Record<string, Record<string, string>>)['vda']!['readRate']).toBe('0.0');
  });
});
