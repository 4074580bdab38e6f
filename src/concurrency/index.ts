/** The concurrency core: Scheduler, Executor over piscina, periodic Operations, reconnect Backoff. */
export { Scheduler, ScheduledCall, callBefore, type Clock, type SchedulerOptions } from './scheduler.js';
export {
  Executor,
  type ExecutorOptions,
  type ExecutorState,
  type ExecutorCounters,
  type WorkerState,
  type StopOptions,
  type StopReport,
} from './executor.js';
export { Task, type TaskSpec, type DispatchOptions, type Settled } from './task.js';
export type { TaskDispatcher } from './dispatcher.js';
export { Backoff, type BackoffOptions } from './backoff.js';
export {
  Operation,
  timeoutFrom,
  type OperationBody,
  type OperationContext,
  type OperationOptions,
  type OperationStats,
} from './operation.js';
export {
  AlreadyStarted,
  InvalidValue,
  NotRunning,
  ResourceExhausted,
  TaskTimeout,
  WaitTimeout,
  type ResourceExhaustedContext,
} from './errors.js';
