/** Dotted IPv4 netmasks as prefix lengths. */

/** 255.255.255.0 -> 24; undefined for a mask that is not contiguous ones then zeros. */
export function prefixLength(netmask: string): number | undefined {
  const parts = netmask.split('.');
  if (parts.length !== 4 || parts.some((p) => !/^\d{1,3}$/.test(p) || Number(p) > 255)) return undefined;
  const bits = parts.map((p) => Number(p).toString(2).padStart(8, '0')).join('');
  return /^1*0*$/.test(bits) ? bits.indexOf('0') === -1 ? 32 : bits.indexOf('0') : undefined;
}
