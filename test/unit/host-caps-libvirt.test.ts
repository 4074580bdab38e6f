import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuFlags, parseDomainCapabilities } from '../../src/virt/host/caps/domain-capabilities.js';
import { emulatedMachines, parseLibvirtCapabilities, topologyFromCells } from '../../src/virt/host/caps/libvirt-capabilities.js';
import { hostDevicesByCaps, parseNodeDevice, pciAddressToName } from '../../src/virt/host/caps/node-device.js';
import { parseSysinfoSystem } from '../../src/virt/host/caps/hardware.js';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'caps', name), 'utf8');

describe('libvirt capabilities', () => {
  it('reads a QEMU host: UUID, CPU, cells with distances and pages', () => {
    const caps = parseLibvirtCapabilities(fixture('qemu-capabilities.xml'));
    expect(caps.uuid).toBe('4c4c4544-0044-4810-8031-b4c04f4d4d32');
    expect(caps.arch).toBe('x86_64');
    expect(caps.cpuModel).toBe('Skylake-Server-IBRS');
    expect(caps.topology).toEqual({ sockets: 1, dies: 1, cores: 2, threads: 2 });
    expect(caps.iommu).toBe(true);
    expect(caps.pageSizesKiB).toEqual([4, 2048, 1048576]);
    expect(caps.cells).toHaveLength(2);
    expect(caps.cells[0]?.memoryKiB).toBe(8388608);
    expect(caps.cells[0]?.distances).toEqual([{ id: 0, value: 10 }, { id: 1, value: 21 }]);
    expect(caps.cells[0]?.pages).toContainEqual({ sizeKiB: 2048, count: 16 });
  });

  it('lists KVM machine types with their canonical names, once each', () => {
    const machines = emulatedMachines(parseLibvirtCapabilities(fixture('qemu-capabilities.xml')), 'x86_64');
    expect(machines.sort()).toEqual(['pc', 'pc-i440fx-7.2', 'pc-q35-7.2', 'q35']);
  });

  it('falls back to the arch-level machines when KVM lists none', () => {
    const caps = parseLibvirtCapabilities(fixture('qemu-capabilities.xml'));
    expect(emulatedMachines(caps, 'i686')).toEqual(['pc-i440fx-6.0']);
    expect(emulatedMachines(caps, 'aarch64')).toEqual([]);
  });

  it('counts topology over the cells as vdsm does, leaving out CPUs without placement', () => {
    const topology = topologyFromCells(parseLibvirtCapabilities(fixture('qemu-capabilities.xml')).cells);
    expect(topology).toEqual({ sockets: 2, cores: 4, threads: 7, onlineCpus: [0, 1, 2, 3, 4, 5, 6] });
  });

  it('reads the test driver: two cells of eight CPUs, no machines, no UUID', () => {
    const caps = parseLibvirtCapabilities(fixture('testdriver-capabilities.xml'));
    expect(caps.uuid).toBeUndefined();
    expect(caps.arch).toBe('i686');
    expect(caps.cells.map((c) => c.cpus.length)).toEqual([8, 8]);
    expect(caps.guests.length).toBeGreaterThan(0);
    expect(emulatedMachines(caps, 'i686')).toEqual([]);
    expect(topologyFromCells(caps.cells).threads).toBe(16);
  });
});

describe('domain capabilities', () => {
  it('gives the usable custom models and the host model required features', () => {
    const dom = parseDomainCapabilities(fixture('qemu-domcapabilities.xml'));
    expect(dom.usableModels).toEqual(['qemu64', 'Nehalem', 'Skylake-Server-IBRS']);
    expect(dom.hostModelFeatures).toEqual(['ss', 'arch-capabilities', 'md-clear']);
    expect(dom.hostModel).toBe('Skylake-Server-IBRS');
  });

  it('builds cpuFlags: kernel flags, features, spec_ctrl for an IBRS model, then model_ flags', () => {
    const flags = cpuFlags(['fpu', 'vmx', 'ss'], parseDomainCapabilities(fixture('qemu-domcapabilities.xml')));
    expect(flags).toEqual(['fpu', 'vmx', 'ss', 'arch-capabilities', 'md-clear', 'spec_ctrl', 'model_qemu64', 'model_Nehalem', 'model_Skylake-Server-IBRS']);
    expect(flags).not.toContain('model_Icelake-Server');
    expect(flags).not.toContain('model_EPYC');
  });

  it('without domain capabilities (test driver) the flags are the kernel flags only', () => {
    expect(cpuFlags(['fpu', 'fpu', 'sse2'], undefined)).toEqual(['fpu', 'sse2']);
  });
});

describe('node devices', () => {
  it('reads a PCI virtual function in the hostdev shape', () => {
    const device = parseNodeDevice(fixture('nodedev-pci.xml'));
    expect(device.name).toBe('pci_0000_3b_00_1');
    expect(device.params).toEqual({
      capability: 'pci',
      is_assignable: 'true',
      vendor: 'Intel Corporation',
      vendor_id: '0x8086',
      product: '82599 Ethernet Controller Virtual Function',
      product_id: '0x10ed',
      address: { domain: '0', bus: '59', slot: '0', function: '1' },
      iommu_group: '42',
      numa_node: '1',
      physfn: 'pci_0000_3b_00_0',
      driver: 'ixgbevf',
      parent: 'pci_0000_3a_00_0',
    });
  });

  it('a PCI bridge cannot be assigned', () => {
    expect(parseNodeDevice(fixture('nodedev-bridge.xml')).params.is_assignable).toBe('false');
  });

  it('reads the test driver devices and filters by capability', () => {
    const scsi = parseNodeDevice(fixture('testdriver-nodedev-scsi-host.xml'));
    expect(scsi.params).toMatchObject({ capability: 'scsi_host', parent: 'computer' });
    const pci = parseNodeDevice(fixture('nodedev-pci.xml'));
    expect(Object.keys(hostDevicesByCaps([scsi, pci], ['pci']))).toEqual(['pci_0000_3b_00_1']);
    expect(Object.keys(hostDevicesByCaps([scsi, pci]))).toHaveLength(2);
  });

  it('names PCI addresses as libvirt does', () => {
    expect(pciAddressToName({ domain: '0x0000', bus: '0x3b', slot: '0x1f', function: '0x2' })).toBe('pci_0000_3b_1f_2');
  });
});

describe('sysinfo', () => {
  it('reads the system entries; the test driver has only a BIOS', () => {
    expect(parseSysinfoSystem(fixture('testdriver-sysinfo.xml'))).toEqual({});
    const xml = `<sysinfo type='smbios'><system><entry name='manufacturer'>Dell Inc.</entry><entry name='product'>PowerEdge R640</entry>
      <entry name='serial'>7XK2M13</entry><entry name='uuid'>4c4c4544-0058-4b10-8032-b7c04f4d3133</entry><entry name='family'></entry></system></sysinfo>`;
    expect(parseSysinfoSystem(xml)).toEqual({ systemManufacturer: 'Dell Inc.', systemProductName: 'PowerEdge R640', systemSerialNumber: '7XK2M13', systemUUID: '4c4c4544-0058-4b10-8032-b7c04f4d3133' });
  });
});
