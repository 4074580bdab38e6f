// VM sampling (vdsm's VMBulkstatsMonitor) against a fake dispatcher that records every task and
// lets the test decide when each one answers, times out (TaskTimeout, then a late outcome) or
// fails: vdsm's bulk_sampling_test.py B1–B4, rule D15 (docs/protocol.md), stale late results, the per-domain
// path for drivers without bulk stats (chunks), stuck VMs found through the progress counter,
// and vanished domains.
import { beforeEach, describe, expect, it } from 'vitest';
import { ResourceExhausted, TaskTimeout } from '../../src/concurrency/errors.js';
import type { OperationContext } from '../../src/concurrency/operation.js';
import type { DispatchOptions, TaskSpec } from '../../src/concurrency/task.js';
import { StatsCache } from '../../src/virt/sampling/stats-cache.js';
import {
  recordHasCpuStats,
  sampleFromDomainSample,
  sampleFromStatsRecord,
  type VmSample,
} from '../../src/virt/sampling/vm-sample.js';
import type { SampleAllResult, SampleEachResult, SampleEachTask } from '../../src/tasks/vm-sampling.js';
import { VmSampler, split, type SampledVm } from '../../src/virt/sampling/vm-sampler.js';
import { LEVEL, captureLogger } from '../fixtures/concurrency.js';

/** One dispatched task, answered by the test. */
class Call {
  timedOut = false;
  settled = false;
  private resolveFn!: (value: unknown) => void;
  private rejectFn!: (error: unknown) => void;
  readonly promise: Promise<unknown>;

  constructor(
    readonly name: string,
    readonly args: unknown,
    private readonly onLate: DispatchOptions['onLate'],
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.resolveFn = resolve;
      this.rejectFn = reject;
    });
  }

  /** The executor gives up on it: the caller gets TaskTimeout, the outcome goes to onLate later. */
  timeout(): void {
    this.timedOut = true;
    this.rejectFn(new TaskTimeout(this.name, 1, 'periodic/0'));
  }

  finish(value: unknown): void {
    if (this.settled) throw new Error(`${this.name} already answered`);
    this.settled = true;
    if (this.timedOut) this.onLate?.({ status: 'fulfilled', value });
    else this.resolveFn(value);
  }

  fail(error: unknown): void {
    this.settled = true;
    if (this.timedOut) this.onLate?.({ status: 'rejected', reason: error });
    else this.rejectFn(error);
  }
}

/** A TaskDispatcher that records calls; `answer` (if set) answers each new call at once. */
class FakeDispatcher {
  readonly calls: Call[] = [];
  answer: ((call: Call) => void) | undefined;
  full = false;

  dispatch<R>(task: TaskSpec, options: DispatchOptions<R> = {}): Promise<R> {
    if (this.full) throw new ResourceExhausted('periodic', 400);
    const call = new Call(task.name, task.args, options.onLate as DispatchOptions['onLate']);
    this.calls.push(call);
    this.answer?.(call);
    return call.promise as Promise<R>;
  }

  get names(): string[] {
    return this.calls.map((c) => c.name);
  }
}

function contextOf(fake: FakeDispatcher): OperationContext {
  return {
    timeout: 1,
    discard: true,
    dispatch: <R>(task: TaskSpec, extra: Pick<DispatchOptions<R>, 'onLate'> = {}) =>
      fake.dispatch<R>(task, { timeout: 1, discard: true, ...extra }),
  };
}

function vmSample(n: number): VmSample {
  return { cpu: { time: n * 1e9, user: n * 1e8, system: n * 1e8 }, balloon: {}, vcpu: {}, nics: {}, disks: {} };
}

/** A bulk answer with every given VM, CPU counters at `n`. */
function allResult(ids: readonly string[], n: number, filled: boolean | null = true): SampleAllResult {
  return { uuids: [...ids], samples: ids.map(() => vmSample(n)), filled, elapsedMs: 1 };
}

/** A per-VM answer for the task's domains; some failed or missing. */
function eachResult(call: Call, n: number, opts: { failed?: string[]; missing?: string[] } = {}): SampleEachResult {
  const task = call.args as SampleEachTask;
  const result: SampleEachResult = { samples: [], missing: [], failed: {}, elapsedMs: 1 };
  for (const d of task.domains) {
    if (opts.failed?.includes(d.uuid)) {
      result.samples.push(null);
      result.failed[d.uuid] = { code: 1, domain: 10, level: 2, message: 'internal error: monitor busy', str1: null, str2: null, str3: null, int1: 0, int2: 0 } as never;
    } else if (opts.missing?.includes(d.uuid)) {
      result.samples.push(null);
      result.missing.push(d.uuid);
    } else {
      result.samples.push(vmSample(n));
    }
  }
  return result;
}

