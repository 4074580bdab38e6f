/** What an Executor reports of itself: its state, its workers and its counters (Executor.state()). */

export interface StopOptions {
  /** Seconds to let running tasks finish before the pool is destroyed; 0 by default. */
  wait?: number;
}

export interface WorkerState {
  name: string;
  discarded: boolean;
  /** The task's label, or null when waiting. */
  task: string | null;
  /** Seconds the current task has been running. */
  runningFor: number | null;
  tasksDone: number;
}

export interface ExecutorCounters {
  /** Accepted by dispatch. */
  dispatched: number;
  /** Refused with ResourceExhausted. */
  rejected: number;
  /** Results handed to callers. */
  completed: number;
  /** Errors handed to callers (timeouts not included). */
  failed: number;
  /** Tasks whose worker was discarded on timeout. */
  timedOut: number;
  /** Outcomes of discarded tasks that came back afterwards. */
  late: number;
  /** Queued tasks rejected by stop(). */
  dropped: number;
  /** "Worker blocked" reports. */
  blocked: number;
}

export interface ExecutorState {
  name: string;
  running: boolean;
  workersCount: number;
  maxWorkers: number | null;
  maxTasks: number;
  /** Workers not discarded, idle or busy. */
  active: number;
  /** Discarded workers whose task is still running. */
  discarded: number;
  /** active + discarded: the threads this executor may be holding. */
  total: number;
  idle: number;
  /** Waiting in the queue for a worker. */
  queued: number;
  /** Handed to the pool, waiting for a thread to boot or come free (timeout not yet counting). */
  starting: number;
  /** Live piscina threads (idle ones included). */
  threads: number;
  workers: WorkerState[];
  counters: ExecutorCounters;
}
