/** /proc/net/if_inet6: the host's IPv6 addresses per interface; its existence means IPv6 is on. */

export interface Inet6Address {
  device: string;
  /** Compressed text form, e.g. `fe80::1`. */
  address: string;
  prefixLength: number;
  /** Kernel scope: 0 global, 0x20 link, 0x10 host. */
  scope: number;
}

/** 32 hex digits -> the compressed text form of the IPv6 address. */
export function compressIpv6(hex32: string): string {
  const groups = (hex32.match(/.{4}/g) ?? []).map((g) => g.replace(/^0+(?=.)/, ''));
  // Replace the longest run of two or more zero groups with `::` (RFC 5952).
  let best = -1;
  let bestLength = 1;
  for (let i = 0; i < groups.length; ) {
    let j = i;
    while (j < groups.length && groups[j] === '0') j++;
    if (j - i > bestLength) {
      best = i;
      bestLength = j - i;
    }
    i = j === i ? i + 1 : j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLength).join(':')}`;
}

export function parseIfInet6(text: string): Inet6Address[] {
  const out: Inet6Address[] = [];
  for (const line of text.split('\n')) {
    const [hex, , prefix, scope, , device] = line.trim().split(/\s+/);
    if (hex === undefined || hex.length !== 32 || device === undefined) continue;
    out.push({ device, address: compressIpv6(hex.toLowerCase()), prefixLength: Number.parseInt(prefix ?? '0', 16), scope: Number.parseInt(scope ?? '0', 16) });
  }
  return out;
}
