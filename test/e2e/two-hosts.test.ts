/**
 * The two-host environment the migration tests stand on (scripts/two-hosts.sh), checked with
 * plain libvirt: a real TCG guest with a disk in the e2e folder is started on host A with virsh and
 * migrated live, peer to peer from A's libvirtd to B's. Afterwards it runs on B only (B's QEMU, its
 * definition moved), the QEMU agent answers there, B's QEMU writes the same disk file, and a
 * hostvisord started in B's mount namespace lists the VM. No hostvisord on A: this is the
 * environment, not hostvisor's migration (test/e2e/migration.test.ts).
 */
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { truncate } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import type { RunningDaemon } from '../helpers/daemon.js';
import { consoleOf, diskOf, domainXml, type Guest } from '../helpers/e2e-guest.js';
import { lockHypervisor, unlockHypervisor } from '../helpers/host-lock.js';
import { inHostB, startDaemonInHostB, twoHostsStop, twoHostsUp, virsh, type TwoHostsEnv } from '../helpers/two-hosts.js';
import { until } from '../helpers/until.js';

// Its own name and UUID: the other e2e files' guests are e2e0a..e2e0e.
const G: Guest = { uuid: 'e2e0f000-0000-4000-8000-00000000000f', name: 'hv-2h-smoke', ip: '192.0.2.15', mac: '52:54:00:e2:e0:0f', qemuAgent: true };

/** The PIDs of the QEMU processes running G, on either host. */
function qemuPidsOfG(): number[] {
  return readdirSync('/proc')
    .filter((d) => /^\d+$/.test(d))
    .filter((d) => {
      try {
        const argv = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        return argv[0]!.includes('qemu-system') && argv.includes(G.uuid);
      } catch {
        return false; // gone meanwhile
      }
    })
    .map(Number);
}