function domainsOf(call: Call): string[] {
  return (call.args as SampleEachTask).domains.map((d) => d.uuid);
}

function vm(id: string, monitorable = true): SampledVm {
  return {
    id,
    monitorable,
    devices: { disks: [{ name: 'vda' }, { name: 'vdb' }], nics: [{ name: 'vnet0', mac: `52:54:00:00:00:${id.padStart(2, '0').slice(-2)}` }] },
  };
}

let now: number;
let log: ReturnType<typeof captureLogger>;
let cache: StatsCache<VmSample>;
let fake: FakeDispatcher;
let ctx: OperationContext;
let vms: SampledVm[];
let vanished: string[];

function sampler(extra: Partial<ConstructorParameters<typeof VmSampler>[0]> = {}): VmSampler {
  return new VmSampler({
    uri: 'test:///default',
    cache,
    vms: () => vms,
    onVanished: (id) => vanished.push(id),
    log: log.logger,
    ...extra,
  });
}

const ids = (): string[] => vms.map((v) => v.id);

beforeEach(() => {
  now = 1000;
  log = captureLogger();
  cache = new StatsCache<VmSample>(log.logger, () => now);
  fake = new FakeDispatcher();
  ctx = contextOf(fake);
  vms = ['0', '1', '2'].map((id) => vm(id));
  vanished = [];
});

describe('bulk sampling (vdsm bulk_sampling_test.py)', () => {
  it('B1 the first sampling makes exactly one call, the bulk one, and stores its batch', async () => {
    const s = sampler();
    fake.answer = (call) => call.finish(allResult(ids(), 1));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll']);
    expect(s.mode).toBe('bulk');
    expect(s.lastCycle).toMatchObject({ path: 'fast', sampled: 3, stored: true });
    const spec = fake.calls[0]!;
    expect(spec.args).toMatchObject({ uri: 'test:///default', groups: 0b111111, flags: (1 << 4) | (1 << 29) });
    now += 15;
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleAll']);
    const entry = cache.get('1');
    expect(entry.sample?.first.cpu.time).toBe(1e9);
    expect(entry.sample?.last.sampledAt).toBe(1015);
  });

  it('B2 after a stuck bulk call, the next cycle takes the per-VM path and completes while it is still stuck', async () => {
    const s = sampler();
    const first = s.sample(ctx);
    fake.calls[0]!.timeout();
    await expect(first).rejects.toBeInstanceOf(TaskTimeout);
    now += 15;
    fake.answer = (call) => call.finish(eachResult(call, 2));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleEach']);
    expect(fake.calls[0]!.settled).toBe(false);
    expect(domainsOf(fake.calls[1]!)).toEqual(['0', '1', '2']);
    expect(s.lastCycle).toMatchObject({ path: 'per-vm', sampled: 3, stored: true });
  });

  it('B3 while the bulk call is stuck and a VM is unresponsive, every cycle is per-VM, without that VM', async () => {
    const s = sampler();
    void s.sample(ctx).catch(() => undefined);
    fake.calls[0]!.timeout();
    now += 15;
    fake.answer = (call) => call.finish(eachResult(call, 2, { failed: ['1'] }));
    await s.sample(ctx);
    expect(s.isSkipped('1')).toBe(true);
    now += 15;
    fake.answer = (call) => call.finish(eachResult(call, 3));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleEach', 'sampleEach']);
    expect(domainsOf(fake.calls[1]!)).toEqual(['0', '1', '2']);
    expect(domainsOf(fake.calls[2]!)).toEqual(['0', '2']);
    expect(log.messages(LEVEL.warn).some((m) => m.startsWith('sampling failed for 1 VMs; skipping them for 40s'))).toBe(true);
  });

  it('B4 once the stuck call returned (its result dropped as stale) and the skip cache expired, the fast path is back', async () => {
    const s = sampler();
    void s.sample(ctx).catch(() => undefined);
    const stuck = fake.calls[0]!;
    stuck.timeout();
    now += 15;
    fake.answer = (call) => call.finish(eachResult(call, 2, { failed: ['1'] }));
    await s.sample(ctx);
    // The stuck call returns: its batch is stamped 1000, older than the stored 1015.
    stuck.finish(allResult(ids(), 1));
    expect(log.messages(LEVEL.warn)).toContain('dropped stale old sample');
    now += 40;
    fake.answer = (call) => call.finish(allResult(ids(), 3));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleEach', 'sampleAll']);
    expect(s.lastCycle?.path).toBe('fast');
  });

  it('D15 a VM found unresponsive keeps every cycle on the per-VM path for 40 s, even with no bulk call in flight', async () => {
    const s = sampler();
    void s.sample(ctx).catch(() => undefined);
    const stuck = fake.calls[0]!;
    stuck.timeout();
    now += 15;
    fake.answer = (call) => call.finish(eachResult(call, 2, { failed: ['1'] }));
    await s.sample(ctx); // t=1015: VM 1 skipped until 1055
    stuck.finish(allResult(ids(), 1)); // the bulk call is free again
    fake.answer = (call) => call.finish(eachResult(call, 3));
    now = 1054.9;
    await s.sample(ctx);
    expect(fake.names.at(-1)).toBe('sampleEach');
    expect(domainsOf(fake.calls.at(-1)!)).toEqual(['0', '2']);
    now = 1055; // expired at exactly insert + ttl
    fake.answer = (call) => call.finish(allResult(ids(), 4));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleEach', 'sampleEach', 'sampleAll']);
  });
});

