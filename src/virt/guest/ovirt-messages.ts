/**
 * What each oVirt guest agent message does to the guest info (docs/protocol.md, "oVirt agent line protocol"), as pure functions
 * over plain data. A message whose fields have the wrong types is refused whole (`invalid`), so
 * the info only ever holds the shapes the engine expects; vdsm would raise halfway instead.
 */

export interface NetIface {
  name: string;
  hw: string;
  inet: string[];
  inet6: string[];
}

export interface DiskUsage {
  path: string;
  fs: string;
  total: string;
  used: string;
}

export type Session = 'Unknown' | 'UserLoggedOn' | 'Locked' | 'Active' | 'LoggedOff';

/** vdsm's guestInfo of one VM, from the oVirt agent. */
export interface OvirtGuestInfo {
  username: string;
  session: Session;
  /** MiB of free guest memory (heartbeat free-ram); 0 when unknown or stale. */
  memUsage: number;
  guestCPUCount: number;
  appsList: string[];
  guestIPs: string;
  guestFQDN: string;
  netIfaces: NetIface[];
  disksUsage: DiskUsage[];
  memoryStats: Record<string, string>;
  guestName?: string;
  guestOs?: string;
  guestOsInfo?: Record<string, unknown>;
  guestTimezone?: Record<string, unknown>;
  guestContainers?: Record<string, unknown>[];
  /** Epoch seconds (float, as Python's time.time()). */
  lastLogin?: number;
  lastLogout?: number;
  lastUser?: string;
  /** The agent's disk mapping, {serial: {name: dev}}. */
  diskMapping?: Record<string, unknown>;
}

export function initialGuestInfo(): OvirtGuestInfo {
  return {
    username: 'Unknown',
    session: 'Unknown',
    memUsage: 0,
    guestCPUCount: -1,
    appsList: [],
    guestIPs: '',
    guestFQDN: '',
    netIfaces: [],
    disksUsage: [],
    memoryStats: {},
  };
}

/** What handling a message amounted to, for the agent to act on. */
export type MessageEffect =
  | { kind: 'updated' }
  | { kind: 'heartbeat'; apiVersion: number | undefined }
  | { kind: 'completion'; replyId: string }
  | { kind: 'noted' }
  | { kind: 'unknown' }
  | { kind: 'invalid'; field: string };

const MEMORY_STAT_KEYS = ['mem_total', 'mem_unused', 'mem_buffers', 'mem_cached', 'swap_in', 'swap_out', 'pageflt', 'majflt'] as const;

const INTEGER = /^\s*[+-]?\d+\s*$/;

/** Python's int() of a str or a number; undefined where it would raise. */
export function pyInt(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? Math.trunc(value) : undefined;
  if (typeof value === 'string' && INTEGER.test(value)) {
    const n = Number(value);
    return Number.isSafeInteger(n) ? n : undefined;
  }
  return undefined;
}

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
const invalid = (field: string): MessageEffect => ({ kind: 'invalid', field });
const UPDATED: MessageEffect = { kind: 'updated' };

function netIfaces(value: unknown): NetIface[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: NetIface[] = [];
  for (const entry of value) {
    if (!isObject(entry)) return undefined;
    const { name = '', hw = '', inet = [], inet6 = [] } = entry;
    if (typeof name !== 'string' || typeof hw !== 'string' || !isStringArray(inet) || !isStringArray(inet6)) return undefined;
    out.push({ name, hw, inet, inet6 });
  }
  return out;
}

/** vdsm's guestIPs: per interface "join + space", then stripped (a middle empty one leaves two spaces). */
export function guestIPsOf(ifaces: readonly NetIface[]): string {
  return ifaces
    .map((i) => `${i.inet.join(' ')} `)
    .join('')
    .trim();
}

function disksUsage(value: unknown): DiskUsage[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: DiskUsage[] = [];
  for (const disk of value) {
    if (!isObject(disk)) return undefined;
    const { path = '', fs = '', total, used } = disk;
    if (typeof path !== 'string' || typeof fs !== 'string') return undefined;
    if (!(typeof total === 'number' || typeof total === 'string') || !(typeof used === 'number' || typeof used === 'string')) return undefined;
    out.push({ path, fs, total: String(total), used: String(used) });
  }
  return out;
}

