// vdsm's setupNetworks checks, in its order and with its codes and texts (vdsm's link/validator.py,
// ip/validator.py, netswitch/validator.py; the codes are in docs/networking.md, "Error codes").
import { describe, expect, it } from 'vitest';
import { canonicalizeSetupNetworks, type HostNetworkFacts, type KernelDevices } from '../../src/network/canonicalize.js';
import { EMPTY_NET_CONFIG, type NetConfig, type NetworkAttrs } from '../../src/network/config.js';
import { INSTALL_NETWORK, refusal } from '../helpers/network-requests.js';
import { applyToConfig, validateSetupNetworks } from '../../src/network/validate.js';

const KERNEL: KernelDevices = { nics: ['eth0', 'eth1', 'eth2', 'eth3'], bonds: {}, vlans: {}, bridges: [] };
const HOST: HostNetworkFacts = { running: EMPTY_NET_CONFIG, kernel: KERNEL, nameservers: ['192.0.2.53'] };

/** A running network as canonicalization leaves it. */
function running(attrs: Partial<NetworkAttrs>): NetworkAttrs {
  return {
    mtu: 1500, bridged: true, stp: false, bootproto: 'none', defaultRoute: false,
    nameservers: [], dhcpv6: false, ipv6autoconf: false, switch: 'legacy', ...attrs,
  };
}

/** ovirtmgmt up on eth0 and storage on bond0 (eth2+eth3) VLAN 20. */
const RUNNING: NetConfig = {
  networks: {
    ovirtmgmt: running({ nic: 'eth0', ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: '192.0.2.1', defaultRoute: true, nameservers: ['192.0.2.53'] }),
    storage: running({ bonding: 'bond0', vlan: 20, bridged: false }),
  },
  bonds: { bond0: { nics: ['eth2', 'eth3'], options: 'mode=1', switch: 'legacy' } },
};
const RUNNING_HOST: HostNetworkFacts = {
  running: RUNNING,
  kernel: { ...KERNEL, bonds: { bond0: { slaves: ['eth2', 'eth3'], hwaddr: '52:54:00:aa:bb:02' } }, vlans: { 'bond0.20': { iface: 'bond0' } }, bridges: ['ovirtmgmt'] },
  nameservers: ['192.0.2.53'],
};

function setup(networks: Record<string, unknown>, bondings: Record<string, unknown> = {}, host: HostNetworkFacts = HOST): void {
  validateSetupNetworks(canonicalizeSetupNetworks({ networks, bondings, options: {} }, host), host);
}


describe('requests vdsm accepts', () => {
  it('the engine install request and its DHCP, VLAN and bond variants', () => {
    const { ipaddr: _a, netmask: _n, gateway: _g, nic: _nic, ...bare } = INSTALL_NETWORK;
    expect(() => setup({ ovirtmgmt: INSTALL_NETWORK })).not.toThrow();
    expect(() => setup({ ovirtmgmt: { ...bare, nic: 'eth0', bootproto: 'dhcp' } })).not.toThrow();
    expect(() => setup({ ovirtmgmt: { ...INSTALL_NETWORK, vlan: '100' } })).not.toThrow();
    expect(() =>
      setup({ ovirtmgmt: { ...bare, bootproto: 'dhcp', bonding: 'bond0' } }, { bond0: { nics: ['eth1', 'eth2'], switch: 'legacy', options: 'mode=4 miimon=100' } }),
    ).not.toThrow();
  });

  it('a NIC-less bridge, VLAN 0, a nameserver with a zone, a kernel bond taken over', () => {
    expect(() => setup({ isolated: {} })).not.toThrow();
    expect(() => setup({ net1: { nic: 'eth1', vlan: '0' } })).not.toThrow();
    expect(() => setup({ net1: { nic: 'eth1', defaultRoute: true, nameservers: ['fe80::1%eth1'] } })).not.toThrow();
    expect(() => setup({ net1: { bonding: 'bond0', vlan: '30' } }, {}, RUNNING_HOST)).not.toThrow();
  });
});

describe('link checks', () => {
  it('25: a bond name, or a bond a network names, that is not bond<word>', () => {
    expect(refusal(() => setup({}, { team0: { nics: ['eth1'] } }))).toEqual({ code: 25, message: 'bad bond name(s): team0' });
    expect(refusal(() => setup({ net1: { bonding: 'agg1' } }))).toEqual({ code: 25, message: 'bad bond name(s): agg1' });
  });

  it('21: a bond without nics', () => {
    expect(refusal(() => setup({}, { bond1: { options: 'mode=1' } }))).toEqual({ code: 21, message: 'bond1: Must specify nics for bonding' });
  });

  it('26: a VLAN with neither nic nor bonding', () => {
    expect(refusal(() => setup({ net1: { vlan: '100' } }))).toEqual({ code: 26, message: 'net1: vlan device requires southbound device' });
  });

  it('come before the address checks', () => {
    expect(refusal(() => setup({ net1: { bonding: 'agg1', ipaddr: 'nonsense' } })).code).toBe(25);
  });
});

