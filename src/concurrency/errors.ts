/**
 * The concurrency core's errors, as vdsm's executor.py, periodic.py and common/exception.py raise them.
 * - ResourceExhausted: the executor's waiting queue is full (vdsm code 1100, "Not enough resources").
 * - NotRunning: the executor (or scheduler) is not started yet or was stopped.
 * - AlreadyStarted: start() called twice (an executor or operation cannot be restarted after stop).
 * - InvalidValue: a bad period for an Operation, reported at start() as vdsm does.
 * - TaskTimeout: a discardable task ran past its timeout; its worker was discarded. vdsm never
 *   tells anyone; we reject the caller's promise with it, so callers and Operations learn of it.
 * - WaitTimeout: a task dispatched with `startWithin` found no worker in that time (every worker
 *   busy or stuck, none may be added). vdsm's tasks wait in the queue for ever.
 */

export interface ResourceExhaustedContext {
  resource: string;
  current_tasks: number;
  reason: string;
}

/** Python's repr of a flat dict, as vdsm's ContextException prints its context. */
function pythonDict(context: Record<string, unknown>): string {
  const items = Object.entries(context).map(([key, value]) =>
    `'${key}': ${typeof value === 'string' ? `'${value}'` : String(value)}`);
  return `{${items.join(', ')}}`;
}

export class ResourceExhausted extends Error {
  override readonly name = 'ResourceExhausted';
  readonly code = 1100;
  readonly context: ResourceExhaustedContext;

  constructor(resource: string, currentTasks: number, reason = 'Too many tasks') {
    super('Not enough resources');
    this.context = { resource, current_tasks: currentTasks, reason };
  }

  /** vdsm's str(): `Not enough resources: {'resource': ..., 'current_tasks': ..., 'reason': ...}`. */
  override toString(): string {
    return `${this.message}: ${pythonDict({ ...this.context })}`;
  }
}

export class NotRunning extends Error {
  override readonly name = 'NotRunning';
  constructor(what: string, options?: { cause?: unknown }) {
    super(`${what} is not running`, options);
  }
}

export class AlreadyStarted extends Error {
  override readonly name = 'AlreadyStarted';
  constructor(what: string) {
    super(`${what} was already started`);
  }
}

export class InvalidValue extends Error {
  override readonly name = 'InvalidValue';
}

export class TaskTimeout extends Error {
  override readonly name = 'TaskTimeout';
  /** seconds */
  readonly timeout: number;
  /** The discarded virtual worker, e.g. `periodic/3`. */
  readonly worker: string;

  constructor(task: string, timeout: number, worker: string) {
    super(`${task} timed out after ${timeout}s on ${worker}; the worker was discarded`);
    this.timeout = timeout;
    this.worker = worker;
  }
}

export class WaitTimeout extends Error {
  override readonly name = 'WaitTimeout';
  /** seconds */
  readonly waited: number;

  constructor(task: string, waited: number) {
    super(`${task} found no free worker within ${waited}s`);
    this.waited = waited;
  }
}
