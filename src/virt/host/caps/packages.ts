/**
 * capabilities' packages2: versions with their release of the kernel, libvirt, QEMU and this
 * daemon. The engine derives features from libvirt's and the agent's entries.
 */

export interface PackageVersion {
  version: string;
  release: string;
}

/**
 * A Debian version `[epoch:]upstream[-revision]` as version and release: the upstream part and
 * the Debian revision (`1:7.2+dfsg-7+deb12u18` -> `7.2+dfsg`, `7+deb12u18`). The epoch only orders
 * versions and is dropped. A native package has no revision, so its release is ''.
 */
export function splitDebianVersion(text: string): PackageVersion | undefined {
  const full = text.trim();
  if (full === '') return undefined;
  const withoutEpoch = full.replace(/^\d+:/, '');
  const dash = withoutEpoch.lastIndexOf('-');
  if (dash <= 0) return { version: withoutEpoch, release: '' };
  return { version: withoutEpoch.slice(0, dash), release: withoutEpoch.slice(dash + 1) };
}

/** The running kernel's release (`6.1.0-18-amd64`) split at its first dash, as vdsm splits uname -r. */
export function kernelVersion(osrelease: string): PackageVersion {
  const text = osrelease.trim();
  const dash = text.indexOf('-');
  return dash < 0 ? { version: text, release: '' } : { version: text.slice(0, dash), release: text.slice(dash + 1) };
}

/** libvirt's encoded version (major * 1e6 + minor * 1e3 + micro). */
export function decodeLibvirtVersion(encoded: number): string {
  return `${Math.floor(encoded / 1_000_000)}.${Math.floor(encoded / 1000) % 1000}.${encoded % 1000}`;
}

/**
 * Debian packages to ask dpkg for each packages2 entry, in order of preference: Debian ships QEMU
 * for KVM as qemu-system-x86 (qemu-kvm is a transitional name), libvirt's daemon and library apart.
 */
export const DEBIAN_PACKAGES: Readonly<Record<string, readonly string[]>> = {
  libvirt: ['libvirt-daemon', 'libvirt0'],
  'qemu-kvm': ['qemu-kvm', 'qemu-system-x86', 'qemu-system-arm', 'qemu-system-ppc', 'qemu-system-s390x'],
  'qemu-img': ['qemu-utils'],
  'spice-server': ['libspice-server1'],
};