describe('two libvirt hosts on this machine: a plain live migration from A to B', () => {
  let env: TwoHostsEnv;
  let daemon: RunningDaemon | undefined;
  let client: JsonRpcClient | undefined;
  const timings: Record<string, number> = {};

  const agent = async (uri: string, command: string): Promise<unknown> => JSON.parse(await virsh(uri, 'qemu-agent-command', G.uuid, JSON.stringify({ execute: command }))) as unknown;

  async function removeGuest(): Promise<void> {
    for (const uri of [env.uri, env.hostB.uri]) {
      await virsh(uri, 'destroy', G.uuid).catch(() => undefined);
      await virsh(uri, 'undefine', G.uuid).catch(() => undefined);
    }
  }

  beforeAll(async () => {
    const t0 = Date.now();
    await lockHypervisor();
    // A fresh machine installs the packages and builds the guest first.
    env = await twoHostsUp();
    timings['environment'] = Date.now() - t0;
    await removeGuest();
    rmSync(consoleOf(env, G), { force: true });
    writeFileSync(diskOf(env, G), Buffer.alloc(0));
    await truncate(diskOf(env, G), 16 << 20);
    const xml = join(env.dir, `${G.name}.xml`);
    writeFileSync(xml, domainXml(env, G));
    await virsh(env.uri, 'define', xml);
    await virsh(env.uri, 'start', G.uuid);
    // Booted as far as qemu-ga: a migration of a guest that is doing something.
    await until('the QEMU agent of the guest on A', () => agent(env.uri, 'guest-ping'), 90_000, { every: 1000 });
    timings['guest up on A'] = Date.now() - t0;
  }, 960_000);

  afterAll(async () => {
    let code: number | string = 0;
    if (daemon !== undefined) {
      await client?.close().catch(() => undefined);
      if (daemon.child.exitCode === null && daemon.child.signalCode === null) {
        daemon.child.kill('SIGTERM');
        const timer = setTimeout(() => daemon!.child.kill('SIGKILL'), 30_000);
        code = await daemon.exited;
        clearTimeout(timer);
      } else {
        code = daemon.child.exitCode ?? daemon.child.signalCode ?? -1;
      }
    }
    // Whatever happened: no guest of ours on either host before the hosts' stop.
    if (env !== undefined) await removeGuest().catch(() => undefined);
    await twoHostsStop().catch(() => undefined);
    unlockHypervisor();
    console.log(`two-hosts e2e timings (ms): ${JSON.stringify(timings)}`);
    expect(code).toBe(0);
  }, 120_000);

  it('virsh migrate --live --p2p moves the running guest to B, definition included', async () => {
    const before = qemuPidsOfG();
    expect(before).toHaveLength(1);
    const t = Date.now();
    // --unsafe: libvirt sees a disk on a local file system and calls that unshared storage, but
    // both hosts are this one kernel: the same file through the same page cache.
    await virsh(env.uri, 'migrate', '--live', '--p2p', '--persistent', '--undefinesource', '--unsafe', G.uuid, env.hostB.uri, 'tcp://127.0.0.1');
    timings['migration'] = Date.now() - t;

    expect(await virsh(env.hostB.uri, 'domstate', G.uuid)).toMatch(/running/);
    expect(await virsh(env.hostB.uri, 'dominfo', G.uuid)).toMatch(/Persistent:\s+yes/);
    await expect(virsh(env.uri, 'domstate', G.uuid)).rejects.toThrow(/failed to get domain/);
    expect(await virsh(env.uri, 'list', '--all', '--uuid')).not.toContain(G.uuid);
    // One QEMU left, a new one, B's: the PID file in B's /run names it.
    const after = await until('one QEMU of the guest', () => (qemuPidsOfG().length === 1 ? qemuPidsOfG() : undefined), 10_000);
    expect(after[0]).not.toBe(before[0]);
    expect(Number((await inHostB(env, 'cat', [`/run/libvirt/qemu/${G.name}.pid`])).stdout)).toBe(after[0]);
  }, 120_000);

  it("answers on B: the QEMU agent, B's QEMU writing the shared disk, the channel socket in B's namespace", async () => {
    expect(await agent(env.hostB.uri, 'guest-ping')).toEqual({ return: {} });
    expect(await agent(env.hostB.uri, 'guest-get-host-name')).toEqual({ return: { 'host-name': G.name } });
    // The guest writes its disk every 2 s.
    const writes = async (): Promise<number> => Number(/wr_req\s+(\d+)/.exec(await virsh(env.hostB.uri, 'domblkstat', G.uuid, 'vda'))?.[1]);
    const first = await writes();
    await until('disk writes on B', async () => ((await writes()) > first ? true : undefined), 15_000, { every: 500 });
    // The oVirt agent's socket is where B's processes look for it, and not in A's folder.
    const socket = `${env.hostB.channelsDir}/${G.uuid}.ovirt-guest-agent.0`;
    await inHostB(env, 'test', ['-S', socket]);
    expect(readdirSync(env.channelsDir)).not.toContain(`${G.uuid}.ovirt-guest-agent.0`);
  }, 60_000);

  it("a hostvisord in B's namespace lists the migrated VM", async () => {
    daemon = startDaemonInHostB(env, ['--listen', '127.0.0.1:0', '--libvirt-uri', 'qemu:///system'], {
      HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: env.hostB.channelsDir,
      HOSTVISOR_METRICS_ENABLED: 'false',
    });
    const port = Number((await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 60_000))['port']);
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 60_000 });
    expect((await daemon.waitForLog((l) => l.msg === 'recovered the VMs on the host'))['vms']).toBeGreaterThanOrEqual(1);
    await until(
      "the VM Up in B's list",
      async () => {
        const list = (await client!.call('Host.getVMList')) as Array<{ vmId: string; status: string }>;
        return list.some((v) => v.vmId === G.uuid && v.status === 'Up') ? true : undefined;
      },
      30_000,
    );
  }, 90_000);
});
