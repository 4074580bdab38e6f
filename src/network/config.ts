/**
 * The host's network configuration as hostvisor keeps it: the canonical form of the engine's
 * setupNetworks request (vdsm's canonicalization: defaults filled in, strings turned into booleans
 * and numbers), one entry per network and per bond. The privileged helper stores two copies: the
 * running configuration (what is applied now) and the safe one (what the engine last declared
 * good, restored at boot). The daemon reads both to report `networks` and `netConfigDirty`.
 */

/** One logical network: a bridge (bridged) or an address on its device, over a NIC or a bond. */
export interface NetworkAttrs {
  /** The NIC under the network; absent for a network on a bond, or a NIC-less bridge. */
  nic?: string;
  /** The bond under the network. */
  bonding?: string;
  /** 802.1Q tag: the network sits on `<nic|bonding>.<vlan>`. */
  vlan?: number;
  mtu: number;
  /** A VM network: a Linux bridge named as the network, with the device as its port. */
  bridged: boolean;
  /** Spanning tree on the bridge (bridged networks only). */
  stp: boolean;
  bootproto: 'none' | 'dhcp';
  ipaddr?: string;
  netmask?: string;
  gateway?: string;
  /** This network's gateway is the host's default route; at most one network has it. */
  defaultRoute: boolean;
  nameservers: string[];
  dhcpv6: boolean;
  ipv6autoconf: boolean;
  ipv6addr?: string;
  ipv6gateway?: string;
  switch: 'legacy';
  /** Custom properties the engine sends (bridge_opts...), kept as given. */
  custom?: Record<string, string>;
}

export interface BondAttrs {
  /** Slaves, sorted. */
  nics: string[];
  /** `key=value` pairs as the engine sends them, e.g. "mode=4 miimon=100". */
  options?: string;
  hwaddr?: string;
  switch: 'legacy';
}

export interface NetConfig {
  networks: Record<string, NetworkAttrs>;
  bonds: Record<string, BondAttrs>;
}

export const EMPTY_NET_CONFIG: NetConfig = Object.freeze({ networks: Object.freeze({}), bonds: Object.freeze({}) }) as NetConfig;

/** The device a network's addresses live on: the bridge when bridged, else the (VLAN) device. */
export function networkDevice(name: string, net: NetworkAttrs): string {
  return net.bridged ? name : southboundDevice(net) ?? name;
}

/** The NIC, bond or VLAN device under a network (a bridge's port), if it has one. */
export function southboundDevice(net: NetworkAttrs): string | undefined {
  const base = net.nic ?? net.bonding;
  if (base === undefined) return undefined;
  return net.vlan === undefined ? base : `${base}.${net.vlan}`;
}

/** Two configurations are the same when their canonical JSON is (keys sorted). */
export function sameNetConfig(a: NetConfig, b: NetConfig): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of `value` that are objects: a malformed entry is dropped, not a failed gathering. */
function objectEntries<T>(value: unknown): Record<string, T> {
  if (!isObject(value)) return {};
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => isObject(entry))) as Record<string, T>;
}

/**
 * A stored configuration's text (running.json or safe.json) as a NetConfig. A file that is
 * missing (undefined), unreadable or not a configuration counts as the empty configuration, and a
 * malformed entry is dropped: a host without the helper manages no networks.
 */
export function parseNetConfig(text: string | undefined): NetConfig {
  if (text === undefined) return EMPTY_NET_CONFIG;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return EMPTY_NET_CONFIG;
  }
  if (!isObject(parsed)) return EMPTY_NET_CONFIG;
  return { networks: objectEntries(parsed['networks']), bonds: objectEntries(parsed['bonds']) };
}
