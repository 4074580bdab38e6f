/**
 * Reader of the host's network devices (/sys/class/net, `ip -j -d addr show`, the routing tables)
 * and of the networks hostvisor manages (the helper's running and safe configurations).
 */
import { parseNetConfig } from '../../../network/config.js';
import { RUNNING_FILE, SAFE_FILE } from '../../../network/store.js';
import type { HostFiles } from './host-files.js';
import { parseIpAddrJson, parseIpv4DefaultRoutes, parseIpv6DefaultRoutes, type IpLink } from './ip-addresses.js';
import { parseIntFile } from './key-value.js';
import { bondModeNumber, networkDevices, type NetworkDevices, type NicNamePatterns, type SysfsNetDevice } from './network-devices.js';
import { netConfigDirty, reportedNetworks, type ManagedNetworkFacts } from './networks.js';

/** The daemon's [network] settings, as the readers use them. */
export interface NetworkCapsOptions {
  /** The helper's folder of running.json and safe.json. */
  configDir: string;
  nicNames: NicNamePatterns;
}

/** No name patterns: NICs are the devices hardware backs, and none is hidden. */
const BY_KIND_ALONE: NicNamePatterns = { fake: [], hidden: [] };

const NET_ROOT = '/sys/class/net';

/** Bridge options the engine reads back (the rest of the bridge folder is counters and timers). */
const BRIDGE_OPTS = ['forward_delay', 'hello_time', 'max_age', 'ageing_time', 'stp_state', 'priority', 'multicast_snooping', 'multicast_router', 'vlan_filtering', 'group_fwd_mask'];
/** Bonding options reported for a bond; `mode` as its number. */
const BOND_OPTS = ['mode', 'miimon', 'updelay', 'downdelay', 'xmit_hash_policy', 'lacp_rate', 'primary', 'arp_interval'];

function readOpts(files: HostFiles, dir: string, names: readonly string[]): Record<string, string> {
  const opts: Record<string, string> = {};
  for (const name of names) {
    const value = files.readFile(`${dir}/${name}`)?.trim();
    if (value !== undefined && value !== '') opts[name] = name === 'mode' ? bondModeNumber(value) : value;
  }
  return opts;
}

function readDevice(files: HostFiles, name: string): SysfsNetDevice {
  const dir = `${NET_ROOT}/${name}`;
  const speed = parseIntFile(files.readFile(`${dir}/speed`));
  const bridge = files.exists(`${dir}/bridge`)
    ? { ports: files.readdir(`${dir}/brif`), stpState: parseIntFile(files.readFile(`${dir}/bridge/stp_state`)) ?? 0, opts: readOpts(files, `${dir}/bridge`, BRIDGE_OPTS) }
    : undefined;
  const bond = files.exists(`${dir}/bonding`)
    ? {
        slaves: (files.readFile(`${dir}/bonding/slaves`) ?? '').trim().split(/\s+/).filter((s) => s !== ''),
        activeSlave: (files.readFile(`${dir}/bonding/active_slave`) ?? '').trim(),
        opts: readOpts(files, `${dir}/bonding`, BOND_OPTS),
      }
    : undefined;
  return {
    name,
    hwaddr: (files.readFile(`${dir}/address`) ?? '').trim(),
    mtu: parseIntFile(files.readFile(`${dir}/mtu`)) ?? 1500,
    speed: speed !== undefined && speed > 0 ? speed : undefined,
    physical: files.exists(`${dir}/device`),
    bridge,
    bond,
  };
}

function readLinks(files: HostFiles): IpLink[] {
  const json = files.execFile('ip', ['-j', '-d', 'addr', 'show']);
  if (json === undefined) return [];
  try {
    return parseIpAddrJson(json);
  } catch {
    return [];
  }
}

export function readNetworkDevices(files: HostFiles, nicNames: NicNamePatterns = BY_KIND_ALONE): NetworkDevices {
  const names = files.readdir(NET_ROOT);
  return networkDevices({
    devices: names.map((name) => readDevice(files, name)),
    links: readLinks(files),
    ipv4Gateways: parseIpv4DefaultRoutes(files.readFile('/proc/net/route') ?? ''),
    ipv6Gateways: parseIpv6DefaultRoutes(files.readFile('/proc/net/ipv6_route') ?? ''),
    ipv6Autoconf: new Set(names.filter((n) => files.readFile(`/proc/sys/net/ipv6/conf/${n}/autoconf`)?.trim() === '1')),
    nicNames,
  });
}

/** The managed networks on `devices`; with no configuration folder, none. */
export function readManagedNetworks(files: HostFiles, configDir: string | undefined, devices: NetworkDevices): ManagedNetworkFacts {
  const read = (file: string) => parseNetConfig(configDir === undefined ? undefined : files.readFile(`${configDir}/${file}`));
  const running = read(RUNNING_FILE);
  return { ...reportedNetworks(running, devices), netConfigDirty: netConfigDirty(running, read(SAFE_FILE)) };
}
