/**
 * capabilities' `networks` and `netConfigDirty`, as vdsm reports them (lib/vdsm/network/netinfo/
 * cache.py): each network of the running configuration whose device exists, described from that
 * device as the kernel has it now (the bridge of a bridged network, else its NIC, bond or VLAN),
 * with `switch: "legacy"` (the engine throws on a network without it) and its southbound device.
 */
import { networkDevice, sameNetConfig, type NetConfig, type NetworkAttrs } from '../../../network/config.js';
import type { IpInfo } from './ip-addresses.js';
import type { BridgeEntry, NetworkDevices } from './network-devices.js';

/** The address fields of a network: its device's, the MTU as a string as on every entry. */
export interface NetworkAddresses extends IpInfo {
  mtu: string;
  ipv6autoconf: boolean;
}

export interface BridgedNetworkEntry extends NetworkAddresses {
  bridged: true;
  /** The bridge, named as the network. */
  iface: string;
  ports: string[];
  stp: 'on' | 'off';
  switch: 'legacy';
  /** The bridge's port that is a bond, NIC or VLAN; null when there is none, or no single one. */
  southbound: string | null;
  /** The VLAN id when the southbound device is a VLAN. */
  vlanid?: number;
}

export interface BridgelessNetworkEntry extends NetworkAddresses {
  bridged: false;
  /** The NIC, bond or VLAN device the addresses are on. */
  iface: string;
  /** The same as iface: old engines tell a bridgeless network by it. */
  interface: string;
  switch: 'legacy';
  southbound: string;
  vlanid?: number;
}

export type NetworkEntry = BridgedNetworkEntry | BridgelessNetworkEntry;

/** What capabilities say of the networks hostvisor manages. */
export interface ManagedNetworkFacts {
  networks: Record<string, NetworkEntry>;
  /** Networks of the running configuration left out because their device does not exist (logged). */
  missingNetworks: string[];
  netConfigDirty: 'True' | 'False';
}

type AddressedDevice = IpInfo & { mtu: string | number; ipv6autoconf: boolean };

function addressesOf(device: AddressedDevice): NetworkAddresses {
  const { addr, netmask, ipv4addrs, ipv6addrs, gateway, ipv6gateway, ipv4defaultroute, dhcpv4, dhcpv6, ipv6autoconf } = device;
  return { addr, netmask, ipv4addrs, ipv6addrs, gateway, ipv6gateway, ipv4defaultroute, dhcpv4, dhcpv6, ipv6autoconf, mtu: String(device.mtu) };
}

/** vdsm's rule: the one port that is a bond, else the one that is a NIC, else the one that is a VLAN. */
export function bridgeSouthbound(ports: readonly string[], devices: NetworkDevices): string | null {
  for (const kind of [devices.bondings, devices.nics, devices.vlans]) {
    const ofKind = new Set(ports.filter((port) => Object.hasOwn(kind, port)));
    if (ofKind.size === 1) return [...ofKind][0] as string;
  }
  return null;
}

function vlanIdOf(southbound: string | null, devices: NetworkDevices): { vlanid?: number } {
  const vlan = southbound === null ? undefined : devices.vlans[southbound];
  return vlan === undefined ? {} : { vlanid: vlan.vlanid };
}

function bridgedNetwork(bridgeName: string, bridge: BridgeEntry, devices: NetworkDevices): BridgedNetworkEntry {
  const southbound = bridgeSouthbound(bridge.ports, devices);
  return {
    ...addressesOf(bridge),
    bridged: true,
    iface: bridgeName,
    ports: bridge.ports,
    stp: bridge.stp,
    switch: 'legacy',
    southbound,
    ...vlanIdOf(southbound, devices),
  };
}

function bridgelessNetwork(iface: string, device: AddressedDevice, devices: NetworkDevices): BridgelessNetworkEntry {
  return { ...addressesOf(device), bridged: false, iface, interface: iface, switch: 'legacy', southbound: iface, ...vlanIdOf(iface, devices) };
}

function networkEntry(name: string, attrs: NetworkAttrs, devices: NetworkDevices): NetworkEntry | undefined {
  const iface = networkDevice(name, attrs);
  if (attrs.bridged) {
    const bridge = devices.bridges[iface];
    return bridge && bridgedNetwork(iface, bridge, devices);
  }
  const device = devices.vlans[iface] ?? devices.bondings[iface] ?? devices.nics[iface];
  return device && bridgelessNetwork(iface, device, devices);
}

/** The running configuration's networks as their devices are now; those without a device left out. */
export function reportedNetworks(running: NetConfig, devices: NetworkDevices): Pick<ManagedNetworkFacts, 'networks' | 'missingNetworks'> {
  const out: Pick<ManagedNetworkFacts, 'networks' | 'missingNetworks'> = { networks: {}, missingNetworks: [] };
  for (const [name, attrs] of Object.entries(running.networks)) {
    const entry = networkEntry(name, attrs, devices);
    if (entry) out.networks[name] = entry;
    else out.missingNetworks.push(name);
  }
  return out;
}

/** "True" when the running configuration is not the safe one (a reboot would roll it back). */
export function netConfigDirty(running: NetConfig, safe: NetConfig): 'True' | 'False' {
  return sameNetConfig(running, safe) ? 'False' : 'True';
}
