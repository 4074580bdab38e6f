/**
 * VM sampling with real workers: the periodic Executor over piscina, workers/vm-sampling.ts and
 * libvirt's test driver on a generated host of 1000 domains (900 running). The test driver fills
 * only the `state` bulk group, so the sampler must notice and take the per-domain path in
 * parallel chunks; after two cycles every running VM has rates. One cycle's wall time is printed
 * and asserted only loosely (the machine is shared).
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Executor } from '../../src/concurrency/executor.js';
import { Operation, type OperationContext } from '../../src/concurrency/operation.js';
import { Scheduler } from '../../src/concurrency/scheduler.js';
import { getLogger } from '../../src/log.js';
import { workerModuleFile } from '../../src/tasks/contract.js';
import { vmSamplingTasks, type SampleEachTask } from '../../src/tasks/vm-sampling.js';
import { writeTestHost, type TestHost } from '../doubles/testhost.js';
import type { VmRegistry } from '../../src/virt/registry.js';
import { StatsCache } from '../../src/virt/sampling/stats-cache.js';
import type { VmSample } from '../../src/virt/sampling/vm-sample.js';
import { VmSampler } from '../../src/virt/sampling/vm-sampler.js';
import { vmStats } from '../../src/virt/vm-stats.js';
import { delay, waitFor } from '../fixtures/concurrency.js';
import { registryOf } from '../helpers/test-host-registry.js';

const DOMAINS = 1000;
const TIMEOUT = 7.5; // vm_sample_interval / 2
let dir: string;
let host: TestHost;
let scheduler: Scheduler;
let periodic: Executor;
let registry: VmRegistry;

beforeAll(() => {
  const file = workerModuleFile('vm-sampling');
  if (!existsSync(file)) throw new Error(`${file} is missing: build first with npx tsc -p tsconfig.json`);
  dir = mkdtempSync(join(tmpdir(), 'hostvisor-vm-sampling-'));
  host = writeTestHost({ dir, domains: DOMAINS, stateOf: (i) => (i % 10 === 9 ? 'shutoff' : 'running') });
  scheduler = new Scheduler('test.Scheduler');
  scheduler.start();
  // As the daemon's: [sampling] periodic_workers 4, periodic_task_per_worker 100, max_workers 30.
  periodic = new Executor({ name: 'periodic', workers: 4, maxTasks: 400, maxWorkers: 30, scheduler, filename: file });
  periodic.start();
  registry = registryOf(host);
});

afterAll(async () => {
  await periodic?.stop();
  scheduler?.stop();
  rmSync(dir, { recursive: true, force: true });
});

function contextOf(executor: Executor): OperationContext {
  return {
    timeout: TIMEOUT,
    discard: true,
    dispatch: (task, extra = {}) => executor.dispatch(task, { timeout: TIMEOUT, discard: true, onLate: extra.onLate }),
  };
}

const running = (): string[] => host.domains.filter((d) => d.state === 'running').map((d) => d.uuid);

describe('VM sampling on a 1000-domain test host, through real workers', () => {
  it('detects the test driver, samples per domain in parallel chunks, and after two cycles every running VM has rates', async () => {
    const cache = new StatsCache<VmSample>(getLogger('stats-cache'));
    for (const vm of registry.all()) cache.add(vm.id);
    const vanished: string[] = [];
    const sampler = new VmSampler({ uri: host.uri, cache, vms: () => registry.all(), onVanished: (id) => vanished.push(id) });
    const ctx = contextOf(periodic);

    await sampler.sample(ctx); // warm-up cycle: worker threads load the module and open the connection
    expect(sampler.mode).toBe('domain');
    await delay(200);
    const before = periodic.state().counters.dispatched;
    await sampler.sample(ctx);
    const cycle = sampler.lastCycle!;
    const tasks = periodic.state().counters.dispatched - before;
    console.log(`[vm-sampling] one cycle of ${cycle.sampled} VMs in ${tasks} tasks: ${cycle.elapsedMs.toFixed(1)} ms (${cycle.path})`);
    expect(cycle).toMatchObject({ path: 'per-vm', sampled: 900, stored: true });
    expect(tasks).toBe(4);
    expect(cycle.elapsedMs).toBeLessThan(5000); // the goal is well under 1 s; loose for a shared machine
    expect(vanished).toEqual([]);

    for (const uuid of running()) {
      const stats = vmStats(registry.get(uuid)!, cache.get(uuid), { commandTimeout: 60 });
      expect(stats['monitorResponse']).toBe('0');
      expect(Number(stats['cpuUser'])).toBeGreaterThan(0);
      const network = stats['network'] as Record<string, Record<string, string>>;
      expect(Object.keys(network)).toEqual(['testnet0']);
      expect(Number(network['testnet0']!['rx'])).toBeGreaterThan(0);
      const disks = stats['disks'] as Record<string, Record<string, string>>;
      expect(Object.keys(disks)).toEqual(['vda', 'vdb']);
      expect(Number(disks['vda']!['readRate'])).toBeGreaterThan(0);
      expect(stats['balloonInfo']).toMatchObject({ balloon_cur: '1048576' });
      expect(stats['vcpuCount']).toBe('2');
    }
    const off = host.domains.find((d) => d.state === 'shutoff')!;
    expect(cache.get(off.uuid).sample).toBeUndefined();
  });

  it('as an Operation body on the periodic executor; a domain that vanishes is reported, not fatal', async () => {
    const cache = new StatsCache<VmSample>(getLogger('stats-cache'));
    const vanished: string[] = [];
    const ghost = '00000000-0000-4000-8000-00000000dead';
    const vm = registry.add(ghost, 'ghost', 'Up');
    try {
      const sampler = new VmSampler({ uri: host.uri, cache, vms: () => registry.all(), onVanished: (id) => vanished.push(id) });
      const op = new Operation(sampler.sample, 0.5, scheduler, { name: 'vm-sampling', executor: periodic });
      op.start();
      await waitFor(() => op.stats().completed >= 2, 20_000, 'two completed cycles');
      op.stop();
      expect(op.stats().failed).toBe(0);
      expect(vanished).toContain(ghost);
      expect(vm.status).toBe('Up');
      expect(cache.get(running()[0]!).sample).toBeDefined();
    } finally {
      registry.remove(ghost);
    }
  });

  it('the progress counter a worker writes is seen by the main thread (what finds a stuck VM)', async () => {
    const progress = new Int32Array(new SharedArrayBuffer(4));
    progress[0] = -1;
    const domains = host.domains.slice(0, 20).map(({ uuid, disks, nics }) => ({ uuid, disks, nics }));
    const task: SampleEachTask = { uri: host.uri, source: 'domain', groups: 0, flags: 0, domains, progress };
    const result = await vmSamplingTasks.sampleEach(periodic, task);
    expect(result.samples).toHaveLength(20);
    expect(Atomics.load(progress, 0)).toBe(20);
  });
});
