/**
 * The migration verbs between two real daemons on libvirt's test driver, over STOMP as the engine
 * and a source daemon speak it. The test driver cannot migrate a domain, so every migration here
 * ends in one of the failure paths, which is what this file checks: the VM is Up on the source
 * again, the destination keeps nothing, and the error says why. Successful migrations between
 * two real libvirt hosts are in test/e2e/migration.test.ts.
 */
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallError, JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { answerViolations, statusEventViolations } from '../helpers/contract.js';
import { callError } from '../helpers/call-error.js';
import { readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';

const FAST = {
  HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '0.5',
  HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '0.2',
  // The test driver's guests run no agent: Up after this grace.
  HOSTVISOR_VARS_GUEST_AGENT_TIMEOUT: '0.3',
  HOSTVISOR_DAEMON_STOP_TIMEOUT: '5',
  HOSTVISOR_MIGRATION_MONITOR_INTERVAL: '0.2',
  HOSTVISOR_MIGRATION_RETRY_INTERVAL: '0.2',
  HOSTVISOR_MIGRATION_CONNECT_TIMEOUT: '2',
  HOSTVISOR_MIGRATION_DESTINATION_LIBVIRT_URI: 'test:///default',
};

interface Host {
  daemon: RunningDaemon;
  client: JsonRpcClient;
  port: number;
  events: Array<{ method: string; params: Record<string, unknown> }>;
}

async function host(env: Record<string, string> = {}): Promise<Host> {
  const daemon = startDaemon(['--listen', '127.0.0.1:0'], { ...FAST, ...env });
  const port = await readyPort(daemon);
  const client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 15_000 });
  const events: Host['events'] = [];
  await client.subscribe('jms.queue.events', (body) => events.push(body as Host['events'][number]));
  return { daemon, client, port, events };
}


