/**
 * One process-wide connection used from the main thread and 4 piscina worker threads at once,
 * on a generated host of 1000 domains: the workers see what the main thread did, and theirs
 * is visible to it; round trips with states; typed errors as data across the boundary.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workerModuleFile } from '../../src/tasks/contract.js';
import type { BulkStatsTask, DomainStatsResult, DomainStatsTask, Outcome, VerbTask } from '../../src/tasks/libvirt.js';
import { BlockingLibvirt } from '../../src/virt/libvirt/blocking.js';
import { DomainState, ErrorCode, LibvirtError, StatsGroup } from '../../src/virt/libvirt/index.js';
import { writeTestHost, type TestHost } from '../doubles/testhost.js';

const DOMAINS = 1000;
const WORKERS = 4;
let dir: string;
let host: TestHost;
let conn: BlockingLibvirt;
let pool: Piscina;

beforeAll(() => {
  const file = workerModuleFile('libvirt');
  if (!existsSync(file)) throw new Error(`${file} is missing: build first with npx tsc -p tsconfig.json`);
  dir = mkdtempSync(join(tmpdir(), 'hostvisor-libvirt-'));
  host = writeTestHost({
    dir,
    domains: DOMAINS,
    channelsDir: join(dir, 'channels'),
    stateOf: (i) => (i % 10 === 9 ? 'shutoff' : 'running'),
  });
  conn = new BlockingLibvirt(host.uri);
  conn.open();
  pool = new Piscina({ filename: file, minThreads: WORKERS, maxThreads: WORKERS, idleTimeout: 60_000 });
});

afterAll(async () => {
  await pool?.destroy();
  conn?.close();
  rmSync(dir, { recursive: true, force: true });
});

function verb<T>(task: VerbTask): Promise<Outcome<T>> {
  return pool.run(task, { name: 'verb' }) as Promise<Outcome<T>>;
}

describe('a generated host of 1000 domains', () => {
  it('loads with every domain, its devices and its initial state', () => {
    const listed = conn.listDomains();
    expect(listed).toHaveLength(DOMAINS);
    expect(new Set(listed.map((d) => d.uuid))).toEqual(new Set(host.domains.map((d) => d.uuid)));
    expect(conn.listDomains(1 /* ACTIVE */)).toHaveLength(900);
    const d = host.domains[5]!;
    const xml = conn.xmlDesc(d.uuid);
    expect(xml).toContain(d.channels.ovirt);
    expect(xml).toContain("name='org.qemu.guest_agent.0'");
    expect(conn.state(host.domains[9]!.uuid).state).toBe(DomainState.SHUTOFF);
  });

  it('defines, starts, suspends, resumes, destroys and undefines a domain next to 1000 others', () => {
    const uuid = '41111111-2222-4333-8444-555555555555';
    conn.defineXml(`<domain type='test'><name>extra</name><uuid>${uuid}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`);
    expect(conn.listDomains()).toHaveLength(DOMAINS + 1);
    const states: number[] = [conn.state(uuid).state];
    conn.start(uuid);
    states.push(conn.state(uuid).state);
    conn.suspend(uuid);
    states.push(conn.state(uuid).state);
    conn.resume(uuid);
    states.push(conn.state(uuid).state);
    conn.destroy(uuid);
    states.push(conn.state(uuid).state);
    conn.undefine(uuid);
    expect(states).toEqual([DomainState.SHUTOFF, DomainState.RUNNING, DomainState.PAUSED, DomainState.RUNNING, DomainState.SHUTOFF]);
    expect(conn.listDomains()).toHaveLength(DOMAINS);
  });

  it('round trips domains through their states from the main thread', () => {
    for (const d of host.domains.slice(0, 50)) {
      if (d.state === 'shutoff') conn.start(d.uuid);
      conn.suspend(d.uuid);
      expect(conn.state(d.uuid).state).toBe(DomainState.PAUSED);
      conn.resume(d.uuid);
      conn.destroy(d.uuid);
      expect(conn.state(d.uuid).state).toBe(DomainState.SHUTOFF);
      conn.start(d.uuid);
      expect(conn.state(d.uuid).state).toBe(DomainState.RUNNING);
    }
  });
});

