// vdsm's tests/executor_test.py (E1–E18, E10 fixed to check every task) and rules D1–D9 of
// docs/protocol.md ("Sampling and executor rules"),
// on piscina threads. Stuck tasks are really stuck in open(2) on a FIFO, released by the test.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stat } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { AlreadyStarted, NotRunning, ResourceExhausted, TaskTimeout, WaitTimeout } from '../../src/concurrency/errors.js';
import { Executor, type ExecutorOptions } from '../../src/concurrency/executor.js';
import { Scheduler } from '../../src/concurrency/scheduler.js';
import { TaskQueue } from '../../src/concurrency/task-queue.js';
import { Task, type Settled } from '../../src/concurrency/task.js';
import {
  Fifos,
  LEVEL,
  TASKS,
  captureLogger,
  delay,
  osThreads,
  sampleThreads,
  track,
  waitFor,
} from '../fixtures/concurrency.js';

interface Timed {
  id: number;
  start: number;
  end: number;
  thread: number;
}

let scheduler: Scheduler;
let fifos: Fifos;
let log: ReturnType<typeof captureLogger>;
const executors: Executor[] = [];

function executor(name: string, workers: number, maxTasks: number, maxWorkers: number | null, extra: Partial<ExecutorOptions> = {}): Executor {
  const made = new Executor({ name, workers, maxTasks, maxWorkers, scheduler, filename: TASKS, logger: log.logger, ...extra });
  executors.push(made);
  return made;
}

/** vdsm's fixture: Executor('test', workers_count=10, max_tasks=20, max_workers=15), started. */
function standard(): Executor {
  const made = executor('test', 10, 20, 15);
  made.start();
  return made;
}

function names(exec: Executor): string[] {
  return exec.state().workers.map((w) => w.name);
}

beforeAll(async () => {
  await stat('/'); // start libuv's thread pool now, so it is part of every baseline
});

beforeEach(() => {
  log = captureLogger();
  fifos = new Fifos();
  scheduler = new Scheduler('test.Scheduler', { logger: log.logger });
  scheduler.start();
});

afterEach(async () => {
  fifos.releaseAll(); // stuck threads return, so they can exit
  for (const exec of executors) {
    await waitFor(() => exec.state().workers.every((w) => w.task !== 'readFifo'), 10_000, 'released tasks');
  }
  for (const exec of executors.splice(0)) {
    const report = await exec.stop();
    // stop() waits at most 5 s for terminated threads; on a loaded machine (the whole suite beside
    // QEMU guests) one can take longer to exit. A thread that is not blocked still exits: none
    // may be left.
    if (report.stuckThreads > 0) await waitFor(() => exec.state().threads === 0, 20_000, `the ${report.stuckThreads} slow threads to exit`);
  }
  fifos.cleanup();
  scheduler.stop();
});

afterAll(async () => {
  await delay(50);
});