describe('late results and the stats cache', () => {
  it('a late bulk result is dropped when a newer batch was stored, and the stored samples stay', async () => {
    const s = sampler();
    fake.answer = (call) => call.finish(allResult(ids(), 1));
    await s.sample(ctx); // t=1000
    fake.answer = undefined;
    now = 1015;
    const stuckCycle = s.sample(ctx);
    const stuck = fake.calls[1]!;
    stuck.timeout();
    await expect(stuckCycle).rejects.toBeInstanceOf(TaskTimeout);
    now = 1030;
    fake.answer = (call) => call.finish(eachResult(call, 3));
    await s.sample(ctx); // per-VM, t=1030
    stuck.finish(allResult(ids(), 2)); // stamped 1015 < 1030
    expect(log.messages(LEVEL.warn)).toContain('dropped stale old sample');
    const entry = cache.get('0');
    expect(entry.sample?.first.cpu.time).toBe(1e9);
    expect(entry.sample?.last.cpu.time).toBe(3e9);
  });

  it('a late bulk result is stored when nothing newer came in meanwhile (it is the newest data)', async () => {
    const s = sampler();
    fake.answer = (call) => call.finish(allResult(ids(), 1));
    await s.sample(ctx); // t=1000
    fake.answer = undefined;
    now = 1015;
    void s.sample(ctx).catch(() => undefined);
    const stuck = fake.calls[1]!;
    stuck.timeout();
    await Promise.resolve();
    now = 1020;
    stuck.finish(allResult(ids(), 2));
    expect(cache.get('0').sample?.last.cpu.time).toBe(2e9);
    expect(cache.get('0').sample?.last.sampledAt).toBe(1015);
    expect(cache.get('0').age).toBe(5);
  });

  it('late per-VM results of a cycle that already stored its batch are not stored again', async () => {
    const s = sampler({ minChunk: 1, chunks: 3 });
    let each: Call[] = [];
    fake.answer = (call) => {
      if (call.name === 'sampleAll') call.finish(allResult(ids(), 1, false)); // a driver without bulk stats
      else each.push(call);
    };
    const cycle = s.sample(ctx);
    await Promise.resolve();
    await Promise.resolve();
    expect(each).toHaveLength(3);
    each[0]!.finish(eachResult(each[0]!, 1));
    each[1]!.finish(eachResult(each[1]!, 1));
    Atomics.store((each[2]!.args as SampleEachTask).progress!, 0, 0);
    each[2]!.timeout();
    await cycle;
    expect(s.lastCycle).toMatchObject({ path: 'per-vm', sampled: 2, stored: true });
    expect(s.isSkipped('2')).toBe(true);
    each[2]!.finish(eachResult(each[2]!, 1));
    expect(log.messages(LEVEL.debug)).toContain('late samples of 1 VMs dropped: their cycle is stored');
    // The batch in the cache is still the cycle's own, without VM 2.
    now += 15;
    each = [];
    fake.answer = (call) => call.finish(eachResult(call, 2));
    await s.sample(ctx);
    expect(cache.get('0').sample).toBeDefined();
    expect(cache.get('2').sample).toBeUndefined();
  });
});

