/**
 * The kernel operations of a setup and of its rollback, exactly: bridges, VLANs and bonds (this
 * machine's kernel has no VLAN or bonding driver, so these plans are checked here and not run).
 */
import { describe, expect, it } from 'vitest';
import type { NetConfig, NetworkAttrs } from '../../src/network/config.js';
import type { KernelLink, KernelState } from '../../src/network/kernel.js';
import { bondOptionArgs, setupPlan } from '../../src/network/plan.js';
import { devicesPhase, linksPhase, routesPhase } from '../../src/network/rollback-plan.js';

function link(name: string, extra: Partial<KernelLink> = {}): KernelLink {
  return { name, ifindex: 0, kind: '', mtu: 1500, up: true, hwaddr: '52:54:00:00:00:01', addresses: [], ...extra };
}

function kernel(links: KernelLink[], routes: KernelState['routes'] = []): KernelState {
  return { links: new Map(links.map((l) => [l.name, l])), routes };
}

const NET: NetworkAttrs = { mtu: 1500, bridged: true, stp: false, bootproto: 'none', defaultRoute: false, nameservers: [], dhcpv6: false, ipv6autoconf: false, switch: 'legacy' };
const config = (networks: NetConfig['networks'], bonds: NetConfig['bonds'] = {}): NetConfig => ({ networks, bonds });
const EMPTY = config({});