describe('Executor (vdsm executor_test.py)', () => {
  it('E1 repr_defaults: no max_workers (None) gives a repr', () => {
    const exec = executor('test', 1, 1, null);
    expect(String(exec)).toMatch(/^<Executor test workers=0 max_workers=None <TaskQueue test max_tasks=1 tasks\(0\)=\[\]>>$/);
  });

  it('E2 dispatch_not_running: dispatch after stop throws NotRunning', async () => {
    const exec = standard();
    await exec.stop();
    expect(() => exec.dispatch({ name: 'noop' })).toThrow(NotRunning);
  });

  it('E3 start_twice: AlreadyStarted', () => {
    const exec = standard();
    expect(() => exec.start()).toThrow(AlreadyStarted);
  });

  it('E4 dispatch: a task runs and its result comes back', async () => {
    const exec = standard();
    await expect(exec.dispatch({ name: 'echo', args: { a: 1 } })).resolves.toEqual({ a: 1 });
  });

  it('E5 dispatch_after_fault: a failing task does not break the pool', async () => {
    const exec = standard();
    await expect(exec.dispatch({ name: 'fail', args: 'boom' })).rejects.toThrow('boom');
    await expect(exec.dispatch({ name: 'echo', args: 2 })).resolves.toBe(2);
    expect(exec.state().counters).toMatchObject({ dispatched: 2, completed: 1, failed: 1 });
  });

  it('E6 dispatch_with_timeout: a timeout never aborts the task; its result arrives late', async () => {
    const exec = standard();
    let late: Settled<unknown> | undefined;
    const caller = exec.dispatch({ name: 'sleep', args: 400 }, { timeout: 0.1, onLate: (o) => (late = o) });
    await expect(caller).rejects.toBeInstanceOf(TaskTimeout);
    await waitFor(() => late !== undefined, 10_000, 'the late result');
    expect(late).toEqual({ status: 'fulfilled', value: 400 });
  });

  it('E7 too_many_tasks: 10 running + 20 queued, the 31st throws ResourceExhausted', async () => {
    const exec = standard();
    const accepted: Promise<unknown>[] = [];
    for (let i = 0; i < 30; i++) accepted.push(exec.dispatch({ name: 'sleep', args: 100 }));
    let error: unknown;
    try {
      exec.dispatch({ name: 'sleep', args: 100 });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ResourceExhausted);
    const exhausted = error as ResourceExhausted;
    expect(exhausted.code).toBe(1100);
    expect(exhausted.message).toBe('Not enough resources');
    expect(exhausted.context).toEqual({ resource: 'test', current_tasks: 20, reason: 'Too many tasks' });
    expect(exhausted.toString()).toBe("Not enough resources: {'resource': 'test', 'current_tasks': 20, 'reason': 'Too many tasks'}");
    expect(exec.state().counters.rejected).toBe(1);
    await Promise.all(accepted);
  });

  it('E8 concurrency: 10 workers run 10 tasks at the same time', async () => {
    const exec = standard();
    const groups = [0, 1].map(() => new SharedArrayBuffer(4));
    // Each task waits until its whole group of 10 is running at once (or 15 s).
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        exec.dispatch<number>({ name: 'barrier', args: { counter: groups[i < 10 ? 0 : 1], parties: 10, timeoutMs: 15_000 } }, { timeout: 30 }),
      ),
    );
    expect(results.every((seen) => seen >= 10)).toBe(true);
  });

  it('E9 blocked_workers: with 5 workers busy, short tasks run on the other 5 meanwhile', async () => {
    const exec = standard();
    const slow = Array.from({ length: 5 }, (_, id) => exec.dispatch<Timed>({ name: 'timed', args: { ms: 1500, id } }));
    await delay(100);
    const quick = await Promise.all(Array.from({ length: 20 }, (_, id) => exec.dispatch<Timed>({ name: 'timed', args: { ms: 50, id } })));
    const slowDone = await Promise.all(slow);
    const firstSlowEnd = Math.min(...slowDone.map((t) => t.end));
    expect(Math.max(...quick.map((t) => t.end))).toBeLessThanOrEqual(firstSlowEnd);
    expect(new Set(quick.map((t) => t.thread)).size).toBeLessThanOrEqual(5);
  });

  it('E10 discarded_workers (fixed: every task checked): stuck workers are replaced up to max_workers and the queue drains', async () => {
    const baseline = osThreads();
    const exec = standard();
    const late = new Map<number, Settled<unknown>>();
    const stuck = Array.from({ length: 10 }, (_, i) =>
      track(exec.dispatch({ name: 'readFifo', args: fifos.make() }, { timeout: 0.1, onLate: (o) => late.set(i, o) })),
    );
    const sampler = sampleThreads();
    await waitFor(() => stuck.every((t) => t.settled), 10_000, 'the stuck tasks to time out');
    for (const task of stuck) expect(task.error).toBeInstanceOf(TaskTimeout); // every task, not the last one
    expect(exec.state()).toMatchObject({ active: 5, discarded: 10, total: 15 });

    const quick = await Promise.all(
      Array.from({ length: 20 }, (_, id) => exec.dispatch<Timed>({ name: 'timed', args: { ms: 100, id } }, { timeout: 5 })),
    );
    expect(quick).toHaveLength(20);
    expect(new Set(quick.map((t) => t.thread)).size).toBeLessThanOrEqual(5); // only the replacements ran them
    expect(sampler.stop() - baseline).toBeLessThanOrEqual(15);
    expect(late.size).toBe(0);

    fifos.releaseAll();
    await waitFor(() => late.size === 10, 10_000, 'every late result');
    for (let i = 0; i < 10; i++) expect(late.get(i)).toEqual({ status: 'fulfilled', value: 'released' });
    await waitFor(() => exec.state().discarded === 0, 10_000, 'discarded workers to leave');
    expect(exec.state()).toMatchObject({ active: 10, total: 10, discarded: 0 });
    for (let i = 0; i < 10; i++) expect(names(exec)).not.toContain(`test/${i}`);

    const again = await Promise.all(Array.from({ length: 20 }, (_, id) => exec.dispatch<Timed>({ name: 'timed', args: { ms: 20, id } })));
    expect(again).toHaveLength(20);
    expect(exec.state().counters).toMatchObject({ timedOut: 10, late: 10, completed: 40 });
  });

  it('E11 max_workers: at max_workers extra tasks wait; one stuck task returning lets them run', async () => {
    const baseline = osThreads();
    const exec = standard();
    const paths = Array.from({ length: 15 }, () => fifos.make());
    const lateOf = new Map<number, Settled<unknown>>();
    const tasks = paths.map((path, i) =>
      track(exec.dispatch({ name: 'readFifo', args: path }, { timeout: 0, onLate: (o) => lateOf.set(i, o) })),
    );
    const sampler = sampleThreads();
    await waitFor(() => exec.state().counters.timedOut === 15, 10_000, 'all 15 workers discarded');
    expect(exec.state()).toMatchObject({ active: 0, discarded: 15, total: 15 });
    for (const task of tasks) expect(task.error).toBeInstanceOf(TaskTimeout);
    expect(log.messages()).toContain('Too many workers (limit=15), not adding more');

    const extraDone = [false, false];
    const extras = [0, 1].map((i) =>
      track(exec.dispatch({ name: 'echo', args: i }, { timeout: 0, onLate: () => (extraDone[i] = true) })),
    );
    await delay(1000);
    expect(extras.some((e) => e.settled)).toBe(false);
    expect(exec.state().queued).toBe(2);
    expect(sampler.max - baseline).toBeLessThanOrEqual(15);

    fifos.release(paths[5]!);
    await waitFor(() => lateOf.has(5), 10_000, 'the released task');
    expect(lateOf.get(5)).toEqual({ status: 'fulfilled', value: 'released' });
    const done = (i: number) => extras[i]!.value !== undefined || extraDone[i];
    await waitFor(() => done(0) && done(1), 10_000, 'both extra tasks');
    expect([...lateOf.keys()]).toEqual([5]); // tasks[0] and the rest are still stuck
    expect(sampler.stop() - baseline).toBeLessThanOrEqual(15);
  });

  it('E12 max_workers_many_tasks: at max_workers the queue still takes max_tasks, then ResourceExhausted', async () => {
    const exec = standard();
    for (let i = 0; i < 15; i++) exec.dispatch({ name: 'readFifo', args: fifos.make() }, { timeout: 0 }).catch(() => {});
    await waitFor(() => exec.state().discarded === 15, 10_000, 'all workers discarded');
    const queued = Array.from({ length: 20 }, () => exec.dispatch({ name: 'noop' }).catch(() => {}));
    expect(queued).toHaveLength(20);
    expect(() => exec.dispatch({ name: 'noop' })).toThrow(ResourceExhausted);
  });

  it('E13 report_blocked_workers: discard=false logs "Worker blocked" and is never replaced', async () => {
    const exec = executor('test', 2, 10, 4);
    exec.start();
    for (let i = 0; i < 2; i++) exec.dispatch({ name: 'readFifo', args: fifos.make() }, { timeout: 0.2, discard: false }).catch(() => {});
    await waitFor(() => log.messages().some((m) => m.startsWith('Worker blocked')), 10_000, 'Worker blocked');
    const blocked = log.lines.find((l) => l.msg.startsWith('Worker blocked'))!;
    expect(blocked.level).toBe(LEVEL.warn);
    expect(blocked.msg).toMatch(/^Worker blocked: <Worker name=test\/\d running <Task readFifo timeout=0.2, duration=\d+\.\d\d> task#=0>, traceback:\n\(traceback not available\)$/);
    expect(exec.state()).toMatchObject({ active: 2, discarded: 0, total: 2 });
  });

  it('E14 worker names: <name>/<n> from 0', () => {
    const exec = executor('foo', 2, 2, null);
    exec.start();
    expect(names(exec).sort()).toEqual(['foo/0', 'foo/1']);
  });

  it('E15 multiple executors: names are numbered per executor', () => {
    const foo = executor('foo', 2, 2, null);
    const bar = executor('bar', 2, 2, null);
    foo.start();
    bar.start();
    expect([...names(foo), ...names(bar)].sort()).toEqual(['bar/0', 'bar/1', 'foo/0', 'foo/1']);
  });
});