describe('address checks', () => {
  const refused = (attrs: Record<string, unknown>) => refusal(() => setup({ net1: { nic: 'eth1', ...attrs } }));

  it('22: ipaddr/netmask that is no IP interface, a missing netmask included', () => {
    expect(refused({ ipaddr: '192.0.2.300', netmask: '255.255.255.0' })).toEqual({
      code: 22,
      message: "'192.0.2.300/255.255.255.0' does not appear to be an IPv4 or IPv6 interface",
    });
    expect(refused({ ipaddr: '192.0.2.10' })).toEqual({ code: 22, message: "'192.0.2.10/' does not appear to be an IPv4 or IPv6 interface" });
    expect(refused({ ipaddr: '192.0.2.10', netmask: '255.0.255.0' }).code).toBe(22);
    expect(() => setup({ net1: { nic: 'eth1', ipaddr: '192.0.2.10', netmask: '0.0.0.255' } })).not.toThrow(); // a hostmask, as Python takes it
  });

  it('22: a gateway that is no address', () => {
    expect(refused({ ipaddr: '192.0.2.10', netmask: '255.255.255.0', gateway: 'router' })).toEqual({
      code: 22,
      message: "'router' does not appear to be an IPv4 or IPv6 interface",
    });
  });

  it('22: a static address with dhcp', () => {
    expect(refused({ ipaddr: '192.0.2.10', prefix: '24', bootproto: 'dhcp' })).toEqual({
      code: 22,
      message: 'mixing static ip configuration with dhcp is not allowed',
    });
  });

  it('22: gateway or netmask without ipaddr', () => {
    const message = 'gateway or netmask were given without ip address';
    expect(refused({ gateway: '192.0.2.1' })).toEqual({ code: 22, message });
    expect(refused({ netmask: '255.255.255.0' })).toEqual({ code: 22, message });
  });

  it('21: nameservers on a network without the default route', () => {
    expect(refused({ nameservers: ['192.0.2.53'] })).toEqual({ code: 21, message: 'Name servers may only be defined on the default host network' });
  });

  it('22: a nameserver that is no address', () => {
    expect(refused({ defaultRoute: true, nameservers: ['192.0.2.53', 'dns.example'] })).toEqual({
      code: 22,
      message: "'dns.example' does not appear to be an IPv4 or IPv6 interface",
    });
  });
});

