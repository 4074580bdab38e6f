/**
 * From one running configuration to the next: the `ip` operations that take the kernel there.
 * Pure: it reads the kernel state it is given and returns argument vectors, so every bridge, VLAN
 * and bond operation is checked exactly by the tests, also where this machine's kernel has no
 * driver for it.
 *
 * A network is taken down when it is removed, or rebuilt when what it sits on changes (bridged or
 * not, another NIC, bond or VLAN). Otherwise it is changed in place, so a new MTU or address on the
 * management network does not cut the engine off for longer than the change itself.
 */
import { southboundDevice, networkDevice, type BondAttrs, type NetConfig, type NetworkAttrs } from './config.js';
import type { IpOp } from './ip.js';
import { defaultRoute, type KernelState } from './kernel.js';
import { prefixLength } from './netmask.js';

/** A Linux interface name we are willing to hand to the kernel: 1-15 safe characters. */
const DEVICE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$/;

export function isDeviceName(name: string): boolean {
  return DEVICE_NAME.test(name);
}

function dev(name: string): string {
  // Validation refuses such names earlier; this is the last guard before the kernel.
  if (!isDeviceName(name)) throw new Error(`refusing device name ${JSON.stringify(name)}`);
  return name;
}

/** What a network sits on; a change here means taking it down and building it again. */
function footing(net: NetworkAttrs): string {
  return JSON.stringify([net.bridged, net.nic ?? null, net.bonding ?? null, net.vlan ?? null]);
}

function vlanDevice(net: NetworkAttrs): { name: string; base: string; id: number } | undefined {
  const base = net.nic ?? net.bonding;
  return base === undefined || net.vlan === undefined ? undefined : { name: `${base}.${net.vlan}`, base, id: net.vlan };
}

/** The VLAN devices the configuration uses. */
function vlansIn(config: NetConfig): Set<string> {
  return new Set(Object.values(config.networks).flatMap((n) => vlanDevice(n)?.name ?? []));
}

function teardown(name: string, net: NetworkAttrs, next: NetConfig, kernel: KernelState): IpOp[] {
  const ops: IpOp[] = [];
  if (net.bridged && kernel.links.has(name)) ops.push(['link', 'del', dev(name)]);
  const device = southboundDevice(net);
  const vlan = vlanDevice(net);
  if (vlan && kernel.links.has(vlan.name) && !vlansIn(next).has(vlan.name)) {
    ops.push(['link', 'del', dev(vlan.name)]);
  } else if (!net.bridged && device !== undefined && kernel.links.has(device)) {
    ops.push(['addr', 'flush', 'dev', dev(device), 'scope', 'global']);
  }
  return ops;
}

/** `mode=4 miimon=100` as `ip link ... type bond` arguments. */
export function bondOptionArgs(options: string | undefined): string[] {
  const args: string[] = [];
  for (const pair of (options ?? '').split(/\s+/).filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (eq <= 0 || !/^[a-z_]+$/.test(key) || !/^[A-Za-z0-9_.:,+-]+$/.test(value)) throw new Error(`refusing bond option ${JSON.stringify(pair)}`);
    args.push(key, value);
  }
  return args;
}

function bondOps(name: string, bond: BondAttrs, previous: BondAttrs | undefined, kernel: KernelState): IpOp[] {
  const ops: IpOp[] = [];
  if (!kernel.links.has(name)) ops.push(['link', 'add', dev(name), 'type', 'bond', ...bondOptionArgs(bond.options)]);
  else if (bond.options !== previous?.options && bond.options !== undefined) ops.push(['link', 'set', dev(name), 'type', 'bond', ...bondOptionArgs(bond.options)]);
  for (const nic of previous?.nics ?? []) {
    if (!bond.nics.includes(nic) && kernel.links.get(nic)?.master === name) ops.push(['link', 'set', dev(nic), 'nomaster']);
  }
  for (const nic of bond.nics) {
    // A slave must be down to be enslaved.
    if (kernel.links.get(nic)?.master !== name) ops.push(['link', 'set', dev(nic), 'down'], ['link', 'set', dev(nic), 'master', dev(name)]);
    ops.push(['link', 'set', dev(nic), 'up']);
  }
  if (bond.hwaddr !== undefined) ops.push(['link', 'set', dev(name), 'address', bond.hwaddr]);
  ops.push(['link', 'set', dev(name), 'up']);
  return ops;
}

function networkOps(name: string, net: NetworkAttrs, previous: NetworkAttrs | undefined, kernel: KernelState): IpOp[] {
  const ops: IpOp[] = [];
  const base = net.nic ?? net.bonding;
  const vlan = vlanDevice(net);
  const south = southboundDevice(net);
  const device = networkDevice(name, net);
  if (base !== undefined) ops.push(['link', 'set', dev(base), 'mtu', String(net.mtu)]);
  if (vlan && !kernel.links.has(vlan.name)) ops.push(['link', 'add', 'link', dev(vlan.base), 'name', dev(vlan.name), 'type', 'vlan', 'id', String(vlan.id)]);
  if (vlan) ops.push(['link', 'set', dev(vlan.name), 'mtu', String(net.mtu)]);
  if (net.bridged) {
    const stp = net.stp ? '1' : '0';
    if (!kernel.links.has(name)) ops.push(['link', 'add', dev(name), 'type', 'bridge', 'stp_state', stp]);
    else ops.push(['link', 'set', dev(name), 'type', 'bridge', 'stp_state', stp]);
    ops.push(['link', 'set', dev(name), 'mtu', String(net.mtu)]);
    if (south !== undefined) {
      // A bridge port keeps no address of its own: the network's addresses live on the bridge.
      if ((kernel.links.get(south)?.addresses.length ?? 0) > 0) ops.push(['addr', 'flush', 'dev', dev(south), 'scope', 'global']);
      if (kernel.links.get(south)?.master !== name) ops.push(['link', 'set', dev(south), 'master', dev(name)]);
    }
  }
  for (const up of [base, vlan?.name, net.bridged ? name : undefined]) if (up !== undefined) ops.push(['link', 'set', dev(up), 'up']);
  ops.push(...addressOps(device, net, previous, kernel));
  ops.push(...routeOps(device, net, previous, kernel));
  return ops;
}

