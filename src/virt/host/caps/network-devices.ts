/**
 * capabilities' nics, bridges, vlans and bondings as the kernel has them now, from
 * /sys/class/net and iproute2's view of links and addresses. Loopback and devices of no kind the
 * engine knows (tun, ifb...) are left out; dummy, veth and macvlan devices count as NICs when
 * their name matches vdsm's `fake_nics` (test hosts run on them), and NICs matching `hidden_nics`
 * (wireless, USB) are never reported, as vdsm does.
 */
import { ipInfo, type IpInfo, type IpLink } from './ip-addresses.js';
import { matchesAny } from './name-patterns.js';

/** What /sys/class/net/<name> says about one device. */
export interface SysfsNetDevice {
  name: string;
  hwaddr: string;
  mtu: number;
  /** Mb/s; undefined when the link is down or the driver does not say (the file fails or says -1). */
  speed: number | undefined;
  /** Has a `device` link: backed by hardware (PCI, virtio...), so a NIC. */
  physical: boolean;
  /** Has a `bridge` folder: the ports (brif/) and bridge options. */
  bridge: { ports: string[]; stpState: number; opts: Record<string, string> } | undefined;
  /** Has a `bonding` folder. */
  bond: { slaves: string[]; activeSlave: string; opts: Record<string, string> } | undefined;
}

export interface NicEntry extends IpInfo {
  hwaddr: string;
  mtu: string;
  speed: number;
  ipv6autoconf: boolean;
}
export interface BridgeEntry extends IpInfo {
  ports: string[];
  stp: 'on' | 'off';
  opts: Record<string, string>;
  mtu: string;
  ipv6autoconf: boolean;
}
export interface VlanEntry extends IpInfo {
  iface: string;
  vlanid: number;
  mtu: number;
  ipv6autoconf: boolean;
}
export interface BondEntry extends IpInfo {
  hwaddr: string;
  slaves: string[];
  active_slave: string;
  opts: Record<string, string>;
  mtu: string;
  ipv6autoconf: boolean;
}

export interface NetworkDevices {
  nics: Record<string, NicEntry>;
  bridges: Record<string, BridgeEntry>;
  vlans: Record<string, VlanEntry>;
  bondings: Record<string, BondEntry>;
}

export interface NetworkSources {
  devices: readonly SysfsNetDevice[];
  links: readonly IpLink[];
  ipv4Gateways: ReadonlyMap<string, string>;
  ipv6Gateways: ReadonlyMap<string, string>;
  /** Devices whose /proc/sys/net/ipv6/conf/<name>/autoconf is 1. */
  ipv6Autoconf: ReadonlySet<string>;
  nicNames: NicNamePatterns;
}

/** vdsm's `fake_nics` and `hidden_nics`: fnmatch patterns of device names. */
export interface NicNamePatterns {
  /** Dummy, veth and macvlan devices reported as NICs although no hardware backs them. */
  fake: readonly string[];
  /** NICs never reported. */
  hidden: readonly string[];
}

/** The link kinds vdsm takes for a NIC when the name matches `fake_nics`. */
const FAKE_NIC_KINDS: ReadonlySet<string | undefined> = new Set(['dummy', 'veth', 'macvlan']);

function isReportedNic(device: SysfsNetDevice, kind: string | undefined, names: NicNamePatterns): boolean {
  if (device.name === 'lo' || matchesAny(device.name, names.hidden)) return false;
  return device.physical || (FAKE_NIC_KINDS.has(kind) && matchesAny(device.name, names.fake));
}

export function networkDevices(sources: NetworkSources): NetworkDevices {
  const links = new Map(sources.links.map((l) => [l.name, l]));
  const out: NetworkDevices = { nics: {}, bridges: {}, vlans: {}, bondings: {} };
  for (const device of sources.devices) {
    const link = links.get(device.name);
    const ip = ipInfo(link?.addresses ?? [], sources.ipv4Gateways.get(device.name) ?? '', sources.ipv6Gateways.get(device.name) ?? '');
    const ipv6autoconf = sources.ipv6Autoconf.has(device.name);
    if (device.bridge) {
      const { ports, stpState, opts } = device.bridge;
      out.bridges[device.name] = { ...ip, ports, stp: stpState === 0 ? 'off' : 'on', opts, mtu: String(device.mtu), ipv6autoconf };
    } else if (device.bond) {
      const { slaves, activeSlave, opts } = device.bond;
      out.bondings[device.name] = { ...ip, hwaddr: device.hwaddr, slaves, active_slave: activeSlave, opts, mtu: String(device.mtu), ipv6autoconf };
    } else if (link?.vlan) {
      out.vlans[device.name] = { ...ip, iface: link.vlan.link, vlanid: link.vlan.id, mtu: device.mtu, ipv6autoconf };
    } else if (isReportedNic(device, link?.kind, sources.nicNames)) {
      out.nics[device.name] = { ...ip, hwaddr: device.hwaddr, mtu: String(device.mtu), speed: device.speed ?? 0, ipv6autoconf };
    }
  }
  return out;
}

/** bonding/mode `active-backup 1` -> `1`: the engine reads bond modes by number. */
export function bondModeNumber(text: string): string {
  const fields = text.trim().split(/\s+/);
  return fields[1] ?? fields[0] ?? '';
}
