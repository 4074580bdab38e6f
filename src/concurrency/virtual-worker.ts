/**
 * A virtual worker: the executor's main-thread stand-in for one of vdsm's worker threads. It runs
 * one task at a time by handing it to the piscina pool. Named `<executor>/<n>`, ids never reused.
 * discarded is set once, when its task outlives a discard timeout; it then takes no more tasks
 * and leaves the executor when that task finally settles. taskCounter counts finished tasks and is
 * the token a timeout check was armed with, so a check for a finished task does nothing.
 */
import type { ScheduledCall } from './scheduler.js';
import type { Task } from './task.js';

export class VirtualWorker {
  readonly name: string;
  discarded = false;
  taskCounter = 0;
  task: Task<any> | null = null;
  /** The pending timeout check of the current task. */
  check: ScheduledCall | null = null;
  /** Settles when the pool has finished the current task (the thread is free again). */
  running: Promise<void> | null = null;

  constructor(name: string) {
    this.name = name;
  }

  toString(): string {
    const doing = this.task === null ? 'waiting' : `running ${String(this.task)}`;
    return `<Worker name=${this.name} ${doing}${this.discarded ? ' discarded' : ''} task#=${this.taskCounter}>`;
  }
}
