/**
 * Host.getHardwareInfo from SMBIOS: the kernel's /sys/class/dmi/id files, and libvirt's sysinfo
 * (libvirtd reads the tables as root) for what those files keep from other users.
 */
import { childrenNamed, find, parseXmlTree } from './xml-tree.js';

export interface HardwareInfo {
  systemManufacturer?: string;
  systemProductName?: string;
  systemVersion?: string;
  systemSerialNumber?: string;
  systemUUID?: string;
  systemFamily?: string;
}

/** The /sys/class/dmi/id file behind each property; product_serial and product_uuid are root-only. */
export const DMI_FILES: Readonly<Record<keyof HardwareInfo, string>> = {
  systemManufacturer: 'sys_vendor',
  systemProductName: 'product_name',
  systemVersion: 'product_version',
  systemSerialNumber: 'product_serial',
  systemUUID: 'product_uuid',
  systemFamily: 'product_family',
};

/** libvirt's `<system><entry name=...>` for each property. */
const SYSINFO_ENTRIES: Readonly<Record<keyof HardwareInfo, string>> = {
  systemManufacturer: 'manufacturer',
  systemProductName: 'product',
  systemVersion: 'version',
  systemSerialNumber: 'serial',
  systemUUID: 'uuid',
  systemFamily: 'family',
};

/** The `<system>` entries of libvirt's sysinfo XML, as HardwareInfo properties. */
export function parseSysinfoSystem(xml: string): HardwareInfo {
  const entries = childrenNamed(find(parseXmlTree(xml), 'system'), 'entry');
  const out: HardwareInfo = {};
  for (const [property, name] of Object.entries(SYSINFO_ENTRIES) as Array<[keyof HardwareInfo, string]>) {
    const value = entries.find((e) => e.attributes['name'] === name)?.text;
    if (value) out[property] = value;
  }
  return out;
}

/**
 * One HardwareInfo from the sources in order of trust: each property from the first that has it.
 * A property no source could read stays absent (the schema makes each optional), so a caller
 * with more rights (the privileged helper) can fill it in later.
 */
export function mergeHardwareInfo(...sources: HardwareInfo[]): HardwareInfo {
  const out: HardwareInfo = {};
  for (const property of Object.keys(DMI_FILES) as Array<keyof HardwareInfo>) {
    const value = sources.map((s) => s[property]?.trim()).find((v) => v !== undefined && v !== '');
    if (value !== undefined) out[property] = value;
  }
  return out;
}

/** The properties still missing: what the privileged helper should read. */
export function missingHardwareInfo(info: HardwareInfo): Array<keyof HardwareInfo> {
  return (Object.keys(DMI_FILES) as Array<keyof HardwareInfo>).filter((p) => info[p] === undefined);
}
