// vdsm's tests/virt/periodic_test.py for Operation (P1–P12), rules D10–D13 (docs/protocol.md), the exclusive
// operation that survives a stuck run (our fix), and throttledlog (T1).
import { performance } from 'node:perf_hooks';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskDispatcher } from '../../src/concurrency/dispatcher.js';
import { AlreadyStarted, InvalidValue, ResourceExhausted, TaskTimeout } from '../../src/concurrency/errors.js';
import { Executor } from '../../src/concurrency/executor.js';
import { Operation, timeoutFrom, type OperationContext } from '../../src/concurrency/operation.js';
import { Scheduler } from '../../src/concurrency/scheduler.js';
import { ThrottledLog } from '../../src/log-throttle.js';
import { Fifos, LEVEL, TASKS, captureLogger, delay, waitFor } from '../fixtures/concurrency.js';

let scheduler: Scheduler;
let fifos: Fifos;
let log: ReturnType<typeof captureLogger>;
const executors: Executor[] = [];
const operations: Operation[] = [];

/** vdsm's fixture: Executor("test.Executor", workers_count=1, max_tasks=100), here capped at 4 threads. */
function executor(workers = 1, maxTasks = 100, maxWorkers: number | null = 4): Executor {
  const made = new Executor({ name: 'test.Executor', workers, maxTasks, maxWorkers, scheduler, filename: TASKS, logger: log.logger });
  made.start();
  executors.push(made);
  return made;
}

function operation(...args: ConstructorParameters<typeof Operation>): Operation {
  const [body, period, sched, options] = args;
  const made = new Operation(body, period, sched, { logger: log.logger, ...options });
  operations.push(made);
  return made;
}

