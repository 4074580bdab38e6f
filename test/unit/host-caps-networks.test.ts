// capabilities' networks and netConfigDirty from the helper's configurations and a fixture host,
// and which devices count as NICs (vdsm's fake_nics and hidden_nics).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { capabilitiesAnswer } from '../../src/api/host-capabilities.js';
import { loadConfig } from '../../src/config/load.js';
import { daemonSettings } from '../../src/daemon/settings.js';
import type { NetConfig, NetworkAttrs } from '../../src/network/config.js';
import { gatherCapabilityFacts, type LibvirtSources } from '../../src/virt/host/caps/gather.js';
import { matchesAny } from '../../src/virt/host/caps/name-patterns.js';
import { parseNetConfig } from '../../src/network/config.js';
import { bridgeSouthbound, netConfigDirty, reportedNetworks } from '../../src/virt/host/caps/networks.js';
import type { NetworkDevices } from '../../src/virt/host/caps/network-devices.js';
import { readManagedNetworks, readNetworkDevices, type NetworkCapsOptions } from '../../src/virt/host/caps/read-network.js';
import { answerViolations } from '../helpers/contract.js';
import { memoryHostFiles } from '../helpers/host-files.js';

const CONFIG_DIR = '/var/lib/hostvisor/netconf';
const VDSM_NAMES = { fake: ['dummy_*', 'veth_*'], hidden: ['w*', 'usb*'] };
const OPTIONS: NetworkCapsOptions = { configDir: CONFIG_DIR, nicNames: VDSM_NAMES };

function network(attrs: Partial<NetworkAttrs>): NetworkAttrs {
  return { mtu: 1500, bridged: true, stp: false, bootproto: 'none', defaultRoute: false, nameservers: [], dhcpv6: false, ipv6autoconf: false, switch: 'legacy', ...attrs };
}

