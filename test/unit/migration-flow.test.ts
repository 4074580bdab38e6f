/**
 * One outgoing migration's course with the destination and libvirt played by fakes: what the VM's
 * status, the events, the job and VM.getMigrationStatus say at each end, and what is asked of the
 * destination. The real thing runs between two libvirt hosts in test/e2e.
 */
import { describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import { JobRegistry } from '../../src/virt/jobs.js';
import { ErrorCode, LibvirtError } from '../../src/virt/libvirt/errors.js';
import type { DomainJobStats, MigrationParams } from '../../src/virt/libvirt/types.js';
import { stepSchedule } from '../../src/virt/migration/convergence.js';
import { MigrationError, MigrationErrorCode } from '../../src/virt/migration/errors.js';
import { Migrations, type MigrationsOptions } from '../../src/virt/migration/migrations.js';
import { OutgoingMigration, type PeerConnection } from '../../src/virt/migration/outgoing.js';
import { outgoingRequest } from '../../src/virt/migration/request.js';
import { VmRegistry } from '../../src/virt/registry.js';

const VM = '0f5a1c2e-6b1d-4c2a-9d3e-1a2b3c4d5e6f';

class CallError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

function setup(options: { create?: Array<Error | undefined>; connectFails?: boolean } = {}) {
  const statuses: string[] = [];
  const registry = new VmRegistry({ emit: (_ns, _ev, id, params) => statuses.push((params[id] as { status: string }).status) }, { eventTime: () => 1, monotonic: () => 1 });
  const vm = registry.add(VM, 'a', 'Up');
  const peerCalls: string[] = [];
  const creates = [...(options.create ?? [undefined])];
  let lost: () => void = () => undefined;
  const peer: PeerConnection = {
    onLost: (listener) => (lost = listener),
    call: async (method) => {
      peerCalls.push(method);
      if (method === 'VM.migrationCreate') {
        const outcome = creates.shift();
        if (outcome) throw outcome;
      }
      return true;
    },
    close: async () => undefined,
  };
  const libvirtCalls: string[] = [];
  let finishMigration: (err?: Error) => void = () => undefined;
  let job: DomainJobStats = { type: 0, stats: {} };
  let tick: () => Promise<void> = async () => undefined;
  const events: Array<Record<string, unknown>> = [];
  const jobs = new JobRegistry();
  const migration = new OutgoingMigration(
    vm,
    outgoingRequest({ dst: '192.0.2.5:54321' }, 54321),
    {
      connect: async () => {
        if (options.connectFails) throw new MigrationError(MigrationErrorCode.noConPeer, 'could not reach the destination: ECONNREFUSED');
        return peer;
      },
      libvirt: {
        migratableXml: async () => `<domain><name>a</name><uuid>${VM}</uuid></domain>`,
        migrate: (_uuid: string, uri: string, params: MigrationParams) => {
          libvirtCalls.push(`migrate ${uri} ${params.uri}`);
          return new Promise<void>((resolve, reject) => (finishMigration = (err) => (err ? reject(err) : resolve())));
        },
        jobStats: async (_uuid, completed) => (completed ? { type: 3, stats: { downtime: 42 } } : job),
        abort: async () => {
          libvirtCalls.push('abort');
          finishMigration(new LibvirtError('operation aborted: migration out job: canceled by client', ErrorCode.OPERATION_ABORTED, 10, 2, 'virDomainMigrateToURI3'));
        },
        setDowntime: async (_uuid, ms) => void libvirtCalls.push(`downtime ${ms}`),
        setBandwidth: async (_uuid, mib) => void libvirtCalls.push(`bandwidth ${mib}`),
      },
      slot: async () => () => undefined,
      statusEvent: (_vmId, status) => events.push(status),
      jobs,
      delay: async () => undefined,
      every: (_seconds, t) => {
        tick = t;
        return () => (tick = async () => undefined);
      },
      log: getLogger('test'),
    },
    { libvirtUri: (host) => `qemu+tcp://${host}/system`, monitorIntervalSeconds: 1, retryIntervalSeconds: 0, defaultSchedule: stepSchedule(500, 5) },
  );
  const settle = () => new Promise((resolve) => setTimeout(resolve, 5));
  return {
    vm,
    migration,
    statuses,
    peerCalls,
    libvirtCalls,
    events,
    jobs,
    settle,
    finish: (err?: Error) => finishMigration(err),
    setJob: (stats: Record<string, number>) => (job = { type: 2, stats }),
    tick: () => tick(),
    loseDestination: () => lost(),
  };
}

describe('an outgoing migration', () => {
  it('prepares the destination, migrates with progress events, and ends Down here with the downtime', async () => {
    const t = setup();
    await t.settle();
    expect(t.vm.status).toBe('Migration Source');
    expect(t.peerCalls).toEqual(['Host.ping', 'VM.migrationCreate']);
    expect(t.libvirtCalls).toEqual(['downtime 101', 'migrate qemu+tcp://192.0.2.5/system tcp://192.0.2.5']);
    t.setJob({ data_total: 1000, data_remaining: 500, memory_iteration: 1 });
    await t.tick();
    t.setJob({ data_total: 1000, data_remaining: 700, memory_iteration: 3 });
    await t.tick();
    expect(t.libvirtCalls.at(-1)).toBe('downtime 104');
    expect(t.migration.report()).toEqual({ status: 'in_progress', progress: 50 });
    t.finish();
    await t.migration.finished;
    expect(t.events).toEqual([
      { progress: 50, postcopy: false },
      { progress: 50, postcopy: false },
      { progress: 100, postcopy: false, downtime: 42 },
    ]);
    expect(t.statuses).toEqual(['Migration Source', 'Down']);
    expect(t.vm.exit).toMatchObject({ exitCode: 0, exitReason: 4 });
    expect(t.migration.report()).toEqual({ status: 'done', downtime: 42 });
    expect(Object.values(t.jobs.list('migration'))).toEqual([expect.objectContaining({ status: 'done', progress: 100 })]);
  });

  it('asks a busy destination again, and fails with its refusal otherwise; the VM is Up here', async () => {
    const t = setup({ create: [new CallError(82, 'Incoming migration limit exceeded'), new CallError(14, 'Not enough free memory to create VM')] });
    await t.migration.finished;
    expect(t.peerCalls).toEqual(['Host.ping', 'VM.migrationCreate', 'VM.migrationCreate']);
    expect(t.libvirtCalls).toEqual([]);
    expect(t.migration.status).toBe('failed');
    expect(t.migration.error).toMatchObject({ code: 12, message: 'the destination refused the VM: Not enough free memory to create VM' });
    expect(t.statuses).toEqual(['Migration Source', 'Up']);
    expect(Object.values(t.jobs.list('migration'))).toEqual([expect.objectContaining({ status: 'failed', error: { code: 12, message: expect.any(String) } })]);
  });

  it('says noConPeer when the destination daemon cannot be reached', async () => {
    const t = setup({ connectFails: true });
    await t.migration.finished;
    expect(t.migration.error).toMatchObject({ code: 10, message: 'could not reach the destination: ECONNREFUSED' });
    expect(t.vm.status).toBe('Up');
  });

  it('is cancelled: the libvirt job aborted, the destination told to destroy, the VM Up here', async () => {
    const t = setup();
    await t.settle();
    await t.migration.cancelMigration();
    await t.migration.finished;
    expect(t.libvirtCalls.at(-1)).toBe('abort');
    expect(t.peerCalls.at(-1)).toBe('VM.destroy');
    expect(t.migration.status).toBe('cancelled');
    expect(t.migration.error?.code).toBe(47);
    expect(t.statuses).toEqual(['Migration Source', 'Up']);
    await expect(t.migration.cancelMigration()).rejects.toMatchObject({ code: 47 });
  });

  it('aborts when its schedule runs out, and says it did not converge', async () => {
    const t = setup();
    await t.settle();
    for (let iteration = 1; iteration <= 52; iteration++) {
      t.setJob({ data_total: 1000, data_remaining: 900, memory_iteration: iteration });
      await t.tick();
    }
    await t.migration.finished;
    expect(t.libvirtCalls.filter((c) => c.startsWith('downtime'))).toEqual(['downtime 101', 'downtime 104', 'downtime 120', 'downtime 189', 'downtime 500', 'downtime 500']);
    expect(t.libvirtCalls.at(-1)).toBe('abort');
    expect(t.migration.error).toMatchObject({ code: 12, message: 'the migration did not converge: aborted by its convergence schedule' });
    expect(t.vm.status).toBe('Up');
  });

  it("aborts when the destination's daemon goes away mid-way, and says so", async () => {
    const t = setup();
    await t.settle();
    t.loseDestination();
    await t.migration.finished;
    expect(t.libvirtCalls.at(-1)).toBe('abort');
    expect(t.migration.error).toMatchObject({ code: 12, message: "lost the connection to the destination's daemon at 192.0.2.5:54321" });
    expect(t.vm.status).toBe('Up');
  });

  it("reports libvirt's operation failure as vdsm's migOperationErr", async () => {
    const t = setup();
    await t.settle();
    t.finish(new LibvirtError('operation failed: domain already exists', ErrorCode.OPERATION_FAILED, 10, 2, 'virDomainMigrateToURI3'));
    await t.migration.finished;
    expect(t.migration.error).toMatchObject({ code: 102 });
    expect(t.peerCalls.at(-1)).toBe('VM.destroy');
  });
});

describe('a migration found running at recovery', () => {
  function recovered(status: 'Migration Source') {
    const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => 1 });
    const vm = registry.add(VM, 'a', status);
    const state = { job: { type: 2, stats: { operation: 5, data_total: 1000, data_remaining: 400 } } as DomainJobStats, aborted: 0, bandwidth: 0, stopped: false, events: [] as unknown[] };
    let tick: () => Promise<void> = async () => undefined;
    const jobs = new JobRegistry(60_000, () => 0);
    const migrations = new Migrations({
      outgoing: {
        libvirt: {
          jobStats: async (_id: string, completed?: boolean) => (completed ? { type: 3, stats: { downtime: 42 } } : state.job),
          abort: async () => void state.aborted++,
          setBandwidth: async (_id: string, mib: number) => void (state.bandwidth = mib),
        },
        jobs,
        statusEvent: (_id: string, event: unknown) => state.events.push(event),
        every: (_seconds: number, t: () => Promise<void>) => {
          tick = t;
          return () => (state.stopped = true);
        },
        log: getLogger('test'),
      } as unknown as MigrationsOptions['outgoing'],
      outgoingSettings: { libvirtUri: (h) => h, monitorIntervalSeconds: 1, retryIntervalSeconds: 1, defaultSchedule: stepSchedule(500, 5) },
      maxOutgoing: 2,
      incoming: {} as MigrationsOptions['incoming'],
      defaultPort: 54321,
    });
    migrations.watchRecovered(vm);
    return { vm, migrations, jobs, state, tick: () => tick() };
  }

  it("answers for libvirt's job: progress, bandwidth, cancel, a job; Up and failed when it ends with the VM here", async () => {
    const t = recovered('Migration Source');
    await t.tick();
    expect(t.migrations.status(VM)).toEqual({ status: 'in_progress', progress: 60 });
    expect(t.state.events).toEqual([{ progress: 60, postcopy: false }]);
    expect(Object.values(t.jobs.list('migration'))).toMatchObject([{ status: 'running', progress: 60 }]);
    await t.migrations.setBandwidth(VM, 64);
    await t.migrations.cancel(VM);
    expect([t.state.bandwidth, t.state.aborted]).toEqual([64, 1]);
    t.state.job = { type: 0, stats: {} };
    await t.tick();
    expect([t.vm.status, t.state.stopped]).toEqual(['Up', true]);
    expect(() => t.migrations.status(VM)).toThrow(/ended without the VM moving/);
    expect(Object.values(t.jobs.list('migration'))).toMatchObject([{ status: 'failed' }]);
    await expect(t.migrations.cancel(VM)).rejects.toMatchObject({ code: 47 });
  });

  it('is done, with the downtime, when the VM went Down here (it moved)', async () => {
    const t = recovered('Migration Source');
    t.vm.setStatus('Down');
    await t.tick();
    expect(t.migrations.status(VM)).toEqual({ status: 'done', downtime: 42 });
    expect(t.state.events).toEqual([{ progress: 100, downtime: 42, postcopy: false }]);
    expect(Object.values(t.jobs.list('migration'))).toMatchObject([{ status: 'done', progress: 100 }]);
  });
});
