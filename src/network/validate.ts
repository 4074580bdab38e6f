/**
 * The second step of Host.setupNetworks: vdsm's checks of a canonical request, in vdsm's order
 * and with its codes and texts (link/validator.py, ip/validator.py, netswitch/validator.py), made
 * before anything on the host is touched. Most are made against the desired state: what the
 * kernel and the running configuration have now, with the request applied. Pure: the kernel's
 * devices come in as data.
 *
 * vdsm's "legacy and OVS mixed" check has nothing to find here: canonicalization refuses OVS.
 */
import { pyRepr } from '../rpc/pyrepr.js';
import {
  isRemoval,
  notAnInterface,
  parseIpInterface,
  type BondRequest,
  type CanonicalRequest,
  type HostNetworkFacts,
  type KernelDevices,
  type NetworkRequest,
  type Removal,
} from './canonicalize.js';
import { networkDevice, southboundDevice, type NetConfig, type NetworkAttrs } from './config.js';
import { NetworkError, NetworkErrorCode } from './errors.js';

type HostState = Pick<HostNetworkFacts, 'running' | 'kernel'>;

/** Throws the NetworkError vdsm would answer with; returns when vdsm would go on to apply. */
export function validateSetupNetworks(request: CanonicalRequest, { kernel, running }: HostState): void {
  checkBondNames(request);
  checkBondsHaveNics(request);
  checkVlansHaveBase(request);
  for (const net of requestedNetworks(request)) checkAddresses(net);

  const current = currentConfig(kernel, running);
  const desired = applyToConfig(current, request);
  checkSouthbounds(desired, request);
  for (const [name, net] of Object.entries(request.networks)) checkNetwork(name, net, desired, kernel, running);
  for (const [name, bond] of Object.entries(request.bonds)) checkBond(name, bond, desired, kernel);
  checkNicUsage(desired, current, kernel);
}

/** The configuration after the request: its networks and bonds replace or remove the given ones. */
export function applyToConfig(config: NetConfig, request: CanonicalRequest): NetConfig {
  return { networks: applyEntries(config.networks, request.networks), bonds: applyEntries(config.bonds, request.bonds) };
}

function applyEntries<T extends object>(current: Record<string, T>, changes: Record<string, T | Removal>): Record<string, T> {
  const next = new Map(Object.entries(current));
  for (const [name, change] of Object.entries(changes)) {
    if (isRemoval(change)) next.delete(name);
    else next.set(name, change);
  }
  return Object.fromEntries(next);
}

/**
 * vdsm's KernelConfig: the running networks whose device the kernel has, and every kernel bond
 * (only its slaves matter to the checks).
 */
function currentConfig(kernel: KernelDevices, running: NetConfig): NetConfig {
  const devices = new Set([...kernel.nics, ...Object.keys(kernel.bonds), ...Object.keys(kernel.vlans), ...kernel.bridges]);
  return {
    networks: Object.fromEntries(Object.entries(running.networks).filter(([name, net]) => devices.has(networkDevice(name, net)))),
    bonds: Object.fromEntries(Object.entries(kernel.bonds).map(([name, bond]) => [name, { nics: [...bond.slaves].sort(), switch: 'legacy' as const }])),
  };
}

function requestedNetworks(request: CanonicalRequest): NetworkAttrs[] {
  return Object.values(request.networks).filter((net): net is NetworkAttrs => !isRemoval(net));
}

// ---- The request on its own (link and ip validators) --------------------------------------------

function checkBondNames(request: CanonicalRequest): void {
  const names = [...Object.keys(request.bonds), ...requestedNetworks(request).flatMap((net) => net.bonding ?? [])];
  const bad = new Set(names.filter((name) => !/^bond\w+$/.test(name)));
  if (bad.size > 0) throw new NetworkError(NetworkErrorCode.badBonding, `bad bond name(s): ${[...bad].join(', ')}`);
}

function checkBondsHaveNics(request: CanonicalRequest): void {
  for (const [name, bond] of Object.entries(request.bonds)) {
    if (!isRemoval(bond) && bond.nics.length === 0) {
      throw new NetworkError(NetworkErrorCode.badParams, `${name}: Must specify nics for bonding`);
    }
  }
}