describe('Task (vdsm ExecutorTaskTests)', () => {
  it('E16 duration is exactly 0 before the task starts', () => {
    const task = new Task({ name: 'noop' }, { timeout: null });
    expect(task.duration).toBe(0);
    expect(Object.is(task.duration, 0)).toBe(true);
  });

  it('E17 duration increases once started', async () => {
    const task = new Task({ name: 'noop' });
    task.start();
    for (let i = 1; i <= 3; i++) {
      await delay(100);
      expect(task.duration).toBeGreaterThanOrEqual(i * 0.1 - 0.002);
    }
  });

  it('E18 repr of a discardable task starts with "<Task discardable"', () => {
    expect(String(new Task({ name: 'noop' }, { timeout: null, discard: true }))).toMatch(/^<Task discardable noop timeout=null, duration=0.00>$/);
    expect(String(new Task({ name: 'noop' }, { discard: false }))).toMatch(/^<Task noop /);
  });
});

describe('TaskQueue.remove', () => {
  it('takes an item out from anywhere, across the wrap of the ring, keeping the others in order', () => {
    const q = new TaskQueue<number>('q', 100);
    for (let i = 0; i < 12; i++) q.push(i);
    for (let i = 0; i < 10; i++) q.shift(); // head near the end of the 16-slot ring
    for (let i = 12; i < 22; i++) q.push(i); // wraps around
    expect(q.remove(15)).toBe(true);
    expect(q.remove(10)).toBe(true);
    expect(q.remove(21)).toBe(true);
    expect(q.remove(99)).toBe(false);
    expect([...q]).toEqual([11, 12, 13, 14, 16, 17, 18, 19, 20]);
    expect(q.length).toBe(9);
    q.push(30);
    expect(q.drain()).toEqual([11, 12, 13, 14, 16, 17, 18, 19, 20, 30]);
  });
});

