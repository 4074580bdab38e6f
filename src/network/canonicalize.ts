/**
 * The first step of Host.setupNetworks: the engine's request, loosely typed JSON, turned into the
 * canonical form hostvisor stores and acts on, the way vdsm's canonicalize.py does it (defaults
 * filled in, vdsm's Python coercions with their quirks, the default route moved off the network
 * that had it, kernel bonds a network names adopted). Pure: the running configuration, the kernel's
 * devices and resolv.conf's nameservers come in as arguments. What vdsm refuses at this step is
 * refused with vdsm's code and text; what vdsm would only trip over later (an exception, so
 * JSON-RPC -32603) or what hostvisor cannot do (OVS, host QoS) is refused here as 21, 22 or 26.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { pyRepr } from '../rpc/pyrepr.js';
import type { BondAttrs, NetConfig, NetworkAttrs } from './config.js';
import { NetworkError, NetworkErrorCode } from './errors.js';

/** The verb's three parameters as they arrive. */
export interface SetupNetworksParams {
  networks: unknown;
  bondings: unknown;
  options: unknown;
}

/** A network or bond the request takes away. */
export interface Removal {
  remove: true;
}
export type NetworkRequest = NetworkAttrs | Removal;
export type BondRequest = BondAttrs | Removal;

export interface SetupOptions {
  /** Roll back unless the engine confirms connectivity in time. */
  connectivityCheck: boolean;
  /** Seconds to wait for a confirmConnectivity. */
  connectivityTimeout: number;
  /** Make the new running configuration the safe one once the call succeeds. */
  commitOnSuccess: boolean;
}

export interface CanonicalRequest {
  networks: Record<string, NetworkRequest>;
  bonds: Record<string, BondRequest>;
  options: SetupOptions;
}

/** The kernel's devices, sorted as vdsm's netinfo sorts them, as far as the checks need them. */
export interface KernelDevices {
  /** NIC-like devices: what vdsm reports under `nics`. */
  nics: string[];
  /** `hwaddr` is kept on a bond that is taken over (vdsm pins an existing bond's MAC). */
  bonds: Record<string, { slaves: string[]; hwaddr: string }>;
  /** VLAN devices by device name (`eth0.100`), with their base device. */
  vlans: Record<string, { iface: string }>;
  bridges: string[];
}

/** The host side of a setupNetworks call. */
export interface HostNetworkFacts {
  running: NetConfig;
  kernel: KernelDevices;
  /** The `nameserver` lines of /etc/resolv.conf: the default of the default-route network. */
  nameservers: string[];
}

/** vdsm's default when the engine does not send connectivityTimeout (connectivity.py). */
export const DEFAULT_CONNECTIVITY_TIMEOUT = 4;
const DEFAULT_MTU = 1500;

export function isRemoval<T extends object>(entry: T | Removal): entry is Removal {
  return 'remove' in entry;
}

export function canonicalizeSetupNetworks(params: SetupNetworksParams, host: HostNetworkFacts): CanonicalRequest {
  const rawNetworks = entriesOf(params.networks, 'networks');
  const rawBonds = entriesOf(params.bondings, 'bondings');
  const defaultRoutes = requestedDefaultRoutes(rawNetworks);

  const networks = new Map<string, NetworkRequest>();
  for (const [name, attrs] of rawNetworks) {
    networks.set(name, removalRequested(attrs) ? networkRemoval(attrs) : canonicalNetwork(name, attrs, defaultRoutes.has(name), host.nameservers));
  }
  const previous = previousDefaultRouteNetwork(host.running, networks, defaultRoutes);
  if (previous !== undefined) networks.set(previous.name, previous.attrs);

  const bonds = new Map<string, BondRequest>();
  for (const [name, attrs] of rawBonds) bonds.set(name, removalRequested(attrs) ? { remove: true } : canonicalBond(name, attrs, host));
  for (const [name, bond] of adoptedBonds(networks, bonds, host)) bonds.set(name, bond);

  return { networks: Object.fromEntries(networks), bonds: Object.fromEntries(bonds), options: canonicalOptions(params.options) };
}

// ---- Default route ------------------------------------------------------------------------------

