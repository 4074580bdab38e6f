// Host.getCapabilities follows the kernel's links: a veth pair made behind the daemon's back is
// among the NICs within seconds (the slow period is 300 s), and gone again once deleted; the
// monitor that watches them ends with the daemon, even a killed one.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { until } from '../helpers/until.js';

// Names the default `[network] fake_nics` (veth_*) reports as NICs; unique to this file.
const NIC = 'veth_hvlm0';
const PEER = 'veth_hvlm1';
const ip = (...args: string[]): void => void execFileSync('ip', args, { stdio: 'ignore' });
const removeLink = (): void => {
  try {
    ip('link', 'del', NIC);
  } catch {
    // Not there.
  }
};

let daemon: RunningDaemon | undefined;
let client: JsonRpcClient | undefined;
afterAll(async () => {
  await client?.close();
  daemon?.child.kill('SIGKILL');
  removeLink();
});

describe('capabilities after a network change', () => {
  it('lists a NIC made and deleted behind the daemon within seconds, not at the next period', async () => {
    removeLink();
    daemon = startDaemon(['--listen', '127.0.0.1:0']);
    const port = Number((await daemon.waitForLog((l) => l.msg === 'hostvisord ready'))['port']);
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port });
    const nics = async (): Promise<string[]> => Object.keys(((await client!.call('Host.getCapabilities')) as { nics: object }).nics);
    expect(await nics()).not.toContain(NIC);

    ip('link', 'add', NIC, 'type', 'veth', 'peer', 'name', PEER);
    await until(`${NIC} among the NICs`, async () => ((await nics()).includes(NIC) ? true : undefined), 15_000, { every: 200 });
    ip('link', 'del', NIC);
    await until(`${NIC} gone from the NICs`, async () => ((await nics()).includes(NIC) ? undefined : true), 15_000, { every: 200 });
  }, 40_000);

  it('leaves no monitor behind when the daemon is killed', async () => {
    const pid = daemon!.child.pid!;
    const monitor = execFileSync('pgrep', ['-P', String(pid), '-f', 'monitor link address'], { encoding: 'utf8' }).trim();
    expect(monitor).toMatch(/^\d+$/);
    await client?.close();
    client = undefined;
    daemon!.child.kill('SIGKILL');
    await daemon!.exited;
    await until('the monitor gone', () => (existsSync(`/proc/${monitor}`) ? undefined : true), 5000, { every: 50 });
  });
});
