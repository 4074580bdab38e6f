/**
 * QEMU guest agent replies as vdsm reports them (docs/protocol.md, "QEMU guest agent"; vdsm's qemuguestagent.py and
 * guestagenthelpers.py). The replies come from the guest through libvirt and are not trusted:
 * each translator returns undefined for a reply of the wrong shape, and entries of the wrong
 * shape inside a list are skipped.
 */
import type { DiskUsage, NetIface } from './ovirt-messages.js';

type Obj = Record<string, unknown>;
const isObject = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const objects = (v: unknown): Obj[] | undefined => (Array.isArray(v) ? v.filter(isObject) : undefined);

export interface QgaCaps {
  version: string;
  commands: Set<string>;
}

/** guest-info: the version and the enabled commands. */
export function translateCaps(ret: unknown): QgaCaps | undefined {
  if (!isObject(ret) || typeof ret['version'] !== 'string') return undefined;
  const supported = objects(ret['supported_commands']) ?? [];
  return { version: ret['version'], commands: new Set(supported.filter((c) => c['enabled'] === true && typeof c['name'] === 'string').map((c) => c['name'] as string)) };
}

/** guest-get-vcpus: the number of online CPUs. */
export function translateVcpus(ret: unknown): Obj | undefined {
  const cpus = objects(ret);
  if (cpus === undefined) return undefined;
  return { guestCPUCount: cpus.filter((c) => c['online'] === true).length };
}

/** guest-network-get-interfaces → netIfaces; guestIPs is '' as vdsm reports it for QEMU-GA. */
export function translateNetwork(ret: unknown): Obj | undefined {
  const ifaces = objects(ret);
  if (ifaces === undefined) return undefined;
  const netIfaces: NetIface[] = ifaces.map((i) => {
    const addresses = objects(i['ip-addresses']) ?? [];
    const of = (type: string): string[] => addresses.filter((a) => a['ip-address-type'] === type && typeof a['ip-address'] === 'string').map((a) => a['ip-address'] as string);
    return { hw: str(i['hardware-address']), inet: of('ipv4'), inet6: of('ipv6'), name: str(i['name']) };
  });
  return { netIfaces, guestIPs: '' };
}

/** Whether the guest has an address worth reporting (vdsm re-asks at boot until it does). */
export function hasRoutableAddress(netIfaces: readonly NetIface[]): boolean {
  return netIfaces.some(
    (i) =>
      i.name !== 'lo' &&
      i.name !== 'docker0' &&
      (i.inet.some((a) => !a.startsWith('127.') && !a.startsWith('169.254.')) || i.inet6.some((a) => a !== '::1' && !a.toLowerCase().startsWith('fe80'))),
  );
}

export function translateHostName(ret: unknown): Obj | undefined {
  if (!isObject(ret) || typeof ret['host-name'] !== 'string') return undefined;
  return { guestName: ret['host-name'], guestFQDN: ret['host-name'] };
}

const ARCH: Record<string, string> = { ppc: 'ppc', ppcle: 'ppcle', ppc64: 'ppc64', ppc64le: 'ppc64le', x86: 'x86', x86_64: 'x86_64', i686: 'x86', i586: 'x86', i386: 'x86' };

export function translateArch(machine: string): string {
  return ARCH[machine] ?? 'unknown';
}

/** guest-get-osinfo: Linux reports the kernel release as guestOs, Windows its pretty name. */
export function translateOsInfo(ret: unknown): Obj | undefined {
  if (!isObject(ret)) return undefined;
  const arch = translateArch(str(ret['machine']));
  if (ret['id'] === 'mswindows') {
    const name = str(ret['pretty-name']);
    return { guestOs: name, guestOsInfo: { type: 'windows', arch, kernel: '', distribution: '', version: str(ret['kernel-version']), codename: name } };
  }
  const kernel = str(ret['kernel-release']);
  return {
    guestOs: kernel,
    guestOsInfo: { type: 'linux', arch, kernel, distribution: str(ret['name']), version: str(ret['version-id']), codename: str(ret['variant']) },
  };
}

/** guest-get-timezone: offset in minutes (Python's floor division of seconds). */
export function translateTimezone(ret: unknown): Obj | undefined {
  if (!isObject(ret) || typeof ret['offset'] !== 'number' || !Number.isFinite(ret['offset'])) return undefined;
  return { guestTimezone: { offset: Math.floor(ret['offset'] / 60), zone: typeof ret['zone'] === 'string' ? ret['zone'] : 'unknown' } };
}

