// The engine's setupNetworks request in vdsm's canonical form (vdsm's canonicalize.py; the rules
// are written down in docs/networking.md, "The request").
import { describe, expect, it } from 'vitest';
import {
  canonicalizeSetupNetworks,
  DEFAULT_CONNECTIVITY_TIMEOUT,
  type CanonicalRequest,
  type HostNetworkFacts,
} from '../../src/network/canonicalize.js';
import { EMPTY_NET_CONFIG, type NetConfig, type NetworkAttrs } from '../../src/network/config.js';
import { INSTALL_NETWORK, refusal } from '../helpers/network-requests.js';

const RESOLV_CONF = ['192.0.2.53'];
const HOST: HostNetworkFacts = {
  running: EMPTY_NET_CONFIG,
  kernel: { nics: ['eth0', 'eth1', 'eth2', 'eth3'], bonds: {}, vlans: {}, bridges: [] },
  nameservers: RESOLV_CONF,
};

function canonicalize(networks: unknown, bondings: unknown = {}, options: unknown = {}, host: HostNetworkFacts = HOST): CanonicalRequest {
  return canonicalizeSetupNetworks({ networks, bondings, options }, host);
}

function net(attrs: Record<string, unknown>, host?: HostNetworkFacts): NetworkAttrs {
  return canonicalize({ net1: attrs }, {}, {}, host).networks['net1'] as NetworkAttrs;
}

const INSTALL_OPTIONS = { connectivityCheck: 'true', commitOnSuccess: true, connectivityTimeout: 120 };

/** What vdsm stores for it as nets/ovirtmgmt. */
const STORED_OVIRTMGMT: NetworkAttrs = {
  nic: 'eth0', mtu: 1500, bridged: true, stp: false, bootproto: 'none',
  ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1',
  defaultRoute: true, dhcpv6: false, ipv6autoconf: false, nameservers: ['192.0.2.53'], switch: 'legacy',
};

describe('the engine install request', () => {
  it("canonicalizes to vdsm's stored nets/ovirtmgmt and typed options", () => {
    const request = canonicalize({ ovirtmgmt: INSTALL_NETWORK }, {}, INSTALL_OPTIONS);
    expect(request.networks).toStrictEqual({ ovirtmgmt: STORED_OVIRTMGMT });
    expect(request.bonds).toStrictEqual({});
    expect(request.options).toStrictEqual({ connectivityCheck: true, connectivityTimeout: 120, commitOnSuccess: true });
  });

  it('DHCP host: bootproto dhcp and no nameservers from resolv.conf', () => {
    const { ipaddr: _a, netmask: _n, gateway: _g, ...rest } = INSTALL_NETWORK;
    const ovirtmgmt = canonicalize({ ovirtmgmt: { ...rest, bootproto: 'dhcp' } }).networks['ovirtmgmt'];
    const { ipaddr: _sa, netmask: _sn, gateway: _sg, ...stored } = STORED_OVIRTMGMT;
    expect(ovirtmgmt).toStrictEqual({ ...stored, bootproto: 'dhcp', nameservers: [] });
  });

  it('VLAN host: the tag string becomes a number', () => {
    const ovirtmgmt = canonicalize({ ovirtmgmt: { ...INSTALL_NETWORK, vlan: '100' } }).networks['ovirtmgmt'];
    expect(ovirtmgmt).toStrictEqual({ ...STORED_OVIRTMGMT, vlan: 100 });
  });

  it('bond host: the network names the bond, whose slaves are sorted', () => {
    const { nic: _nic, ...rest } = INSTALL_NETWORK;
    const request = canonicalize(
      { ovirtmgmt: { ...rest, bonding: 'bond0' } },
      { bond0: { nics: ['eth2', 'eth1'], switch: 'legacy', options: 'mode=4 miimon=100' } },
    );
    const { nic: _sn, ...stored } = STORED_OVIRTMGMT;
    expect(request.networks['ovirtmgmt']).toStrictEqual({ ...stored, bonding: 'bond0' });
    expect(request.bonds).toStrictEqual({ bond0: { nics: ['eth1', 'eth2'], options: 'mode=4 miimon=100', switch: 'legacy' } });
  });
});

