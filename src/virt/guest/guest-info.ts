/**
 * The guest data of VM.getStats (vdsm's getGuestInfo and _getGuestStats, docs/protocol.md, "Guest data in VM.getStats"), from
 * what the oVirt agent and the QEMU agent reported:
 * - defaults; all of the oVirt agent's info while it is responsive, otherwise only its non-empty
 *   appsList, guestIPs, guestFQDN, netIfaces and a known username;
 * - the QEMU agent's data on top: its fake appsList entries first, then the oVirt apps minus the
 *   ones it stands for; every other key it has overrides; disk mappings merged into
 *   guestDiskMapping;
 * - memUsage as vdsm reports it: percent of the VM's memory in use, a string, '0' when unknown.
 * The result is a fresh object; the arrays in it are never mutated afterwards (the parts that
 * produce them replace them), so VM.getStats can hand it out as is.
 */
import type { OvirtGuestInfo } from './ovirt-messages.js';

/** What the QEMU agent poller knows of a VM; keys as in VM.getStats. */
export type QemuGuestInfo = Record<string, unknown> & { appsList?: string[]; diskMapping?: Record<string, unknown> };

const QGA_STANDS_FOR = /^(qemu[ -](guest[ -]agent|ga)|kernel-)/i;

export function mergeGuestInfo(
  ovirt: { info: OvirtGuestInfo; responsive: boolean } | undefined,
  qemu: QemuGuestInfo | undefined,
  memoryMiB: number,
): Record<string, unknown> {
  const out: Record<string, unknown> = { username: 'Unknown', session: 'Unknown', memUsage: 0, guestCPUCount: -1, appsList: [], guestIPs: '', guestFQDN: '' };
  let mapping: Record<string, unknown> | undefined;
  if (ovirt !== undefined) {
    const info = ovirt.info;
    if (ovirt.responsive) {
      for (const [key, value] of Object.entries(info)) if (key !== 'diskMapping' && value !== undefined) out[key] = value;
      mapping = info.diskMapping;
    } else {
      if (info.appsList.length > 0) out['appsList'] = info.appsList;
      if (info.guestIPs !== '') out['guestIPs'] = info.guestIPs;
      if (info.guestFQDN !== '') out['guestFQDN'] = info.guestFQDN;
      if (info.netIfaces.length > 0) out['netIfaces'] = info.netIfaces;
      if (info.username !== 'Unknown') out['username'] = info.username;
    }
  }
  if (qemu !== undefined) {
    if (qemu.diskMapping !== undefined) mapping = { ...mapping, ...qemu.diskMapping };
    const qemuApps = qemu.appsList ?? [];
    if (qemuApps.length > 0) out['appsList'] = [...qemuApps, ...(out['appsList'] as string[]).filter((app) => !QGA_STANDS_FOR.test(app))];
    for (const [key, value] of Object.entries(qemu)) if (key !== 'diskMapping' && key !== 'appsList' && value !== undefined) out[key] = value;
  }
  if (mapping !== undefined && Object.keys(mapping).length > 0) out['guestDiskMapping'] = mapping;
  out['memUsage'] = memUsagePercent(out['memUsage'], memoryMiB);
  return out;
}

/** vdsm: str(int(100 - free / memory * 100)), '0' when free is 0 or the size unknown. */
export function memUsagePercent(freeMiB: unknown, memoryMiB: number): string {
  const free = typeof freeMiB === 'number' ? freeMiB : 0;
  if (free === 0 || !(memoryMiB > 0)) return '0';
  return String(Math.trunc(100 - (free / memoryMiB) * 100));
}