describe('Executor: a bounded wait for a worker (startWithin)', () => {
  it('with every worker stuck at max_workers, a task with startWithin leaves the queue in time; one without waits (vdsm)', async () => {
    const exec = executor('test', 2, 10, 2);
    exec.start();
    const paths = [fifos.make(), fifos.make()];
    for (const path of paths) exec.dispatch({ name: 'readFifo', args: path }, { timeout: 0.1 }).catch(() => {});
    await waitFor(() => exec.state().discarded === 2, 10_000, 'both workers discarded');
    const t0 = performance.now();
    const bounded = track(exec.dispatch({ name: 'echo', args: 'bounded' }, { startWithin: 0.5 }));
    const patient = track(exec.dispatch({ name: 'echo', args: 'patient' }));
    await waitFor(() => bounded.settled, 5000, 'the bounded wait to end');
    const waited = performance.now() - t0;
    expect(bounded.error).toBeInstanceOf(WaitTimeout);
    expect((bounded.error as WaitTimeout).message).toMatch(/found no free worker within 0.5s/);
    expect(waited).toBeGreaterThanOrEqual(450);
    expect(waited).toBeLessThan(3000);
    expect(patient.settled).toBe(false);
    expect(exec.state().queued).toBe(1);
    expect(log.messages().some((m) => m.startsWith('Task found no free worker in time'))).toBe(true);

    fifos.release(paths[0]!);
    await waitFor(() => patient.settled, 10_000, 'the patient task, once a stuck call returned');
    expect(patient.value).toBe('patient');
  });

  it('a task with startWithin that a worker takes in time runs as any other', async () => {
    const exec = executor('test', 1, 10, 1);
    exec.start();
    const first = exec.dispatch<Timed>({ name: 'timed', args: { ms: 200, id: 1 } });
    const second = exec.dispatch<Timed>({ name: 'timed', args: { ms: 10, id: 2 } }, { startWithin: 5 });
    expect((await first).id).toBe(1);
    expect((await second).id).toBe(2);
    expect(exec.state().counters.dropped).toBe(0);
  });
});

