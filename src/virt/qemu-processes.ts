/**
 * QEMU's process of each VM, found in the process table: libvirt starts QEMU with `-uuid <vm id>`,
 * and /proc/<pid>/cmdline is readable by any user, where libvirt's pid files are root's. Only
 * drivers that run QEMU have such processes (not libvirt's test driver). Blocking reads: workers only.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Whether the domains of this libvirt URI are QEMU processes on this host. */
export function runsQemuProcesses(uri: string): boolean {
  return /^qemu(\+unix)?:\/\/\//.test(uri);
}

/** QEMU's pid by VM UUID (lower case), for every QEMU process running now. */
export function qemuProcesses(procRoot = '/proc'): Map<string, number> {
  const found = new Map<string, number>();
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    let argv: string[];
    try {
      argv = readFileSync(join(procRoot, entry, 'cmdline'), 'utf8').split('\0');
    } catch {
      continue; // gone meanwhile, or hidden from us
    }
    if (!basename(argv[0] ?? '').startsWith('qemu')) continue;
    const at = argv.indexOf('-uuid');
    const uuid = at >= 0 ? argv[at + 1] : undefined;
    if (uuid) found.set(uuid.toLowerCase(), Number(entry));
  }
  return found;
}
