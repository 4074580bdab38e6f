/**
 * The host's addresses and default routes: `ip -j -d addr show` (iproute2's JSON), /proc/net/route
 * and /proc/net/ipv6_route. Reported per device as the engine reads a network device.
 */
import { compressIpv6 } from './if-inet6.js';

export interface DeviceAddress {
  family: 'inet' | 'inet6';
  local: string;
  prefixlen: number;
  scope: string;
  /** Given by DHCP or autoconfiguration (not permanent). */
  dynamic: boolean;
}

export interface IpLink {
  name: string;
  /** iproute2's link kind: `vlan`, `bridge`, `bond`, `dummy`..., undefined for a plain device. */
  kind: string | undefined;
  /** For a VLAN: its id and the device it rides on. */
  vlan: { id: number; link: string } | undefined;
  addresses: DeviceAddress[];
}

interface IpJsonAddress {
  family?: string;
  local?: string;
  prefixlen?: number;
  scope?: string;
  dynamic?: boolean;
}

interface IpJsonLink {
  ifname?: string;
  link?: string;
  linkinfo?: { info_kind?: string; info_data?: { id?: number } };
  addr_info?: IpJsonAddress[];
}

export function parseIpAddrJson(text: string): IpLink[] {
  const links = JSON.parse(text) as IpJsonLink[];
  return links
    .filter((l) => typeof l.ifname === 'string')
    .map((l) => {
      const kind = l.linkinfo?.info_kind;
      const id = l.linkinfo?.info_data?.id;
      return {
        name: l.ifname as string,
        kind,
        vlan: kind === 'vlan' && typeof id === 'number' ? { id, link: l.link ?? '' } : undefined,
        addresses: (l.addr_info ?? [])
          .filter((a) => (a.family === 'inet' || a.family === 'inet6') && typeof a.local === 'string')
          .map((a) => ({ family: a.family as 'inet' | 'inet6', local: a.local as string, prefixlen: a.prefixlen ?? 0, scope: a.scope ?? 'global', dynamic: a.dynamic === true })),
      };
    });
}

/** /proc/net/route: the IPv4 default gateway of each device that has one. */
export function parseIpv4DefaultRoutes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const [device, destination, gateway, , , , , mask] = line.trim().split(/\s+/);
    if (device === undefined || destination !== '00000000' || mask !== '00000000' || gateway === undefined) continue;
    // Little-endian hex: 0102A8C0 is 192.168.2.1.
    const octets = (gateway.match(/../g) ?? []).map((h) => Number.parseInt(h, 16)).reverse();
    if (!out.has(device)) out.set(device, octets.join('.'));
  }
  return out;
}

/** /proc/net/ipv6_route: the IPv6 default gateway (::/0 via a router) of each device. */
export function parseIpv6DefaultRoutes(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [destination, prefix, , , nextHop] = fields;
    const device = fields[9] as string;
    if (destination !== '0'.repeat(32) || prefix !== '00' || nextHop === '0'.repeat(32) || nextHop === undefined) continue;
    if (!out.has(device)) out.set(device, compressIpv6(nextHop));
  }
  return out;
}

function netmaskOf(prefix: number): string {
  const bits = prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
  return [24, 16, 8, 0].map((shift) => (bits >>> shift) & 0xff).join('.');
}

/** The address fields every network device entry carries. */
export interface IpInfo {
  addr: string;
  netmask: string;
  ipv4addrs: string[];
  ipv6addrs: string[];
  gateway: string;
  ipv6gateway: string;
  ipv4defaultroute: boolean;
  dhcpv4: boolean;
  dhcpv6: boolean;
}

/**
 * A device's addresses as the engine reads them: link-local ones left out; `addr`/`netmask` are
 * the first IPv4 address, or the first in the gateway's subnet when there is a gateway.
 */
export function ipInfo(addresses: readonly DeviceAddress[], gateway = '', ipv6gateway = ''): IpInfo {
  const usable = addresses.filter((a) => a.scope !== 'link');
  const v4 = usable.filter((a) => a.family === 'inet');
  const v6 = usable.filter((a) => a.family === 'inet6');
  const inGatewayNet = gateway ? v4.find((a) => sameSubnet(a.local, gateway, a.prefixlen)) : undefined;
  const primary = inGatewayNet ?? v4[0];
  return {
    addr: primary?.local ?? '',
    netmask: primary ? netmaskOf(primary.prefixlen) : '',
    ipv4addrs: v4.map((a) => `${a.local}/${a.prefixlen}`),
    ipv6addrs: v6.map((a) => `${a.local}/${a.prefixlen}`),
    gateway,
    ipv6gateway: ipv6gateway || '::',
    ipv4defaultroute: gateway !== '',
    dhcpv4: v4.some((a) => a.dynamic),
    dhcpv6: v6.some((a) => a.dynamic),
  };
}

function toInt(address: string): number {
  return address.split('.').reduce((n, octet) => ((n << 8) | Number(octet)) >>> 0, 0);
}

function sameSubnet(a: string, b: string, prefix: number): boolean {
  const mask = prefix <= 0 ? 0 : (0xffffffff << (32 - Math.min(prefix, 32))) >>> 0;
  return ((toInt(a) & mask) >>> 0) === ((toInt(b) & mask) >>> 0);
}