describe('drivers without bulk stats: the per-domain path in chunks', () => {
  it('detects a driver that fills only `state`, then samples per domain in parallel chunks with devices', async () => {
    vms = Array.from({ length: 1000 }, (_, i) => vm(String(i)));
    const s = sampler();
    fake.answer = (call) =>
      call.name === 'sampleAll' ? call.finish(allResult(ids(), 1, false)) : call.finish(eachResult(call, 1));
    await s.sample(ctx);
    expect(s.mode).toBe('domain');
    expect(fake.names).toEqual(['sampleAll', 'sampleEach', 'sampleEach', 'sampleEach', 'sampleEach']);
    const chunks = fake.calls.slice(1).map(domainsOf);
    expect(chunks.map((c) => c.length)).toEqual([250, 250, 250, 250]);
    expect(chunks.flat()).toEqual(ids());
    const task = fake.calls[1]!.args as SampleEachTask;
    expect(task.source).toBe('domain');
    expect(task.domains[5]).toEqual({ uuid: '5', disks: ['vda', 'vdb'], nics: ['52:54:00:00:00:05'] });
    expect(s.lastCycle).toMatchObject({ path: 'per-vm', sampled: 1000, stored: true });
    // Later cycles go straight to the per-domain path.
    now += 15;
    await s.sample(ctx);
    expect(fake.names.slice(5)).toEqual(['sampleEach', 'sampleEach', 'sampleEach', 'sampleEach']);
    expect(cache.get('999').sample).toBeDefined();
  });

  it('every 20th cycle tries the bulk call again, and goes back to it when the groups are filled', async () => {
    const s = sampler();
    let filled = false;
    fake.answer = (call) =>
      call.name === 'sampleAll' ? call.finish(allResult(ids(), 1, filled)) : call.finish(eachResult(call, 1));
    for (let i = 0; i < 20; i++) await s.sample(ctx);
    expect(fake.names.filter((n) => n === 'sampleAll')).toHaveLength(1);
    await s.sample(ctx); // the 20th cycle after detection
    expect(fake.names.filter((n) => n === 'sampleAll')).toHaveLength(2);
    expect(s.mode).toBe('domain');
    filled = true;
    for (let i = 0; i < 20; i++) await s.sample(ctx);
    expect(s.mode).toBe('bulk');
    const before = fake.calls.length;
    await s.sample(ctx);
    expect(fake.names.slice(before)).toEqual(['sampleAll']);
  });

  it('a small host is one task; VMs that are not monitorable are not asked', async () => {
    vms = [vm('a'), vm('b', false), vm('c')];
    const s = sampler();
    fake.answer = (call) =>
      call.name === 'sampleAll' ? call.finish(allResult(['a', 'c'], 1, false)) : call.finish(eachResult(call, 1));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleEach']);
    expect(domainsOf(fake.calls[1]!)).toEqual(['a', 'c']);
  });

  it('split: at most n chunks of at least m items, evenly sized', () => {
    const xs = Array.from({ length: 10 }, (_, i) => i);
    expect(split(xs, 4, 50)).toEqual([xs]);
    expect(split(xs, 4, 3).map((c) => c.length)).toEqual([3, 3, 4]);
    expect(split(xs, 4, 1).map((c) => c.length)).toEqual([2, 3, 2, 3]);
    expect(split([], 4, 1)).toEqual([[]]);
  });

  it('a chunk stuck in one VM: that VM (from the progress counter) is left out until its call returns and 40 s have passed', async () => {
    vms = Array.from({ length: 8 }, (_, i) => vm(String(i)));
    const s = sampler({ minChunk: 4, chunks: 2 });
    let stuck: Call | undefined;
    fake.answer = (call) => {
      if (call.name === 'sampleAll') return call.finish(allResult(ids(), 1, false));
      const task = call.args as SampleEachTask;
      if (task.domains[0]!.uuid === '4' && stuck === undefined) {
        stuck = call;
        Atomics.store(task.progress!, 0, 2); // inside VM 6
        return call.timeout();
      }
      call.finish(eachResult(call, 1));
    };
    await s.sample(ctx);
    expect(s.lastCycle).toMatchObject({ sampled: 4, stored: true });
    expect(s.isSkipped('6')).toBe(true);
    expect(s.isSkipped('5')).toBe(false);
    expect(log.messages(LEVEL.warn)).toContain('VM 6 unresponsive: its sampling call is stuck; leaving it out');
    now += 45; // the skip cache expired, but the call has not returned
    await s.sample(ctx);
    // 7 VMs: one chunk (minChunk 4).
    expect(fake.calls.slice(-1).flatMap(domainsOf)).toEqual(['0', '1', '2', '3', '4', '5', '7']);
    stuck!.finish(eachResult(stuck!, 1));
    expect(s.isSkipped('6')).toBe(false);
    await s.sample(ctx);
    expect(fake.calls.slice(-2).flatMap(domainsOf)).toEqual(ids());
  });
});

