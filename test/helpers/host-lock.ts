/**
 * One end-to-end file at a time on the real hypervisor: the e2e files run in parallel workers,
 * and two daemons on one qemu:///system would each adopt the other's guests (and take turns on
 * their agent channels, which serve one client at a time). The lock is a folder (mkdir is atomic)
 * holding the owner's pid, so a lock left by a process that died is taken over.
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const LOCK = join(process.env['HOSTVISOR_E2E_DIR'] ?? '/var/tmp/hostvisor-e2e', 'hypervisor.lock');

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function lockHypervisor(timeoutMs = 840_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      mkdirSync(LOCK, { recursive: false });
      writeFileSync(join(LOCK, 'pid'), String(process.pid));
      return;
    } catch {
      const owner = Number(readFileSync(join(LOCK, 'pid'), { encoding: 'utf8', flag: 'a+' }) || 0);
      if (owner > 0 && !alive(owner)) rmSync(LOCK, { recursive: true, force: true });
    }
    if (Date.now() > deadline) throw new Error(`the hypervisor stayed locked (${LOCK}) for ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

export function unlockHypervisor(): void {
  rmSync(LOCK, { recursive: true, force: true });
}