describe('network defaults and normalisation', () => {
  it('fills in what the request leaves out', () => {
    expect(net({ nic: 'eth1' })).toStrictEqual({
      nic: 'eth1', mtu: 1500, bridged: true, stp: false, bootproto: 'none', defaultRoute: false,
      dhcpv6: false, ipv6autoconf: false, nameservers: [], switch: 'legacy',
    });
  });

  it('reads mtu and vlan as Python int() does; an empty vlan is none', () => {
    expect(net({ nic: 'eth1', mtu: '9000', vlan: ' 20 ' })).toMatchObject({ mtu: 9000, vlan: 20 });
    expect(net({ nic: 'eth1', vlan: '' })).not.toHaveProperty('vlan');
    expect(refusal(() => net({ nic: 'eth1', vlan: 'ten' }))).toEqual({ code: 26, message: 'VLAN id must be a number between 0 and 4094' });
    expect(refusal(() => net({ nic: 'eth1', mtu: 'jumbo' }))).toEqual({ code: 21, message: "net1: mtu must be an integer, not 'jumbo'" });
  });

  it('turns prefix into netmask', () => {
    expect(net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: '24' })).toMatchObject({ netmask: '255.255.255.0' });
    expect(net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: 20 })).toMatchObject({ netmask: '255.255.240.0' });
    expect(net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: '0' })).toMatchObject({ netmask: '0.0.0.0' });
    expect(net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: 0 })).not.toHaveProperty('netmask'); // falsy: ignored
  });

  it('refuses prefix with netmask (21) and a bad prefix (22)', () => {
    expect(refusal(() => net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: '24', netmask: '255.255.255.0' }))).toEqual({
      code: 21,
      message: 'Both PREFIX and NETMASK supplied',
    });
    expect(refusal(() => net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: '33' }))).toEqual({
      code: 22,
      message: 'Bad prefix: 33 is not a valid prefix value. It must be between 0 and 32',
    });
    expect(refusal(() => net({ nic: 'eth1', ipaddr: '10.0.0.5', prefix: '/24' }))).toEqual({
      code: 22,
      message: "Bad prefix: invalid literal for int() with base 10: '/24'",
    });
  });

  it('writes ipv6addr compressed, with its prefix length', () => {
    expect(net({ nic: 'eth1', ipv6addr: '2001:0DB8:0000:0000:0000:0000:0000:0010/64' })).toMatchObject({ ipv6addr: '2001:db8::10/64' });
    expect(net({ nic: 'eth1', ipv6addr: '2001:db8:0:1:0:0:0:1' })).toMatchObject({ ipv6addr: '2001:db8:0:1::1/128' });
    expect(refusal(() => net({ nic: 'eth1', ipv6addr: '2001:db8::g/64' }))).toEqual({
      code: 22,
      message: "'2001:db8::g/64' does not appear to be an IPv4 or IPv6 interface",
    });
  });

  it('sorts bridge_opts and keeps the other custom properties', () => {
    const custom = net({ nic: 'eth1', custom: { bridge_opts: 'multicast_snooping=0  forward_delay=2', vnic_profile: 'x' } }).custom;
    expect(custom).toStrictEqual({ bridge_opts: 'forward_delay=2 multicast_snooping=0', vnic_profile: 'x' });
  });

  it('keeps an explicit ipv6gateway as given', () => {
    expect(net({ nic: 'eth1', ipv6addr: '2001:db8::5/64', ipv6gateway: '::' })).toMatchObject({ ipv6gateway: '::' });
  });
});

describe("vdsm's boolean quirks", () => {
  const check = (value: unknown): boolean => canonicalize({}, {}, { connectivityCheck: value }).options.connectivityCheck;

  it('tobool: true, "true" in any case and numeric strings; a JSON 1 is false', () => {
    expect(canonicalize({}).options.connectivityCheck).toBe(true); // absent: on
    for (const yes of [true, 'true', 'TRUE', 'True', '1', ' 2 ', '-1']) expect(check(yes), String(yes)).toBe(true);
    for (const no of [false, 'false', 'yes', 'on', '0', '', null, 1, 0, 2]) expect(check(no), String(no)).toBe(false);
  });

  it('tobool decides bridged and remove too', () => {
    expect(net({ nic: 'eth1', bridged: 'false' }).bridged).toBe(false);
    expect(net({ nic: 'eth1', bridged: 'True' }).bridged).toBe(true);
    expect(net({ nic: 'eth1', bridged: 1 }).bridged).toBe(false);
    expect(net({ nic: 'eth1', bridged: '1' }).bridged).toBe(true);
    expect(canonicalize({ net1: { remove: '1' } }).networks['net1']).toStrictEqual({ remove: true });
    // A JSON 1 is no removal: the entry is a (NIC-less, bridged) network.
    expect(canonicalize({ net1: { remove: 1 } }).networks['net1']).toMatchObject({ bridged: true, mtu: 1500 });
  });

  it('STP: a bool or on/yes/true, off/no/false in any case; `stp` wins over `STP`; only when bridged', () => {
    expect(net({ nic: 'eth1', STP: 'yes' }).stp).toBe(true);
    expect(net({ nic: 'eth1', STP: 'ON' }).stp).toBe(true);
    expect(net({ nic: 'eth1', STP: 'off' }).stp).toBe(false);
    expect(net({ nic: 'eth1', stp: true, STP: 'no' }).stp).toBe(true);
    expect(net({ nic: 'eth1', bridged: 'false', STP: 'maybe' }).stp).toBe(false);
    expect(refusal(() => net({ nic: 'eth1', STP: 'maybe' }))).toEqual({ code: 21, message: '"maybe" is not a valid bridge STP value.' });
  });

  it('connectivityTimeout is int() with a 4 s default; commitOnSuccess is Python truth', () => {
    expect(canonicalize({}).options).toStrictEqual({ connectivityCheck: true, connectivityTimeout: DEFAULT_CONNECTIVITY_TIMEOUT, commitOnSuccess: false });
    expect(DEFAULT_CONNECTIVITY_TIMEOUT).toBe(4);
    expect(canonicalize({}, {}, { connectivityTimeout: '30' }).options.connectivityTimeout).toBe(30);
    expect(canonicalize({}, {}, { commitOnSuccess: 'false' }).options.commitOnSuccess).toBe(true); // a non-empty string
    expect(canonicalize({}, {}, { commitOnSuccess: 0 }).options.commitOnSuccess).toBe(false);
    expect(refusal(() => canonicalize({}, {}, { connectivityTimeout: 'soon' }))).toEqual({
      code: 21,
      message: "connectivityTimeout must be a number of seconds, not 'soon'",
    });
  });
});