describe('failures', () => {
  it('vanished domains go to the callback, on either path, and a throwing callback breaks nothing', async () => {
    const s = sampler();
    fake.answer = (call) =>
      call.name === 'sampleAll' ? call.finish(allResult(ids(), 1, false)) : call.finish(eachResult(call, 1, { missing: ['2'] }));
    await s.sample(ctx);
    expect(vanished).toEqual(['2']);
    expect(s.lastCycle?.sampled).toBe(2);
    const throwing = sampler({ onVanished: () => { throw new Error('boom'); } });
    await throwing.sample(ctx);
    expect(log.messages(LEVEL.error)).toContain('vanished VM callback failed');
  });

  it('a full queue on the bulk call rejects the cycle with ResourceExhausted (the Operation logs it) and frees the path', async () => {
    const s = sampler();
    fake.full = true;
    await expect(s.sample(ctx)).rejects.toBeInstanceOf(ResourceExhausted);
    fake.full = false;
    fake.answer = (call) => call.finish(allResult(ids(), 1));
    await s.sample(ctx);
    expect(s.lastCycle?.path).toBe('fast');
  });

  it('a failed bulk call rejects the cycle, stores nothing, and the next cycle tries the fast path again', async () => {
    const s = sampler();
    fake.answer = (call) => call.fail(new Error('libvirt: connection lost'));
    await expect(s.sample(ctx)).rejects.toThrow('connection lost');
    expect(cache.newestAge()).toBe(Infinity);
    fake.answer = (call) => call.finish(allResult(ids(), 1));
    await s.sample(ctx);
    expect(fake.names).toEqual(['sampleAll', 'sampleAll']);
  });

  it('per-VM chunks: some failing still stores the others; all failing rejects the cycle', async () => {
    vms = Array.from({ length: 4 }, (_, i) => vm(String(i)));
    const s = sampler({ minChunk: 2, chunks: 2 });
    fake.answer = (call) => {
      if (call.name === 'sampleAll') return call.finish(allResult(ids(), 1, false));
      if (domainsOf(call)[0] === '0') return call.fail(new Error('worker died'));
      call.finish(eachResult(call, 1));
    };
    await s.sample(ctx);
    expect(s.lastCycle).toMatchObject({ sampled: 2, stored: true });
    expect(log.messages(LEVEL.warn)).toContain('1 of 2 sampling tasks did not complete (0 queue full, 0 timed out, 1 failed)');
    fake.answer = (call) => call.fail(new Error('worker died'));
    await expect(s.sample(ctx)).rejects.toThrow('worker died');
  });

  it('no VM to ask stores an empty batch, as vdsm', async () => {
    const s = sampler();
    fake.answer = (call) => call.finish(allResult(ids(), 1, false));
    vms = [vm('x', false)];
    await s.sample(ctx);
    expect(s.lastCycle).toMatchObject({ path: 'per-vm', sampled: 0, stored: true });
    expect(cache.newestAge()).toBe(0);
  });
});

