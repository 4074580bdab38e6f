import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { figureSource, figuresFromNodeInfo } from '../../src/virt/host/caps/figures.js';
import { gatherCapabilityFacts, type LibvirtSources } from '../../src/virt/host/caps/gather.js';
import { readCpuTopology } from '../../src/virt/host/caps/read-cpu.js';
import { readHugepages, readKsmdTicks, readNumaNodes } from '../../src/virt/host/caps/read-memory.js';
import { readNetworkDevices } from '../../src/virt/host/caps/read-network.js';
import { readHardwareInfo, readHostdevPassthrough, readPackages, readRngSources } from '../../src/virt/host/caps/read-system.js';
import { cpuStatistics, readStatsFacts } from '../../src/virt/host/caps/stats-facts.js';
import { missingHardwareInfo } from '../../src/virt/host/caps/hardware.js';
import { memoryHostFiles } from '../helpers/host-files.js';

const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'caps', name), 'utf8');

const NODE_INFO = { model: 'x86_64', memoryKiB: 16 * 1024 * 1024, cpus: 8, mhz: 2400, nodes: 2, sockets: 1, cores: 2, threads: 2 };
const TEST_NODE_INFO = { model: 'i686', memoryKiB: 3145728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 };

/** A two-node host: 8 CPUs, 2 sockets of 2 cores of 2 threads, a bridge over a bond of two NICs, a VLAN. */
function twoNodeHost(): Record<string, string> {
  const tree: Record<string, string> = {
    '/proc/cpuinfo': fixture('host/cpuinfo'),
    '/proc/meminfo': 'MemTotal:       16384000 kB\nMemFree:         8192000 kB\nAnonHugePages:    204800 kB\n',
    '/proc/stat': 'cpu  10 0 10 80 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0\nbtime 1700000000\n',
    '/proc/sys/kernel/osrelease': '6.1.0-18-amd64\n',
    '/proc/sys/kernel/numa_balancing': '1\n',
    '/sys/devices/system/cpu/online': '0-7\n',
    '/etc/os-release': fixture('host/os-release'),
    '/etc/debian_version': '12.5\n',
    '/etc/resolv.conf': 'nameserver 10.0.0.53\n',
    '/etc/iscsi/initiatorname.iscsi': 'InitiatorName=iqn.2024-01.org.example:host1\n',
    '/proc/net/if_inet6': '00000000000000000000000000000001 01 80 10 80       lo\n',
    '/proc/net/route': 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\nbr0\t00000000\t0100000A\t0003\t0\t0\t0\t00000000\n',
    '/dev/random': '',
    '/dev/urandom': '',
    '/dev/kvm': '',
    '/sys/kernel/iommu_groups/0/type': 'DMA\n',
    '/sys/class/iommu/dmar0/uevent': '',
    '/sys/kernel/mm/transparent_hugepage/enabled': 'always [madvise] never\n',
    '/sys/kernel/mm/ksm/run': '1\n',
    '/sys/kernel/mm/ksm/pages_to_scan': '64\n',
    '/sys/kernel/mm/ksm/pages_sharing': '2560\n',
    '/proc/2/stat': '2 (kthreadd) S 0 0 0 0 -1 0 0 0 0 0 0 0 0 0\n',
    '/proc/57/stat': fixture('host/ksmd-stat').replace(/^\d+ /, '57 '),
    '/sys/class/fc_host/host5/port_name': '0x10000000c9a1b2c3\n',
    '/sys/class/fc_host/host5/node_name': '0x20000000c9a1b2c3\n',
    '/sys/class/fc_host/host5/device/scsi_host/host5/modelname': 'LPe12002\n',
    '/sys/class/fc_host/host5/device/scsi_host/host5/modeldesc': 'Emulex 8Gb FC HBA\n',
  };
  for (let cpu = 0; cpu < 8; cpu++) {
    const dir = `/sys/devices/system/cpu/cpu${cpu}`;
    tree[`${dir}/topology/physical_package_id`] = `${cpu < 4 ? 0 : 1}\n`;
    tree[`${dir}/topology/die_id`] = '0\n';
    tree[`${dir}/topology/core_id`] = `${Math.floor((cpu % 4) / 2)}\n`;
    tree[`${dir}/node${cpu < 4 ? 0 : 1}/x`] = '';
  }
  for (const node of [0, 1]) {
    const dir = `/sys/devices/system/node/node${node}`;
    tree[`${dir}/cpulist`] = node === 0 ? '0-3\n' : '4-7\n';
    tree[`${dir}/meminfo`] = `Node ${node} MemTotal:       8192000 kB\nNode ${node} MemFree:        4096000 kB\n`;
    tree[`${dir}/distance`] = node === 0 ? '10 21\n' : '21 10\n';
    tree[`${dir}/hugepages/hugepages-2048kB/nr_hugepages`] = '8\n';
    tree[`${dir}/hugepages/hugepages-2048kB/free_hugepages`] = '2\n';
  }
  for (const counter of ['nr_hugepages', 'free_hugepages', 'resv_hugepages', 'surplus_hugepages', 'nr_hugepages_mempolicy', 'nr_overcommit_hugepages']) {
    tree[`/sys/kernel/mm/hugepages/hugepages-2048kB/${counter}`] = counter === 'nr_hugepages' ? '16\n' : counter === 'free_hugepages' ? '4\n' : '0\n';
  }
  const net = (name: string, files: Record<string, string>) => {
    for (const [file, text] of Object.entries(files)) tree[`/sys/class/net/${name}/${file}`] = text;
  };
  net('lo', { address: '00:00:00:00:00:00\n', mtu: '65536\n' });
  net('ens1', { address: '52:54:00:00:00:01\n', mtu: '9000\n', speed: '10000\n', 'device/vendor': '0x8086\n' });
  net('ens2', { address: '52:54:00:00:00:02\n', mtu: '9000\n', 'device/vendor': '0x8086\n' });
  net('bond0', { address: '52:54:00:00:00:01\n', mtu: '9000\n', 'bonding/slaves': 'ens1 ens2\n', 'bonding/active_slave': 'ens1\n', 'bonding/mode': 'active-backup 1\n', 'bonding/miimon': '100\n' });
  net('br0', { address: '52:54:00:00:00:01\n', mtu: '1500\n', 'bridge/stp_state': '0\n', 'bridge/forward_delay': '1500\n', 'brif/bond0.100': '' });
  net('bond0.100', { address: '52:54:00:00:00:01\n', mtu: '1500\n' });
  return tree;
}