describe('default route', () => {
  const running: NetConfig = {
    networks: { ovirtmgmt: STORED_OVIRTMGMT, storage: { ...STORED_OVIRTMGMT, nic: 'eth1', defaultRoute: false, nameservers: [], bridged: false, stp: false } },
    bonds: {},
  };
  const host: HostNetworkFacts = { ...HOST, running };

  it('allows one default-route network per request', () => {
    expect(refusal(() => canonicalize({ a: { nic: 'eth1', defaultRoute: true }, b: { nic: 'eth2', defaultRoute: true } }))).toEqual({
      code: 21,
      message: 'Only a single default route network is allowed.',
    });
  });

  it('takes the deprecated custom default_route over defaultRoute', () => {
    expect(net({ nic: 'eth1', custom: { default_route: 'true' } }).defaultRoute).toBe(true);
    expect(net({ nic: 'eth1', defaultRoute: true, custom: { default_route: 'false' } }).defaultRoute).toBe(false);
  });

  it('moves it: the running network that had it is set up again without it and its nameservers', () => {
    const request = canonicalize({ mgmt2: { nic: 'eth2', ipaddr: '198.51.100.2', netmask: '255.255.255.0', gateway: '198.51.100.1', defaultRoute: true } }, {}, {}, host);
    expect(Object.keys(request.networks)).toEqual(['mgmt2', 'ovirtmgmt']);
    expect(request.networks['ovirtmgmt']).toStrictEqual({ ...STORED_OVIRTMGMT, defaultRoute: false, nameservers: [] });
    expect(request.networks['mgmt2']).toMatchObject({ defaultRoute: true, nameservers: RESOLV_CONF });
  });

  it('leaves the running network alone when the request names it, or moves no route', () => {
    expect(Object.keys(canonicalize({ mgmt2: { nic: 'eth2', defaultRoute: true }, ovirtmgmt: { remove: 'true' } }, {}, {}, host).networks)).toEqual([
      'mgmt2',
      'ovirtmgmt',
    ]);
    expect(canonicalize({ mgmt2: { nic: 'eth2', defaultRoute: true }, ovirtmgmt: { remove: 'true' } }, {}, {}, host).networks['ovirtmgmt']).toStrictEqual({ remove: true });
    expect(Object.keys(canonicalize({ net3: { nic: 'eth3' } }, {}, {}, host).networks)).toEqual(['net3']);
  });
});

describe('nameservers', () => {
  it("default to resolv.conf's only on the static default-route network", () => {
    expect(net({ nic: 'eth1', ipaddr: '10.0.0.5', netmask: '255.0.0.0', defaultRoute: true }).nameservers).toEqual(RESOLV_CONF);
    expect(net({ nic: 'eth1', bootproto: 'dhcp', defaultRoute: true }).nameservers).toEqual([]);
    expect(net({ nic: 'eth1', ipaddr: '10.0.0.5', netmask: '255.0.0.0' }).nameservers).toEqual([]);
  });

  it('are kept as given, an empty list or null included', () => {
    expect(net({ nic: 'eth1', defaultRoute: true, nameservers: ['198.51.100.53'] }).nameservers).toEqual(['198.51.100.53']);
    expect(net({ nic: 'eth1', defaultRoute: true, nameservers: [] }).nameservers).toEqual([]);
    expect(net({ nic: 'eth1', defaultRoute: true, nameservers: null }).nameservers).toEqual([]);
  });

  it('is a copy, not the host list itself', () => {
    const servers = net({ nic: 'eth1', defaultRoute: true }).nameservers;
    expect(servers).not.toBe(RESOLV_CONF);
  });
});

