// vdsm's VmDispatcherTests (P13–P15), the proposed D14, and what we do better: a VM whose previous
// task is still running (stuck, discarded) gets no new task until that task returns.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskDispatcher } from '../../src/concurrency/dispatcher.js';
import { NotRunning, ResourceExhausted, TaskTimeout } from '../../src/concurrency/errors.js';
import { Executor } from '../../src/concurrency/executor.js';
import { Operation } from '../../src/concurrency/operation.js';
import { Scheduler } from '../../src/concurrency/scheduler.js';
import type { DispatchOptions, TaskSpec } from '../../src/concurrency/task.js';
import { VmDispatcher, type VmOperation, type VmTaskOutcome } from '../../src/concurrency/vm-dispatcher.js';
import { Fifos, LEVEL, TASKS, captureLogger, waitFor } from '../fixtures/concurrency.js';

interface FakeVm {
  id: string;
  monitorable: boolean;
  fails?: boolean;
  ready?: boolean;
}

const VM_IDS = ['VM-000', 'VM-001', 'VM-002', 'VM-003', 'VM-004'];
const PERMUTATIONS: number[][] = [[], [0], [0, 2], [4], [3, 4]];

function vms(make: (id: string, index: number) => FakeVm): Map<string, FakeVm> {
  return new Map(VM_IDS.map((id, i) => [id, make(id, i)]));
}

/** vdsm's synchronous fake executor: runs the task at once and records it. */
class FakeExecutor implements TaskDispatcher {
  readonly executed: TaskSpec[] = [];
  constructor(private readonly refuse = false) {}
  dispatch<R>(task: TaskSpec, _options?: DispatchOptions<R>): Promise<R> {
    if (this.refuse) throw new ResourceExhausted('fake', 0);
    this.executed.push(task);
    return Promise.resolve(task.args as R);
  }
}

/** A per-VM operation like vdsm's _RunnableOnVm: required = monitorable, runnable = ready. */
function perVm(vm: FakeVm): VmOperation {
  return {
    get required() {
      if (vm.fails) throw new Error(`${vm.id} failed`);
      return vm.monitorable;
    },
    get runnable() {
      return vm.ready ?? true;
    },
    task: { name: 'echo', args: vm.id },
  };
}

let log: ReturnType<typeof captureLogger>;

beforeEach(() => {
  log = captureLogger();
});

describe('VmDispatcher (vdsm VmDispatcherTests)', () => {
  for (const failed of PERMUTATIONS) {
    it(`P13 dispatch: VMs whose operation raises are not run, every other VM once (failed ${JSON.stringify(failed)})`, () => {
      const executor = new FakeExecutor();
      const all = vms((id, i) => ({ id, monitorable: true, fails: failed.includes(i) }));
      const dispatcher = new VmDispatcher(() => all, executor, perVm, 1, { logger: log.logger });
      expect(dispatcher.run()).toEqual([]);
      const expected = VM_IDS.filter((_, i) => !failed.includes(i));
      expect(executor.executed.map((t) => t.args)).toEqual(expected);
      expect(log.lines.filter((l) => l.level === LEVEL.error)).toHaveLength(failed.length);
      expect(log.messages(LEVEL.error).every((m) => m.startsWith('while dispatching'))).toBe(true);
    });
  }

  for (const unmonitorable of PERMUTATIONS) {
    it(`P14 skip_not_monitorable: not monitorable VMs are skipped silently (${JSON.stringify(unmonitorable)})`, () => {
      const executor = new FakeExecutor();
      const all = vms((id, i) => ({ id, monitorable: !unmonitorable.includes(i) }));
      const dispatcher = new VmDispatcher(() => all, executor, perVm, 1, { logger: log.logger });
      expect(dispatcher.run()).toEqual([]);
      expect(executor.executed.map((t) => t.args)).toEqual(VM_IDS.filter((_, i) => !unmonitorable.includes(i)));
      expect(log.messages(LEVEL.warn)).toEqual([]);
    });
  }

  it('P15 dispatch_fails: a full queue skips every VM and the fan-out does not stop at the first', () => {
    const all = vms((id) => ({ id, monitorable: true }));
    const dispatcher = new VmDispatcher(() => all, new FakeExecutor(true), perVm, 1, { logger: log.logger, name: 'perVm' });
    expect(dispatcher.run()).toEqual(VM_IDS);
    expect(log.messages(LEVEL.warn)).toEqual([`could not run perVm on ${VM_IDS.join(', ')}`]);
  });
});