const IP_JSON = JSON.stringify([
  { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
  { ifname: 'bond0.100', link: 'bond0', linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 100 } }, addr_info: [] },
  { ifname: 'br0', linkinfo: { info_kind: 'bridge' }, addr_info: [{ family: 'inet', local: '10.0.0.5', prefixlen: 24, scope: 'global', dynamic: true }, { family: 'inet6', local: 'fe80::1', prefixlen: 64, scope: 'link' }] },
]);

const PROGRAMS = {
  'ip -j -d addr show': IP_JSON,
  'dpkg-query -W -f=${Version} libvirt-daemon': '9.0.0-4+deb12u2',
  'dpkg-query -W -f=${Version} qemu-kvm': '',
  'dpkg-query -W -f=${Version} qemu-system-x86': '1:7.2+dfsg-7+deb12u18+b3',
};

function qemuSources(): LibvirtSources {
  return { type: 'QEMU', libVersion: 9000000, nodeInfo: NODE_INFO, capabilitiesXml: fixture('qemu-capabilities.xml'), domainCapabilitiesXml: fixture('qemu-domcapabilities.xml') };
}

describe('capability readers on a fixture tree', () => {
  const files = memoryHostFiles(twoNodeHost(), PROGRAMS);

  it('reads CPU topology and NUMA nodes from sysfs', () => {
    const topology = readCpuTopology(files);
    expect(topology).toMatchObject({ sockets: 2, cores: 4, threads: 8, onlineCpus: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(topology.cpuTopology[6]).toEqual({ cpu_id: 6, numa_cell_id: 1, socket_id: 1, die_id: 0, core_id: 1 });
    const nodes = readNumaNodes(files);
    expect(nodes.map((n) => n.cpus)).toEqual([[0, 1, 2, 3], [4, 5, 6, 7]]);
    expect(nodes[1]?.hugepages).toEqual({ 2048: { total: 8, free: 2 } });
  });

  it('finds ksmd among the processes and reads huge pages', () => {
    expect(readKsmdTicks(files)?.pid).toBe(57);
    expect(readKsmdTicks(files, 57)?.pid).toBe(57);
    expect(readHugepages(files, { 2048: 1 })[2048]).toMatchObject({ nr_hugepages: 16, free_hugepages: 4, 'vm.free_hugepages': 3 });
  });

  it('reads NICs, the bond, the VLAN and the bridge in the engine shapes', () => {
    const net = readNetworkDevices(files);
    expect(Object.keys(net.nics)).toEqual(['ens1', 'ens2']);
    expect(net.nics['ens1']).toMatchObject({ hwaddr: '52:54:00:00:00:01', mtu: '9000', speed: 10000 });
    expect(net.nics['ens2']?.speed).toBe(0);
    expect(net.bondings['bond0']).toMatchObject({ slaves: ['ens1', 'ens2'], active_slave: 'ens1', opts: { mode: '1', miimon: '100' }, mtu: '9000' });
    expect(net.vlans['bond0.100']).toMatchObject({ iface: 'bond0', vlanid: 100, mtu: 1500 });
    expect(net.bridges['br0']).toMatchObject({ ports: ['bond0.100'], stp: 'off', addr: '10.0.0.5', netmask: '255.255.255.0', gateway: '10.0.0.1', dhcpv4: true, ipv6addrs: [] });
    expect(net.nics['lo']).toBeUndefined();
  });

  it('reads packages with release, falling back along Debian names', () => {
    const packages = readPackages(files, { libvirtVersion: 9000000, agent: { version: '0.1.0', release: '1' } });
    expect(packages).toEqual({
      kernel: { version: '6.1.0', release: '18-amd64' },
      libvirt: { version: '9.0.0', release: '4+deb12u2' },
      'qemu-kvm': { version: '7.2+dfsg', release: '7+deb12u18+b3' },
      vdsm: { version: '0.1.0', release: '1' },
    });
    expect(readPackages(memoryHostFiles({}), { libvirtVersion: 10001002 })['libvirt']).toEqual({ version: '10.1.2', release: '' });
  });

  it('reads rng sources without urandom and passthrough from IOMMU groups and units', () => {
    expect(readRngSources(files)).toEqual(['random']);
    expect(readHostdevPassthrough(files, 'x86_64')).toBe(true);
    expect(readHostdevPassthrough(memoryHostFiles({ '/sys/kernel/iommu_groups/0/type': '' }), 'x86_64')).toBe(false);
    expect(readHostdevPassthrough(memoryHostFiles({ '/sys/kernel/iommu_groups/0/type': '' }), 'ppc64le')).toBe(true);
  });

  it('reads hardware info from DMI, then libvirt sysinfo for the root-only fields, leaving gaps', () => {
    const dmi = memoryHostFiles({ '/sys/class/dmi/id/sys_vendor': 'Dell Inc.\n', '/sys/class/dmi/id/product_name': 'PowerEdge R640\n' });
    const sysinfo = "<sysinfo type='smbios'><system><entry name='manufacturer'>Other</entry><entry name='serial'>7XK2M13</entry></system></sysinfo>";
    const info = readHardwareInfo(dmi, sysinfo);
    expect(info).toEqual({ systemManufacturer: 'Dell Inc.', systemProductName: 'PowerEdge R640', systemSerialNumber: '7XK2M13' });
    expect(missingHardwareInfo(info)).toEqual(['systemVersion', 'systemUUID', 'systemFamily']);
  });
});

describe('gathered capabilities', () => {
  it('on a real hypervisor: the host figures, libvirt machines and model flags', () => {
    const facts = gatherCapabilityFacts(memoryHostFiles(twoNodeHost(), PROGRAMS), qemuSources());
    expect(facts.figureSource).toBe('host');
    expect(facts).toMatchObject({ cpuSockets: '2', cpuCores: '4', cpuThreads: '8', onlineCpus: '0,1,2,3,4,5,6,7', memSize: '16000', uuid: '4c4c4544-0044-4810-8031-b4c04f4d4d32' });
    expect(facts.numaNodes['0']).toEqual({ cpus: [0, 1, 2, 3], totalMemory: '8000', hugepages: { 2048: { totalPages: '8' } } });
    expect(facts.numaNodeDistance).toEqual({ 0: [10, 21], 1: [21, 10] });
    expect(facts.autoNumaBalancing).toBe(1);
    expect(facts.cpuFlags.split(',')).toContain('model_Skylake-Server-IBRS');
    expect(facts.emulatedMachines).toContain('q35');
    expect(facts.HBAInventory).toEqual({ iSCSI: [{ InitiatorName: 'iqn.2024-01.org.example:host1' }], FC: [{ wwpn: '10000000c9a1b2c3', wwnn: '20000000c9a1b2c3', model: 'LPe12002 - Emulex 8Gb FC HBA' }] });
    expect(facts).toMatchObject({ kvmEnabled: 'true', hostdevPassthrough: 'true', supportsIPv6: true, nameservers: ['10.0.0.53'], bootTime: 1700000000, hugepages: [2048], kdumpStatus: -1, selinux: { mode: '-1' } });
    expect(facts.operatingSystem).toMatchObject({ name: 'Debian', version: '12.5' });
  });

  it('on the test driver: every memory and CPU figure from the driver node, agreeing with each other', () => {
    expect(figureSource('TEST')).toBe('driver');
    expect(figureSource('QEMU')).toBe('host');
    const sources: LibvirtSources = { type: 'TEST', libVersion: 9000000, nodeInfo: TEST_NODE_INFO, capabilitiesXml: fixture('testdriver-capabilities.xml'), domainCapabilitiesXml: null };
    const facts = gatherCapabilityFacts(memoryHostFiles(twoNodeHost(), PROGRAMS), sources);
    expect(facts).toMatchObject({ figureSource: 'driver', memSize: '3072', cpuSockets: '4', cpuCores: '8', cpuThreads: '16', cpuSpeed: '1400', emulatedMachines: [] });
    const nodeMemory = Object.values(facts.numaNodes).reduce((sum, n) => sum + Number(n.totalMemory), 0);
    expect(nodeMemory).toBe(3072);
    expect(Object.values(facts.numaNodes).flatMap((n) => n.cpus)).toEqual(facts.onlineCpus.split(',').map(Number));
    expect(facts.cpuTopology).toHaveLength(16);
    expect(facts.cpuFlags.split(',').some((f) => f.startsWith('model_'))).toBe(false);
  });

  it('figures from node info number CPUs node by node', () => {
    const figures = figuresFromNodeInfo(NODE_INFO);
    expect(figures.topology).toMatchObject({ sockets: 2, cores: 4, threads: 8 });
    expect(figures.numaNodes['1']?.cpus).toEqual([4, 5, 6, 7]);
  });
});

describe('stats readings', () => {
  it('reads KSM, huge pages, node free memory and per-CPU rates between two readings', () => {
    const tree = twoNodeHost();
    const first = readStatsFacts(memoryHostFiles(tree), 'host');
    expect(first).toMatchObject({ ksmState: true, ksmPages: 64, ksmMergeAcrossNodes: true, memShared: 10, thpState: 'madvise', anonHugePagesMiB: 200, bootTime: 1700000000 });
    const free = { memFree: '4000', memPercent: 50, hugepages: { 2048: { freePages: '2' } } };
    expect(first.numaNodeMemFree).toEqual({ 0: free, 1: free });
    tree['/proc/stat'] = 'cpu  40 0 20 140 0 0 0 0\ncpu0 40 0 20 140 0 0 0 0\nbtime 1700000000\n';
    const second = readStatsFacts(memoryHostFiles(tree), 'host');
    expect(cpuStatistics(first, second)).toEqual({ 0: { cpuUser: '30.00', cpuSys: '10.00', cpuIdle: '60.00', nodeIndex: 0 } });
    expect(readStatsFacts(memoryHostFiles(tree), 'driver').numaNodeMemFree).toEqual({});
  });
});
