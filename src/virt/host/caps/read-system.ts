/** Readers of the host's system facts: OS, name servers, storage adapters, devices, security, packages. */
import { parseCpuSet } from '../../cpuset.js';
import { DMI_FILES, mergeHardwareInfo, parseSysinfoSystem, type HardwareInfo } from './hardware.js';
import type { HostFiles } from './host-files.js';
import { parseOsRelease, type OperatingSystem } from './os-release.js';
import { DEBIAN_PACKAGES, decodeLibvirtVersion, kernelVersion, splitDebianVersion, type PackageVersion } from './packages.js';
import { parseNameservers } from './resolv-conf.js';
import { kdumpStatus, selinuxMode } from './security.js';
import { fcModel, fcName, hbaInventory, parseInitiatorName, type FcHba, type HbaInventory } from './storage-hba.js';

export function readOperatingSystem(files: HostFiles): OperatingSystem {
  const osRelease = files.readFile('/etc/os-release') ?? files.readFile('/usr/lib/os-release') ?? '';
  return parseOsRelease(osRelease, files.readFile('/etc/debian_version'));
}

/** The kernel's command line, as booted. */
export function readKernelArgs(files: HostFiles): string {
  return (files.readFile('/proc/cmdline') ?? '').trim();
}

/** The CPUs this process may run on (its affinity), from its own status file. */
export function readProcessCpus(files: HostFiles): number[] {
  const line = /^Cpus_allowed_list:\s*(\S+)/m.exec(files.readFile('/proc/self/status') ?? '');
  if (!line) return [];
  try {
    return parseCpuSet(line[1]!);
  } catch {
    return [];
  }
}

export function readNameservers(files: HostFiles): string[] {
  return parseNameservers(files.readFile('/etc/resolv.conf') ?? '');
}

/** IPv6 is on when the kernel lists its addresses (the file is absent with ipv6.disable=1). */
export function readSupportsIpv6(files: HostFiles): boolean {
  return files.exists('/proc/net/if_inet6');
}

export function readIscsiInitiatorName(files: HostFiles): string {
  return parseInitiatorName(files.readFile('/etc/iscsi/initiatorname.iscsi'));
}

/** Fibre Channel HBAs: /sys/class/fc_host/hostN, with the model from the SCSI host's files. */
export function readFcHbas(files: HostFiles): FcHba[] {
  return files.readdir('/sys/class/fc_host').map((host) => {
    const dir = `/sys/class/fc_host/${host}`;
    const scsi = `${dir}/device/scsi_host/${host}`;
    const first = (names: string[]) => names.map((n) => files.readFile(`${scsi}/${n}`)).find((v) => v !== undefined);
    return {
      wwpn: fcName(files.readFile(`${dir}/port_name`)),
      wwnn: fcName(files.readFile(`${dir}/node_name`)),
      model: fcModel(first(['modelname', 'model', 'model_name']), first(['modeldesc', 'model_description', 'model_desc'])),
    };
  });
}

export function readHbaInventory(files: HostFiles): HbaInventory {
  return hbaInventory(readIscsiInitiatorName(files), readFcHbas(files));
}

/**
 * Entropy sources a guest's RNG device can use. /dev/urandom is left out: engines before 4.1
 * do not know it and refuse the host, and /dev/random serves the same guests.
 */
export function readRngSources(files: HostFiles): Array<'random' | 'hwrng'> {
  const out: Array<'random' | 'hwrng'> = [];
  if (files.exists('/dev/random')) out.push('random');
  if (files.exists('/dev/hwrng')) out.push('hwrng');
  return out;
}

export function readKvmEnabled(files: HostFiles): boolean {
  return files.exists('/dev/kvm');
}

/**
 * Device passthrough needs IOMMU groups and, except on POWER, an IOMMU unit (/sys/class/iommu:
 * Intel DMAR or AMD-Vi).
 */
export function readHostdevPassthrough(files: HostFiles, arch: string): boolean {
  const groups = files.readdir('/sys/kernel/iommu_groups').length > 0;
  if (arch.startsWith('ppc')) return groups;
  return groups && files.readdir('/sys/class/iommu').length > 0;
}

export function readSelinuxMode(files: HostFiles): number {
  return selinuxMode(files.readFile('/sys/fs/selinux/enforce') ?? files.readFile('/selinux/enforce'));
}

export function readKdumpStatus(files: HostFiles): -1 | 0 | 1 {
  return kdumpStatus(files.readFile('/sys/kernel/kexec_crash_loaded'), files.readFile('/etc/kdump.conf'));
}

function dpkgVersion(files: HostFiles, names: readonly string[]): PackageVersion | undefined {
  for (const name of names) {
    // An unknown or removed package prints nothing (or fails): try the next name.
    const found = splitDebianVersion(files.execFile('dpkg-query', ['-W', '-f=${Version}', name]) ?? '');
    if (found) return found;
  }
  return undefined;
}

/**
 * packages2 as read from the host: the running kernel, and the packages dpkg knows. libvirt's
 * version comes from the connection when dpkg does not know it (a libvirt built from source);
 * `agent` fills the agent's slot (`vdsm`), which the engine reads its version from.
 */
export function readPackages(files: HostFiles, options: { libvirtVersion?: number; agent?: PackageVersion } = {}): Record<string, PackageVersion> {
  const out: Record<string, PackageVersion> = {};
  const osrelease = files.readFile('/proc/sys/kernel/osrelease');
  if (osrelease) out['kernel'] = kernelVersion(osrelease);
  for (const [key, names] of Object.entries(DEBIAN_PACKAGES)) {
    const version = dpkgVersion(files, names);
    if (version) out[key] = version;
  }
  if (!out['libvirt'] && options.libvirtVersion) out['libvirt'] = { version: decodeLibvirtVersion(options.libvirtVersion), release: '' };
  if (options.agent) out['vdsm'] = options.agent;
  return out;
}

/**
 * Host.getHardwareInfo: the DMI files readable by this user first, then libvirt's sysinfo
 * (libvirtd reads the tables as root, so it has the serial and UUID the files keep from us).
 * What neither gives stays absent for the privileged helper to fill.
 */
export function readHardwareInfo(files: HostFiles, sysinfoXml?: string | null): HardwareInfo {
  const fromDmi: HardwareInfo = {};
  for (const [property, file] of Object.entries(DMI_FILES) as Array<[keyof HardwareInfo, string]>) {
    const value = files.readFile(`/sys/class/dmi/id/${file}`)?.trim();
    if (value) fromDmi[property] = value;
  }
  let fromLibvirt: HardwareInfo = {};
  if (sysinfoXml) {
    try {
      fromLibvirt = parseSysinfoSystem(sysinfoXml);
    } catch {
      // A sysinfo libvirt could not produce well-formed is no worse than none.
    }
  }
  return mergeHardwareInfo(fromDmi, fromLibvirt);
}