/** The networks the request gives the default route (`defaultRoute`, or the deprecated custom property). */
function requestedDefaultRoutes(rawNetworks: Array<[string, RawAttrs]>): Set<string> {
  const names = new Set<string>();
  for (const [name, attrs] of rawNetworks) {
    if (removalRequested(attrs)) continue;
    const custom = customProperties(name, attrs)?.['default_route'];
    if (custom !== undefined ? tobool(custom) : pyTruthy(attrs['defaultRoute'])) names.add(name);
  }
  if (names.size > 1) throw new NetworkError(NetworkErrorCode.badParams, 'Only a single default route network is allowed.');
  return names;
}

/**
 * When the route moves, the running network that had it and that the request leaves alone is set
 * up again with its running attributes, without the route and its nameservers.
 */
function previousDefaultRouteNetwork(
  running: NetConfig,
  requested: Map<string, NetworkRequest>,
  defaultRoutes: Set<string>,
): { name: string; attrs: NetworkAttrs } | undefined {
  if (defaultRoutes.size === 0) return undefined;
  const entry = Object.entries(running.networks).find(([, attrs]) => attrs.defaultRoute);
  if (entry === undefined || requested.has(entry[0])) return undefined;
  return { name: entry[0], attrs: { ...entry[1], defaultRoute: false, nameservers: [] } };
}

// ---- Networks -----------------------------------------------------------------------------------

function networkRemoval(attrs: RawAttrs): Removal {
  if (Object.keys(attrs).some((key) => key !== 'remove' && key !== 'custom')) {
    throw new NetworkError(NetworkErrorCode.badParams, 'Cannot specify any attribute when removing (except custom)).');
  }
  return { remove: true };
}

function canonicalNetwork(name: string, attrs: RawAttrs, defaultRoute: boolean, hostNameservers: string[]): NetworkAttrs {
  const nic = deviceAttr(name, attrs, 'nic');
  const bonding = deviceAttr(name, attrs, 'bonding');
  const mtu = integerAttr(name, attrs, 'mtu') ?? DEFAULT_MTU;
  const vlan = canonicalVlan(attrs['vlan']);
  // vdsm reads a present `bridged` with tobool, so even null means not bridged.
  const bridged = Object.hasOwn(attrs, 'bridged') ? tobool(attrs['bridged']) : true;
  const custom = canonicalCustom(name, attrs);
  const stp = bridged && canonicalStp(Object.hasOwn(attrs, 'stp') ? attrs['stp'] : attrs['STP']);
  const bootproto = attrs['bootproto'] === 'dhcp' ? 'dhcp' : 'none';
  const ipaddr = textAttr(name, attrs, 'ipaddr');
  const netmask = canonicalNetmask(name, attrs);
  const gateway = textAttr(name, attrs, 'gateway');
  const dhcpv6 = flagAttr(name, attrs, 'dhcpv6');
  const ipv6autoconf = flagAttr(name, attrs, 'ipv6autoconf');
  const ipv6addr = canonicalIpv6Address(name, attrs);
  const ipv6gateway = textAttr(name, attrs, 'ipv6gateway');
  const nameservers = canonicalNameservers(name, attrs, defaultRoute && bootproto !== 'dhcp' ? hostNameservers : []);
  const switchType = legacySwitch(`network ${name}`, tobool(custom?.['ovs']) ? 'ovs' : attrs['switch']);
  if (pyTruthy(attrs['hostQos'])) {
    throw new NetworkError(NetworkErrorCode.badParams, `hostvisor does not support host network QoS (hostQos of network ${name})`);
  }
  return withoutUndefined({
    nic, bonding, vlan, mtu, bridged, stp, bootproto, ipaddr, netmask, gateway, defaultRoute,
    dhcpv6, ipv6autoconf, ipv6addr, ipv6gateway, nameservers, switch: switchType, custom,
  });
}

/** An empty or null `vlan` means no VLAN. */
function canonicalVlan(value: unknown): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  const vlan = pyInt(value);
  if (vlan === undefined) throw new NetworkError(NetworkErrorCode.badVlan, 'VLAN id must be a number between 0 and 4094');
  return vlan;
}