describe('VmDispatcher (proposed D14)', () => {
  it('D14 runnable false: skipped and listed; required false: silent; errors: logged, neither', () => {
    const executor = new FakeExecutor();
    const all = new Map<string, FakeVm>([
      ['busy', { id: 'busy', monitorable: true, ready: false }],
      ['off', { id: 'off', monitorable: false, ready: false }],
      ['broken', { id: 'broken', monitorable: true, fails: true }],
      ['ok', { id: 'ok', monitorable: true }],
    ]);
    const dispatcher = new VmDispatcher(() => all, executor, perVm, 1, { logger: log.logger, name: 'perVm' });
    expect(dispatcher.run()).toEqual(['busy']);
    expect(executor.executed.map((t) => t.args)).toEqual(['ok']);
    expect(log.messages(LEVEL.warn)).toEqual(['while dispatching perVm on broken', 'could not run perVm on busy']);
  });

  it('D14 a create that throws is logged for that VM only', () => {
    const executor = new FakeExecutor();
    const all = vms((id) => ({ id, monitorable: true }));
    const dispatcher = new VmDispatcher(() => all, executor, (vm: FakeVm) => {
      if (vm.id === 'VM-000') throw new Error('no op');
      return perVm(vm);
    }, 1, { logger: log.logger });
    expect(dispatcher.run()).toEqual([]);
    expect(executor.executed).toHaveLength(4);
  });

  it('D14 the per-VM tasks carry the timeout (period / 2) and discard', () => {
    const seen: DispatchOptions<unknown>[] = [];
    const executor: TaskDispatcher = {
      dispatch<R>(_task: TaskSpec, options?: DispatchOptions<R>): Promise<R> {
        seen.push(options as DispatchOptions<unknown>);
        return Promise.resolve(null as R);
      },
    };
    const all = vms((id) => ({ id, monitorable: true }));
    new VmDispatcher(() => all, executor, perVm, 7.5, { logger: log.logger }).run();
    expect(seen).toHaveLength(5);
    for (const options of seen) expect(options).toMatchObject({ timeout: 7.5, discard: true });
  });

  it('a dispatch error other than a full queue (NotRunning) ends the fan-out', () => {
    let calls = 0;
    const executor: TaskDispatcher = {
      dispatch<R>(): Promise<R> {
        calls++;
        throw new NotRunning('Executor fake');
      },
    };
    const all = vms((id) => ({ id, monitorable: true }));
    expect(() => new VmDispatcher(() => all, executor, perVm, 1, { logger: log.logger }).run()).toThrow(NotRunning);
    expect(calls).toBe(1);
  });

  it('results reach onResult; a VM is busy until its task settles', async () => {
    const outcomes: VmTaskOutcome<unknown>[] = [];
    const executor = new FakeExecutor();
    const all = vms((id) => ({ id, monitorable: true }));
    const dispatcher = new VmDispatcher(() => all, executor, (vm: FakeVm) => ({ ...perVm(vm), required: true, runnable: true, onResult: (o) => outcomes.push(o) }), 1, { logger: log.logger });
    dispatcher.run();
    expect(dispatcher.busy.size).toBe(5);
    await waitFor(() => outcomes.length === 5, 2000);
    expect(dispatcher.busy.size).toBe(0);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 'VM-000', late: false });
  });
});

describe('VmDispatcher on a real executor', () => {
  let scheduler: Scheduler;
  let executor: Executor;
  let fifos: Fifos;

  beforeEach(() => {
    fifos = new Fifos();
    scheduler = new Scheduler('test.Scheduler', { logger: log.logger });
    scheduler.start();
    executor = new Executor('periodic', 2, 20, 4, scheduler, { filename: TASKS, logger: log.logger });
    executor.start();
  });

  afterEach(async () => {
    fifos.releaseAll();
    await executor.stop();
    fifos.cleanup();
    scheduler.stop();
  });

  it('a stuck VM gets no new task until its discarded task returns; the others go on every tick', async () => {
    const stuckPath = fifos.make();
    const outcomes: { vm: string; outcome: VmTaskOutcome<unknown> }[] = [];
    const all = new Map(['a', 'b', 'stuck'].map((id) => [id, { id, monitorable: true }]));
    let stuckDispatches = 0;
    const create = (vm: FakeVm): VmOperation => ({
      required: true,
      runnable: true,
      get task(): TaskSpec {
        if (vm.id !== 'stuck') return { name: 'echo', args: vm.id };
        stuckDispatches++;
        return { name: 'readFifo', args: stuckPath };
      },
      onResult: (outcome) => outcomes.push({ vm: vm.id, outcome }),
    });
    const dispatcher = new VmDispatcher(() => all, executor, create, 0.1, { logger: log.logger, name: 'sample' });
    const skipped: string[][] = [];
    const op = new Operation(() => void skipped.push(dispatcher.run()), 0.2, scheduler, { logger: log.logger, name: 'sampling' });
    op.start();
    await waitFor(() => outcomes.filter((o) => o.vm === 'a').length >= 4, 10_000, 'four ticks');
    op.stop();
    const stuckOutcomes = outcomes.filter((o) => o.vm === 'stuck');
    expect(stuckOutcomes).toHaveLength(1);
    expect(stuckOutcomes[0]!.outcome.status).toBe('rejected');
    expect((stuckOutcomes[0]!.outcome as PromiseRejectedResult).reason).toBeInstanceOf(TaskTimeout);
    expect(stuckDispatches).toBe(1); // create() is asked every tick, but only one task was dispatched
    expect(skipped.slice(1).every((s) => s.includes('stuck'))).toBe(true);
    expect(dispatcher.busy.has('stuck')).toBe(true);
    expect(executor.state().discarded).toBe(1); // one thread lost, not one per tick

    fifos.release(stuckPath);
    await waitFor(() => !dispatcher.busy.has('stuck'), 10_000, 'the late result');
    const late = outcomes.filter((o) => o.vm === 'stuck').at(-1)!.outcome;
    expect(late).toEqual({ status: 'fulfilled', value: 'released', late: true });
    skipped.length = 0;
    expect(dispatcher.run()).toEqual([]);
  });
});
