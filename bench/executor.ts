/**
 * Executor benchmark, in one run (npm run bench:executor):
 * 1. overhead: 100k no-op tasks through an Executor against the same through piscina's run()
 *    directly, both with the same number of threads and the same window of tasks in flight;
 * 2. dispatch-to-start latency with every worker busy: a saturated stream of short tasks; for each
 *    task the gap between its thread finishing the previous task and starting this one (the
 *    hand-off), and the full dispatch-to-start time (queue wait included), on both sides;
 * 3. recovery: workers stuck in open(2) on FIFOs time out, are discarded and replaced; time from
 *    the timeout to the first queued task starting and to the queue being empty again.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Piscina } from 'piscina';
import { Executor } from '../src/concurrency/executor.js';
import { Scheduler } from '../src/concurrency/scheduler.js';
import { TaskTimeout } from '../src/concurrency/errors.js';
import { setLogLevel } from '../src/log.js';
import { repoRoot } from '../src/paths.js';

const TASKS = join(repoRoot, 'bench', 'executor-tasks.mjs');
const THREADS = 4;
const TOTAL = 100_000;
const WINDOW = 1024;
const ROUNDS = 3;

interface Held {
  start: number;
  end: number;
  thread: number;
}

type Run = (name: string, args?: unknown) => Promise<unknown>;

function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

function ms(value: number): string {
  return `${value.toFixed(3)} ms`;
}

/** Runs `total` tasks keeping `window` in flight; returns elapsed milliseconds. */
async function pipeline(run: Run, total: number, window: number): Promise<number> {
  const started = performance.now();
  let issued = 0;
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const next = (): void => {
      if (issued >= total) return;
      issued++;
      run('noop').then(() => {
        if (++done === total) resolve();
        else next();
      }, reject);
    };
    for (let i = 0; i < Math.min(window, total); i++) next();
  });
  return performance.now() - started;
}

function newPool(): Piscina {
  return new Piscina({ filename: TASKS, minThreads: THREADS, maxThreads: THREADS, idleTimeout: 1000 });
}

function newExecutor(scheduler: Scheduler, name: string, maxTasks: number, maxWorkers = THREADS): Executor {
  const executor = new Executor({ name, workers: THREADS, maxTasks, maxWorkers, scheduler, filename: TASKS });
  executor.start();
  return executor;
}

async function overhead(scheduler: Scheduler): Promise<void> {
  console.log(`\n1. overhead: ${TOTAL} no-op tasks, ${THREADS} threads, ${WINDOW} in flight`);
  const pool = newPool();
  const executor = newExecutor(scheduler, 'bench', WINDOW);
  const withTimeout = newExecutor(scheduler, 'bench-timeout', WINDOW);
  const direct: Run = (name, args) => pool.run(args, { name });
  const viaExecutor: Run = (name, args) => executor.dispatch({ name, args });
  const viaExecutorTimeout: Run = (name, args) => withTimeout.dispatch({ name, args }, { timeout: 60 });
  // Warm up the threads and the JIT on every side.
  for (const run of [direct, viaExecutor, viaExecutorTimeout]) await pipeline(run, 10_000, WINDOW);
  const times = { direct: [] as number[], executor: [] as number[], timeout: [] as number[] };
  for (let round = 0; round < ROUNDS; round++) {
    times.direct.push(await pipeline(direct, TOTAL, WINDOW));
    times.executor.push(await pipeline(viaExecutor, TOTAL, WINDOW));
    times.timeout.push(await pipeline(viaExecutorTimeout, TOTAL, WINDOW));
  }
  const best = (values: number[]): number => Math.min(...values);
  const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] as number;
  const line = (label: string, values: number[]): void => {
    console.log(`   ${label.padEnd(34)} best ${best(values).toFixed(0).padStart(6)} ms  median ${median(values).toFixed(0).padStart(6)} ms  (${Math.round(TOTAL / (best(values) / 1000))} tasks/s)`);
  };
  line('piscina run() directly', times.direct);
  line('Executor.dispatch', times.executor);
  line('Executor.dispatch, timeout 60 s', times.timeout);
  console.log(`   overhead ratio (best/best): ${(best(times.executor) / best(times.direct)).toFixed(2)}x, with timeouts ${(best(times.timeout) / best(times.direct)).toFixed(2)}x  (goal <= 1.5x)`);
  console.log(`   overhead ratio (median/median): ${(median(times.executor) / median(times.direct)).toFixed(2)}x, with timeouts ${(median(times.timeout) / median(times.direct)).toFixed(2)}x`);
  await executor.stop();
  await withTimeout.stop();
  await pool.destroy();
}

