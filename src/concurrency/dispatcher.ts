/**
 * What Operations and API verbs need of an executor: dispatch. Tests pass fakes through it.
 */
import type { DispatchOptions, TaskSpec } from './task.js';

export interface TaskDispatcher {
  /** Throws ResourceExhausted or NotRunning at once; the promise carries the task's outcome. */
  dispatch<R = unknown>(task: TaskSpec, options?: DispatchOptions<R>): Promise<R>;
}