describe('VmSample from either libvirt path', () => {
  it('from bulk typed parameters (as qemu fills them): CPU, balloon, vCPU, NICs and disks by name', () => {
    const params = {
      'state.state': 1,
      'state.reason': 1,
      'cpu.time': 5_000_000_000,
      'cpu.user': 1_000_000_000,
      'cpu.system': 500_000_000,
      'balloon.current': 1048576,
      'balloon.maximum': 2097152,
      'balloon.swap_in': 0,
      'balloon.swap_out': 0,
      'balloon.major_fault': 300,
      'balloon.minor_fault': 4000,
      'balloon.unused': 500000,
      'balloon.available': 1000000,
      'balloon.usable': 600000,
      'balloon.rss': 900000,
      'balloon.disk_caches': 1234,
      'vcpu.current': 2,
      'vcpu.maximum': 4,
      'vcpu.0.state': 1,
      'vcpu.0.time': 1,
      'net.count': 2,
      'net.0.name': 'vnet0',
      'net.0.rx.bytes': 10,
      'net.0.rx.pkts': 1,
      'net.0.rx.errs': 0,
      'net.0.rx.drop': 0,
      'net.0.tx.bytes': 20,
      'net.0.tx.pkts': 2,
      'net.0.tx.errs': 0,
      'net.0.tx.drop': 1,
      // net.1 could not be read: count is an upper bound
      'block.count': 3,
      'block.0.name': 'vda',
      'block.0.path': '/images/a.qcow2',
      'block.0.rd.reqs': 5,
      'block.0.rd.bytes': 4096,
      'block.0.rd.times': 1000,
      'block.0.wr.reqs': 6,
      'block.0.wr.bytes': 8192,
      'block.0.wr.times': 2000,
      'block.0.fl.reqs': 7,
      'block.0.fl.times': 3000,
      'block.0.allocation': 100,
      'block.0.capacity': 1000,
      'block.0.physical': 200,
      'block.1.name': 'vda', // a backing layer repeats the name: the first entry wins
      'block.1.rd.reqs': 99,
      'block.2.name': 'hdc',
    };
    expect(sampleFromStatsRecord(params)).toEqual({
      state: 1,
      cpu: { time: 5e9, user: 1e9, system: 5e8 },
      balloon: {
        current: 1048576, maximum: 2097152, rss: 900000, unused: 500000, available: 1000000, usable: 600000,
        swapIn: 0, swapOut: 0, majorFault: 300, minorFault: 4000, diskCaches: 1234,
      },
      vcpu: { current: 2, maximum: 4 },
      nics: { vnet0: { rxBytes: 10, rxPackets: 1, rxErrors: 0, rxDropped: 0, txBytes: 20, txPackets: 2, txErrors: 0, txDropped: 1 } },
      disks: {
        vda: {
          readOps: 5, readBytes: 4096, readTimeNs: 1000, writeOps: 6, writeBytes: 8192, writeTimeNs: 2000,
          flushOps: 7, flushTimeNs: 3000, allocation: 100, capacity: 1000, physical: 200,
        },
        hdc: {},
      },
    });
    expect(recordHasCpuStats(params)).toBe(true);
  });

  it('from a state-only record (the test driver): empty groups, and detected as such', () => {
    const params = { 'state.state': 1, 'state.reason': 0 };
    expect(sampleFromStatsRecord(params)).toEqual({ state: 1, cpu: {}, balloon: {}, vcpu: {}, nics: {}, disks: {} });
    expect(recordHasCpuStats(params)).toBe(false);
  });

  it('from the per-domain calls: info for CPU and balloon, devices as asked, memory stats when the guest has them', () => {
    const sample = sampleFromDomainSample({
      info: { state: 1, maxMemKiB: 2097152, memoryKiB: 1048576, vcpus: 2, cpuTimeNs: 7e9 },
      active: true,
      block: { vda: { rdReq: 1, rdBytes: 2, wrReq: 3, wrBytes: 4, errs: 0 } },
      interfaces: { '52:54:00:00:00:01': { rxBytes: 1, rxPackets: 2, rxErrs: 3, rxDrop: 4, txBytes: 5, txPackets: 6, txErrs: 7, txDrop: 8 } },
      memory: { actual: 1000000, unused: 300000, available: 900000, rss: 1100000 },
    });
    expect(sample).toEqual({
      state: 1,
      cpu: { time: 7e9 },
      balloon: { current: 1000000, maximum: 2097152, rss: 1100000, unused: 300000, available: 900000 },
      vcpu: { current: 2 },
      nics: { '52:54:00:00:00:01': { rxBytes: 1, rxPackets: 2, rxErrors: 3, rxDropped: 4, txBytes: 5, txPackets: 6, txErrors: 7, txDropped: 8 } },
      disks: { vda: { readOps: 1, readBytes: 2, writeOps: 3, writeBytes: 4, errors: 0 } },
    });
  });
});