function checkVlansHaveBase(request: CanonicalRequest): void {
  for (const [name, net] of Object.entries(request.networks)) {
    if (!isRemoval(net) && net.vlan !== undefined && net.nic === undefined && net.bonding === undefined) {
      throw new NetworkError(NetworkErrorCode.badVlan, `${name}: vlan device requires southbound device`);
    }
  }
}

function checkAddresses(net: NetworkAttrs): void {
  if (net.ipaddr !== undefined) {
    const address = `${net.ipaddr}/${net.netmask ?? ''}`;
    if (parseIpInterface(address) === undefined) throw new NetworkError(NetworkErrorCode.badAddr, notAnInterface(address));
    if (net.gateway !== undefined && parseIpInterface(net.gateway) === undefined) {
      throw new NetworkError(NetworkErrorCode.badAddr, notAnInterface(net.gateway));
    }
    if (net.bootproto === 'dhcp') throw new NetworkError(NetworkErrorCode.badAddr, 'mixing static ip configuration with dhcp is not allowed');
  } else if (net.gateway !== undefined || net.netmask !== undefined) {
    throw new NetworkError(NetworkErrorCode.badAddr, 'gateway or netmask were given without ip address');
  }
  if (net.nameservers.length === 0) return;
  if (!net.defaultRoute) throw new NetworkError(NetworkErrorCode.badParams, 'Name servers may only be defined on the default host network');
  for (const server of net.nameservers) {
    // A zone suffix (fe80::1%eth0) says how to reach the server; it is not part of the address.
    const address = server.split('%', 1)[0] ?? '';
    if (parseIpInterface(address) === undefined) throw new NetworkError(NetworkErrorCode.badAddr, notAnInterface(address));
  }
}

// ---- Against the desired state (netswitch validator) --------------------------------------------

/** Every network but a NIC-less bridge sits on a device, and no two on the same device and VLAN. */
function checkSouthbounds(desired: NetConfig, request: CanonicalRequest): void {
  const footings: string[] = [];
  for (const [name, net] of Object.entries(desired.networks)) {
    const base = net.bonding ?? net.nic;
    if (base !== undefined) footings.push(JSON.stringify([base, net.vlan ?? null]));
    else if (!net.bridged) throw new NetworkError(NetworkErrorCode.badParams, `southbound device not specified for non-bridged network "${name}"`);
  }
  if (new Set(footings).size < footings.length) {
    throw new NetworkError(
      NetworkErrorCode.badParams,
      'multiple networks/similar vlans cannot be defined on a single underlying device. ' +
        `kernel networks: ${pyRepr(desired.networks)}\nrequested networks: ${pyRepr(request.networks)}`,
    );
  }
}

function checkNetwork(name: string, net: NetworkRequest, desired: NetConfig, kernel: KernelDevices, running: NetConfig): void {
  if (isRemoval(net)) {
    // The kernel's networks are running ones whose device exists, so the running config decides.
    if (!Object.hasOwn(running.networks, name)) {
      throw new NetworkError(NetworkErrorCode.badBridge, `Cannot delete network ${name}: It doesn't exist in the system`);
    }
    return;
  }
  if (net.vlan !== undefined && (net.vlan < 0 || net.vlan > MAX_VLAN_ID)) {
    throw new NetworkError(NetworkErrorCode.badVlan, `VLAN id out of range: ${net.vlan}, must be 0..${MAX_VLAN_ID}`);
  }
  if (net.nic !== undefined) checkNicExists(net.nic, kernel);
  else if (net.bonding !== undefined && !Object.hasOwn(desired.bonds, net.bonding)) {
    throw new NetworkError(NetworkErrorCode.badBonding, `Bond ${net.bonding} does not exist`);
  }
  if (net.bridged && !isBridgeName(name)) throw new NetworkError(NetworkErrorCode.badBridge, `Bridge name isn't valid: ${name}`);
}

const MAX_VLAN_ID = 4094;

/** 1-15 characters, none of `:`, `.`, space or tab, not starting with `-`. */
function isBridgeName(name: string): boolean {
  return [...name].length >= 1 && [...name].length <= 15 && !/[:. \t]/.test(name) && !name.startsWith('-');
}