export function translateUsers(ret: unknown): Obj | undefined {
  const users = objects(ret);
  if (users === undefined) return undefined;
  const names = users.filter((u) => typeof u['user'] === 'string').map((u) => (str(u['domain']) !== '' ? `${u['user'] as string}@${u['domain'] as string}` : (u['user'] as string)));
  return { username: names.join(', ') };
}

const PARTITION = /^(\/dev\/[hsv]d[a-z]+)[0-9]+$/;

/** guest-get-fsinfo: usage per mount; a disk mapping from it only when guest-get-disks is missing. */
export function translateFsInfo(ret: unknown, withMapping: boolean): Obj | undefined {
  const filesystems = objects(ret);
  if (filesystems === undefined) return undefined;
  const disksUsage: DiskUsage[] = [];
  const mapping: Record<string, { name: string }> = {};
  for (const fs of filesystems) {
    const total = fs['total-bytes'];
    const used = fs['used-bytes'];
    if (typeof total === 'number' && typeof used === 'number') {
      disksUsage.push({ path: str(fs['mountpoint']), total: String(total), used: String(used), fs: str(fs['type']) });
    }
    if (!withMapping) continue;
    for (const disk of objects(fs['disk']) ?? []) {
      const serial = disk['serial'];
      const dev = disk['dev'];
      if (typeof serial === 'string' && typeof dev === 'string') mapping[serial] = { name: dev.replace(PARTITION, '$1') };
    }
  }
  return withMapping ? { disksUsage, diskMapping: mapping } : { disksUsage };
}

/** guest-get-disks: {serial: {name}} for disks with an address and a serial. */
export function translateDisks(ret: unknown): Obj | undefined {
  const disks = objects(ret);
  if (disks === undefined) return undefined;
  const diskMapping: Record<string, { name: string }> = {};
  for (const disk of disks) {
    const address = disk['address'];
    if (!isObject(address) || typeof address['serial'] !== 'string' || typeof disk['name'] !== 'string') continue;
    diskMapping[address['serial']] = { name: disk['name'] };
  }
  return { diskMapping };
}

export interface PciDevice {
  device_id: number;
  driver_date: string;
  driver_name: string;
  driver_version: string;
  vendor_id: number;
}

/** Nanoseconds since the epoch, or an ISO date, as YYYY-MM-DD. */
function driverDate(value: unknown): string {
  if (typeof value === 'number' && Number.isFinite(value)) {
    const date = new Date(value / 1e6);
    return Number.isNaN(date.getTime()) ? '' : date.toISOString().slice(0, 10);
  }
  return typeof value === 'string' ? value.slice(0, 10) : '';
}

/** guest-get-devices: PCI devices, old (address.data) and new (id) formats, without duplicates. */
export function translateDevices(ret: unknown): Obj | undefined {
  const devices = objects(ret);
  if (devices === undefined) return undefined;
  const out: PciDevice[] = [];
  const seen = new Set<string>();
  for (const device of devices) {
    const id = isObject(device['id']) ? device['id'] : undefined;
    const address = isObject(device['address']) ? device['address'] : undefined;
    const ids = id?.['type'] === 'pci' ? id : address?.['type'] === 'pci' && isObject(address['data']) ? address['data'] : undefined;
    if (ids === undefined || typeof ids['vendor-id'] !== 'number' || typeof ids['device-id'] !== 'number') continue;
    const entry: PciDevice = {
      device_id: ids['device-id'],
      driver_date: driverDate(device['driver-date']),
      driver_name: str(device['driver-name']),
      driver_version: str(device['driver-version']),
      vendor_id: ids['vendor-id'],
    };
    const key = JSON.stringify(entry);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(entry);
  }
  return { pci_devices: out };
}

/** vdsm's fake appsList: what the QEMU agent stands for in the application list. */
export function fakeAppsList(version: string, osInfo: Obj | undefined): string[] {
  const info = osInfo?.['guestOsInfo'];
  if (isObject(info) && info['type'] === 'windows') return ['QEMU guest agent'];
  if (isObject(info) && typeof info['kernel'] === 'string' && info['kernel'] !== '') return [`kernel-${info['kernel']}`, `qemu-guest-agent-${version}`];
  return [`qemu-guest-agent-${version}`];
}