/** Records when each run begins and ends (main-thread clock). */
function recorder() {
  const runs: { begin: number; end?: number }[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  return {
    runs,
    get maxInFlight() {
      return maxInFlight;
    },
    begin(): { begin: number; end?: number } {
      const run: { begin: number; end?: number } = { begin: performance.now() };
      runs.push(run);
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      return run;
    },
    end(run: { begin: number; end?: number }): void {
      run.end = performance.now();
      inFlight--;
    },
  };
}

beforeEach(() => {
  log = captureLogger();
  fifos = new Fifos();
  scheduler = new Scheduler('test.Scheduler', { logger: log.logger });
  scheduler.start();
});

afterEach(async () => {
  for (const op of operations.splice(0)) op.stop();
  fifos.releaseAll();
  for (const exec of executors.splice(0)) await exec.stop();
  fifos.cleanup();
  scheduler.stop();
});

describe('Operation (vdsm periodic_test.py)', () => {
  it('P1 timeoutFrom(period) <= period', () => {
    for (const x of [0, 0.1, 1, 5, 99]) expect(timeoutFrom(x)).toBeLessThanOrEqual(x);
  });

  it('P3 start runs the body at once', () => {
    let runs = 0;
    operation(() => void runs++, 1.0, scheduler).start();
    expect(runs).toBe(1);
  });

  it('P4 period 0 throws InvalidValue at start', () => {
    const op = operation(() => undefined, 0, scheduler);
    expect(() => op.start()).toThrow(InvalidValue);
    expect(() => operation(() => undefined, -1, scheduler).start()).toThrow(InvalidValue);
    expect(() => operation(() => undefined, Number.NaN, scheduler).start()).toThrow(InvalidValue);
  });

  it('P5 start twice throws AlreadyStarted', () => {
    const op = operation(() => undefined, 1.0, scheduler);
    op.start();
    expect(() => op.start()).toThrow(AlreadyStarted);
  });

  for (const exclusive of [true, false]) {
    it(`P6 repeating (exclusive=${exclusive}): runs every period; 3 or 4 runs when stopped after the 3rd`, async () => {
      const exec = executor();
      let runs = 0;
      const op = operation(async (ctx) => {
        runs++;
        await ctx.dispatch({ name: 'noop' });
      }, 0.1, scheduler, { exclusive, executor: exec });
      op.start();
      await waitFor(() => runs >= 3, 5000, 'the 3rd run');
      op.stop();
      expect(runs).toBeGreaterThanOrEqual(3);
      expect(runs).toBeLessThanOrEqual(4);
      await delay(300);
      expect(runs).toBeLessThanOrEqual(4);
    });
  }

  it('P7 exclusive with a full queue retries after a period; the body runs on attempt 3', async () => {
    const attempts: number[] = [];
    const fake: TaskDispatcher = {
      dispatch<R>(): Promise<R> {
        attempts.push(performance.now());
        if (attempts.length <= 2) throw new ResourceExhausted('fake', 0);
        return Promise.resolve(null as R);
      },
    };
    let done = 0;
    const op = operation(async (ctx) => {
      await ctx.dispatch({ name: 'noop' });
      done = attempts.length;
    }, 0.1, scheduler, { exclusive: true, executor: fake });
    op.start();
    await waitFor(() => done > 0, 5000, 'a run that went through');
    expect(done).toBe(3);
    for (let i = 1; i < 3; i++) expect(attempts[i]! - attempts[i - 1]!).toBeGreaterThanOrEqual(100);
    expect(op.stats().skipped).toBe(2);
    expect(log.messages(LEVEL.warn)).toContain(`could not run ${op.name}, executor queue full`);
  });

  it('P8 non-exclusive with an always-full queue keeps trying every period', async () => {
    const attempts: number[] = [];
    const fake: TaskDispatcher = {
      dispatch<R>(): Promise<R> {
        attempts.push(performance.now());
        throw new ResourceExhausted('fake', 0);
      },
    };
    const op = operation((ctx: OperationContext) => ctx.dispatch({ name: 'noop' }), 0.1, scheduler, { executor: fake });
    op.start();
    await delay(650);
    op.stop();
    expect(attempts.length).toBeGreaterThanOrEqual(4);
    expect(attempts.length).toBeLessThanOrEqual(7);
    for (let i = 1; i < attempts.length; i++) expect(attempts[i]! - attempts[i - 1]!).toBeGreaterThanOrEqual(100);
  });

  it('P9 stop: after stop and one period of cooldown no run begins', async () => {
    const rec = recorder();
    const op = operation(() => rec.end(rec.begin()), 0.1, scheduler);
    op.start();
    await waitFor(() => rec.runs.length >= 2, 5000);
    op.stop();
    await delay(100);
    const count = rec.runs.length;
    await delay(400);
    expect(rec.runs.length).toBe(count);
  });

  it('P10 repeating after block: a stuck run is discarded and the non-exclusive operation goes on', async () => {
    const exec = executor(1, 100, 4);
    const path = fifos.make();
    let invocations = 0;
    let completions = 0;
    let lastInvocation = 0;
    let lastCompletion = 0;
    let late: unknown;
    const op = operation(async (ctx) => {
      const n = ++invocations;
      lastInvocation = performance.now();
      if (n === 2) await ctx.dispatch({ name: 'readFifo', args: path }, { onLate: (o) => (late = o) });
      else await ctx.dispatch({ name: 'noop' });
      completions++;
      lastCompletion = performance.now();
    }, 0.3, scheduler, { executor: exec }); // default timeout: 0.15 s
    op.start();
    await waitFor(() => completions >= 5, 10_000, 'the 5th completion');
    op.stop();
    await waitFor(() => op.stats().inFlight === 0, 5000);
    expect(op.stats().timedOut).toBeGreaterThanOrEqual(1);
    expect(completions + op.stats().timedOut).toBe(invocations);
    expect(lastCompletion).toBeGreaterThanOrEqual(lastInvocation);
    expect(late).toBeUndefined(); // the stuck run never finished during the test
    fifos.release(path);
    await waitFor(() => late !== undefined, 10_000, 'the late result');
  });

  it('P11 exclusive with no timeout: a blocked run holds the next one until it returns', async () => {
    const exec = executor(1, 100, 4);
    const path = fifos.make();
    const rec = recorder();
    const op = operation(async (ctx) => {
      const run = rec.begin();
      await ctx.dispatch(rec.runs.length === 1 ? { name: 'readFifo', args: path } : { name: 'noop' });
      rec.end(run);
    }, 0.2, scheduler, { exclusive: true, executor: exec, timeout: null });
    op.start();
    await delay(800);
    expect(rec.runs).toHaveLength(1);
    fifos.release(path);
    await waitFor(() => rec.runs.length >= 2, 5000, 'the second run');
    expect(rec.runs[1]!.begin - rec.runs[0]!.end!).toBeGreaterThanOrEqual(200);
  });

  it('exclusive with discard: a stuck run counts as completed at its timeout, so the operation goes on (vdsm stops for good)', async () => {
    const exec = executor(1, 100, 4);
    const path = fifos.make();
    const rec = recorder();
    const op = operation(async (ctx) => {
      const run = rec.begin();
      try {
        await ctx.dispatch(rec.runs.length === 1 ? { name: 'readFifo', args: path } : { name: 'noop' });
      } finally {
        rec.end(run);
      }
    }, 0.2, scheduler, { exclusive: true, executor: exec, timeout: 0.1 });
    op.start();
    await waitFor(() => rec.runs.length >= 4, 10_000, 'runs after the stuck one');
    expect(op.stats().timedOut).toBe(1);
    for (let i = 1; i < rec.runs.length; i++) {
      expect(rec.runs[i]!.begin - rec.runs[i - 1]!.end!).toBeGreaterThanOrEqual(200);
    }
  });

  it('P12 a full queue dumps the executor state, throttled: the 1st and 11th times', async () => {
    const exec = executor(0, 20, 0); // no worker ever runs a task
    for (let i = 0; i < 20; i++) exec.dispatch({ name: 'noop' }).catch(() => {});
    let runs = 0;
    const op = operation(async (ctx) => {
      runs++;
      await ctx.dispatch({ name: 'noop' });
    }, 0.02, scheduler, { executor: exec, timeout: null });
    op.start();
    await waitFor(() => runs >= 12, 5000);
    op.stop();
    const dumps = log.lines.filter((l) => l.throttled !== undefined);
    expect(dumps).toHaveLength(2);
    expect(dumps.at(-1)!.msg).toMatch(/^executor state: <Executor test\.Executor workers=0 max_workers=0 <TaskQueue test\.Executor max_tasks=20 tasks\(20\)=/);
    expect(log.messages(LEVEL.warn).filter((m) => m.startsWith('could not run')).length).toBe(runs);
  });
});

describe('Operation (rules D10–D13)', () => {
  it('D10 exclusive: never two runs in flight, the next begins >= period after the last completed', async () => {
    const exec = executor(2, 100, 4);
    const rec = recorder();
    const op = operation(async (ctx) => {
      const run = rec.begin();
      await ctx.dispatch({ name: 'sleep', args: 250 });
      rec.end(run);
    }, 0.1, scheduler, { exclusive: true, executor: exec, timeout: null });
    op.start();
    await waitFor(() => rec.runs.length >= 4, 10_000);
    op.stop();
    expect(rec.maxInFlight).toBe(1);
    for (let i = 1; i < rec.runs.length; i++) expect(rec.runs[i]!.begin - rec.runs[i - 1]!.end!).toBeGreaterThanOrEqual(100);
  });

  it('D11 non-exclusive: runs longer than the period overlap, about 3 at a time for 2.5 x period', async () => {
    const exec = executor(4, 100, 6);
    await Promise.all([1, 2, 3, 4].map(() => exec.dispatch({ name: 'noop' }))); // threads booted
    const rec = recorder();
    const op = operation(async (ctx) => {
      const run = rec.begin();
      await ctx.dispatch({ name: 'sleep', args: 500 });
      rec.end(run);
    }, 0.2, scheduler, { executor: exec, timeout: null });
    op.start();
    await waitFor(() => rec.runs.length >= 6, 10_000);
    op.stop();
    expect(rec.maxInFlight).toBeGreaterThanOrEqual(3);
    // Dispatches are a period apart; a body may begin a little after its dispatch, so the gap
    // between two beginnings can fall short of the period by that lateness.
    for (let i = 1; i < rec.runs.length; i++) expect(rec.runs[i]!.begin - rec.runs[i - 1]!.begin).toBeGreaterThanOrEqual(180);
  });

  for (const exclusive of [true, false]) {
    it(`D12 a failing body is logged "operation failed" and the operation goes on (exclusive=${exclusive})`, async () => {
      let runs = 0;
      const op = operation(async () => {
        runs++;
        if (runs % 2 === 0) throw new Error('async failure');
        throw new Error('failure');
      }, 0.05, scheduler, { exclusive, name: 'failing' });
      op.start();
      await waitFor(() => runs >= 4, 5000);
      op.stop();
      const failed = log.lines.filter((l) => l.level === LEVEL.error && l.msg === 'failing operation failed');
      expect(failed.length).toBeGreaterThanOrEqual(3);
    });
  }

  it('an executor stopped under the last run of a stopped operation is not an error (the daemon stopping)', async () => {
    const exec = executor(1, 100, 1);
    let started = false;
    const op = operation(async (ctx) => {
      started = true;
      await ctx.dispatch({ name: 'sleep', args: 300 });
    }, 1, scheduler, { executor: exec, timeout: null, name: 'stopping' });
    op.start();
    await waitFor(() => started, 5000);
    op.stop();
    await exec.stop();
    await delay(50);
    expect(log.lines.filter((l) => l.level === LEVEL.error)).toEqual([]);
    expect(log.lines.some((l) => l.msg === 'stopping operation ended with its executor')).toBe(true);
  });

  it('D13 stop: a run whose task is already queued still completes once; no run begins after', async () => {
    const exec = executor(1, 100, 1);
    const busy = exec.dispatch({ name: 'sleep', args: 300 });
    let runs = 0;
    let completed = 0;
    const op = operation(async (ctx) => {
      runs++;
      await ctx.dispatch({ name: 'noop' });
      completed++;
    }, 0.1, scheduler, { executor: exec, timeout: null });
    op.start();
    expect(exec.state().queued).toBe(1);
    op.stop();
    await busy;
    await waitFor(() => completed === 1, 5000, 'the queued run');
    await delay(300);
    expect(runs).toBe(1);
    expect(completed).toBe(1);
  });
});

describe('ThrottledLog (vdsm throttledlog_test.py, T1)', () => {
  it('T1 interval 3: calls 0 and 3 of 5 are logged; unthrottled names always log', () => {
    const { logger, lines } = captureLogger();
    const throttled = new ThrottledLog(logger);
    throttled.throttle('name', 3);
    const logged = Array.from({ length: 5 }, (_, i) => throttled.info('name', 'message %d', i));
    expect(logged).toEqual([true, false, false, true, false]);
    expect(lines.map((l) => l.msg)).toEqual(['message 0', 'message 3']);
    expect(throttled.warning('other', 'free')).toBe(true);
  });

  it('T1 interval 10, timeout 7 s with 1 s steps: calls 0, 7 and 10 are logged', () => {
    let now = 0;
    const { logger } = captureLogger();
    const throttled = new ThrottledLog(logger, { clock: () => now });
    throttled.throttle('name', 10, 7);
    const logged: number[] = [];
    for (let i = 0; i < 12; i++, now += 1000) if (throttled.info('name', 'm')) logged.push(i);
    expect(logged).toEqual([0, 7, 10]);
  });

  it('T1 messages below the logger level are not logged', () => {
    const { logger, lines } = captureLogger();
    logger.level = 'info';
    const throttled = new ThrottledLog(logger);
    throttled.throttle('name', 1);
    expect(throttled.debug('name', 'hidden')).toBe(false);
    expect(lines).toEqual([]);
  });

  it('T1 warning level, interval 4, 7 calls: 0 and 4', () => {
    const { logger, lines } = captureLogger();
    const throttled = new ThrottledLog(logger);
    throttled.throttle('name', 4);
    for (let i = 0; i < 7; i++) throttled.warning('name', 'w %d', i);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([[LEVEL.warn, 'w 0'], [LEVEL.warn, 'w 4']]);
  });
});

describe('Operation failures stay typed', () => {
  it('a discard timeout reaches the body as TaskTimeout', async () => {
    const exec = executor(1, 100, 4);
    const path = fifos.make();
    let error: unknown;
    const op = operation(async (ctx) => {
      try {
        await ctx.dispatch({ name: 'readFifo', args: path });
      } catch (err) {
        error = err;
      }
    }, 10, scheduler, { executor: exec, timeout: 0.05 });
    op.start();
    await waitFor(() => error !== undefined, 5000);
    expect(error).toBeInstanceOf(TaskTimeout);
  });
});