/** Custom properties as given, except `bridge_opts`, whose `key=value` pairs are sorted. */
function canonicalCustom(name: string, attrs: RawAttrs): Record<string, string> | undefined {
  const custom = customProperties(name, attrs);
  const bridgeOpts = custom?.['bridge_opts'];
  if (custom === undefined || !bridgeOpts) return custom;
  const opts = new Map<string, string>();
  for (const pair of pythonSplit(bridgeOpts)) {
    const eq = pair.indexOf('=');
    if (eq < 0) throw new NetworkError(NetworkErrorCode.badParams, `${name}: bridge_opts must be key=value pairs, not ${pyRepr(pair)}`);
    opts.set(pair.slice(0, eq), pair.slice(eq + 1));
  }
  const sorted = [...opts].map(([key, value]) => `${key}=${value}`).sort();
  return { ...custom, bridge_opts: sorted.join(' ') };
}

function customProperties(name: string, attrs: RawAttrs): Record<string, string> | undefined {
  const custom = attrs['custom'];
  if (custom === undefined || custom === null) return undefined;
  if (!isMap(custom) || Object.values(custom).some((value) => typeof value !== 'string')) {
    throw new NetworkError(NetworkErrorCode.badParams, `${name}: custom must map names to strings`);
  }
  return custom as Record<string, string>;
}

/** vdsm's stp_booleanize: a bool, or true/on/yes, false/off/no in any case; nothing means off. */
function canonicalStp(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (typeof value === 'boolean') return value;
  const word = typeof value === 'string' ? value.toLowerCase() : undefined;
  if (word === 'true' || word === 'on' || word === 'yes') return true;
  if (word === 'false' || word === 'off' || word === 'no') return false;
  throw new NetworkError(NetworkErrorCode.badParams, `"${String(value)}" is not a valid bridge STP value.`);
}

/** The engine sends `prefix` instead of `netmask` when its netmask looks like one. */
function canonicalNetmask(name: string, attrs: RawAttrs): string | undefined {
  const netmask = textAttr(name, attrs, 'netmask');
  const prefix = attrs['prefix'];
  if (!pyTruthy(prefix)) return netmask;
  if (netmask !== undefined) throw new NetworkError(NetworkErrorCode.badParams, 'Both PREFIX and NETMASK supplied');
  const bits = pyInt(prefix);
  if (bits === undefined) throw new NetworkError(NetworkErrorCode.badAddr, `Bad prefix: invalid literal for int() with base 10: ${pyRepr(prefix)}`);
  if (bits < 0 || bits > 32) {
    throw new NetworkError(NetworkErrorCode.badAddr, `Bad prefix: ${bits} is not a valid prefix value. It must be between 0 and 32`);
  }
  return ipv4Netmask(bits);
}

function ipv4Netmask(bits: number): string {
  const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
  return [24, 16, 8, 0].map((shift) => (mask >>> shift) & 0xff).join('.');
}

/** Written as Python's ipaddress writes it: compressed, with its prefix length. */
function canonicalIpv6Address(name: string, attrs: RawAttrs): string | undefined {
  const address = textAttr(name, attrs, 'ipv6addr');
  if (!address) return address;
  const parsed = parseIpInterface(address);
  if (parsed === undefined) throw new NetworkError(NetworkErrorCode.badAddr, notAnInterface(address));
  return `${parsed.address}/${parsed.prefixlen}`;
}

/** Given ones as given (null meaning none); otherwise the host's, for the default-route static network. */
function canonicalNameservers(name: string, attrs: RawAttrs, fallback: string[]): string[] {
  if (!Object.hasOwn(attrs, 'nameservers')) return [...fallback];
  const given = attrs['nameservers'];
  if (given === null) return [];
  if (!Array.isArray(given) || given.some((server) => typeof server !== 'string')) {
    throw new NetworkError(NetworkErrorCode.badParams, `${name}: nameservers must be a list of addresses`);
  }
  return [...(given as string[])];
}

/** vdsm also knows "ovs"; hostvisor drives Linux bridges only. */
function legacySwitch(owner: string, requested: unknown): 'legacy' {
  if (requested === undefined || requested === null || requested === 'legacy') return 'legacy';
  throw new NetworkError(NetworkErrorCode.badParams, `hostvisor supports only the legacy switch type; ${owner} asks for ${pyRepr(requested)}`);
}