/** A saturated stream of `count` tasks holding their thread `holdMs`, `depth` per thread queued. */
async function saturated(run: Run, count: number, holdMs: number, depth: number): Promise<{ handOff: number[]; dispatchToStart: number[] }> {
  const handOff: number[] = [];
  const dispatchToStart: number[] = [];
  const lastEnd = new Map<number, number>();
  const results: { dispatched: number; held: Held }[] = [];
  let issued = 0;
  await new Promise<void>((resolve, reject) => {
    let done = 0;
    const next = (): void => {
      if (issued >= count) return;
      issued++;
      const dispatched = epochNow();
      run('hold', holdMs).then((held) => {
        results.push({ dispatched, held: held as Held });
        if (++done === count) resolve();
        else next();
      }, reject);
    };
    for (let i = 0; i < THREADS * depth; i++) next();
  });
  results.sort((a, b) => a.held.start - b.held.start);
  for (const { dispatched, held } of results) {
    const previous = lastEnd.get(held.thread);
    // Only tasks that were already waiting when their thread came free measure the hand-off.
    if (previous !== undefined && dispatched <= previous) handOff.push(held.start - previous);
    dispatchToStart.push(held.start - dispatched);
    lastEnd.set(held.thread, held.end);
  }
  handOff.sort((a, b) => a - b);
  dispatchToStart.sort((a, b) => a - b);
  return { handOff, dispatchToStart };
}

async function latency(scheduler: Scheduler): Promise<void> {
  const count = 5000;
  const holdMs = 2;
  const depth = 4;
  console.log(`\n2. dispatch-to-start with every worker busy: ${count} tasks of ${holdMs} ms, ${THREADS} threads, ${depth} queued per thread`);
  const pool = newPool();
  const executor = newExecutor(scheduler, 'latency', THREADS * depth);
  const sides: [string, Run][] = [
    ['piscina run() directly', (name, args) => pool.run(args, { name })],
    ['Executor.dispatch', (name, args) => executor.dispatch({ name, args }, { timeout: 60 })],
  ];
  for (const [, run] of sides) await saturated(run, 500, holdMs, depth); // warm-up
  for (const [label, run] of sides) {
    const { handOff, dispatchToStart } = await saturated(run, count, holdMs, depth);
    console.log(`   ${label.padEnd(24)} hand-off (thread free -> next task starts) p50 ${ms(percentile(handOff, 50))} p99 ${ms(percentile(handOff, 99))}`);
    console.log(`   ${''.padEnd(24)} dispatch -> start (queue wait included)    p50 ${ms(percentile(dispatchToStart, 50))} p99 ${ms(percentile(dispatchToStart, 99))}`);
  }
  await executor.stop();
  await pool.destroy();
}

/** FIFOs whose readers block in open(2) until released. */
function fifos(count: number): { paths: string[]; release(): void; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'hostvisor-bench-'));
  const paths = Array.from({ length: count }, (_, i) => join(dir, `fifo-${i}`));
  for (const path of paths) execFileSync('mkfifo', [path]);
  const held: number[] = [];
  return {
    paths,
    release() {
      if (held.length === 0) for (const path of paths) held.push(openSync(path, constants.O_RDWR | constants.O_NONBLOCK));
    },
    cleanup() {
      this.release();
      for (const fd of held) closeSync(fd);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function recovery(scheduler: Scheduler, maxWorkers: number, queued: number): Promise<void> {
  const timeout = 0.2;
  const stuck = fifos(THREADS);
  const executor = newExecutor(scheduler, `recovery-${maxWorkers}`, queued + 10, maxWorkers);
  await Promise.all(Array.from({ length: THREADS * 2 }, () => executor.dispatch({ name: 'noop' }))); // threads booted
  let timedOutAt = 0;
  const stuckTasks = stuck.paths.map((path) =>
    executor.dispatch({ name: 'readFifo', args: path }, { timeout }).catch((err: unknown) => {
      if (err instanceof TaskTimeout && timedOutAt === 0) timedOutAt = epochNow();
    }),
  );
  const behind = Array.from({ length: queued }, () => executor.dispatch<Held>({ name: 'hold', args: 0 }));
  let releasedAt = 0;
  if (maxWorkers <= THREADS) {
    // No room for replacements: the queue waits until the stuck calls return.
    await Promise.all(stuckTasks);
    await new Promise((resolve) => setTimeout(resolve, 300));
    releasedAt = epochNow();
    stuck.release();
  }
  const held = await Promise.all(behind);
  const drainedAt = epochNow();
  const firstStart = Math.min(...held.map((h) => h.start));
  const from = releasedAt || timedOutAt;
  const what = releasedAt ? 'release of the stuck calls' : 'timeout';
  console.log(`   max_workers=${maxWorkers}: ${what} -> first queued task starts ${ms(firstStart - from)}, -> queue empty (${queued} tasks) ${ms(drainedAt - from)}`);
  stuck.release();
  await Promise.all(stuckTasks);
  await executor.stop();
  stuck.cleanup();
}

async function main(): Promise<void> {
  setLogLevel('silent');
  const scheduler = new Scheduler('bench');
  scheduler.start();
  console.log(`executor benchmark: node ${process.version}, piscina ${Piscina.version}`);
  await overhead(scheduler);
  await latency(scheduler);
  console.log(`\n3. recovery: ${THREADS} workers stuck in open(2), timeout 0.2 s, discard`);
  await recovery(scheduler, THREADS * 2, 1000); // replacements boot new threads
  await recovery(scheduler, THREADS, 1000); // at max_workers: nothing runs until the calls return
  scheduler.stop();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
