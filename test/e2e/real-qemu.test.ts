/**
 * End to end on a real hypervisor: hostvisord on qemu:///system (libvirtd and virtlogd started by
 * scripts/e2e-env.sh), real QEMU guests (TCG, direct kernel boot of a tiny initramfs) with the real
 * qemu-guest-agent and a small oVirt guest agent, driven through the STOMP front with the real
 * client. scripts/e2e-env.sh describes and builds the environment. The daemon runs as
 * systemd/hostvisord.service runs it: the unprivileged `hostvisor` user with its groups, no
 * capabilities, no privileged helper; the test checks that, and that none of its runs logs an error.
 *
 * Guest A has both agents, a disk and a NIC: it shows the real bulk stats, both agents' data,
 * VM.desktopLock reaching the oVirt agent, a daemon restart that recovers it with its channels,
 * and VM.shutdown through the QEMU agent. Guest B has only the oVirt agent (so its IPs are the
 * oVirt agent's, not overridden by the QEMU agent's as vdsm does) and is destroyed with VM.destroy.
 * The guests acknowledge commands on their serial console (a file the test reads).
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { repoRoot } from '../../src/paths.js';
import { answerViolations, statusEventViolations } from '../helpers/contract.js';
import { AS_DAEMON_USER, DAEMON_USER, DAEMON_USER_ENV, daemonUserIdentity, identityOf, mainJs, startDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { consoleOf, diskOf, domainXml, type E2eEnv, type Guest } from '../helpers/e2e-guest.js';
import { lockHypervisor, unlockHypervisor } from '../helpers/host-lock.js';
import { until as poll } from '../helpers/until.js';

const run = promisify(execFile);
const envScript = join(repoRoot, 'scripts', 'e2e-env.sh');

const A: Guest & { tap: string } = { uuid: 'e2e0a000-0000-4000-8000-00000000000a', name: 'hv-e2e-a', ip: '192.0.2.10', mac: '52:54:00:e2:e0:0a', tap: 'hve2ea0', qemuAgent: true };
const B: Guest & { tap: string } = { uuid: 'e2e0b000-0000-4000-8000-00000000000b', name: 'hv-e2e-b', ip: '192.0.2.11', mac: '52:54:00:e2:e0:0b', tap: 'hve2eb0', qemuAgent: false };

/** The last VM.getStats answer per VM, and the guests' console files, shown when a wait fails. */
const lastStats = new Map<string, unknown>();
const consoles: string[] = [];

function consoleTails(): string {
  return consoles.map((path) => `${path}: ${existsSync(path) ? JSON.stringify(readFileSync(path, 'utf8').slice(-600)) : '(none)'}`).join('; ');
}

/** `until` of the helpers, showing the last stats and the consoles when it times out. */
const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> =>
  poll(what, probe, ms, { context: () => `last stats: ${JSON.stringify(Object.fromEntries(lastStats))}; consoles: ${consoleTails()}` });

async function virsh(...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', 'qemu:///system', ...args], { timeout: 30_000 });
  return stdout;
}

/** Destroys and undefines our test domains, whatever state a previous run left them in. */
async function removeDomains(): Promise<void> {
  for (const g of [A, B]) {
    await virsh('destroy', g.uuid).catch(() => undefined);
    await virsh('undefine', g.uuid).catch(() => undefined);
  }
}

type Stats = Record<string, unknown>;
type VmEvent = { method: string; params: Record<string, unknown> };