// ---- Bonds --------------------------------------------------------------------------------------

function canonicalBond(name: string, attrs: RawAttrs, host: HostNetworkFacts): BondAttrs {
  const nics = attrs['nics'] ?? [];
  if (!Array.isArray(nics) || nics.some((nic) => typeof nic !== 'string')) {
    throw new NetworkError(NetworkErrorCode.badParams, `${name}: nics must be a list of NIC names`);
  }
  const switchType = legacySwitch(`bond ${name}`, attrs['switch']);
  return withoutUndefined({
    nics: [...(nics as string[])].sort(),
    options: textAttr(name, attrs, 'options'),
    hwaddr: textAttr(name, attrs, 'hwaddr') ?? pinnedHwaddr(name, host),
    switch: switchType,
  });
}

/** A kernel bond that a requested network names but the request does not define: vdsm takes it over as it is. */
function adoptedBonds(networks: Map<string, NetworkRequest>, bonds: Map<string, BondRequest>, host: HostNetworkFacts): Map<string, BondAttrs> {
  const adopted = new Map<string, BondAttrs>();
  for (const net of networks.values()) {
    const name = isRemoval(net) ? undefined : net.bonding;
    const kernelBond = name === undefined ? undefined : own(host.kernel.bonds, name);
    if (name === undefined || kernelBond === undefined || bonds.has(name) || adopted.has(name)) continue;
    adopted.set(name, withoutUndefined({
      nics: [...kernelBond.slaves].sort(),
      options: own(host.running.bonds, name)?.options,
      hwaddr: pinnedHwaddr(name, host),
      switch: 'legacy' as const,
    }));
  }
  return adopted;
}

/** An existing bond keeps its MAC unless it is ours and we never pinned one. */
function pinnedHwaddr(name: string, host: HostNetworkFacts): string | undefined {
  const kernelBond = own(host.kernel.bonds, name);
  if (kernelBond === undefined) return undefined;
  const running = own(host.running.bonds, name);
  return running === undefined || running.hwaddr ? kernelBond.hwaddr : undefined;
}

// ---- Options ------------------------------------------------------------------------------------

function canonicalOptions(raw: unknown): SetupOptions {
  const options = mapOf(raw, 'options');
  const timeout = Object.hasOwn(options, 'connectivityTimeout') ? pyInt(options['connectivityTimeout']) : DEFAULT_CONNECTIVITY_TIMEOUT;
  if (timeout === undefined) {
    throw new NetworkError(NetworkErrorCode.badParams, `connectivityTimeout must be a number of seconds, not ${pyRepr(options['connectivityTimeout'])}`);
  }
  return {
    connectivityCheck: Object.hasOwn(options, 'connectivityCheck') ? tobool(options['connectivityCheck']) : true,
    connectivityTimeout: timeout,
    commitOnSuccess: pyTruthy(options['commitOnSuccess']),
  };
}

// ---- Addresses, as Python's ipaddress reads them ------------------------------------------------

export interface IpInterface {
  version: 4 | 6;
  /** Written as Python writes it (IPv6 compressed). */
  address: string;
  prefixlen: number;
}

/** ipaddress.ip_interface(): an address with an optional /prefix (for IPv4 also /netmask or /hostmask). */
export function parseIpInterface(text: string): IpInterface | undefined {
  const parts = text.split('/');
  if (parts.length > 2) return undefined;
  const [address = '', mask] = parts;
  if (isIPv4(address)) {
    const prefixlen = mask === undefined ? 32 : (prefixNumber(mask, 32) ?? ipv4MaskPrefix(mask));
    return prefixlen === undefined ? undefined : { version: 4, address, prefixlen };
  }
  if (isIPv6(address)) {
    const prefixlen = mask === undefined ? 128 : prefixNumber(mask, 128);
    const compressed = compressIpv6(address);
    return prefixlen === undefined || compressed === undefined ? undefined : { version: 6, address: compressed, prefixlen };
  }
  return undefined;
}

/** ip_interface()'s complaint, which vdsm passes on as its message. */
export function notAnInterface(text: string): string {
  return `${pyRepr(text)} does not appear to be an IPv4 or IPv6 interface`;
}

