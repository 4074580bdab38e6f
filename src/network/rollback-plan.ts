/**
 * Back to a kernel state taken earlier: the operations that undo a setup, whatever it got through.
 * This restores what the kernel had, not what a configuration file says it should have had, so a
 * rollback also puts back an address the setup moved off a NIC that no network owned (the host's
 * address before the engine's first setup). Three phases, each planned on a fresh reading of the
 * kernel: links (created ones deleted, deleted ones created), then each link's master, MTU, state
 * and addresses, then routes (which need the addresses back).
 */
import type { IpOp } from './ip.js';
import type { KernelAddress, KernelLink, KernelRoute, KernelState } from './kernel.js';
import { isDeviceName } from './plan.js';

/** Link kinds a setup creates, and so a rollback may delete or create again. */
const OWN_KINDS = new Set(['bridge', 'vlan', 'bond']);

const safe = (name: string): boolean => isDeviceName(name);

export function linksPhase(now: KernelState, before: KernelState): IpOp[] {
  const ops: IpOp[] = [];
  const order = (l: KernelLink): number => ['bond', 'bridge', 'vlan'].indexOf(l.kind);
  const missing = [...before.links.values()].filter((l) => !now.links.has(l.name) && OWN_KINDS.has(l.kind) && safe(l.name)).sort((a, b) => order(a) - order(b));
  for (const link of missing) {
    if (link.kind === 'vlan' && link.vlan) ops.push(['link', 'add', 'link', link.vlan.link, 'name', link.name, 'type', 'vlan', 'id', String(link.vlan.id)]);
    else ops.push(['link', 'add', link.name, 'type', link.kind]);
  }
  const extra = [...now.links.values()].filter((l) => !before.links.has(l.name) && OWN_KINDS.has(l.kind) && safe(l.name)).sort((a, b) => order(b) - order(a));
  for (const link of extra) ops.push(['link', 'del', link.name]);
  return ops;
}

const cidr = (a: KernelAddress): string => `${a.local}/${a.prefixlen}`;

export function devicesPhase(now: KernelState, before: KernelState): IpOp[] {
  const ops: IpOp[] = [];
  for (const old of before.links.values()) {
    const cur = now.links.get(old.name);
    if (cur === undefined || !safe(old.name)) continue;
    if (cur.master !== old.master) ops.push(old.master === undefined ? ['link', 'set', old.name, 'nomaster'] : ['link', 'set', old.name, 'master', old.master]);
    if (cur.mtu !== old.mtu) ops.push(['link', 'set', old.name, 'mtu', String(old.mtu)]);
    if (cur.up !== old.up) ops.push(['link', 'set', old.name, old.up ? 'up' : 'down']);
    const had = new Set(old.addresses.map(cidr));
    const has = new Set(cur.addresses.map(cidr));
    for (const a of cur.addresses) if (!had.has(cidr(a))) ops.push([a.family === 'inet6' ? '-6' : '-4', 'addr', 'del', cidr(a), 'dev', old.name]);
    for (const a of old.addresses) if (!has.has(cidr(a))) ops.push([a.family === 'inet6' ? '-6' : '-4', 'addr', 'add', cidr(a), 'dev', old.name]);
  }
  return ops;
}

const routeKey = (r: KernelRoute): string => JSON.stringify([r.family, r.dst, r.gateway ?? '', r.dev, r.metric ?? 0]);

function routeArgs(r: KernelRoute): string[] {
  return [r.family === 'inet6' ? '-6' : '-4', 'route', r.dst, ...(r.gateway !== undefined ? ['via', r.gateway] : []), 'dev', r.dev, ...(r.metric !== undefined ? ['metric', String(r.metric)] : [])];
}

export function routesPhase(now: KernelState, before: KernelState): IpOp[] {
  const had = new Set(before.routes.map(routeKey));
  const has = new Set(now.routes.map(routeKey));
  const del = now.routes.filter((r) => !had.has(routeKey(r)) && safe(r.dev)).map((r) => insertVerb(routeArgs(r), 'del'));
  const add = before.routes.filter((r) => !has.has(routeKey(r)) && safe(r.dev)).map((r) => insertVerb(routeArgs(r), 'add'));
  return [...del, ...add];
}

/** ['-4', 'route', dst, ...] -> ['-4', 'route', verb, dst, ...] */
function insertVerb(args: string[], verb: string): IpOp {
  return [args[0]!, args[1]!, verb, ...args.slice(2)];
}
