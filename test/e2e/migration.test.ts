/**
 * Live migration between two real libvirt hosts on this machine (scripts/two-hosts.sh), each with
 * its own hostvisord, driven over STOMP as the engine drives it: VM.migrate on the source daemon,
 * which calls the destination daemon and has libvirt move the real QEMU guest.
 *
 * Guest N (2 vCPUs) is migrated slowly and cancelled: it stays Up on host A and host B keeps
 * nothing. Guest M moves to B: progress events, Down with exitReason 4 on A, Up on B with its QEMU
 * agent and oVirt agent answering there, a migration job done. Then N is refused by B's admission
 * (B offers 2 vCPUs, M uses one), and a migration whose destination daemon is killed mid-way is
 * aborted: the VM is Up on A; and a source daemon that restarts mid-way finds N still migrating.
 * Last, guest D rewrites its memory faster than the bandwidth lets it go: the downtime steps are
 * walked, then the migration converges or (as a bandwidth this low makes sure) is aborted by the
 * schedule, D Up on A.
 * Guests have no disk: libvirt only migrates disks on shared storage. Both daemons run as
 * systemd/hostvisord.service runs them: the unprivileged `hostvisor` user, no capabilities.
 */
import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { answerViolations, migrationEventViolations, statusEventViolations } from '../helpers/contract.js';
import { callError } from '../helpers/call-error.js';
import { AS_DAEMON_USER, DAEMON_USER_ENV, daemonUserIdentity, identityOf, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';
import { downtimeSteps } from '../../src/virt/migration/convergence.js';
import { consoleOf, domainXml, type Guest } from '../helpers/e2e-guest.js';
import { lockHypervisor, unlockHypervisor } from '../helpers/host-lock.js';
import { twoHostsStop, twoHostsUp, virsh, type TwoHostsEnv } from '../helpers/two-hosts.js';
import { until as poll } from '../helpers/until.js';

const M: Guest = { uuid: 'e2e0c000-0000-4000-8000-00000000000c', name: 'hv-mig-m', ip: '192.0.2.12', mac: '52:54:00:e2:e0:0c', qemuAgent: true, disk: false };
const N: Guest = { uuid: 'e2e0d000-0000-4000-8000-00000000000d', name: 'hv-mig-n', ip: '192.0.2.13', mac: '52:54:00:e2:e0:0d', qemuAgent: true, disk: false };
const nXml = (env: TwoHostsEnv): string => domainXml(env, N).replace('<vcpu>1</vcpu>', '<vcpu>2</vcpu>');
/** Rewrites 16 MiB of its memory without a pause: far faster than the 10 MiB/s it migrates at. */
/** A second small guest, for two migrations at once. */
const L: Guest = { uuid: 'e2e11000-0000-4000-8000-000000000011', name: 'hv-mig-l', ip: '192.0.2.17', mac: '52:54:00:e2:e0:11', qemuAgent: true, disk: false };
const D: Guest = { uuid: 'e2e10000-0000-4000-8000-000000000010', name: 'hv-mig-dirty', ip: '192.0.2.16', mac: '52:54:00:e2:e0:10', qemuAgent: true, disk: false, memoryMiB: 192, dirtyMiB: 16 };

interface Side {
  daemon: RunningDaemon;
  client: JsonRpcClient;
  port: number;
  events: Array<{ method: string; params: Record<string, unknown> }>;
}

const DAEMON_ENV = {
  HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '1',
  HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '1',
  HOSTVISOR_GUEST_AGENT_QGA_POLLING_PERIOD: '1',
  HOSTVISOR_METRICS_ENABLED: 'false',
  HOSTVISOR_MIGRATION_MONITOR_INTERVAL: '0.5',
  HOSTVISOR_MIGRATION_DESTINATION_LIBVIRT_URI: 'qemu+tcp://{host}:16510/system',
  // This machine has 2 CPUs: B offers 2 vCPUs to incoming VMs.
  HOSTVISOR_MIGRATION_CPU_ALLOCATION_RATIO: '1',
  HOSTVISOR_DAEMON_STOP_TIMEOUT: '10',
};

/** A migration that ended while something else was awaited is not worth waiting on. */
const until = <T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number): Promise<T> =>
  poll(what, probe, ms, { fatal: (err) => err instanceof Error && err.message.startsWith('the migration ended') });

