/** SELinux and kdump as the engine reads them. */

/** selinux.mode: 1 enforcing, 0 permissive, -1 disabled (no selinuxfs `enforce` file). */
export function selinuxMode(enforce: string | undefined): number {
  const value = enforce?.trim();
  return value === '1' ? 1 : value === '0' ? 0 : -1;
}

/**
 * kdumpStatus: 1 when a crash kernel is loaded and kdump is set up to tell the engine about a
 * crash (fence_kdump_nodes in /etc/kdump.conf), 0 when either is missing, -1 when the kernel does
 * not say (/sys/kernel/kexec_crash_loaded absent) or kdump.conf cannot be read.
 */
export function kdumpStatus(crashLoaded: string | undefined, kdumpConf: string | undefined): -1 | 0 | 1 {
  const loaded = crashLoaded?.trim();
  if (loaded === undefined || !/^\d+$/.test(loaded)) return -1;
  if (loaded !== '1') return 0;
  if (kdumpConf === undefined) return -1;
  return kdumpConf.split('\n').some((line) => line.startsWith('fence_kdump_nodes')) ? 1 : 0;
}
