/**
 * Another network manager on a device hostvisor is about to change: NetworkManager or
 * systemd-networkd would undo our changes (or we theirs), so a setup that touches a device one of
 * them manages is refused before anything changes, naming the manager, rather than fought.
 * systemd-networkd says which links it manages in /run/systemd/netif/links/<ifindex>
 * (ADMIN_STATE); NetworkManager answers through nmcli, when it is installed and running.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ManagerProbe {
  /** systemd-networkd's state folder (a test points it elsewhere). */
  networkdLinks: string;
  /** NetworkManager's view of a device: its GENERAL.STATE, undefined when NM does not run. */
  networkManagerState(device: string): Promise<string | undefined>;
}

function nmcliState(device: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('nmcli', ['-t', '-g', 'GENERAL.STATE', 'device', 'show', device], { timeout: 5000 }, (err, stdout) => resolve(err ? undefined : stdout.trim()));
  });
}

export const systemProbe: ManagerProbe = { networkdLinks: '/run/systemd/netif/links', networkManagerState: nmcliState };

/** The manager other than us that manages `device` (interface index `ifindex`), if any. */
export async function otherManager(device: string, ifindex: number, probe: ManagerProbe = systemProbe): Promise<string | undefined> {
  const networkd = await readFile(join(probe.networkdLinks, String(ifindex)), 'utf8').catch(() => '');
  const admin = /^ADMIN_STATE=(\S+)$/m.exec(networkd)?.[1];
  if (admin !== undefined && admin !== 'unmanaged') return 'systemd-networkd';
  const nm = await probe.networkManagerState(device);
  if (nm !== undefined && nm !== '' && !nm.includes('unmanaged')) return 'NetworkManager';
  return undefined;
}