const installed = kernel([link('eth0', { addresses: [{ family: 'inet', local: '192.0.2.10', prefixlen: 24 }] }), link('eth1')], [{ family: 'inet', dst: 'default', gateway: '192.0.2.1', dev: 'eth0' }]);
const ovirtmgmt: NetworkAttrs = { ...NET, nic: 'eth0', ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1', defaultRoute: true };

describe('setup plans', () => {
  it("moves the host's address from its NIC onto the management bridge, then the default route", () => {
    expect(setupPlan(EMPTY, config({ ovirtmgmt }), installed)).toEqual([
      ['link', 'set', 'eth0', 'mtu', '1500'],
      ['link', 'add', 'ovirtmgmt', 'type', 'bridge', 'stp_state', '0'],
      ['link', 'set', 'ovirtmgmt', 'mtu', '1500'],
      ['addr', 'flush', 'dev', 'eth0', 'scope', 'global'],
      ['link', 'set', 'eth0', 'master', 'ovirtmgmt'],
      ['link', 'set', 'eth0', 'up'],
      ['link', 'set', 'ovirtmgmt', 'up'],
      ['addr', 'replace', '192.0.2.10/24', 'dev', 'ovirtmgmt'],
      ['route', 'replace', 'default', 'via', '192.0.2.1', 'dev', 'ovirtmgmt'],
    ]);
  });

  it('puts a bridgeless network on a VLAN device of its NIC, with its MTU on both', () => {
    const storage: NetworkAttrs = { ...NET, bridged: false, nic: 'eth1', vlan: 20, mtu: 9000, ipaddr: '198.51.100.5', netmask: '255.255.255.0' };
    expect(setupPlan(EMPTY, config({ storage }), installed)).toEqual([
      ['link', 'set', 'eth1', 'mtu', '9000'],
      ['link', 'add', 'link', 'eth1', 'name', 'eth1.20', 'type', 'vlan', 'id', '20'],
      ['link', 'set', 'eth1.20', 'mtu', '9000'],
      ['link', 'set', 'eth1', 'up'],
      ['link', 'set', 'eth1.20', 'up'],
      ['addr', 'replace', '198.51.100.5/24', 'dev', 'eth1.20'],
    ]);
  });

  it('builds a bond of two NICs with its options, and a bridged VLAN network on it', () => {
    const host = kernel([link('eth1'), link('eth2')]);
    const vmnet: NetworkAttrs = { ...NET, bonding: 'bond0', vlan: 100 };
    expect(setupPlan(EMPTY, config({ vmnet }, { bond0: { nics: ['eth1', 'eth2'], options: 'mode=4 miimon=100', switch: 'legacy' } }), host)).toEqual([
      ['link', 'add', 'bond0', 'type', 'bond', 'mode', '4', 'miimon', '100'],
      ['link', 'set', 'eth1', 'down'],
      ['link', 'set', 'eth1', 'master', 'bond0'],
      ['link', 'set', 'eth1', 'up'],
      ['link', 'set', 'eth2', 'down'],
      ['link', 'set', 'eth2', 'master', 'bond0'],
      ['link', 'set', 'eth2', 'up'],
      ['link', 'set', 'bond0', 'up'],
      ['link', 'set', 'bond0', 'mtu', '1500'],
      ['link', 'add', 'link', 'bond0', 'name', 'bond0.100', 'type', 'vlan', 'id', '100'],
      ['link', 'set', 'bond0.100', 'mtu', '1500'],
      ['link', 'add', 'vmnet', 'type', 'bridge', 'stp_state', '0'],
      ['link', 'set', 'vmnet', 'mtu', '1500'],
      ['link', 'set', 'bond0.100', 'master', 'vmnet'],
      ['link', 'set', 'bond0', 'up'],
      ['link', 'set', 'bond0.100', 'up'],
      ['link', 'set', 'vmnet', 'up'],
    ]);
  });

  it('changes a bond in place: a slave leaves, another joins, options change', () => {
    const host = kernel([link('bond0', { kind: 'bond' }), link('eth1', { master: 'bond0' }), link('eth2', { master: 'bond0' }), link('eth3')]);
    const from = config({}, { bond0: { nics: ['eth1', 'eth2'], options: 'mode=1', switch: 'legacy' } });
    const to = config({}, { bond0: { nics: ['eth1', 'eth3'], options: 'mode=1 miimon=200', switch: 'legacy' } });
    expect(setupPlan(from, to, host)).toEqual([
      ['link', 'set', 'bond0', 'type', 'bond', 'mode', '1', 'miimon', '200'],
      ['link', 'set', 'eth2', 'nomaster'],
      ['link', 'set', 'eth1', 'up'],
      ['link', 'set', 'eth3', 'down'],
      ['link', 'set', 'eth3', 'master', 'bond0'],
      ['link', 'set', 'eth3', 'up'],
      ['link', 'set', 'bond0', 'up'],
    ]);
  });

  it('removes a network with its bridge and the VLAN device no other network uses, and a bond', () => {
    const host = kernel([link('eth1', { master: 'bond0' }), link('bond0', { kind: 'bond' }), link('bond0.100', { kind: 'vlan', vlan: { link: 'bond0', id: 100 }, master: 'vmnet' }), link('vmnet', { kind: 'bridge' })]);
    const from = config({ vmnet: { ...NET, bonding: 'bond0', vlan: 100 } }, { bond0: { nics: ['eth1'], switch: 'legacy' } });
    expect(setupPlan(from, EMPTY, host)).toEqual([
      ['link', 'del', 'vmnet'],
      ['link', 'del', 'bond0.100'],
      ['link', 'del', 'bond0'],
    ]);
  });

  it('changes the MTU and address of the management network in place, without taking it down', () => {
    const host = kernel([link('eth0', { master: 'ovirtmgmt' }), link('ovirtmgmt', { kind: 'bridge', addresses: [{ family: 'inet', local: '192.0.2.10', prefixlen: 24 }] })]);
    const plan = setupPlan(config({ ovirtmgmt }), config({ ovirtmgmt: { ...ovirtmgmt, mtu: 9000, ipaddr: '192.0.2.20' } }), host);
    expect(plan).not.toContainEqual(['link', 'del', 'ovirtmgmt']);
    expect(plan).toContainEqual(['link', 'set', 'ovirtmgmt', 'mtu', '9000']);
    expect(plan).toContainEqual(['addr', 'del', '192.0.2.10/24', 'dev', 'ovirtmgmt']);
    expect(plan).toContainEqual(['addr', 'replace', '192.0.2.20/24', 'dev', 'ovirtmgmt']);
  });

  it('rebuilds a network whose NIC changes, and builds again one whose device vanished', () => {
    const host = kernel([link('eth0', { master: 'ovirtmgmt' }), link('eth1'), link('ovirtmgmt', { kind: 'bridge' })]);
    const moved = setupPlan(config({ ovirtmgmt }), config({ ovirtmgmt: { ...ovirtmgmt, nic: 'eth1' } }), host);
    expect(moved.slice(0, 2)).toEqual([['link', 'del', 'ovirtmgmt'], ['link', 'set', 'eth1', 'mtu', '1500']]);
    expect(moved).toContainEqual(['link', 'add', 'ovirtmgmt', 'type', 'bridge', 'stp_state', '0']);
    const rebooted = setupPlan(config({ ovirtmgmt }), config({ ovirtmgmt }), installed);
    expect(rebooted).toContainEqual(['link', 'add', 'ovirtmgmt', 'type', 'bridge', 'stp_state', '0']);
    expect(setupPlan(config({ ovirtmgmt }), config({ ovirtmgmt }), host)).toEqual([]);
  });

  it('leaves the address to the DHCP client, dropping a static one first', () => {
    const host = kernel([link('eth0', { master: 'ovirtmgmt' }), link('ovirtmgmt', { kind: 'bridge', addresses: [{ family: 'inet', local: '192.0.2.10', prefixlen: 24 }] })]);
    const dhcp = { ...NET, nic: 'eth0', bootproto: 'dhcp' as const };
    const plan = setupPlan(config({ ovirtmgmt }), config({ ovirtmgmt: dhcp }), host);
    expect(plan).toContainEqual(['addr', 'del', '192.0.2.10/24', 'dev', 'ovirtmgmt']);
    expect(plan.some((op) => op[0] === 'route')).toBe(false);
  });

  it('refuses names and bond options that are not plain words, whatever validation let through', () => {
    expect(() => setupPlan(EMPTY, config({ 'a;b': { ...NET } }), installed)).toThrow(/refusing device name/);
    expect(() => bondOptionArgs('mode=1 miimon=$(reboot)')).toThrow(/refusing bond option/);
    expect(bondOptionArgs('mode=802.3ad xmit_hash_policy=layer3+4')).toEqual(['mode', '802.3ad', 'xmit_hash_policy', 'layer3+4']);
  });
});

describe('rollback plans', () => {
  const after = kernel(
    [link('eth0', { master: 'ovirtmgmt' }), link('eth1'), link('ovirtmgmt', { kind: 'bridge', addresses: [{ family: 'inet', local: '192.0.2.99', prefixlen: 24 }] })],
    [{ family: 'inet', dst: 'default', gateway: '192.0.2.1', dev: 'ovirtmgmt' }],
  );

  it('deletes what the setup created and creates what it deleted', () => {
    expect(linksPhase(after, installed)).toEqual([['link', 'del', 'ovirtmgmt']]);
    const withVlan = kernel([...installed.links.values(), link('eth1.20', { kind: 'vlan', vlan: { link: 'eth1', id: 20 } })]);
    expect(linksPhase(installed, withVlan)).toEqual([['link', 'add', 'link', 'eth1', 'name', 'eth1.20', 'type', 'vlan', 'id', '20']]);
  });

  it("puts back each link's master, MTU, state and addresses, then the routes", () => {
    const bridgeGone = kernel([link('eth0', { mtu: 9000 }), link('eth1', { up: false })]);
    expect(devicesPhase(bridgeGone, installed)).toEqual([
      ['link', 'set', 'eth0', 'mtu', '1500'],
      ['-4', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0'],
      ['link', 'set', 'eth1', 'up'],
    ]);
    expect(devicesPhase(after, installed)).toEqual([['link', 'set', 'eth0', 'nomaster'], ['-4', 'addr', 'add', '192.0.2.10/24', 'dev', 'eth0']]);
    expect(routesPhase(after, installed)).toEqual([
      ['-4', 'route', 'del', 'default', 'via', '192.0.2.1', 'dev', 'ovirtmgmt'],
      ['-4', 'route', 'add', 'default', 'via', '192.0.2.1', 'dev', 'eth0'],
    ]);
  });
});