describe('live migration between two real libvirt hosts, each with its own hostvisord', () => {
  let env: TwoHostsEnv;
  let a: Side;
  let b: Side;

  async function side(mountNamespaceOf?: number, extraEnv: Record<string, string> = {}): Promise<Side> {
    // As systemd runs it: the unprivileged `hostvisor` user (setpriv), for host B inside B's mount
    // namespace (nsenter, which needs root, first).
    const daemon = startDaemon(['--listen', '127.0.0.1:0', '--libvirt-uri', 'qemu:///system'], { ...DAEMON_USER_ENV, ...DAEMON_ENV, HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: env.channelsDir, ...extraEnv }, [], { mountNamespaceOf, prefix: AS_DAEMON_USER });
    const port = Number((await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 60_000))['port']);
    const client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 60_000 });
    const events: Side['events'] = [];
    await client.subscribe('jms.queue.events', (body) => events.push(body as Side['events'][number]));
    return { daemon, client, port, events };
  }

  const statuses = (s: Side, g: Guest): string[] =>
    s.events.filter((e) => e.method === `|virt|VM_status|${g.uuid}`).map((e) => (e.params[g.uuid] as { status: string }).status);
  const lastStatus = (s: Side, g: Guest): Record<string, unknown> | undefined =>
    s.events.filter((e) => e.method === `|virt|VM_status|${g.uuid}`).at(-1)?.params[g.uuid] as Record<string, unknown> | undefined;
  const progressEvents = (s: Side, g: Guest): Array<Record<string, unknown>> =>
    s.events.filter((e) => e.method === `|virt|VM_migration_status|${g.uuid}`).map((e) => e.params);
  const stats = async (s: Side, g: Guest): Promise<Record<string, unknown>> => ((await s.client.call('VM.getStats', { vmID: g.uuid })) as Array<Record<string, unknown>>)[0]!;
  const migrate = (g: Guest, extra: Record<string, unknown> = {}): Promise<unknown> =>
    a.client.call('VM.migrate', { vmID: g.uuid, params: { vmId: g.uuid, dst: `127.0.0.1:${b.port}`, dstqemu: '127.0.0.1', method: 'online', tunneled: 'false', ...extra } });
  /** Waits for a progress event of `g` after the first `seen`; a migration that fails meanwhile says why. */
  const progressAfter = (g: Guest, seen: number) =>
    until(
      `progress of ${g.name}`,
      async () => {
        if (progressEvents(a, g).length > seen) return true;
        const status = await a.client.call('VM.getMigrationStatus', { vmID: g.uuid }).catch((err: Error) => err);
        if (status instanceof Error) throw new Error(`the migration ended: ${status.message}`);
        return undefined;
      },
      60_000,
    );
  const migrationError = async (g: Guest) =>
    until('the migration to end', async () => callError(a.client.call('VM.getMigrationStatus', { vmID: g.uuid })), 120_000);

  async function removeGuests(): Promise<void> {
    for (const uri of [env.uri, env.hostB.uri]) {
      for (const g of [M, N, D, L]) {
        await virsh(uri, 'destroy', g.uuid).catch(() => undefined);
        await virsh(uri, 'undefine', g.uuid).catch(() => undefined);
      }
    }
  }

  beforeAll(async () => {
    await lockHypervisor();
    env = await twoHostsUp();
    await removeGuests();
    // One at a time, so a failure leaves every started daemon to afterAll.
    a = await side();
    b = await side(env.hostB.libvirtdPid);
    for (const [g, xml] of [[M, domainXml(env, M)], [N, nXml(env)]] as const) {
      await a.client.call('VM.create', { vmParams: { xml } });
      await until(`guest ${g.name} Up on A`, () => (statuses(a, g).includes('Up') ? true : undefined), 90_000);
    }
  }, 900_000);

  afterAll(async () => {
    const sides = [a, b].filter(Boolean);
    const codes = await Promise.all(sides.map((s) => stopDaemon(s.daemon, s.client)));
    await removeGuests().catch(() => undefined);
    await twoHostsStop().catch(() => undefined);
    unlockHypervisor();
    expect([codes, sides.map((s) => s.daemon.logs.filter((l) => l.level >= 50).map((l) => l.msg))]).toEqual([sides.map(() => 0), sides.map(() => [])]);
  }, 120_000);

  it("both daemons run as the unprivileged hostvisor user, B's in B's mount namespace", () => {
    const mountNs = (pid: number | string): string => readlinkSync(`/proc/${pid}/ns/mnt`);
    expect([identityOf(a.daemon.child.pid!), identityOf(b.daemon.child.pid!)]).toEqual([daemonUserIdentity(), daemonUserIdentity()]);
    expect([mountNs(a.daemon.child.pid!), mountNs(b.daemon.child.pid!)]).toEqual([mountNs('self'), mountNs(env.hostB.libvirtdPid)]);
  });

  it('a cancelled migration leaves the VM Up on its host and nothing on the destination', async () => {
    expect(await migrate(N, { maxBandwidth: '1' })).toBe(true);
    await progressAfter(N, 0);
    // Arriving on B: QEMU there runs paused until the migration ends.
    expect(await virsh(env.hostB.uri, 'domstate', N.uuid)).toMatch(/paused/);
    expect(await a.client.call('VM.migrateChangeParams', { vmID: N.uuid, params: { maxBandwidth: '2' } })).toBe(true);
    expect(await a.client.call('VM.migrateCancel', { vmID: N.uuid })).toBe(true);
    expect((await migrationError(N)).code).toBe(47);
    await until('N Up again on A', () => (lastStatus(a, N)?.['status'] === 'Up' ? true : undefined), 30_000);
    expect(statuses(a, N).slice(-2)).toEqual(['Migration Source', 'Up']);
    expect(await virsh(env.uri, 'domstate', N.uuid)).toMatch(/running/);
    await until('nothing of N on B', async () => ((await virsh(env.hostB.uri, 'domstate', N.uuid).catch(() => 'gone')) === 'gone' ? true : undefined), 30_000);
    expect(((await b.client.call('Host.getVMList')) as Array<{ vmId: string }>).map((v) => v.vmId)).not.toContain(N.uuid);
  }, 180_000);

  it('moves guest M to host B: progress, Down with exitReason 4 on A, Up on B with its agents answering there', async () => {
    const fromB = b.events.length;
    expect(await migrate(M)).toBe(true);
    await until('M Down on A', () => (lastStatus(a, M)?.['status'] === 'Down' ? true : undefined), 120_000);
    expect(lastStatus(a, M)).toMatchObject({ status: 'Down', exitCode: 0, exitReason: 4 });
    expect(statuses(a, M).slice(-2)).toEqual(['Migration Source', 'Down']);
    const done = (await a.client.call('VM.getMigrationStatus', { vmID: M.uuid })) as { status: string; downtime: number };
    expect(done).toMatchObject({ vmId: M.uuid, status: 'done' });
    expect(answerViolations('VM.getMigrationStatus', done)).toEqual([]);
    const progress = progressEvents(a, M);
    expect(progress.at(-1)![M.uuid]).toMatchObject({ progress: 100, downtime: done.downtime });
    const percents = progress.map((p) => (p[M.uuid] as { progress: number }).progress);
    expect(percents).toEqual([...percents].sort((x, y) => x - y));
    expect(progress.flatMap(migrationEventViolations)).toEqual([]);
    const jobs = Object.values((await a.client.call('Host.getJobs', { job_type: 'migration' })) as Record<string, { status: string }>);
    expect(jobs.map((j) => j.status)).toEqual(expect.arrayContaining(['aborted', 'done']));

    // On B: Up, then the agents there (the QEMU agent polled, the oVirt agent's channel reattached).
    await until('M Up on B', () => (b.events.slice(fromB).some((e) => e.method === `|virt|VM_status|${M.uuid}` && (e.params[M.uuid] as { status: string }).status === 'Up') ? true : undefined), 30_000);
    expect(await virsh(env.hostB.uri, 'domstate', M.uuid)).toMatch(/running/);
    const onB = await until(
      'guest data of M on B',
      async () => {
        const s = await stats(b, M);
        return s['status'] === 'Up' && s['guestOsInfo'] !== undefined && Number(s['memUsage']) > 0 ? s : undefined;
      },
      60_000,
    );
    expect(answerViolations('VM.getStats', [onB])).toEqual([]);
    expect(b.events.filter((e) => e.method.startsWith('|virt|VM_status|')).flatMap((e) => statusEventViolations(e.params))).toEqual([]);
    // The engine destroys the Down VM on the source: its definition goes.
    expect(await a.client.call('VM.destroy', { vmID: M.uuid })).toBe(true);
    await expect(virsh(env.uri, 'domstate', M.uuid)).rejects.toThrow();
  }, 240_000);

  it("is refused by the destination's admission: the VM runs on at the source", async () => {
    // B offers 2 vCPUs and M takes one: N's two do not fit.
    expect(await migrate(N)).toBe(true);
    const err = await migrationError(N);
    expect(err.code).toBe(12);
    expect(err.message).toContain('Not enough free memory to create VM');
    expect(err.message).toContain('the VM needs 2 vCPUs, 1 are free');
    expect(lastStatus(a, N)?.['status']).toBe('Up');
    expect(await virsh(env.uri, 'domstate', N.uuid)).toMatch(/running/);
  }, 120_000);

  it("is aborted when the destination's daemon dies mid-way: Up on the source", async () => {
    // Room for N on B again, and a daemon to kill.
    await virsh(env.hostB.uri, 'destroy', M.uuid);
    await until('M gone from B', async () => (((await stats(b, M))['status'] as string) === 'Down' ? true : undefined), 30_000);
    await b.client.call('VM.destroy', { vmID: M.uuid });
    const before = progressEvents(a, N).length;
    expect(await migrate(N, { maxBandwidth: '1' })).toBe(true);
    await until('N arriving on B', async () => ((await virsh(env.hostB.uri, 'domstate', N.uuid).catch(() => '')).includes('paused') ? true : undefined), 60_000);
    await progressAfter(N, before);
    b.daemon.child.kill('SIGKILL');
    await b.daemon.exited;
    const err = await migrationError(N);
    expect([err.code, err.message]).toEqual([12, expect.stringContaining("lost the connection to the destination's daemon")]);
    await until('N Up again on A', () => (lastStatus(a, N)?.['status'] === 'Up' ? true : undefined), 30_000);
    expect(await virsh(env.uri, 'domstate', N.uuid)).toMatch(/running/);
    await until('nothing of N on B', async () => ((await virsh(env.hostB.uri, 'domstate', N.uuid).catch(() => 'gone')) === 'gone' ? true : undefined), 30_000);
    // B's daemon back, for the stop.
    b = await side(env.hostB.libvirtdPid);
  }, 180_000);

  it('is reported truly by a source daemon that restarts mid-way: still migrating, its status and cancel from libvirt, then Up', async () => {
    expect(await migrate(N, { maxBandwidth: '1' })).toBe(true);
    await until('N arriving on B', async () => ((await virsh(env.hostB.uri, 'domstate', N.uuid).catch(() => '')).includes('paused') ? true : undefined), 60_000);
    a.daemon.child.kill('SIGKILL');
    await a.daemon.exited;
    a = await side();
    const list = (await a.client.call('Host.getVMList')) as Array<{ vmId: string; status: string }>;
    expect(list).toEqual(expect.arrayContaining([expect.objectContaining({ vmId: N.uuid, status: 'Migration Source' })]));
    expect((await a.client.call('Host.getStats')) as Record<string, unknown>).toMatchObject({ outgoingVmMigrations: 1 });
    // libvirt still runs it, and the restarted daemon answers for it from libvirt's job.
    await until('a recovered progress reading', async () => {
      const status = (await a.client.call('VM.getMigrationStatus', { vmID: N.uuid })) as { status: string; progress: number };
      return status.status === 'in_progress' && status.progress > 0 ? true : undefined;
    }, 30_000);
    const jobs = Object.values((await a.client.call('Host.getJobs', { job_type: 'migration' })) as Record<string, { status: string; description: string }>);
    expect(jobs.filter((j) => j.status === 'running' && j.description.includes(N.uuid))).toHaveLength(1);
    expect(await a.client.call('VM.migrateChangeParams', { vmID: N.uuid, params: { maxBandwidth: 2 } })).toBe(true);
    expect(await virsh(env.uri, 'migrate-getspeed', N.uuid)).toMatch(/^2\b/);
    // Cancelled through the daemon: the job fails, and the VM is Up where it runs.
    expect(await a.client.call('VM.migrateCancel', { vmID: N.uuid })).toBe(true);
    await until('N Up on A', () => (lastStatus(a, N)?.['status'] === 'Up' ? true : undefined), 60_000);
    const err = await migrationError(N);
    expect(err.code).toBe(12);
    expect(await virsh(env.uri, 'domstate', N.uuid)).toMatch(/running/);
    await until('nothing of N on B', async () => ((await virsh(env.hostB.uri, 'domstate', N.uuid).catch(() => 'gone')) === 'gone' ? true : undefined), 30_000);
  }, 180_000);

  it('a guest whose memory changes faster than the bandwidth: the downtime steps, then converged, or aborted and Up on the source', async () => {
    const steps = downtimeSteps(500, 5);
    try {
      writeFileSync(consoleOf(env, D), ''); // this run's console only
      await a.client.call('VM.create', { vmParams: { xml: domainXml(env, D) } });
      await until('D Up on A', () => (statuses(a, D).includes('Up') ? true : undefined), 90_000);
      await until('D dirtying its memory', () => (readFileSync(consoleOf(env, D), 'utf8').includes('hv-guest: dirtying 16 MiB') ? true : undefined), 60_000);
      const fromA = a.daemon.logs.length;
      const fromB = b.events.length;
      expect(await migrate(D, { maxBandwidth: '10' })).toBe(true);
      // The downtime libvirt has for the migration, read as it runs: the schedule's steps.
      const downtimes: number[] = [];
      const outcome = await poll(
        'the migration of D to end',
        async () => {
          const ms = Number(await virsh(env.uri, 'migrate-getmaxdowntime', D.uuid).catch(() => 'NaN'));
          // libvirt's own 300 ms before the first step, and whatever it puts back after the job.
          if (steps.includes(ms) && !downtimes.includes(ms)) downtimes.push(ms);
          const status = await a.client.call('VM.getMigrationStatus', { vmID: D.uuid }).then((s) => s as { status: string; downtime: number }, (err: unknown) => err as Error);
          if (status instanceof Error) return { aborted: await callError(Promise.reject(status)) };
          return status.status === 'done' ? { converged: status } : undefined;
        },
        280_000,
        { every: 500 },
      );
      // Whichever the outcome, the steps were walked: more than one, in order (each first seen after the smaller).
      expect(downtimes.length).toBeGreaterThan(1);
      expect(downtimes).toEqual([...downtimes].sort((x, y) => x - y));
      expect(progressEvents(a, D).flatMap(migrationEventViolations)).toEqual([]);
      if ('converged' in outcome) {
        // (a) Converged: Down with exitReason 4 on A, Up on B.
        expect(outcome.converged).toMatchObject({ vmId: D.uuid, status: 'done' });
        await until('D Down on A', () => (lastStatus(a, D)?.['status'] === 'Down' ? true : undefined), 30_000);
        expect(lastStatus(a, D)).toMatchObject({ status: 'Down', exitCode: 0, exitReason: 4 });
        await until('D Up on B', () => (b.events.slice(fromB).some((e) => e.method === `|virt|VM_status|${D.uuid}` && (e.params[D.uuid] as { status: string }).status === 'Up') ? true : undefined), 30_000);
        expect(await virsh(env.hostB.uri, 'domstate', D.uuid)).toMatch(/running/);
        expect(await virsh(env.uri, 'domstate', D.uuid).catch(() => 'gone')).not.toMatch(/running/);
      } else {
        // (b) Aborted by the schedule after its last step: Up and running on A, nothing on B.
        expect([outcome.aborted.code, outcome.aborted.message]).toEqual([12, expect.stringContaining('the migration did not converge: aborted by its convergence schedule')]);
        expect(downtimes.at(-1)).toBe(steps.at(-1));
        expect(a.daemon.logs.slice(fromA).filter((l) => l.msg === 'migration does not converge: aborting it, as its schedule says')).toHaveLength(1);
        await until('D Up again on A', () => (lastStatus(a, D)?.['status'] === 'Up' ? true : undefined), 30_000);
        expect(statuses(a, D).slice(-2)).toEqual(['Migration Source', 'Up']);
        expect(await virsh(env.uri, 'domstate', D.uuid)).toMatch(/running/);
        await until('nothing of D on B', async () => ((await virsh(env.hostB.uri, 'domstate', D.uuid).catch(() => 'gone')) === 'gone' ? true : undefined), 30_000);
        expect(((await b.client.call('Host.getVMList')) as Array<{ vmId: string }>).map((v) => v.vmId)).not.toContain(D.uuid);
        const jobs = Object.values((await a.client.call('Host.getJobs', { job_type: 'migration' })) as Record<string, { status: string; description: string }>);
        expect(jobs.filter((j) => j.description.includes(D.uuid)).map((j) => j.status)).toEqual(['failed']);
      }
    } finally {
      // Whatever the outcome: D on neither host.
      for (const s of [a, b]) await s.client.call('VM.destroy', { vmID: D.uuid }).catch(() => undefined);
      for (const uri of [env.uri, env.hostB.uri]) {
        await virsh(uri, 'destroy', D.uuid).catch(() => undefined);
        await virsh(uri, 'undefine', D.uuid).catch(() => undefined);
      }
    }
  }, 420_000);

  it('keeps to the destination\'s max_incoming: a second migration is refused (82), asked again, and arrives after the first', async () => {
    // B takes one incoming migration at a time.
    await stopDaemon(b.daemon, b.client);
    b = await side(env.hostB.libvirtdPid, { HOSTVISOR_MIGRATION_MAX_INCOMING: '1' });
    try {
      for (const g of [M, L]) {
        await a.client.call('VM.create', { vmParams: { xml: domainXml(env, g) } });
        await until(`guest ${g.name} Up on A`, () => (statuses(a, g).slice(-1)[0] === 'Up' ? true : undefined), 90_000);
      }
      const before = progressEvents(a, M).length;
      expect(await migrate(M, { maxBandwidth: '10' })).toBe(true);
      await progressAfter(M, before);
      expect(await migrate(L)).toBe(true);
      await a.daemon.waitForLog((l) => l.msg === 'destination busy with incoming migrations; asking again' && l['vmId'] === L.uuid, 60_000);
      // While M arrives, L waits on A: still Up there, migrating, nothing of it on B.
      expect(await a.client.call('VM.getMigrationStatus', { vmID: L.uuid })).toMatchObject({ status: 'in_progress' });
      expect(await virsh(env.hostB.uri, 'domstate', L.uuid).catch(() => 'gone')).toBe('gone');
      for (const g of [M, L]) {
        await until(`${g.name} Down on A`, () => (lastStatus(a, g)?.['status'] === 'Down' ? true : undefined), 120_000);
        expect(lastStatus(a, g)).toMatchObject({ exitReason: 4 });
        await until(`${g.name} Up on B`, () => (statuses(b, g).includes('Up') ? true : undefined), 60_000);
        expect(await virsh(env.hostB.uri, 'domstate', g.uuid)).toMatch(/running/);
      }
      expect(b.daemon.logs.filter((l) => l.msg === 'incoming migration admitted').map((l) => l['vmId'])).toEqual([M.uuid, L.uuid]);
    } finally {
      for (const g of [M, L]) {
        await b.client.call('VM.destroy', { vmID: g.uuid }).catch(() => undefined);
        await a.client.call('VM.destroy', { vmID: g.uuid }).catch(() => undefined);
        for (const uri of [env.uri, env.hostB.uri]) await virsh(uri, 'destroy', g.uuid).catch(() => undefined);
      }
    }
  }, 400_000);
});
