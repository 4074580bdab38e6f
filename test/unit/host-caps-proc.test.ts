import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseCpuInfo } from '../../src/virt/host/caps/cpuinfo.js';
import { cpuTopologyFromSysfs, nodeOfCpu } from '../../src/virt/host/caps/cpu-topology.js';
import { hugepageSizeOfDir, hugepageState, parseThpEnabled } from '../../src/virt/host/caps/hugepages.js';
import { compressIpv6, parseIfInet6 } from '../../src/virt/host/caps/if-inet6.js';
import { ipInfo, parseIpAddrJson, parseIpv4DefaultRoutes, parseIpv6DefaultRoutes } from '../../src/virt/host/caps/ip-addresses.js';
import { parseIdList } from '../../src/virt/host/caps/key-value.js';
import { commandOfStat, cpuTicksOfStat, ksmCpuPercent, ksmState } from '../../src/virt/host/caps/ksm.js';
import { nodeMemFree, parseNodeMeminfo, parseNumaBalancing } from '../../src/virt/host/caps/numa.js';
import { parseOsRelease } from '../../src/virt/host/caps/os-release.js';
import { kernelVersion, splitDebianVersion } from '../../src/virt/host/caps/packages.js';
import { parseNameservers } from '../../src/virt/host/caps/resolv-conf.js';
import { kdumpStatus, selinuxMode } from '../../src/virt/host/caps/security.js';
import { fcModel, fcName, hbaInventory, parseInitiatorName } from '../../src/virt/host/caps/storage-hba.js';

const host = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'caps', 'host', name), 'utf8');

describe('/proc/cpuinfo', () => {
  it('reads this machine: one block per CPU, model, MHz and flags of the first', () => {
    const info = parseCpuInfo(host('cpuinfo'));
    expect(info.processors).toBe(2);
    expect(info.modelName).toMatch(/\S/);
    expect(Number(info.mhz)).toBeGreaterThan(0);
    expect(info.flags).toContain('fpu');
    expect(new Set(info.flags).size).toBe(info.flags.length);
  });

  it('reads POWER and ARM spellings', () => {
    expect(parseCpuInfo('processor\t: 0\ncpu\t\t: POWER9 (architected)\nclock\t\t: 2750.000000MHz\n')).toMatchObject({ modelName: 'POWER9 (architected)', mhz: '2750.000000' });
    expect(parseCpuInfo('processor\t: 0\nFeatures\t: fp asimd evtstrm\n').flags).toEqual(['fp', 'asimd', 'evtstrm']);
  });
});

describe('CPU topology from sysfs', () => {
  it('counts sockets, cores (distinct socket/die/core) and threads (online CPUs)', () => {
    const cpus = [0, 1, 2, 3, 4, 5, 6, 7].map((id) => ({ id, packageId: id < 4 ? 0 : 1, dieId: 0, coreId: id % 2, node: id < 4 ? 0 : 1 }));
    const topology = cpuTopologyFromSysfs(cpus);
    expect(topology).toMatchObject({ sockets: 2, cores: 4, threads: 8, onlineCpus: [0, 1, 2, 3, 4, 5, 6, 7] });
    expect(topology.cpuTopology[5]).toEqual({ cpu_id: 5, numa_cell_id: 1, socket_id: 1, die_id: 0, core_id: 1 });
  });

  it('reads id lists and node links', () => {
    expect(parseIdList('0-3,8,10-11\n')).toEqual([0, 1, 2, 3, 8, 10, 11]);
    expect(parseIdList('')).toEqual([]);
    expect(nodeOfCpu(['cache', 'node1', 'topology'])).toBe(1);
    expect(nodeOfCpu(['topology'])).toBe(0);
  });
});