describe('removal', () => {
  it('is `{remove: true}`, custom properties allowed', () => {
    expect(canonicalize({ net1: { remove: 'true', custom: { x: 'y' } } }, { bond1: { remove: 'true' } })).toMatchObject({
      networks: { net1: { remove: true } },
      bonds: { bond1: { remove: true } },
    });
    expect(canonicalize({ net1: { remove: 'true', custom: { x: 'y' } } }).networks['net1']).toStrictEqual({ remove: true });
  });

  it('refuses other attributes (21)', () => {
    expect(refusal(() => canonicalize({ net1: { remove: 'true', nic: 'eth1' } }))).toEqual({
      code: 21,
      message: 'Cannot specify any attribute when removing (except custom)).',
    });
  });
});

describe('what hostvisor cannot do', () => {
  it('refuses the OVS switch (21)', () => {
    const message = "hostvisor supports only the legacy switch type; network net1 asks for 'ovs'";
    expect(refusal(() => net({ nic: 'eth1', switch: 'ovs' }))).toEqual({ code: 21, message });
    expect(refusal(() => net({ nic: 'eth1', custom: { ovs: 'true' } }))).toEqual({ code: 21, message });
    expect(refusal(() => canonicalize({}, { bond0: { nics: ['eth1', 'eth2'], switch: 'ovs' } }))).toEqual({
      code: 21,
      message: "hostvisor supports only the legacy switch type; bond bond0 asks for 'ovs'",
    });
  });

  it('refuses host network QoS (21)', () => {
    expect(refusal(() => net({ nic: 'eth1', hostQos: { out: { ls: { m2: 100 } } } }))).toEqual({
      code: 21,
      message: 'hostvisor does not support host network QoS (hostQos of network net1)',
    });
  });

  it('refuses values of the wrong JSON type (21)', () => {
    expect(refusal(() => canonicalize([]))).toEqual({ code: 21, message: 'networks must be a map' });
    expect(refusal(() => net({ nic: ['eth1'] }))).toEqual({ code: 21, message: "net1: nic must be a string, not ['eth1']" });
    expect(refusal(() => net({ nic: 'eth1', dhcpv6: 'false' }))).toEqual({ code: 21, message: "net1: dhcpv6 must be true or false, not 'false'" });
    expect(refusal(() => canonicalize({}, { bond0: { nics: 'eth1' } }))).toEqual({ code: 21, message: 'bond0: nics must be a list of NIC names' });
  });
});

describe('bonds', () => {
  const kernel = { ...HOST.kernel, bonds: { bond0: { slaves: ['eth3', 'eth2'], hwaddr: '52:54:00:aa:bb:02' } } };

  it('adopts a kernel bond a network names but the request does not define', () => {
    const owned: HostNetworkFacts = { ...HOST, kernel, running: { networks: {}, bonds: { bond0: { nics: ['eth2', 'eth3'], options: 'mode=1', switch: 'legacy' } } } };
    expect(canonicalize({ net1: { bonding: 'bond0' } }, {}, {}, owned).bonds).toStrictEqual({
      bond0: { nics: ['eth2', 'eth3'], options: 'mode=1', switch: 'legacy' },
    });
    // Not ours yet: its MAC is pinned.
    expect(canonicalize({ net1: { bonding: 'bond0' } }, {}, {}, { ...HOST, kernel }).bonds).toStrictEqual({
      bond0: { nics: ['eth2', 'eth3'], hwaddr: '52:54:00:aa:bb:02', switch: 'legacy' },
    });
  });

  it('pins the MAC of an existing bond unless it is ours without one', () => {
    const request = { bond0: { nics: ['eth3', 'eth2'] } };
    expect(canonicalize({}, request, {}, { ...HOST, kernel }).bonds['bond0']).toMatchObject({ hwaddr: '52:54:00:aa:bb:02' });
    const ours = { networks: {}, bonds: { bond0: { nics: ['eth2', 'eth3'], switch: 'legacy' as const } } };
    expect(canonicalize({}, request, {}, { ...HOST, kernel, running: ours }).bonds['bond0']).not.toHaveProperty('hwaddr');
    const pinned = { networks: {}, bonds: { bond0: { nics: ['eth2', 'eth3'], hwaddr: '52:54:00:00:00:01', switch: 'legacy' as const } } };
    expect(canonicalize({}, request, {}, { ...HOST, kernel, running: pinned }).bonds['bond0']).toMatchObject({ hwaddr: '52:54:00:aa:bb:02' });
    expect(canonicalize({}, { bond0: { nics: ['eth2'], hwaddr: '02:00:00:00:00:09' } }, {}, { ...HOST, kernel }).bonds['bond0']).toMatchObject({
      hwaddr: '02:00:00:00:00:09',
    });
  });
});