describe('Executor (rules D1–D9 and thread death)', () => {
  it('D1 timeout counts from the start of the task, not from dispatch', async () => {
    const exec = executor('test', 1, 10, 2);
    exec.start();
    const first = exec.dispatch({ name: 'sleep', args: 500 });
    const queued = exec.dispatch({ name: 'echo', args: 'ok' }, { timeout: 0.2 });
    await expect(queued).resolves.toBe('ok');
    await first;
    expect(exec.state().counters.timedOut).toBe(0);
  });

  it('D2 timeout=null: never discarded nor reported', async () => {
    const exec = executor('test', 1, 10, 2);
    exec.start();
    await expect(exec.dispatch({ name: 'sleep', args: 500 }, { timeout: null })).resolves.toBe(500);
    expect(log.messages(LEVEL.warn)).toEqual([]);
    expect(exec.state().counters).toMatchObject({ timedOut: 0, blocked: 0 });
  });

  it('D3 discard=false: reported about every timeout while blocked, never replaced; capacity drops by one', async () => {
    const exec = executor('test', 2, 10, 4);
    exec.start();
    const path = fifos.make();
    const blocked = exec.dispatch({ name: 'readFifo', args: path }, { timeout: 0.1, discard: false });
    const reports = () => log.messages().filter((m) => m.startsWith('Worker blocked')).length;
    await waitFor(() => reports() >= 3, 10_000, 'three reports');
    const a = exec.dispatch<Timed>({ name: 'timed', args: { ms: 200, id: 1 } });
    const b = exec.dispatch<Timed>({ name: 'timed', args: { ms: 200, id: 2 } });
    const [ta, tb] = await Promise.all([a, b]);
    expect(tb!.start).toBeGreaterThanOrEqual(ta!.end); // one worker left: they ran one after the other
    expect(exec.state()).toMatchObject({ active: 2, discarded: 0, total: 2 });
    fifos.release(path);
    await expect(blocked).resolves.toBe('released'); // the caller gets the real result
    const after = reports();
    await delay(400);
    expect(reports()).toBe(after);
  });

  it('D4 a discarded worker never runs another task; its replacement has a new name', async () => {
    const exec = executor('test', 1, 10, 2);
    exec.start();
    const path = fifos.make();
    let late = false;
    await expect(exec.dispatch({ name: 'readFifo', args: path }, { timeout: 0.1, onLate: () => (late = true) })).rejects.toBeInstanceOf(TaskTimeout);
    expect(names(exec).sort()).toEqual(['test/0', 'test/1']);
    fifos.release(path);
    await waitFor(() => late, 10_000, 'the late result');
    await waitFor(() => names(exec).length === 1, 10_000, 'test/0 to leave');
    for (let i = 0; i < 5; i++) await exec.dispatch({ name: 'noop' });
    expect(names(exec)).toEqual(['test/1']);
  });

  it('D5 log sequence of a discard without room, then with room', async () => {
    const full = executor('full', 1, 10, 1);
    full.start();
    await full.dispatch({ name: 'readFifo', args: fifos.make() }, { timeout: 0.1 }).catch(() => {});
    const seq = log.messages(LEVEL.info).map((m) => m.split(':')[0]);
    expect(seq).toEqual(['Too many workers (limit=1), not adding more', 'executor state', 'Worker discarded']);
    expect(log.messages().find((m) => m.startsWith('executor state'))).toMatch(/^executor state: count=1 workers=\{<Worker name=full\/0 running <Task discardable readFifo/);

    log.lines.length = 0;
    const room = executor('room', 1, 10, 2);
    room.start();
    await room.dispatch({ name: 'readFifo', args: fifos.make() }, { timeout: 0.1 }).catch(() => {});
    expect(log.messages(LEVEL.info).map((m) => m.split(':')[0])).toEqual(['executor state', 'Worker discarded']);
  });

  it('D6 a check for a task that already finished does nothing (race stress)', async () => {
    const exec = executor('test', 4, 400, 8);
    exec.start();
    const lates: Settled<unknown>[] = [];
    const outcomes = await Promise.allSettled(
      Array.from({ length: 200 }, (_, i) => exec.dispatch({ name: 'sleep', args: i % 3 }, { timeout: 0.002, onLate: (o) => lates.push(o) })),
    );
    const timedOut = outcomes.filter((o) => o.status === 'rejected');
    for (const o of timedOut) expect((o as PromiseRejectedResult).reason).toBeInstanceOf(TaskTimeout);
    await waitFor(() => lates.length === timedOut.length, 10_000, 'late results');
    await waitFor(() => exec.state().discarded === 0, 10_000, 'discarded workers to leave');
    const state = exec.state();
    expect(state.counters.timedOut).toBe(timedOut.length);
    expect(state.counters.completed + state.counters.timedOut).toBe(200);
    expect(state).toMatchObject({ active: 4, total: 4 });
    expect(log.messages(LEVEL.error)).toEqual([]);
  });

  it('D7 stop drops queued tasks; a stuck thread outlives stop until it returns; no replacements after stop', async () => {
    const baseline = osThreads();
    const exec = executor('test', 1, 10, 2);
    exec.start();
    await exec.dispatch({ name: 'noop' }); // the thread has booted (piscina calls it ready before)
    const path = fifos.make();
    const stuck = exec.dispatch({ name: 'readFifo', args: path }, { timeout: null }).catch((e: unknown) => e);
    await waitFor(() => exec.state().workers[0]?.task === 'readFifo', 5000, 'the task to start');
    await delay(200); // the thread is now inside open(2)
    const ran: number[] = [];
    const queued = [1, 2, 3].map((i) => exec.dispatch({ name: 'echo', args: i }).then((v) => void ran.push(v as number), (e: unknown) => e));
    log.lines.length = 0;
    executors.splice(executors.indexOf(exec), 1);
    const report = await exec.stop();
    expect(report.stuckThreads).toBe(1);
    for (const outcome of await Promise.all(queued)) expect(outcome).toBeInstanceOf(NotRunning);
    expect(await stuck).toBeInstanceOf(NotRunning);
    expect(ran).toEqual([]);
    expect(osThreads() - baseline).toBe(1); // the stuck thread is still there
    fifos.release(path);
    await waitFor(() => osThreads() === baseline, 10_000, 'the stuck thread to exit');
    expect(log.messages().filter((m) => /New worker|executor state|Too many/.test(m))).toEqual([]);
  });

  it('D8 stop({wait}) lets running tasks finish, and does not hang on a stuck one', async () => {
    const exec = executor('test', 2, 10, 2);
    exec.start();
    const both = new SharedArrayBuffer(4); // both threads have booted
    await Promise.all([0, 1].map(() => exec.dispatch({ name: 'barrier', args: { counter: both, parties: 2, timeoutMs: 10_000 } })));
    const quick = exec.dispatch({ name: 'sleep', args: 100 });
    const path = fifos.make();
    const stuck = exec.dispatch({ name: 'readFifo', args: path }).catch((e: unknown) => e);
    await delay(150);
    executors.splice(executors.indexOf(exec), 1);
    const started = Date.now();
    const report = await exec.stop({ wait: 0.5 });
    expect(Date.now() - started).toBeLessThan(5000);
    await expect(quick).resolves.toBe(100);
    expect(await stuck).toBeInstanceOf(NotRunning);
    expect(report.stuckThreads).toBe(1);
    fifos.release(path);
  });

  it('D1 a replacement\'s first task is timed from when its new thread is ready, not while it boots', async () => {
    const exec = executor('test', 1, 10, 2);
    exec.start();
    await exec.dispatch({ name: 'noop' }); // the first thread is up
    await expect(exec.dispatch({ name: 'readFifo', args: fifos.make() }, { timeout: 0.05 })).rejects.toBeInstanceOf(TaskTimeout);
    const next = exec.dispatch({ name: 'sleep', args: 10 }, { timeout: 0.05 });
    const state = exec.state();
    expect(state.starting).toBe(1); // handed off, waiting for the replacement thread to boot
    expect(state.workers.find((w) => w.task === 'sleep')!.runningFor).toBeNull();
    await expect(next).resolves.toBe(10);
  });

  it('D9 start creates workers_count workers even above max_workers', () => {
    const exec = executor('test', 3, 10, 2);
    exec.start();
    expect(exec.state()).toMatchObject({ active: 3, total: 3 });
  });

  it('a thread that exits rejects its task; the worker is freed and the thread replaced', async () => {
    const exec = executor('test', 2, 10, 4);
    exec.start();
    await expect(exec.dispatch({ name: 'exitThread', args: 3 })).rejects.toThrow(/exited with code: 3/);
    expect(exec.state()).toMatchObject({ active: 2, total: 2, idle: 2 });
    const results = await Promise.all([1, 2, 3, 4].map((i) => exec.dispatch({ name: 'echo', args: i })));
    expect(results).toEqual([1, 2, 3, 4]);
    expect(exec.state().threads).toBeGreaterThanOrEqual(2);
  });

  it('a thread that throws at top level rejects its task; the worker is freed', async () => {
    const exec = executor('test', 1, 10, 2);
    exec.start();
    await expect(exec.dispatch({ name: 'throwLater', args: 'top-level boom' })).rejects.toThrow('top-level boom');
    expect(exec.state()).toMatchObject({ active: 1, total: 1, idle: 1 });
    await expect(exec.dispatch({ name: 'echo', args: 'still here' })).resolves.toBe('still here');
  });

  it('state() reports workers, their tasks and running time, and counters', async () => {
    const exec = executor('test', 2, 5, 3);
    exec.start();
    const path = fifos.make();
    exec.dispatch({ name: 'readFifo', args: path }).catch(() => {});
    await delay(150);
    const state = exec.state();
    expect(state).toMatchObject({ name: 'test', running: true, workersCount: 2, maxWorkers: 3, maxTasks: 5, active: 2, idle: 1, queued: 0 });
    const busy = state.workers.find((w) => w.task !== null)!;
    expect(busy.task).toBe('readFifo');
    expect(busy.runningFor).toBeGreaterThan(0.1);
    expect(state.counters.dispatched).toBe(1);
    fifos.release(path);
  });

  it('a task may name its own worker module (path or file URL)', async () => {
    const exec = executor('test', 1, 5, 1);
    exec.start();
    await expect(exec.dispatch({ name: 'echo', args: 7, filename: pathToFileURL(TASKS).href })).resolves.toBe(7);
    expect(String(new Task({ name: 'echo', filename: TASKS }))).toMatch(/^<Task discardable echo@executor-tasks\.mjs /);
  });
});