describe('NUMA', () => {
  it('reads a node meminfo of this machine and gives free MiB and used percent', () => {
    const memory = parseNodeMeminfo(host('node0-meminfo'));
    expect(memory.totalKiB).toBeGreaterThan(memory.freeKiB);
    const free = nodeMemFree(memory);
    expect(Number(free.memFree)).toBe(Math.floor(memory.freeKiB / 1024));
    expect(free.memPercent).toBeGreaterThanOrEqual(0);
    expect(nodeMemFree({ totalKiB: 1024 * 1024, freeKiB: 256 * 1024 })).toEqual({ memFree: '256', memPercent: 75 });
  });

  it('maps numa_balancing to 0/1/2', () => {
    expect(parseNumaBalancing('0\n')).toBe(0);
    expect(parseNumaBalancing('1\n')).toBe(1);
    expect(parseNumaBalancing('2\n')).toBe(1);
    expect(parseNumaBalancing(undefined)).toBe(2);
  });
});

describe('huge pages and THP', () => {
  it('reads sizes, counters and what VMs may take', () => {
    expect(hugepageSizeOfDir('hugepages-2048kB')).toBe(2048);
    expect(hugepageSizeOfDir('other')).toBeUndefined();
    const state = hugepageState({ nr_hugepages: 10, free_hugepages: 4 }, 6);
    expect(state).toMatchObject({ nr_hugepages: 10, free_hugepages: 4, resv_hugepages: 0, 'vm.free_hugepages': 0 });
    expect(parseThpEnabled('always [madvise] never\n')).toBe('madvise');
    expect(parseThpEnabled(undefined)).toBeUndefined();
  });
});

describe('KSM', () => {
  it('reads its state and ksmd CPU ticks from this machine', () => {
    expect(ksmState({ run: 1, pages_to_scan: 100, merge_across_nodes: 0, pages_sharing: 5 })).toEqual({ running: true, pagesToScan: 100, mergeAcrossNodes: false, pagesSharing: 5 });
    const stat = host('ksmd-stat');
    expect(commandOfStat(stat)).toBe('ksmd');
    expect(cpuTicksOfStat(stat)).toBeGreaterThanOrEqual(0);
    expect(cpuTicksOfStat('12 (a b) S 2 0 0 0 -1 0 0 0 0 0 30 12 0 0')).toBe(42);
  });

  it('gives ksmd CPU as a percentage of one CPU between two samples', () => {
    expect(ksmCpuPercent(100, 150, 10)).toBe(5);
    expect(ksmCpuPercent(undefined, 150, 10)).toBe(0);
    expect(ksmCpuPercent(100, 150, 0)).toBe(0);
  });
});