describe('the same connection from 4 worker threads at once', () => {
  it('samples all 1000 domains split over 4 workers concurrently', async () => {
    const chunk = DOMAINS / WORKERS;
    const tasks: DomainStatsTask[] = Array.from({ length: WORKERS }, (_, w) => ({
      uri: host.uri,
      domains: host.domains.slice(w * chunk, (w + 1) * chunk).map(({ uuid, disks, nics }) => ({ uuid, disks, nics })),
    }));
    const results = (await Promise.all(tasks.map((t) => pool.run(t, { name: 'domainStats' })))) as DomainStatsResult[];
    const all = results.flatMap((r) => r.samples);
    expect(all).toHaveLength(DOMAINS);
    expect(all.every((s) => s !== null)).toBe(true);
    const samples = Object.fromEntries(host.domains.map((d, i) => [d.uuid, all[i]!]));
    expect(results.flatMap((r) => r.missing)).toEqual([]);
    expect(results.flatMap((r) => Object.keys(r.failed))).toEqual([]);
    const running = host.domains.find((d, i) => i > 100 && d.state === 'running')!;
    expect(samples[running.uuid]!.active).toBe(true);
    expect(Object.keys(samples[running.uuid]!.block)).toEqual(['vda', 'vdb']);
    expect(samples[running.uuid]!.interfaces[running.nics[0]!]!.rxBytes).toBeGreaterThan(0);
    const off = host.domains.find((d, i) => i > 100 && d.state === 'shutoff')!;
    expect(samples[off.uuid]!.active).toBe(false);
    expect(samples[off.uuid]!.memory).toBeUndefined();
  });

  it('workers change domains concurrently and the main thread sees it (and the reverse)', async () => {
    const targets = host.domains.slice(100, 140).filter((d) => d.state === 'running');
    await Promise.all(targets.map((d) => verb({ uri: host.uri, verb: 'suspend', args: [d.uuid] })));
    for (const d of targets) expect(conn.state(d.uuid).state).toBe(DomainState.PAUSED);

    for (const d of targets) conn.resume(d.uuid);
    const states = await Promise.all(
      targets.map((d) => verb<{ state: number }>({ uri: host.uri, verb: 'state', args: [d.uuid] })),
    );
    expect(states.every((s) => s.ok && s.value.state === DomainState.RUNNING)).toBe(true);

    const uuid = '31111111-2222-4333-8444-555555555555';
    const defined = await verb({
      uri: host.uri,
      verb: 'defineXml',
      args: [`<domain type='test'><name>from-worker</name><uuid>${uuid}</uuid><memory>65536</memory><os><type>hvm</type></os></domain>`],
    });
    expect(defined.ok).toBe(true);
    expect(conn.lookupByUuid(uuid).name).toBe('from-worker');
    conn.undefine(uuid);
  });

  it('bulk stats from a worker: all domains, and a list with a vanished one left out', async () => {
    const all = (await pool.run({ uri: host.uri } satisfies BulkStatsTask, { name: 'bulkStats' })) as Outcome<
      { uuid: string; params: Record<string, number> }[]
    >;
    expect(all.ok && all.value.length).toBe(DOMAINS);
    const some = (await pool.run(
      { uri: host.uri, uuids: [host.domains[0]!.uuid, '00000000-0000-4000-8000-000000000000'], groups: StatsGroup.STATE },
      { name: 'bulkStats' },
    )) as Outcome<{ uuid: string; params: Record<string, number> }[]>;
    expect(some.ok && some.value.map((r) => r.uuid)).toEqual([host.domains[0]!.uuid]);
  });

  it('an unknown UUID comes back as typed error data with VIR_ERR_NO_DOMAIN', async () => {
    const unknown = '00000000-0000-4000-8000-00000000beef';
    const out = await verb({ uri: host.uri, verb: 'info', args: [unknown] });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.error).toMatchObject({ code: ErrorCode.NO_DOMAIN, codeName: 'VIR_ERR_NO_DOMAIN' });
    expect(LibvirtError.fromData(out.error)).toBeInstanceOf(LibvirtError);
    const stats = (await pool.run({ uri: host.uri, domains: [{ uuid: unknown }] }, { name: 'domainStats' })) as DomainStatsResult;
    expect(stats.missing).toEqual([unknown]);
    expect(stats.samples).toEqual([null]);
    await expect(pool.run({ uri: host.uri, verb: 'close', args: [] }, { name: 'verb' })).rejects.toThrow(/not a libvirt verb/);
  });
});