function prefixNumber(text: string, max: number): number | undefined {
  return /^[0-9]+$/.test(text) && Number(text) <= max ? Number(text) : undefined;
}

/** A dotted netmask (ones then zeros) or hostmask (zeros then ones). */
function ipv4MaskPrefix(text: string): number | undefined {
  if (!isIPv4(text)) return undefined;
  const bits = text.split('.').map((octet) => Number(octet).toString(2).padStart(8, '0')).join('');
  if (/^1*0*$/.test(bits)) return bits.indexOf('0') === -1 ? 32 : bits.indexOf('0');
  if (/^0*1*$/.test(bits)) return bits.indexOf('1') === -1 ? 32 : bits.indexOf('1');
  return undefined;
}

/** RFC 5952 form, as both Python and the URL standard write it; a zone index is kept. */
function compressIpv6(address: string): string | undefined {
  const [bare = '', zone] = address.split('%');
  try {
    const host = new URL(`http://[${bare}]/`).hostname;
    return host.slice(1, -1) + (zone === undefined ? '' : `%${zone}`);
  } catch {
    return undefined;
  }
}

// ---- vdsm's Python coercions --------------------------------------------------------------------

type RawAttrs = Record<string, unknown>;

/**
 * vdsm's tobool (common/conv.py): true, "true" in any case, or a string holding a non-zero integer.
 * Anything else is false, a JSON number 1 included (Python fails on `(1).lower()` and says false).
 */
function tobool(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value !== 'string') return false;
  return value.toLowerCase() === 'true' || (pyInt(value) ?? 0) !== 0;
}

/** Python's truth value, which vdsm uses for defaultRoute and commitOnSuccess. */
function pyTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isMap(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/** Python's int(): booleans, numbers (truncated) and decimal strings; undefined where Python raises. */
function pyInt(value: unknown): number | undefined {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value !== 'string') return undefined;
  const digits = /^\s*([+-]?\d+(?:_\d+)*)\s*$/.exec(value)?.[1];
  return digits === undefined ? undefined : Number(digits.replaceAll('_', ''));
}

/** Python's str.split(): on runs of whitespace, without empty pieces. */
function pythonSplit(text: string): string[] {
  return text.split(/\s+/).filter((piece) => piece !== '');
}

// ---- Reading the raw request --------------------------------------------------------------------

function isMap(value: unknown): value is RawAttrs {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function mapOf(value: unknown, what: string): RawAttrs {
  if (!isMap(value)) throw new NetworkError(NetworkErrorCode.badParams, `${what} must be a map`);
  return value;
}

function entriesOf(value: unknown, what: string): Array<[string, RawAttrs]> {
  return Object.entries(mapOf(value, what)).map(([name, attrs]) => [name, mapOf(attrs, `${what}.${name}`)]);
}

function removalRequested(attrs: RawAttrs): boolean {
  return Object.hasOwn(attrs, 'remove') && tobool(attrs['remove']);
}

/** A string attribute; absent or null means not given. */
function textAttr(owner: string, attrs: RawAttrs, key: string): string | undefined {
  const value = attrs[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw new NetworkError(NetworkErrorCode.badParams, `${owner}: ${key} must be a string, not ${pyRepr(value)}`);
  return value;
}

/** `nic` or `bonding`: an empty name is no device. */
function deviceAttr(owner: string, attrs: RawAttrs, key: string): string | undefined {
  return textAttr(owner, attrs, key) || undefined;
}

function integerAttr(owner: string, attrs: RawAttrs, key: string): number | undefined {
  const value = attrs[key];
  if (value === undefined || value === null) return undefined;
  const number = pyInt(value);
  if (number === undefined) throw new NetworkError(NetworkErrorCode.badParams, `${owner}: ${key} must be an integer, not ${pyRepr(value)}`);
  return number;
}

/** A JSON boolean, as the engine sends dhcpv6 and ipv6autoconf; absent means false. */
function flagAttr(owner: string, attrs: RawAttrs, key: string): boolean {
  const value = attrs[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new NetworkError(NetworkErrorCode.badParams, `${owner}: ${key} must be true or false, not ${pyRepr(value)}`);
  return value;
}

function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
