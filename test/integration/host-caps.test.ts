/** The capability gatherers against this machine's /proc, /sys and /etc and libvirt's test driver. */
import { afterAll, describe, expect, it } from 'vitest';
import { BlockingLibvirt } from '../../src/virt/libvirt/blocking.js';
import {
  figuresFromHost,
  gatherCapabilityFacts,
  hostDevicesByCaps,
  hostFilesAt,
  readHardwareInfo,
  readHostDevices,
  readLibvirtSources,
  readStatsFacts,
} from '../../src/virt/host/caps/index.js';
import { readCpuInfo, readCpuTopology } from '../../src/virt/host/caps/read-cpu.js';
import { readMeminfo, readNumaNodes } from '../../src/virt/host/caps/read-memory.js';

const connection = new BlockingLibvirt('test:///default');
const files = hostFilesAt('/');

afterAll(() => connection.close());

describe('capabilities of this machine on the test driver', () => {
  const sources = readLibvirtSources(connection);
  const facts = gatherCapabilityFacts(files, sources, { agent: { version: '0.1.0', release: '1' } });

  it('has no domain capabilities on the test driver, and says so with null', () => {
    expect(sources.type).toBe('TEST');
    expect(sources.domainCapabilitiesXml).toBeNull();
  });

  it('asks for the emulated accelerator\'s CPU models when libvirt refuses kvm (a host without KVM)', () => {
    const asked: Array<string | undefined> = [];
    const withoutKvm = Object.create(connection, {
      domainCapabilities: {
        value: (options: { virttype?: string } = {}) => {
          asked.push(options.virttype);
          if (options.virttype === 'kvm') throw new Error("invalid argument: the accel 'kvm' is not supported");
          return '<domainCapabilities/>';
        },
      },
    }) as BlockingLibvirt;
    expect(readLibvirtSources(withoutKvm).domainCapabilitiesXml).toBe('<domainCapabilities/>');
    expect(asked).toEqual(['kvm', undefined]);
  });

  it('takes every memory and CPU figure from the driver node, agreeing with each other', () => {
    const node = sources.nodeInfo;
    expect(facts.figureSource).toBe('driver');
    expect(Number(facts.memSize)).toBe(Math.floor(node.memoryKiB / 1024));
    expect(Number(facts.cpuThreads)).toBe(node.cpus);
    expect(Number(facts.cpuSockets)).toBe(node.nodes * node.sockets);
    expect(Number(facts.cpuCores) * node.threads).toBe(node.cpus);
    expect(facts.onlineCpus.split(',')).toHaveLength(node.cpus);
    expect(facts.cpuTopology).toHaveLength(node.cpus);
    expect(Object.keys(facts.numaNodes)).toHaveLength(node.nodes);
    const cellMemory = Object.values(facts.numaNodes).reduce((sum, n) => sum + Number(n.totalMemory), 0);
    expect(Math.abs(cellMemory - Number(facts.memSize))).toBeLessThan(node.nodes);
  });

  it('reads the host facts of this machine in the engine shapes', () => {
    expect(facts.cpuFlags.split(',').length).toBeGreaterThan(5);
    expect(facts.packages2['kernel']?.version).toMatch(/^\d+\.\d+/);
    expect(facts.packages2['libvirt']?.version).toMatch(/^\d+\.\d+/);
    expect(facts.packages2['vdsm']).toEqual({ version: '0.1.0', release: '1' });
    expect(facts.operatingSystem.pretty_name).not.toBe('');
    expect(facts.bootTime).toBeGreaterThan(1_000_000_000);
    expect(Array.isArray(facts.HBAInventory.iSCSI) && Array.isArray(facts.HBAInventory.FC)).toBe(true);
    expect(['true', 'false']).toContain(facts.kvmEnabled);
    expect([-1, 0, 1]).toContain(facts.kdumpStatus);
    expect(Array.isArray(facts.emulatedMachines)).toBe(true);
    for (const nic of Object.values(facts.nics)) expect(nic.mtu).toMatch(/^\d+$/);
  });
});

describe('this machine as a real hypervisor would report it', () => {
  it('has sysfs topology agreeing with /proc/cpuinfo and per-node memory agreeing with /proc/meminfo', () => {
    const topology = readCpuTopology(files);
    const cpuinfo = readCpuInfo(files);
    expect(topology.threads).toBe(cpuinfo.processors);
    expect(topology.onlineCpus).toHaveLength(topology.threads);
    expect(topology.cores).toBeLessThanOrEqual(topology.threads);
    expect(topology.sockets).toBeLessThanOrEqual(topology.cores);
    const nodes = readNumaNodes(files);
    const figures = figuresFromHost({ memTotalKiB: readMeminfo(files)['MemTotal'] ?? 0, cpuMhz: cpuinfo.mhz, topology, numaNodes: nodes });
    expect(Object.values(figures.numaNodes).flatMap((n) => n.cpus).sort((a, b) => a - b)).toEqual(topology.onlineCpus);
    const nodeMemory = Object.values(figures.numaNodes).reduce((sum, n) => sum + n.totalMemoryMiB, 0);
    expect(nodeMemory).toBeLessThanOrEqual(figures.memSizeMiB + nodes.length);
  });

  it('reads stats of this machine', () => {
    const stats = readStatsFacts(files, 'host');
    expect(Object.keys(stats.cpuTimes)).toHaveLength(readCpuTopology(files).threads);
    expect(Object.keys(stats.numaNodeMemFree).length).toBeGreaterThan(0);
    expect(typeof stats.ksmState).toBe('boolean');
  });
});

describe('hardware and devices through the test driver', () => {
  it('lists the test driver node devices in the hostdev shape', () => {
    const devices = hostDevicesByCaps(readHostDevices(connection));
    expect(devices['computer']?.params.capability).toBe('system');
    expect(Object.values(devices).some((d) => d.params.capability === 'scsi_host')).toBe(true);
  });

  it('reads hardware info without failing where DMI and sysinfo say nothing', () => {
    const info = readHardwareInfo(files, connection.sysinfo());
    for (const value of Object.values(info)) expect(typeof value).toBe('string');
  });
});
