/**
 * The kernel's network state as iproute2 reports it (`ip -json`): links with their kind, master,
 * MTU, up flag and global addresses, and the main table's routes. Setups are planned against it,
 * and a copy taken before a setup is what a rollback puts back.
 */
import type { KernelDevices } from './canonicalize.js';
import { runIp } from './ip.js';

export interface KernelAddress {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
}

export interface KernelLink {
  name: string;
  ifindex: number;
  /** iproute2's kind: 'bridge', 'bond', 'vlan', 'veth'...; '' for a plain NIC. */
  kind: string;
  master?: string;
  /** For a VLAN device: its base device and tag. */
  vlan?: { link: string; id: number };
  mtu: number;
  up: boolean;
  hwaddr: string;
  /** Global addresses (link-local ones come and go with the link and are not ours to keep). */
  addresses: KernelAddress[];
}

export interface KernelRoute {
  family: 'inet' | 'inet6';
  dst: string;
  gateway?: string;
  dev: string;
  metric?: number;
}

export interface KernelState {
  links: Map<string, KernelLink>;
  /** Routes of the main table that someone added (not the kernel's own prefix routes). */
  routes: KernelRoute[];
}

interface IpLinkJson {
  ifindex?: number;
  ifname: string;
  address?: string;
  flags?: string[];
  mtu?: number;
  master?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number; scope?: string }>;
}

interface IpRouteJson {
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  metric?: number;
}

export function parseLinks(json: string): Map<string, KernelLink> {
  const links = new Map<string, KernelLink>();
  for (const entry of JSON.parse(json) as IpLinkJson[]) {
    const kind = entry.linkinfo?.info_kind ?? '';
    const addresses = (entry.addr_info ?? [])
      .filter((a) => a.scope === 'global' && (a.family === 'inet' || a.family === 'inet6') && a.local !== undefined)
      .map((a) => ({ family: a.family as 'inet' | 'inet6', local: a.local!, prefixlen: a.prefixlen ?? 0 }));
    const vlanId = entry.linkinfo?.info_data?.id;
    links.set(entry.ifname, {
      name: entry.ifname,
      ifindex: entry.ifindex ?? 0,
      kind,
      ...(entry.master !== undefined ? { master: entry.master } : {}),
      ...(kind === 'vlan' && entry.link !== undefined && vlanId !== undefined ? { vlan: { link: entry.link, id: vlanId } } : {}),
      mtu: entry.mtu ?? 1500,
      up: (entry.flags ?? []).includes('UP'),
      hwaddr: entry.address ?? '',
      addresses,
    });
  }
  return links;
}

export function parseRoutes(json: string, family: 'inet' | 'inet6'): KernelRoute[] {
  return (JSON.parse(json) as IpRouteJson[])
    .filter((r) => r.protocol !== 'kernel' && r.dev !== undefined && !r.dst.startsWith('fe80:') && !r.dst.startsWith('multicast'))
    .map((r) => ({ family, dst: r.dst, dev: r.dev!, ...(r.gateway !== undefined ? { gateway: r.gateway } : {}), ...(r.metric !== undefined ? { metric: r.metric } : {}) }));
}

export async function readKernelState(): Promise<KernelState> {
  const [links, routes4, routes6] = await Promise.all([
    runIp(['-j', '-d', 'addr', 'show']),
    runIp(['-j', '-4', 'route', 'show', 'table', 'main']),
    runIp(['-j', '-6', 'route', 'show', 'table', 'main']),
  ]);
  return { links: parseLinks(links), routes: [...parseRoutes(routes4, 'inet'), ...parseRoutes(routes6, 'inet6')] };
}

/** The default route of a family in the main table, if any. */
export function defaultRoute(state: KernelState, family: 'inet' | 'inet6' = 'inet'): KernelRoute | undefined {
  return state.routes.find((r) => r.family === family && r.dst === 'default');
}

/** Link kinds that are NICs to a setup: hardware, and the virtual ones vdsm counts (fake_nics). */
const NIC_KINDS = new Set(['', 'veth', 'dummy', 'macvlan']);

/** The kernel's devices as setupNetworks' checks see them. */
export function kernelDevices(state: KernelState): KernelDevices {
  const links = [...state.links.values()].filter((l) => l.name !== 'lo');
  const bonds: KernelDevices['bonds'] = {};
  for (const bond of links.filter((l) => l.kind === 'bond')) {
    bonds[bond.name] = { slaves: links.filter((l) => l.master === bond.name).map((l) => l.name), hwaddr: bond.hwaddr };
  }
  const vlans: KernelDevices['vlans'] = {};
  for (const vlan of links) if (vlan.vlan) vlans[vlan.name] = { iface: vlan.vlan.link };
  return {
    nics: links.filter((l) => NIC_KINDS.has(l.kind)).map((l) => l.name),
    bonds,
    vlans,
    bridges: links.filter((l) => l.kind === 'bridge').map((l) => l.name),
  };
}
