/**
 * The typed link between the main thread and the worker modules under workers/. A worker module's
 * contract is an interface whose methods are its exported tasks (one plain-data argument in, plain
 * data out); the worker checks its exports against it, and the main thread calls through the
 * callers made here, so a wrong task name, argument or result type fails to compile on either side.
 * Neither side imports the other: both import this folder (as piscina's own examples share a
 * types module between worker and pool).
 */
import type { DispatchOptions, TaskDispatcher, TaskSpec } from '../concurrency/index.js';
import { workerFile } from '../paths.js';

/** The modules under workers/, by file name. */
export type WorkerModule = 'libvirt' | 'vm' | 'vm-sampling' | 'qga' | 'host-sample' | 'host-caps';

/** The compiled worker module, as piscina loads it (an Executor's default module, a test's pool). */
export function workerModuleFile(module: WorkerModule): string {
  return workerFile(module);
}

/** What a contract must look like: every member a function of one argument (or none). */
export type TaskFunctions<T> = { [K in keyof T]: (task: never) => unknown };

/** The argument a task takes; undefined for a task that takes none. */
export type TaskArgs<F> = F extends () => unknown ? undefined : F extends (task: infer A) => unknown ? A : never;
/** What the task's promise resolves to. */
export type TaskResult<F> = F extends (...args: never[]) => infer R ? Awaited<R> : never;

/** Whatever dispatches tasks: an Executor, an Operation's context, a test's fake. */
export type Dispatcher = Pick<TaskDispatcher, 'dispatch'>;

/** One task of one worker module, callable through any dispatcher. */
export interface TaskCaller<A, R> {
  /** Dispatches the task; `options` (timeout, discard, onLate, startWithin) reach the executor as given. */
  (dispatcher: Dispatcher, args: A, options?: DispatchOptions<R>): Promise<R>;
  /** The spec as an executor takes it, for callers that dispatch it themselves. */
  spec(args: A): TaskSpec;
}

export type TaskCallers<T extends TaskFunctions<T>> = {
  readonly [K in keyof T & string]: TaskCaller<TaskArgs<T[K]>, TaskResult<T[K]>>;
};

/**
 * The callers of a worker module's tasks. `names` lists every task of the contract once (the
 * compiler checks that none is missing or extra): the names exist at run time, the contract only
 * at compile time.
 */
export function workerTasks<T extends TaskFunctions<T>>(module: WorkerModule, names: { readonly [K in keyof T & string]: true }): TaskCallers<T> {
  const filename = workerModuleFile(module);
  const callers: Record<string, TaskCaller<unknown, unknown>> = {};
  for (const name of Object.keys(names)) {
    const spec = (args: unknown): TaskSpec => (args === undefined ? { name, filename } : { name, filename, args });
    const call = <R>(dispatcher: Dispatcher, args: unknown, options?: DispatchOptions<R>): Promise<R> =>
      dispatcher.dispatch<R>(spec(args), options);
    callers[name] = Object.assign(call, { spec });
  }
  return callers as TaskCallers<T>;
}