function heartbeat(info: OvirtGuestInfo, args: Record<string, unknown>): MessageEffect {
  const free = pyInt(args['free-ram']);
  if (free === undefined) return invalid('free-ram');
  const stats = args['memory-stat'];
  if (stats !== undefined && !isObject(stats)) return invalid('memory-stat');
  info.memUsage = free;
  if (stats !== undefined) {
    const memoryStats = { ...info.memoryStats };
    for (const key of MEMORY_STAT_KEYS) {
      const v = stats[key];
      if (typeof v === 'number' || typeof v === 'string') memoryStats[key] = String(v);
    }
    if (memoryStats['mem_unused'] !== undefined) memoryStats['mem_free'] = memoryStats['mem_unused'];
    info.memoryStats = memoryStats;
  }
  let apiVersion: number | undefined;
  if ('apiVersion' in args) apiVersion = pyInt(args['apiVersion']) ?? -1;
  return { kind: 'heartbeat', apiVersion };
}

function stringField(args: Record<string, unknown>, field: string, set: (value: string) => void): MessageEffect {
  const value = args[field];
  if (typeof value !== 'string') return invalid(field);
  set(value);
  return UPDATED;
}

type Apply = (info: OvirtGuestInfo, args: Record<string, unknown>, now: number) => MessageEffect;

function session(state: Session): Apply {
  return (info) => {
    info.session = state;
    return UPDATED;
  };
}

/** What each message of the agent's protocol does to the guest info, by message name. */
const APPLY: Record<string, Apply> = {
  heartbeat: (info, args) => heartbeat(info, args),
  'host-name': (info, args) => stringField(args, 'name', (v) => (info.guestName = v)),
  'os-version': (info, args) => stringField(args, 'version', (v) => (info.guestOs = v)),
  'os-info': (info, args) => {
    info.guestOsInfo = args;
    return UPDATED;
  },
  timezone: (info, args) => {
    info.guestTimezone = args;
    return UPDATED;
  },
  fqdn: (info, args) => stringField(args, 'fqdn', (v) => (info.guestFQDN = v)),
  'network-interfaces': (info, args) => {
    const ifaces = netIfaces(args['interfaces']);
    if (ifaces === undefined) return invalid('interfaces');
    info.netIfaces = ifaces;
    info.guestIPs = guestIPsOf(ifaces);
    return UPDATED;
  },
  applications: (info, args) => {
    const apps = args['applications'];
    if (!isStringArray(apps)) return invalid('applications');
    info.appsList = apps;
    return UPDATED;
  },
  uninstalled: (info) => {
    info.appsList = [];
    return UPDATED;
  },
  'active-user': (info, args, now) => {
    const user = args['name'];
    if (typeof user !== 'string') return invalid('name');
    // The agent says 'None' for nobody; 'Unknown' after 'None' is no news.
    if (user !== info.username && !(user === 'Unknown' && info.username === 'None')) {
      info.username = user;
      info.lastLogin = now;
    }
    return UPDATED;
  },
  'session-logon': session('UserLoggedOn'),
  'session-lock': session('Locked'),
  'session-unlock': session('Active'),
  'session-logoff': session('LoggedOff'),
  'session-startup': () => ({ kind: 'noted' }),
  'session-shutdown': () => ({ kind: 'noted' }),
  containers: (info, args) => {
    const list = args['list'];
    if (!Array.isArray(list) || !list.every(isObject)) return invalid('list');
    info.guestContainers = list;
    return UPDATED;
  },
  'disks-usage': (info, args) => {
    const disks = disksUsage(args['disks']);
    if (disks === undefined) return invalid('disks');
    const mapping = args['mapping'];
    if (mapping !== undefined && !isObject(mapping)) return invalid('mapping');
    info.disksUsage = disks;
    if (mapping !== undefined) info.diskMapping = mapping;
    return UPDATED;
  },
  'number-of-cpus': (info, args) => {
    const count = pyInt(args['count']);
    if (count === undefined) return invalid('count');
    info.guestCPUCount = count;
    return UPDATED;
  },
  completion: (_info, args) => {
    const replyId = args['reply_id'];
    if (typeof replyId !== 'string') return invalid('reply_id');
    return { kind: 'completion', replyId };
  },
};

/** Applies one message to `info`; `now` is epoch seconds for lastLogin. */
export function applyMessage(info: OvirtGuestInfo, name: string, args: Record<string, unknown>, now: number): MessageEffect {
  const apply = Object.hasOwn(APPLY, name) ? APPLY[name] : undefined;
  return apply ? apply(info, args, now) : { kind: 'unknown' };
}