describe('system files', () => {
  it('reads this machine os-release with Debian point release', () => {
    expect(parseOsRelease(host('os-release'), '12.11\n')).toEqual({ name: 'Debian', version: '12.11', release: '', pretty_name: 'Debian GNU/Linux 12 (bookworm)' });
    const rhel = 'NAME="Red Hat Enterprise Linux"\nVERSION="9.4 (Plow)"\nID="rhel"\nVERSION_ID="9.4"\nPRETTY_NAME="Red Hat Enterprise Linux 9.4 (Plow)"\n';
    expect(parseOsRelease(rhel)).toEqual({ name: 'RHEL', version: '9.4', release: 'Plow', pretty_name: 'Red Hat Enterprise Linux 9.4 (Plow)' });
  });

  it('reads name servers in order', () => {
    expect(parseNameservers('# generated\nsearch example.com\nnameserver 10.0.0.1\nnameserver fd00::53\n')).toEqual(['10.0.0.1', 'fd00::53']);
  });

  it('reads IPv6 addresses of this machine', () => {
    const addresses = parseIfInet6(host('if_inet6'));
    expect(addresses.some((a) => a.device === 'lo' && a.address === '::1' && a.prefixLength === 128)).toBe(true);
    expect(compressIpv6('fe800000000000000000000000000001')).toBe('fe80::1');
    expect(compressIpv6('20010db8000000010000000000000000')).toBe('2001:db8:0:1::');
  });

  it('reads the iSCSI initiator and FC adapters in the engine shape', () => {
    const name = parseInitiatorName('## comment\nInitiatorName=iqn.1994-05.com.redhat:abcdef\n');
    expect(name).toBe('iqn.1994-05.com.redhat:abcdef');
    expect(parseInitiatorName(undefined)).toBe('');
    const fc = { wwpn: fcName('0x10000000c9a1b2c3\n'), wwnn: fcName('0x20000000c9a1b2c3'), model: fcModel('LPe12002', undefined) };
    expect(hbaInventory(name, [fc])).toEqual({ iSCSI: [{ InitiatorName: name }], FC: [{ wwpn: '10000000c9a1b2c3', wwnn: '20000000c9a1b2c3', model: 'LPe12002 - Unknown' }] });
    expect(hbaInventory('', [])).toEqual({ iSCSI: [], FC: [] });
  });

  it('reads SELinux and kdump as vdsm reports them', () => {
    expect(selinuxMode('1\n')).toBe(1);
    expect(selinuxMode('0')).toBe(0);
    expect(selinuxMode(undefined)).toBe(-1);
    expect(kdumpStatus(undefined, undefined)).toBe(-1);
    expect(kdumpStatus('0\n', undefined)).toBe(0);
    expect(kdumpStatus('1\n', 'path /var/crash\nfence_kdump_nodes engine.example.com\n')).toBe(1);
    expect(kdumpStatus('1\n', 'path /var/crash\n')).toBe(0);
    expect(kdumpStatus('1\n', undefined)).toBe(-1);
  });

  it('splits Debian versions and the kernel release', () => {
    expect(splitDebianVersion('1:7.2+dfsg-7+deb12u18+b3')).toEqual({ version: '7.2+dfsg', release: '7+deb12u18+b3' });
    expect(splitDebianVersion('9.0.0-4+deb12u2\n')).toEqual({ version: '9.0.0', release: '4+deb12u2' });
    expect(splitDebianVersion('2.0')).toEqual({ version: '2.0', release: '' });
    expect(splitDebianVersion('')).toBeUndefined();
    expect(kernelVersion('6.1.0-18-amd64\n')).toEqual({ version: '6.1.0', release: '18-amd64' });
  });
});

describe('addresses and routes', () => {
  it('reads this machine addresses, routes and builds the device address fields', () => {
    const links = parseIpAddrJson(host('ip-addr.json'));
    const eth0 = links.find((l) => l.name === 'eth0');
    expect(eth0?.addresses.length).toBeGreaterThan(0);
    const v4 = parseIpv4DefaultRoutes(host('route'));
    const v6 = parseIpv6DefaultRoutes(host('ipv6_route'));
    const info = ipInfo(eth0?.addresses ?? [], v4.get('eth0'), v6.get('eth0'));
    expect(info.addr).toBe('192.0.2.2');
    expect(info.netmask).toBe('255.255.255.0');
    expect(info.ipv4addrs).toEqual(['192.0.2.2/24']);
    expect(info.ipv6addrs.every((a) => !a.startsWith('fe80'))).toBe(true);
    expect(info.gateway).toBe('192.0.2.1');
    expect(info.ipv4defaultroute).toBe(true);
  });

  it('picks the address in the gateway subnet and marks DHCP', () => {
    const info = ipInfo(
      [
        { family: 'inet', local: '10.1.0.5', prefixlen: 16, scope: 'global', dynamic: false },
        { family: 'inet', local: '192.168.1.7', prefixlen: 24, scope: 'global', dynamic: true },
      ],
      '192.168.1.1',
    );
    expect(info).toMatchObject({ addr: '192.168.1.7', netmask: '255.255.255.0', dhcpv4: true, dhcpv6: false, ipv6gateway: '::' });
  });

  it('decodes /proc/net/route gateways', () => {
    const route = 'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\nens3\t00000000\t0102A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n';
    expect(parseIpv4DefaultRoutes(route).get('ens3')).toBe('192.168.2.1');
  });
});
