/**
 * DHCP on a network's device through the distribution's client (ISC dhclient), one client per
 * device, run by the helper. A setup waits for the first lease (as vdsm's blocking DHCP) so the
 * connectivity check that follows runs on the address the engine will use; the client then stays
 * in the background renewing it. Stopping a client leaves the address to the caller.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const DHCLIENT = ['/usr/sbin/dhclient', '/sbin/dhclient'].find((path) => existsSync(path));

/** How long a setup waits for the first lease. */
export const LEASE_TIMEOUT_MS = 60_000;

export class DhcpError extends Error {}

export class DhcpClients {
  constructor(
    /** Where the clients' pid files live (a tmpfs: they do not outlive a boot). */
    private readonly runDir: string,
    /** Where their leases are kept. */
    private readonly stateDir: string,
  ) {}

  private files(device: string): string[] {
    return ['-pf', join(this.runDir, `dhclient-${device}.pid`), '-lf', join(this.stateDir, `dhclient-${device}.leases`)];
  }

  /** Starts a client on `device` and resolves once it holds a lease. */
  start(device: string): Promise<void> {
    if (DHCLIENT === undefined) return Promise.reject(new DhcpError('no DHCP client on this host: install isc-dhcp-client'));
    return new Promise((resolve, reject) => {
      execFile(DHCLIENT, ['-4', '-1', ...this.files(device), device], { timeout: LEASE_TIMEOUT_MS }, (err, _stdout, stderr) => {
        if (err) reject(new DhcpError(`no DHCP lease on ${device}: ${stderr.trim().split('\n').at(-1) ?? err.message}`));
        else resolve();
      });
    });
  }

  running(device: string): boolean {
    const pid = Number(readFileOr(join(this.runDir, `dhclient-${device}.pid`)));
    if (!(pid > 0)) return false;
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Stops the client of `device`, if one runs, without releasing the lease. */
  stop(device: string): Promise<void> {
    if (DHCLIENT === undefined || !this.running(device)) return Promise.resolve();
    return new Promise((resolve) => {
      execFile(DHCLIENT, ['-4', '-x', ...this.files(device), device], { timeout: 10_000 }, () => {
        rmSync(join(this.runDir, `dhclient-${device}.pid`), { force: true });
        resolve();
      });
    });
  }
}

function readFileOr(path: string): string {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return '';
  }
}