describe('hostvisord on qemu:///system with real QEMU guests and agents', () => {
  let env: E2eEnv;
  let daemon: RunningDaemon | undefined;
  let client: JsonRpcClient | undefined;
  let events: VmEvent[] = [];
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (step: string): void => {
    timings[step] = Math.round((Date.now() - t0) / 100) / 10;
  };

  const statuses = (g: Guest): string[] =>
    events.filter((e) => e.method === `|virt|VM_status|${g.uuid}`).map((e) => (e.params[g.uuid] as { status: string }).status);
  const stats = async (g: Guest): Promise<Stats> => {
    const s = ((await client!.call('VM.getStats', { vmID: g.uuid })) as Stats[])[0]!;
    lastStats.set(g.name, s);
    return s;
  };
  const consoleText = (g: Guest): string => (existsSync(consoleOf(env, g)) ? readFileSync(consoleOf(env, g), 'utf8') : '');

  /** Every daemon started, for their logs in afterAll. */
  const runs: RunningDaemon[] = [];

  async function start(): Promise<void> {
    // As systemd runs it: the unprivileged `hostvisor` user, no capabilities, no helper.
    daemon = startDaemon(
      ['--listen', '127.0.0.1:0', '--libvirt-uri', env.uri],
      {
        ...DAEMON_USER_ENV,
        HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '1',
        HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '1',
        HOSTVISOR_GUEST_AGENT_QGA_POLLING_PERIOD: '1',
        HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: env.channelsDir,
        HOSTVISOR_METRICS_ENABLED: 'false',
      },
      [],
      { prefix: AS_DAEMON_USER },
    );
    runs.push(daemon);
    const port = Number((await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 60_000))['port']);
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 60_000 });
    events = [];
    await client.subscribe('jms.queue.events', (body) => events.push(body as VmEvent));
  }

  async function stop(): Promise<number | string> {
    await client?.close().catch(() => undefined);
    client = undefined;
    if (daemon === undefined) return 0;
    const d = daemon;
    daemon = undefined;
    if (d.child.exitCode !== null) return d.child.exitCode;
    d.child.kill('SIGTERM');
    const timer = setTimeout(() => d.child.kill('SIGKILL'), 40_000);
    const code = await d.exited;
    clearTimeout(timer);
    // A failed stop shows what the daemon said last, so an abort can be told from a timeout.
    return code === 0 ? 0 : `${code}; last logs: ${JSON.stringify(d.logs.slice(-8))}; stderr: ${d.stderr.join('').slice(-4000)}`;
  }

  beforeAll(async () => {
    await lockHypervisor();
    // A fresh machine installs ~300 MB of packages first; afterwards this takes a few seconds.
    const { stdout } = await run('bash', [envScript, 'up'], { timeout: 900_000, maxBuffer: 64 << 20 });
    env = JSON.parse(stdout.trim().split('\n').at(-1)!) as E2eEnv;
    mark('environment');
    await removeDomains();
    for (const g of [A, B]) {
      consoles.push(consoleOf(env, g));
      rmSync(consoleOf(env, g), { force: true });
      writeFileSync(diskOf(env, g), Buffer.alloc(0));
      await run('truncate', ['-s', '16M', diskOf(env, g)]);
    }
    await start();
    mark('daemon');
  }, 960_000);

  afterAll(async () => {
    const code = await stop();
    await removeDomains().catch(() => undefined);
    await run('bash', [envScript, 'stop'], { timeout: 60_000 }).catch(() => undefined);
    unlockHypervisor();
    console.log(`real-qemu e2e timings (s since start): ${JSON.stringify(timings)}`);
    // Unprivileged, nothing it does fails: no error logged by any of its runs (warnings shown).
    const said = (level: number): string[] => runs.flatMap((d) => d.logs.filter((l) => l.level >= level).map((l) => JSON.stringify(l)));
    if (said(40).length > 0) console.log(`the daemon's warnings and errors:\n${said(40).join('\n')}`);
    expect([code, said(50)]).toEqual([0, []]);
  }, 120_000);

  it('runs as its own unprivileged user, as systemd runs it: the groups that reach libvirt and the guest channels, no capabilities', async () => {
    const pid = daemon!.child.pid!;
    expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain(mainJs); // setpriv exec'd the daemon itself
    expect(identityOf(pid)).toEqual(daemonUserIdentity());
    expect((await run('id', ['-nG', DAEMON_USER])).stdout.trim().split(' ')).toEqual(expect.arrayContaining(['libvirt', 'kvm', 'libvirt-qemu']));
  });

  it('creates guest A and reports the VM_status events of its real boot', async () => {
    const created = (await client!.call('VM.create', { vmParams: { xml: domainXml(env, A) } })) as Stats;
    expect(created).toMatchObject({ vmId: A.uuid, status: 'WaitForLaunch' });
    // Up once a guest agent answers (the oVirt agent's first line or qemu-ga's guest-info).
    await until('guest A Up', () => (statuses(A).includes('Up') ? true : undefined), 60_000);
    expect(statuses(A).slice(0, 2)).toEqual(['Powering up', 'Up']);
    mark('A up');
    await until('guest A init on its console', () => (consoleText(A).includes('hv-guest: init done') ? true : undefined), 20_000);
  }, 70_000);

  it('reports real cpu, balloon, disk and network figures from bulk stats', async () => {
    const s = await until(
      'bulk stats of guest A',
      async () => {
        const s = await stats(A);
        const disk = (s['disks'] as Record<string, Record<string, string>> | undefined)?.['vda'];
        const nic = (s['network'] as Record<string, Record<string, string>> | undefined)?.[A.tap];
        return Number(s['cpuUsage']) > 0 && Number(disk?.['readBytes']) > 0 && Number(disk?.['writeOps']) > 0 && Number(nic?.['rx']) + Number(nic?.['tx']) > 0 ? s : undefined;
      },
      30_000,
    );
    expect(s).toMatchObject({ vmId: A.uuid, status: 'Up', vcpuCount: '1', monitorResponse: '0' });
    expect(Number(s['cpuUser']) + Number(s['cpuSys'])).toBeGreaterThanOrEqual(0);
    expect(s['balloonInfo']).toEqual({ balloon_max: '131072', balloon_min: '0', balloon_cur: '131072', balloon_target: '131072' });
    const vda = (s['disks'] as Record<string, Record<string, string>>)['vda']!;
    expect(Number(vda['apparentsize'])).toBeGreaterThan(0);
    expect(Number(vda['readOps'])).toBeGreaterThan(0);
    expect(Number(vda['writtenBytes'])).toBeGreaterThan(0);
    const nic = (s['network'] as Record<string, Record<string, string>>)[A.tap]!;
    expect(nic).toMatchObject({ name: A.tap, macAddr: A.mac, speed: '1000' });
    expect(Number(nic['rx']) + Number(nic['tx'])).toBeGreaterThan(0);
    expect(answerViolations('VM.getStats', [s])).toEqual([]);
    mark('A bulk stats');
  }, 40_000);

  it('shows guest data from both agents: the QEMU agent\'s os info, the oVirt agent\'s heartbeat and apps', async () => {
    const kernel = env.kernel.replace(/^.*\/vmlinuz-/, ''); // the guest's kernel release
    const s = await until(
      'guest data of guest A',
      async () => {
        const s = await stats(A);
        const apps = (s['appsList'] as string[] | undefined) ?? [];
        const ifaces = (s['netIfaces'] as Array<{ inet: string[] }> | undefined) ?? [];
        return (s['guestOsInfo'] as { kernel?: string } | undefined)?.kernel === kernel &&
          apps.includes('hv-ovirt-agent-1.0') &&
          s['memUsage'] !== '0' &&
          ifaces.some((i) => i.inet.includes(A.ip))
          ? s
          : undefined;
      },
      60_000,
    );
    // QEMU agent: os info, the fake apps it stands for, interfaces (over the oVirt agent's, as vdsm).
    expect(s['guestOsInfo']).toMatchObject({ type: 'linux', arch: 'x86_64', kernel, distribution: 'hostvisor-e2e', version: '1' });
    expect(s['guestOs']).toBe(kernel);
    expect(s['appsList']).toEqual(expect.arrayContaining([`kernel-${kernel}`, expect.stringMatching(/^qemu-guest-agent-\d/), 'busybox-static', 'hv-ovirt-agent-1.0']));
    expect(s['guestName']).toBe(A.name);
    // oVirt agent: the heartbeat's free memory as memUsage (percent in use).
    expect(Number(s['memUsage'])).toBeGreaterThan(0);
    expect(Number(s['memUsage'])).toBeLessThan(100);
    expect(answerViolations('VM.getStats', [s])).toEqual([]);
    mark('A guest data');
  }, 70_000);

  it('answers every host verb the engine reads in the declared shapes, with the machine types and CPU models QEMU offers', async () => {
    for (const verb of ['Host.getCapabilities', 'Host.getStats', 'Host.getAllVmStats', 'Host.getHardwareInfo', 'Host.hostdevListByCaps', 'Host.getJobs', 'Host.getVMList']) {
      expect([verb, answerViolations(verb, await client!.call(verb))]).toEqual([verb, []]);
    }
    const caps = (await client!.call('Host.getCapabilities')) as { emulatedMachines: string[]; cpuFlags: string; packages2: Record<string, unknown> };
    expect(caps.emulatedMachines).toEqual(expect.arrayContaining([expect.stringMatching(/^pc-(i440fx|q35)-/)]));
    expect(caps.cpuFlags.split(',')).toEqual(expect.arrayContaining([expect.stringMatching(/^model_/)]));
    expect(Object.keys(caps.packages2)).toEqual(expect.arrayContaining(['kernel', 'libvirt', 'qemu-kvm', 'vdsm']));
    const statusEvents = events.filter((e) => e.method === `|virt|VM_status|${A.uuid}`);
    expect(statusEvents.length).toBeGreaterThan(0);
    expect(statusEvents.flatMap((e) => statusEventViolations(e.params))).toEqual([]);
  }, 30_000);

  it('creates guest B (oVirt agent only) and shows the oVirt agent\'s IPs, interfaces and apps', async () => {
    await client!.call('VM.create', { vmParams: { xml: domainXml(env, B) } });
    const s = await until(
      'oVirt agent data of guest B',
      async () => {
        const s = await stats(B);
        return s['guestIPs'] === B.ip ? s : undefined;
      },
      60_000,
    );
    expect(statuses(B).slice(0, 2)).toEqual(['Powering up', 'Up']);
    expect(s).toMatchObject({ status: 'Up', guestName: B.name, appsList: ['busybox-static', 'qemu-guest-agent', 'hv-ovirt-agent-1.0'] });
    expect(s['netIfaces']).toEqual([{ name: 'eth0', hw: B.mac, inet: [B.ip], inet6: [] }]);
    expect(Number(s['memUsage'])).toBeGreaterThan(0);
    mark('B up');
  }, 70_000);

  it('VM.desktopLock reaches the oVirt agent, which locks and says so', async () => {
    expect(await client!.call('VM.desktopLock', { vmID: A.uuid })).toBe(true);
    await until('lock-screen on the guest console', () => (consoleText(A).includes('ovirt-agent: lock-screen') ? true : undefined), 20_000);
    await until('session Locked', async () => ((await stats(A))['session'] === 'Locked' ? true : undefined), 20_000);
    mark('A locked');
  }, 45_000);

  it("reports QEMU's pid, limits guest A's CPU through libvirt, and marks guest B destroy-on-reboot", async () => {
    for (const g of [A, B]) {
      const pid = Number((await stats(g))['pid']);
      expect(pid).toBeGreaterThan(0);
      expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain(g.uuid);
    }
    const hostCpus = Number(((await client!.call('Host.getCapabilities')) as { cpuThreads: string }).cpuThreads);
    // As the engine sends it: the VM's id inside the params too, the limit as a string, no disk QoS.
    expect(await client!.call('VM.updateVmPolicy', { vmID: A.uuid, params: { vmId: A.uuid, vcpuLimit: '50', ioTune: [] } })).toBe(true);
    // Guest A has one vCPU: half of the host's CPU time, every 100 ms.
    const quota = 50_000 * hostCpus;
    expect(await stats(A)).toMatchObject({ vcpuQuota: String(quota), vcpuPeriod: 100_000 });
    expect(await virsh('schedinfo', A.uuid)).toMatch(new RegExp(`vcpu_quota\\s*:\\s*${quota}\\b`));
    expect(await client!.call('VM.setDestroyOnReboot', { vmID: B.uuid })).toBe(true);
    mark('policies');
  }, 30_000);

  it("follows a disk plugged into guest A behind the daemon's back: the stats' hash changes and Host.dumpxmls shows it", async () => {
    const before = (await stats(A))['hash'];
    expect(typeof before).toBe('string');
    const extra = `${diskOf(env, A)}.extra`;
    writeFileSync(extra, Buffer.alloc(1 << 20));
    await virsh('attach-disk', A.uuid, extra, 'vdb', '--live', '--targetbus', 'virtio');
    // libvirt's device-added event makes the daemon read the domain again.
    const after = await until('a new hash after the hot-plug', async () => {
      const hash = (await stats(A))['hash'];
      return hash !== before ? hash : undefined;
    }, 15_000);
    expect(answerViolations('VM.getStats', [await stats(A)])).toEqual([]);
    const dumped = (await client!.call('Host.dumpxmls', { vmList: [A.uuid] })) as Record<string, string>;
    expect(dumped[A.uuid]).toContain(extra);
    expect(after).not.toBe(before);
    mark('A disk plugged');
  }, 30_000);

  it('recovers the running guests and their channels across a daemon restart', async () => {
    const before = { pidA: (await stats(A))['pid'], pidB: (await stats(B))['pid'], quotaA: (await stats(A))['vcpuQuota'] };
    expect(await stop()).toBe(0);
    const refreshesBefore = consoleText(A).split('ovirt-agent: refresh').length;
    await start();
    mark('daemon restarted');
    expect((await daemon!.waitForLog((l) => l.msg === 'recovered the VMs on the host'))['vms']).toBe(2);
    const list = (await client!.call('Host.getVMList')) as Array<{ vmId: string; status: string }>;
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ vmId: A.uuid, status: 'Up' }), expect.objectContaining({ vmId: B.uuid, status: 'Up' })]));
    // The oVirt channel is connected again: the new session's refresh reaches the guest, and its
    // answers (heartbeat, apps) come back; the QEMU agent is polled again.
    await until('refresh after restart', () => (consoleText(A).split('ovirt-agent: refresh').length > refreshesBefore ? true : undefined), 30_000);
    await until(
      'guest data after restart',
      async () => {
        const s = await stats(A);
        const apps = (s['appsList'] as string[] | undefined) ?? [];
        return s['memUsage'] !== '0' && apps.includes('hv-ovirt-agent-1.0') && (s['guestOsInfo'] as { kernel?: string } | undefined)?.kernel ? true : undefined;
      },
      45_000,
    );
    await until('guest B data after restart', async () => ((await stats(B))['guestIPs'] === B.ip ? true : undefined), 30_000);
    // Real bulk stats again.
    await until('stats after restart', async () => (Number((await stats(A))['cpuUsage']) > 0 ? true : undefined), 20_000);
    // What the domains keep: the same QEMU, guest A's CPU limit.
    expect({ pidA: (await stats(A))['pid'], pidB: (await stats(B))['pid'], quotaA: (await stats(A))['vcpuQuota'] }).toEqual(before);
    mark('recovered');
  }, 150_000);

  it("a reset of guest B, marked destroy-on-reboot before the restart, ends its run: Down with exitReason 13", async () => {
    const from = events.length;
    expect(await client!.call('VM.reset', { vmID: B.uuid })).toBe(true);
    await until('guest B Down', () => (statuses(B).at(-1) === 'Down' ? true : undefined), 30_000);
    const own = events.slice(from).filter((e) => e.method === `|virt|VM_status|${B.uuid}`);
    expect(own.at(-1)!.params[B.uuid]).toMatchObject({ status: 'Down', exitCode: 0, exitReason: 13 });
    // Powered off, not undefined: the engine destroys it, then starts it again as now configured.
    expect(await virsh('domstate', B.uuid)).toMatch(/shut off/);
    expect(await stats(B)).toMatchObject({ status: 'Down', exitReason: 13, exitMessage: 'Down as a part of the reboot process' });
    mark('B destroyed on reboot');
  }, 45_000);

  it('VM.shutdown goes through the QEMU agent and ends in Down', async () => {
    const from = events.length;
    expect(await client!.call('VM.shutdown', { vmID: A.uuid })).toBe(true);
    await until('guest A Down', () => (statuses(A).at(-1) === 'Down' ? true : undefined), 60_000);
    const own = events.slice(from).filter((e) => e.method === `|virt|VM_status|${A.uuid}`);
    expect(own.map((e) => (e.params[A.uuid] as { status: string }).status)).toEqual(['Powering down', 'Down']);
    expect(own.at(-1)!.params[A.uuid]).toMatchObject({ status: 'Down', exitCode: 0 });
    // The guest's /sbin/shutdown (run by qemu-ga's guest-shutdown) wrote this on its console.
    expect(consoleText(A)).toMatch(/hv-guest: shutdown .*\(qemu-ga\)/);
    expect(consoleText(A)).not.toContain('ovirt-agent: shutdown');
    expect((await stats(A))['status']).toBe('Down');
    expect(await virsh('domstate', A.uuid)).toMatch(/shut off/);
    expect(await client!.call('VM.destroy', { vmID: A.uuid })).toBe(true);
    mark('A down');
  }, 70_000);

  it('VM.destroy removes the Down guest B', async () => {
    expect(await client!.call('VM.destroy', { vmID: B.uuid })).toBe(true);
    await expect(virsh('domstate', B.uuid)).rejects.toThrow();
    const list = (await client!.call('Host.getVMList')) as Array<{ vmId: string }>;
    expect(list.map((v) => v.vmId)).not.toContain(B.uuid);
    mark('B removed');
  }, 40_000);
});