const until = async <T>(what: string, check: () => Promise<T | undefined> | T | undefined, ms = 15_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const vmXml = (uuid: string, memoryMiB: number): string => `<domain type='test'>
  <name>mig-${uuid.slice(0, 8)}</name><uuid>${uuid}</uuid><memory unit='MiB'>${memoryMiB}</memory><vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
</domain>`;

describe('migration verbs between two daemons on the test driver', () => {
  let source: Host;
  let destination: Host;
  // Accepts connections and never answers: a destination daemon that hangs.
  let silent: Server;
  let silentPort: number;

  beforeAll(async () => {
    // The test driver's node has 3 GB and its own 8 GB VM: over-commit enough to admit small VMs.
    [source, destination] = await Promise.all([host(), host({ HOSTVISOR_MIGRATION_MEMORY_ALLOCATION_RATIO: '10' })]);
    silent = createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    silentPort = (silent.address() as { port: number }).port;
  }, 60_000);
  afterAll(async () => {
    silent.close();
    expect(await stopDaemon(source.daemon, source.client)).toBe(0);
    expect(await stopDaemon(destination.daemon, destination.client)).toBe(0);
  });

  const statuses = (h: Host, vmId: string): string[] =>
    h.events.filter((e) => e.method === `|virt|VM_status|${vmId}`).map((e) => (e.params[vmId] as { status: string }).status);

  async function created(uuid: string, memoryMiB = 256): Promise<string> {
    await source.client.call('VM.create', { vmParams: { xml: vmXml(uuid, memoryMiB) } });
    await until('VM up', async () => (((await source.client.call('VM.getStats', { vmID: uuid })) as Array<{ status: string }>)[0]!.status === 'Up' ? true : undefined));
    return uuid;
  }

  async function failure(uuid: string): Promise<CallError> {
    await until('migration ended', async () => {
      const outcome = await source.client.call('VM.getMigrationStatus', { vmID: uuid }).then(
        () => undefined,
        (e: unknown) => e as CallError,
      );
      return outcome;
    });
    return callError(source.client.call('VM.getMigrationStatus', { vmID: uuid }));
  }

  it('admitted by the destination, failed by libvirt: Up on the source, nothing left on the destination, the job failed', async () => {
    const uuid = await created('a1111111-2222-4333-8444-555555555555');
    expect(await source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid, dst: `127.0.0.1:${destination.port}`, method: 'online', tunneled: 'false', src: 'ignored' } })).toBe(true);
    const err = await failure(uuid);
    expect(err.code).toBe(12);
    expect(err.message).toMatch(/^Fatal error during migration: \{'vmId': 'a1111111-2222-4333-8444-555555555555', 'reason': '.*not supported/);
    await until('Up again on the source', () => (statuses(source, uuid).at(-1) === 'Up' ? true : undefined));
    expect(statuses(source, uuid)).toEqual(expect.arrayContaining(['Migration Source', 'Up']));
    const list = (await destination.client.call('Host.getVMList')) as Array<{ vmId: string }>;
    expect(list.map((v) => v.vmId)).not.toContain(uuid);
    const jobs = Object.values((await source.client.call('Host.getJobs')) as Record<string, Record<string, unknown>>);
    expect(jobs).toEqual(expect.arrayContaining([expect.objectContaining({ job_type: 'migration', status: 'failed', error: expect.objectContaining({ code: 12 }) })]));
    expect(answerViolations('Host.getJobs', await source.client.call('Host.getJobs'))).toEqual([]);
    const own = source.events.filter((e) => e.method.startsWith('|virt|VM_status|'));
    expect(own.flatMap((e) => statusEventViolations(e.params))).toEqual([]);
    // The failed migration's VM migrates again as freely as before.
    expect(await source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid, dst: `127.0.0.1:${destination.port}` } })).toBe(true);
    expect((await failure(uuid)).code).toBe(12);
  });

  it('refused by admission: outOfMem reaches the source as the failure, the VM stays Up', async () => {
    const uuid = await created('a2222222-2222-4333-8444-555555555555', 40_000);
    await source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid, dst: `127.0.0.1:${destination.port}` } });
    const err = await failure(uuid);
    expect(err.code).toBe(12);
    expect(err.message).toContain('Not enough free memory to create VM');
    expect(err.message).toContain('the VM needs 40000 MiB of memory');
    expect(statuses(source, uuid).at(-1)).toBe('Up');
  });

  it('to a daemon nobody answers at: noConPeer', async () => {
    const uuid = await created('a3333333-2222-4333-8444-555555555555');
    await source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid, dst: '127.0.0.1:1' } });
    const err = await failure(uuid);
    expect(err.code).toBe(10);
    expect(err.message).toMatch(/^Could not connect to peer host: /);
  });

  it('one at a time per VM, cancelled while it waits for a hanging destination: Up, migCancelErr', async () => {
    const uuid = await created('a4444444-2222-4333-8444-555555555555');
    await source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid, dst: `127.0.0.1:${silentPort}` } });
    const again = await callError(source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid, dst: `127.0.0.1:${silentPort}` } }));
    expect([again.code, again.message]).toEqual([12, `Fatal error during migration: {'vmId': '${uuid}', 'reason': 'the VM is already migrating'}`]);
    expect(await source.client.call('VM.getMigrationStatus', { vmID: uuid })).toEqual({ vmId: uuid, status: 'in_progress', progress: 0 });
    expect(await source.client.call('VM.migrateCancel', { vmID: uuid })).toBe(true);
    const err = await failure(uuid);
    expect(err.code).toBe(47);
    await until('Up again', () => (statuses(source, uuid).at(-1) === 'Up' ? true : undefined));
    expect((await callError(source.client.call('VM.migrateCancel', { vmID: uuid }))).code).toBe(47);
  });

  it("answers vdsm's codes for what cannot be done, and the destination refuses what it cannot take", async () => {
    const unknown = '99999999-9999-4999-8999-999999999999';
    for (const method of ['VM.migrate', 'VM.getMigrationStatus', 'VM.migrateCancel']) {
      const err = await callError(source.client.call(method, { vmID: unknown, params: { vmId: unknown, dst: 'x' } }));
      expect([method, err.code]).toEqual([method, 1]);
    }
    const uuid = await created('a5555555-2222-4333-8444-555555555555');
    expect((await callError(source.client.call('VM.getMigrationStatus', { vmID: uuid }))).code).toBe(81);
    expect((await callError(source.client.call('VM.migrateCancel', { vmID: uuid }))).code).toBe(47);
    const noDst = await callError(source.client.call('VM.migrate', { vmID: uuid, params: { vmId: uuid } }));
    expect([noDst.code, noDst.message]).toEqual([-32602, expect.stringContaining("'param': 'params'")]);
    // The destination, called directly as a source daemon would.
    const exists = await callError(destination.client.call('VM.migrationCreate', { vmID: '6695eb01-f6a4-8304-79aa-97f2502e193f', params: { _srcDomXML: '<domain/>' } }));
    expect(exists.code).toBe(4);
    const noXml = await callError(destination.client.call('VM.migrationCreate', { vmID: uuid, params: {} }));
    expect(noXml.code).toBe(12);
    const admitted = await destination.client.call('VM.migrationCreate', { vmID: uuid, params: { _srcDomXML: vmXml(uuid, 128) } });
    expect(admitted).toEqual({ migrationPort: 0, params: { vmId: uuid, status: 'Migration Destination', statusTime: expect.any(String) } });
    expect(answerViolations('VM.migrationCreate', admitted)).toEqual([]);
    expect((await destination.client.call('Host.getStats')) as Record<string, unknown>).toMatchObject({ incomingVmMigrations: 1, vmMigrating: 1 });
    // The source gives up: the destination's destroy removes the waiting VM.
    expect(await destination.client.call('VM.destroy', { vmID: uuid })).toBe(true);
    expect((await destination.client.call('Host.getStats')) as Record<string, unknown>).toMatchObject({ incomingVmMigrations: 0 });
  });
});