function checkBond(name: string, bond: BondRequest, desired: NetConfig, kernel: KernelDevices): void {
  if (isRemoval(bond)) {
    const users = Object.entries(desired.networks).filter(([, net]) => net.bonding === name).map(([netName]) => netName);
    if (users.length > 0) {
      throw new NetworkError(NetworkErrorCode.usedBond, `Cannot remove bonding ${name}: used by network (${pySet(users)}).`);
    }
    return;
  }
  // An empty `nics` was refused earlier (21), so vdsm's "Missing nics attribute" (23) cannot happen.
  for (const nic of bond.nics) checkNicExists(nic, kernel);
  if (bond.options) checkBondOptions(bond.options);
}

function checkNicExists(nic: string, kernel: KernelDevices): void {
  if (!kernel.nics.includes(nic)) throw new NetworkError(NetworkErrorCode.badNic, `Nic ${nic} does not exist`);
}

const BOND_MODES = new Set(['0', '1', '2', '3', '4', '5', '6', 'balance-rr', 'active-backup', 'balance-xor', 'broadcast', '802.3ad', 'balance-tlb', 'balance-alb']);

/**
 * What vdsm accepts: the bonding driver's sysfs options (the same set in every mode), less the
 * read-only entries and ad_actor_system that vdsm leaves out of its bonding-defaults.json.
 */
const BOND_OPTIONS = new Set([
  'ad_actor_sys_prio', 'ad_select', 'ad_user_port_key', 'all_slaves_active', 'arp_all_targets', 'arp_interval',
  'arp_ip_target', 'arp_missed_max', 'arp_validate', 'downdelay', 'fail_over_mac', 'lacp_active', 'lacp_rate',
  'lp_interval', 'miimon', 'min_links', 'mode', 'ns_ip6_target', 'num_grat_arp', 'num_unsol_na', 'packets_per_slave',
  'peer_notif_delay', 'primary', 'primary_reselect', 'resend_igmp', 'tlb_dynamic_lb', 'updelay', 'use_carrier',
  'xmit_hash_policy',
]);

function checkBondOptions(options: string): void {
  const pairs = options.split(/\s+/).filter((pair) => pair !== '');
  if (pairs.some((pair) => !pair.includes('='))) {
    throw new NetworkError(NetworkErrorCode.badBonding, `Error parsing bonding options: ${pyRepr(options)}`);
  }
  const keys = pairs.map((pair) => pair.slice(0, pair.indexOf('=')));
  const mode = pairs.filter((pair) => pair.startsWith('mode=')).map((pair) => pair.slice('mode='.length)).at(-1) ?? 'balance-rr';
  if (!BOND_MODES.has(mode)) throw new NetworkError(NetworkErrorCode.badBonding, `${pyRepr(mode)} is not a valid bonding mode`);
  const unknown = keys.find((key) => !BOND_OPTIONS.has(key));
  if (unknown !== undefined) throw new NetworkError(NetworkErrorCode.badBonding, `${pyRepr(unknown)} is not a valid bonding option`);
}

/**
 * A bond slave may be nothing else: not a network's NIC, nor the base of a VLAN device that no
 * network of ours sits on.
 */
function checkNicUsage(desired: NetConfig, current: NetConfig, kernel: KernelDevices): void {
  const slaves = new Set(Object.values(desired.bonds).flatMap((bond) => bond.nics));
  const networkNics = new Set(Object.values(desired.networks).flatMap((net) => net.nic ?? []));
  const ourVlans = new Set(Object.values(current.networks).flatMap((net) => southboundDevice(net) ?? []));
  const foreignVlanBases = new Set(Object.entries(kernel.vlans).filter(([device]) => !ourVlans.has(device)).map(([, vlan]) => vlan.iface));
  const underForeignVlans = [...slaves].filter((nic) => foreignVlanBases.has(nic));
  const underNetworks = [...slaves].filter((nic) => networkNics.has(nic));
  const shared = underForeignVlans.length > 0 ? underForeignVlans : underNetworks;
  if (shared.length > 0) throw new NetworkError(NetworkErrorCode.usedNic, `Nics with multiple usages: ${pySet(shared)}`);
}

/** A Python set's repr, as vdsm puts sets into its messages: {'a', 'b'}. */
function pySet(items: string[]): string {
  return `{${items.map((item) => pyRepr(item)).join(', ')}}`;
}