describe('checks against the desired state (kernel + running + request)', () => {
  it('21: a non-bridged network on no device', () => {
    expect(refusal(() => setup({ net1: { bridged: 'false' } }))).toEqual({
      code: 21,
      message: 'southbound device not specified for non-bridged network "net1"',
    });
  });

  it('21: two networks on one device and VLAN, one of them running', () => {
    const { code, message } = refusal(() => setup({ net2: { nic: 'eth0', bridged: 'false' } }, {}, RUNNING_HOST));
    expect(code).toBe(21);
    expect(message).toMatch(/^multiple networks\/similar vlans cannot be defined on a single underlying device\. kernel networks: \{'ovirtmgmt': /);
    expect(message).toContain("\nrequested networks: {'net2': {'nic': 'eth0', ");
    expect(refusal(() => setup({ a: { nic: 'eth1', vlan: '5' }, b: { nic: 'eth1', vlan: '5' } })).code).toBe(21);
    expect(() => setup({ a: { nic: 'eth1', vlan: '5' }, b: { nic: 'eth1', vlan: '6' }, c: { nic: 'eth1' } })).not.toThrow();
  });

  it('a running network whose device is gone is not in the desired state', () => {
    const gone: HostNetworkFacts = { ...RUNNING_HOST, kernel: { ...RUNNING_HOST.kernel, bridges: [] } };
    expect(() => setup({ net2: { nic: 'eth0', bridged: 'false' } }, {}, gone)).not.toThrow();
  });

  it('27: removing a network that does not exist', () => {
    expect(refusal(() => setup({ nosuch: { remove: 'true' } }, {}, RUNNING_HOST))).toEqual({
      code: 27,
      message: "Cannot delete network nosuch: It doesn't exist in the system",
    });
    expect(() => setup({ ovirtmgmt: { remove: 'true' } }, {}, RUNNING_HOST)).not.toThrow();
  });

  it('26: a VLAN id out of 0..4094', () => {
    expect(refusal(() => setup({ net1: { nic: 'eth1', vlan: '4095' } }))).toEqual({ code: 26, message: 'VLAN id out of range: 4095, must be 0..4094' });
    expect(refusal(() => setup({ net1: { nic: 'eth1', vlan: -1 } }))).toEqual({ code: 26, message: 'VLAN id out of range: -1, must be 0..4094' });
  });

  it('23: a nic the kernel does not have', () => {
    expect(refusal(() => setup({ net1: { nic: 'eth9' } }))).toEqual({ code: 23, message: 'Nic eth9 does not exist' });
  });

  it('25: a bonding that is neither in the kernel nor in the request', () => {
    expect(refusal(() => setup({ net1: { bonding: 'bond7' } }))).toEqual({ code: 25, message: 'Bond bond7 does not exist' });
    expect(refusal(() => setup({ net1: { bonding: 'bond0' } }, { bond0: { remove: 'true' } }, RUNNING_HOST))).toEqual({
      code: 25,
      message: 'Bond bond0 does not exist',
    });
  });

  it('27: a bridged network whose name is no bridge name', () => {
    const bad = (name: string) => refusal(() => setup({ [name]: { nic: 'eth1' } }));
    expect(bad('a.b')).toEqual({ code: 27, message: "Bridge name isn't valid: a.b" });
    expect(bad('has space').code).toBe(27);
    expect(bad('x:1').code).toBe(27);
    expect(bad('-lead').code).toBe(27);
    expect(bad('sixteen-chars-xx').code).toBe(27);
    expect(() => setup({ 'fifteen-chars-x': { nic: 'eth1' } })).not.toThrow();
    expect(() => setup({ 'a.b': { nic: 'eth1', bridged: 'false' } })).not.toThrow();
  });

  it('31: removing a bond a network still uses', () => {
    expect(refusal(() => setup({}, { bond0: { remove: 'true' } }, RUNNING_HOST))).toEqual({
      code: 31,
      message: "Cannot remove bonding bond0: used by network ({'storage'}).",
    });
    expect(() => setup({ storage: { remove: 'true' } }, { bond0: { remove: 'true' } }, RUNNING_HOST)).not.toThrow();
  });

  it('23: a bond slave the kernel does not have', () => {
    expect(refusal(() => setup({}, { bond1: { nics: ['eth1', 'eth9'] } }))).toEqual({ code: 23, message: 'Nic eth9 does not exist' });
  });

  it('25: bond options that do not parse, a bad mode, an unknown option', () => {
    const options = (value: string) => refusal(() => setup({}, { bond1: { nics: ['eth1'], options: value } }));
    expect(options('mode')).toEqual({ code: 25, message: "Error parsing bonding options: 'mode'" });
    expect(options('mode=fastest')).toEqual({ code: 25, message: "'fastest' is not a valid bonding mode" });
    expect(options('mode=4 colour=blue')).toEqual({ code: 25, message: "'colour' is not a valid bonding option" });
    expect(() => setup({}, { bond1: { nics: ['eth1'], options: 'mode=802.3ad miimon=100 xmit_hash_policy=layer3+4 lacp_rate=fast' } })).not.toThrow();
  });

  it('24: a NIC that is both a bond slave and a network NIC', () => {
    expect(refusal(() => setup({ net1: { nic: 'eth1' } }, { bond1: { nics: ['eth1', 'eth2'] } }))).toEqual({
      code: 24,
      message: "Nics with multiple usages: {'eth1'}",
    });
    // ovirtmgmt runs on eth0.
    expect(refusal(() => setup({}, { bond1: { nics: ['eth0', 'eth1'] } }, RUNNING_HOST)).code).toBe(24);
    // Moving the network off the NIC in the same request is fine.
    const { nic: _nic, ...onBond } = { ...INSTALL_NETWORK, bonding: 'bond1' };
    expect(() => setup({ ovirtmgmt: onBond }, { bond1: { nics: ['eth0', 'eth1'] } }, RUNNING_HOST)).not.toThrow();
  });

  it('24: a bond slave under a VLAN device no network of ours sits on', () => {
    const foreignVlan: HostNetworkFacts = { ...HOST, kernel: { ...KERNEL, vlans: { 'eth2.50': { iface: 'eth2' } } } };
    expect(refusal(() => setup({}, { bond1: { nics: ['eth2', 'eth3'] } }, foreignVlan))).toEqual({
      code: 24,
      message: "Nics with multiple usages: {'eth2'}",
    });
  });
});

describe('applyToConfig', () => {
  it('gives the running configuration after the request', () => {
    const request = canonicalizeSetupNetworks(
      { networks: { storage: { remove: 'true' }, vm: { nic: 'eth1', vlan: '7' } }, bondings: { bond0: { remove: 'true' } }, options: {} },
      RUNNING_HOST,
    );
    const next = applyToConfig(RUNNING, request);
    expect(Object.keys(next.networks)).toEqual(['ovirtmgmt', 'vm']);
    expect(next.networks['ovirtmgmt']).toBe(RUNNING.networks['ovirtmgmt']);
    expect(next.networks['vm']).toBe(request.networks['vm']);
    expect(next.bonds).toEqual({});
    expect(Object.keys(RUNNING.networks)).toEqual(['ovirtmgmt', 'storage']); // the input is left as it was
  });

  it('includes the network the default route moved off and a bond taken over', () => {
    const request = canonicalizeSetupNetworks(
      { networks: { vm: { bonding: 'bond0', defaultRoute: true, bootproto: 'dhcp' } }, bondings: {}, options: {} },
      { ...RUNNING_HOST, running: { ...RUNNING, bonds: {} } },
    );
    const next = applyToConfig({ ...RUNNING, bonds: {} }, request);
    expect(next.networks['ovirtmgmt']).toMatchObject({ defaultRoute: false, nameservers: [] });
    expect(next.bonds['bond0']).toEqual({ nics: ['eth2', 'eth3'], hwaddr: '52:54:00:aa:bb:02', switch: 'legacy' });
  });
});