/** ovirtmgmt bridged over ens1 (a VM's vnet0 on it too), storage bridgeless on VLAN 20 over ens2. */
const RUNNING: NetConfig = {
  networks: {
    ovirtmgmt: network({ nic: 'ens1', ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1', defaultRoute: true }),
    storage: network({ nic: 'ens2', vlan: 20, bridged: false, mtu: 9000, ipaddr: '198.51.100.5', netmask: '255.255.255.0' }),
  },
  bonds: {},
};

/** The host's /sys/class/net, the routes and iproute2's links, with `running` and `safe` saved when given. */
function host(configs: { running?: NetConfig | string; safe?: NetConfig | string } = {}): ReturnType<typeof memoryHostFiles> {
  const tree: Record<string, string> = {
    '/proc/stat': 'cpu  10 0 10 80 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0\nbtime 1700000000\n',
    '/proc/net/route': 'Iface\tDestination\tGateway\tFlags\tRefCnt\tUse\tMetric\tMask\novirtmgmt\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\n',
    '/proc/sys/net/ipv6/conf/ovirtmgmt/autoconf': '0\n',
    '/proc/sys/net/ipv6/conf/ens2.20/autoconf': '1\n',
  };
  const net = (name: string, files: Record<string, string>) => {
    for (const [file, text] of Object.entries(files)) tree[`/sys/class/net/${name}/${file}`] = text;
  };
  net('lo', { address: '00:00:00:00:00:00\n', mtu: '65536\n' });
  net('ens1', { address: '52:54:00:aa:bb:01\n', mtu: '1500\n', speed: '1000\n', 'device/vendor': '0x1af4\n' });
  net('ens2', { address: '52:54:00:aa:bb:02\n', mtu: '9000\n', speed: '10000\n', 'device/vendor': '0x1af4\n' });
  net('ens2.20', { address: '52:54:00:aa:bb:02\n', mtu: '9000\n' });
  net('ovirtmgmt', { address: '52:54:00:aa:bb:01\n', mtu: '1500\n', 'bridge/stp_state': '0\n', 'brif/ens1': '', 'brif/vnet0': '' });
  net('vnet0', { address: 'fe:54:00:00:00:01\n', mtu: '1500\n' });
  net('veth_host', { address: '0a:00:00:00:00:01\n', mtu: '1500\n' });
  net('veth0', { address: '0a:00:00:00:00:02\n', mtu: '1500\n' });
  net('dummy_1', { address: '0a:00:00:00:00:03\n', mtu: '1500\n' });
  net('wlp3s0', { address: '0a:00:00:00:00:04\n', mtu: '1500\n', 'device/vendor': '0x8086\n' });
  net('usb0', { address: '0a:00:00:00:00:05\n', mtu: '1500\n', 'device/vendor': '0x0bda\n' });
  for (const [file, config] of Object.entries({ 'running.json': configs.running, 'safe.json': configs.safe })) {
    if (config !== undefined) tree[`${CONFIG_DIR}/${file}`] = typeof config === 'string' ? config : JSON.stringify(config);
  }
  const ip = JSON.stringify([
    { ifname: 'lo', addr_info: [{ family: 'inet', local: '127.0.0.1', prefixlen: 8, scope: 'host' }] },
    { ifname: 'ens1', addr_info: [] },
    { ifname: 'ens2', addr_info: [] },
    { ifname: 'ens2.20', link: 'ens2', linkinfo: { info_kind: 'vlan', info_data: { protocol: '802.1Q', id: 20 } }, addr_info: [{ family: 'inet', local: '198.51.100.5', prefixlen: 24, scope: 'global' }] },
    {
      ifname: 'ovirtmgmt',
      linkinfo: { info_kind: 'bridge' },
      addr_info: [
        { family: 'inet', local: '192.0.2.10', prefixlen: 24, scope: 'global' },
        { family: 'inet6', local: 'fe80::5054:ff:feaa:bb01', prefixlen: 64, scope: 'link' },
      ],
    },
    { ifname: 'vnet0', linkinfo: { info_kind: 'tun' }, addr_info: [] },
    { ifname: 'veth_host', linkinfo: { info_kind: 'veth' }, addr_info: [] },
    { ifname: 'veth0', linkinfo: { info_kind: 'veth' }, addr_info: [] },
    { ifname: 'dummy_1', linkinfo: { info_kind: 'dummy' }, addr_info: [] },
    { ifname: 'wlp3s0', addr_info: [] },
    { ifname: 'usb0', addr_info: [] },
  ]);
  return memoryHostFiles(tree, { 'ip -j -d addr show': ip });
}

const NO_ADDRESS = { addr: '', netmask: '', ipv4addrs: [], ipv6addrs: [], gateway: '', ipv6gateway: '::', ipv4defaultroute: false, dhcpv4: false, dhcpv6: false };

describe('which devices are NICs', () => {
  it('reports veth and dummy devices matching fake_nics, and never those matching hidden_nics', () => {
    const nics = readNetworkDevices(host(), VDSM_NAMES).nics;
    expect(Object.keys(nics)).toEqual(['dummy_1', 'ens1', 'ens2', 'veth_host']);
    expect(nics['veth_host']).toEqual({ ...NO_ADDRESS, hwaddr: '0a:00:00:00:00:01', mtu: '1500', speed: 0, ipv6autoconf: false });
  });

  it('takes only hardware-backed devices for NICs when given no patterns', () => {
    expect(Object.keys(readNetworkDevices(host()).nics)).toEqual(['ens1', 'ens2', 'usb0', 'wlp3s0']);
  });

  it('matches names as fnmatch does', () => {
    expect(matchesAny('veth_a1', ['dummy_*', 'veth_*'])).toBe(true);
    expect(matchesAny('veth0', ['veth_*'])).toBe(false);
    expect(matchesAny('wlan0', ['w*'])).toBe(true);
    expect(matchesAny('eth1', ['eth?'])).toBe(true);
    expect(matchesAny('eth10', ['eth?'])).toBe(false);
    expect(matchesAny('eth1', ['eth[0-2]'])).toBe(true);
    expect(matchesAny('eth1', ['eth[!0-2]'])).toBe(false);
    expect(matchesAny('a]', ['a[]]'])).toBe(true);
    expect(matchesAny('a[b', ['a[b'])).toBe(true);
    expect(matchesAny('a.b', ['a?b', 'x'])).toBe(true);
    expect(matchesAny('axb', ['a.b'])).toBe(false);
    expect(matchesAny('anything', [])).toBe(false);
  });
});

describe('the managed networks', () => {
  const devices = readNetworkDevices(host(), VDSM_NAMES);

  it('reports a bridged network over a NIC with the addresses of its bridge', () => {
    expect(reportedNetworks(RUNNING, devices).networks['ovirtmgmt']).toEqual({
      bridged: true,
      iface: 'ovirtmgmt',
      ports: ['ens1', 'vnet0'],
      stp: 'off',
      southbound: 'ens1',
      switch: 'legacy',
      mtu: '1500',
      addr: '192.0.2.10',
      netmask: '255.255.255.0',
      ipv4addrs: ['192.0.2.10/24'],
      ipv6addrs: [],
      gateway: '192.0.2.1',
      ipv6gateway: '::',
      ipv4defaultroute: true,
      dhcpv4: false,
      dhcpv6: false,
      ipv6autoconf: false,
    });
  });

  it('reports a bridgeless network on a VLAN with its device, southbound and VLAN id', () => {
    expect(reportedNetworks(RUNNING, devices).networks['storage']).toEqual({
      bridged: false,
      iface: 'ens2.20',
      interface: 'ens2.20',
      southbound: 'ens2.20',
      vlanid: 20,
      switch: 'legacy',
      mtu: '9000',
      addr: '198.51.100.5',
      netmask: '255.255.255.0',
      ipv4addrs: ['198.51.100.5/24'],
      ipv6addrs: [],
      gateway: '',
      ipv6gateway: '::',
      ipv4defaultroute: false,
      dhcpv4: false,
      dhcpv6: false,
      ipv6autoconf: true,
    });
  });

  it('leaves out a network whose device does not exist, and names it', () => {
    const running: NetConfig = {
      networks: { ...RUNNING.networks, gone: network({ nic: 'ens9' }), vlan30: network({ nic: 'ens2', vlan: 30, bridged: false }) },
      bonds: {},
    };
    const reported = reportedNetworks(running, devices);
    expect(Object.keys(reported.networks)).toEqual(['ovirtmgmt', 'storage']);
    expect(reported.missingNetworks).toEqual(['gone', 'vlan30']);
  });

  it('takes a bridge port that is a bond before a NIC, and none when several are alike', () => {
    const bond = { ...NO_ADDRESS, hwaddr: '52:54:00:aa:bb:03', slaves: ['ens3', 'ens4'], active_slave: '', opts: { mode: '4' }, mtu: '1500', ipv6autoconf: false };
    const bonded: NetworkDevices = { ...devices, bondings: { bond0: bond } };
    expect(bridgeSouthbound(['vnet0', 'ens1', 'bond0'], bonded)).toBe('bond0');
    expect(bridgeSouthbound(['ens1', 'ens2'], devices)).toBeNull();
    expect(bridgeSouthbound(['vnet0'], devices)).toBeNull();
    expect(bridgeSouthbound(['ens2.20', 'vnet0'], devices)).toBe('ens2.20');
  });

  it('says the configuration is dirty when the running one is not the safe one', () => {
    const edited: NetConfig = { networks: { ovirtmgmt: RUNNING.networks['ovirtmgmt']! }, bonds: {} };
    expect(netConfigDirty(RUNNING, structuredClone(RUNNING))).toBe('False');
    expect(netConfigDirty(RUNNING, edited)).toBe('True');
    expect(readManagedNetworks(host({ running: RUNNING, safe: RUNNING }), CONFIG_DIR, devices).netConfigDirty).toBe('False');
    expect(readManagedNetworks(host({ running: RUNNING, safe: edited }), CONFIG_DIR, devices).netConfigDirty).toBe('True');
    expect(readManagedNetworks(host({ running: RUNNING }), CONFIG_DIR, devices).netConfigDirty).toBe('True');
  });

  it('takes missing, unreadable or malformed files for the empty configuration', () => {
    expect(readManagedNetworks(host(), CONFIG_DIR, devices)).toEqual({ networks: {}, missingNetworks: [], netConfigDirty: 'False' });
    expect(readManagedNetworks(host({ running: RUNNING, safe: RUNNING }), undefined, devices)).toEqual({ networks: {}, missingNetworks: [], netConfigDirty: 'False' });
    expect(parseNetConfig('{"networks": ')).toEqual({ networks: {}, bonds: {} });
    expect(parseNetConfig('[1]')).toEqual({ networks: {}, bonds: {} });
    expect(parseNetConfig('{"networks": {"a": 1, "b": {"bridged": false}}}')).toEqual({ networks: { b: { bridged: false } }, bonds: {} });
  });
});

describe('Host.getCapabilities with managed networks', () => {
  const fixture = (name: string) => readFileSync(join(__dirname, '..', 'fixtures', 'caps', name), 'utf8');
  const sources: LibvirtSources = {
    type: 'TEST',
    libVersion: 9000000,
    nodeInfo: { model: 'i686', memoryKiB: 3145728, cpus: 16, mhz: 1400, nodes: 2, sockets: 2, cores: 2, threads: 2 },
    capabilitiesXml: fixture('testdriver-capabilities.xml'),
    domainCapabilitiesXml: null,
  };
  const running: NetConfig = { networks: { ...RUNNING.networks, gone: network({ nic: 'ens9' }) }, bonds: {} };

  it('answers the networks, netConfigDirty and the fake NICs in the contract shapes, without the missing ones', () => {
    const facts = gatherCapabilityFacts(host({ running }), sources, { network: OPTIONS });
    expect(facts.missingNetworks).toEqual(['gone']);
    const answer = capabilitiesAnswer(facts, { agent: { version: '0.1.0', release: '1' } });
    expect(answerViolations('Host.getCapabilities', answer)).toEqual([]);
    expect(Object.keys(answer['networks'] as object)).toEqual(['ovirtmgmt', 'storage']);
    expect(answer['netConfigDirty']).toBe('True');
    expect(answer).not.toHaveProperty('missingNetworks');
    expect(Object.keys(answer['nics'] as object)).toContain('veth_host');
    const { switch: _switch, ...withoutSwitch } = facts.networks['ovirtmgmt']!;
    expect(answerViolations('Host.getCapabilities', { ...answer, networks: { ovirtmgmt: withoutSwitch } }).join()).toMatch(/switch/);
  });

  it('takes the settings from the [network] section, vdsm\'s patterns by default', () => {
    expect(daemonSettings(loadConfig().config).sampling.network).toEqual({ configDir: CONFIG_DIR, nicNames: VDSM_NAMES });
    const { config } = loadConfig({ env: { HOSTVISOR_NETWORK_FAKE_NICS: 'veth*', HOSTVISOR_NETWORK_CONFIG_DIR: '/tmp/netconf' } });
    expect(daemonSettings(config).sampling.network).toEqual({ configDir: '/tmp/netconf', nicNames: { fake: ['veth*'], hidden: ['w*', 'usb*'] } });
  });
});
