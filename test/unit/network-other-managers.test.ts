/** A device NetworkManager or systemd-networkd manages is named, so a setup can refuse it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { otherManager } from '../../src/network/other-managers.js';

describe('other network managers', () => {
  const links = mkdtempSync(join(tmpdir(), 'hostvisor-netif-'));
  writeFileSync(join(links, '2'), 'ADMIN_STATE=configured\nOPER_STATE=routable\n');
  writeFileSync(join(links, '3'), 'ADMIN_STATE=unmanaged\n');
  const nm = (states: Record<string, string>) => ({ networkdLinks: links, networkManagerState: async (device: string) => states[device] });

  it('finds systemd-networkd by its link state file and NetworkManager by its device state', async () => {
    expect(await otherManager('eth0', 2, nm({}))).toBe('systemd-networkd');
    expect(await otherManager('eth1', 3, nm({}))).toBeUndefined();
    expect(await otherManager('eth1', 3, nm({ eth1: '100 (connected)' }))).toBe('NetworkManager');
    expect(await otherManager('eth1', 3, nm({ eth1: '10 (unmanaged)' }))).toBeUndefined();
    expect(await otherManager('eth9', 9, nm({}))).toBeUndefined(); // neither runs
  });
});