/** The device's IPv4 (and static IPv6) addresses made exactly the network's. */
function addressOps(device: string, net: NetworkAttrs, previous: NetworkAttrs | undefined, kernel: KernelState): IpOp[] {
  const current = kernel.links.get(device)?.addresses ?? [];
  if (net.bootproto === 'dhcp') {
    // The DHCP client sets the address; a static one from before goes first.
    if (previous?.bootproto === 'dhcp') return [];
    return current.filter((a) => a.family === 'inet').map((a) => ['addr', 'del', `${a.local}/${a.prefixlen}`, 'dev', dev(device)]);
  }
  const ops: IpOp[] = [];
  const wanted = net.ipaddr !== undefined && net.netmask !== undefined ? `${net.ipaddr}/${prefixLength(net.netmask) ?? 32}` : undefined;
  for (const a of current) {
    const cidr = `${a.local}/${a.prefixlen}`;
    if (a.family === 'inet' && cidr !== wanted) ops.push(['addr', 'del', cidr, 'dev', dev(device)]);
    if (a.family === 'inet6' && net.ipv6addr !== undefined && cidr !== net.ipv6addr) ops.push(['-6', 'addr', 'del', cidr, 'dev', dev(device)]);
  }
  if (wanted !== undefined) ops.push(['addr', 'replace', wanted, 'dev', dev(device)]);
  if (net.ipv6addr !== undefined) ops.push(['-6', 'addr', 'replace', net.ipv6addr, 'dev', dev(device)]);
  return ops;
}

function routeOps(device: string, net: NetworkAttrs, previous: NetworkAttrs | undefined, kernel: KernelState): IpOp[] {
  if (net.bootproto === 'dhcp') return [];
  const ops: IpOp[] = [];
  if (net.defaultRoute && net.gateway !== undefined) ops.push(['route', 'replace', 'default', 'via', net.gateway, 'dev', dev(device)]);
  else if (previous?.defaultRoute && previous.gateway !== undefined && defaultRoute(kernel)?.dev === device) ops.push(['route', 'del', 'default', 'via', previous.gateway, 'dev', dev(device)]);
  if (net.defaultRoute && net.ipv6gateway !== undefined && net.ipv6gateway !== '::') ops.push(['-6', 'route', 'replace', 'default', 'via', net.ipv6gateway, 'dev', dev(device)]);
  return ops;
}

/** The kernel as the teardown operations leave it: their links gone, their addresses flushed. */
function afterTeardown(kernel: KernelState, ops: readonly IpOp[]): KernelState {
  const links = new Map(kernel.links);
  for (const op of ops) {
    if (op[0] === 'link' && op[1] === 'del') links.delete(op[2]!);
    if (op[0] === 'addr' && op[1] === 'flush') {
      const link = links.get(op[3]!);
      if (link) links.set(link.name, { ...link, addresses: [] });
    }
  }
  for (const [name, link] of links) if (link.master !== undefined && !links.has(link.master)) links.set(name, { ...link, master: undefined });
  return { links, routes: kernel.routes.filter((r) => links.has(r.dev)) };
}

/**
 * The operations from `from` to `to` on a kernel in `kernel`'s state: networks going away or
 * changing what they sit on first, then bonds, then networks built or changed.
 */
export function setupPlan(from: NetConfig, to: NetConfig, current: KernelState): IpOp[] {
  const ops: IpOp[] = [];
  for (const [name, net] of Object.entries(from.networks)) {
    const next = to.networks[name];
    if (next === undefined || footing(next) !== footing(net)) ops.push(...teardown(name, net, to, current));
  }
  for (const [name] of Object.entries(from.bonds)) {
    if (to.bonds[name] === undefined && current.links.has(name)) ops.push(['link', 'del', dev(name)]);
  }
  const kernel = afterTeardown(current, ops);
  for (const [name, bond] of Object.entries(to.bonds)) {
    if (JSON.stringify(bond) !== JSON.stringify(from.bonds[name]) || !kernel.links.has(name)) ops.push(...bondOps(name, bond, from.bonds[name], kernel));
  }
  for (const [name, net] of Object.entries(to.networks)) {
    const previous = from.networks[name];
    if (JSON.stringify(net) === JSON.stringify(previous) && kernel.links.has(networkDevice(name, net))) continue;
    const rebuilt = previous !== undefined && footing(previous) !== footing(net);
    ops.push(...networkOps(name, net, rebuilt ? undefined : previous, kernel));
  }
  return ops;
}
