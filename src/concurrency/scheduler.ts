/**
 * Scheduler: runs short main-thread callbacks at deadlines (vdsm's schedule.py, on the event loop).
 * - One min-heap of calls on a monotonic clock (performance.now) and a single setTimeout re-armed
 *   for the earliest deadline. schedule(delay seconds, fn) returns a cancellable ScheduledCall.
 * - Never early: a call runs only once clock() >= deadline. Node timers may wake up to a
 *   millisecond before performance.now() reaches the deadline; we then sleep again for the rest.
 * - Equal deadlines run in the order they were scheduled (a sequence number breaks ties; vdsm
 *   leaves this undefined).
 * - On wake-up every due call is popped, then the batch runs in order. A call that throws is logged
 *   ("Unhandled exception in ...") and the rest still run. A call popped into the batch still runs
 *   if stop() happens meanwhile (as vdsm); cancel() before it runs still prevents it.
 * - Cancellation is lazy: a cancelled call stays in the heap until its deadline, unless cancelled
 *   calls make up most of a large heap, when they are dropped in one pass (executor timeouts are
 *   cancelled by the thousand when tasks finish on time).
 * - stop() cancels everything pending; schedule() when not running throws NotRunning.
 * - The timer is left ref'd: a pending call is work the daemon owes, and stop() clears the timer,
 *   so it never holds up a shutdown.
 * Callbacks must not block: the event loop is the scheduler thread, and a slow callback delays
 * every timeout check and periodic dispatch in the process.
 */
import { performance } from 'node:perf_hooks';
import { getLogger, type Logger } from '../log.js';
import { AlreadyStarted, InvalidValue, NotRunning } from './errors.js';
import { MinHeap } from './min-heap.js';

/** Milliseconds on a monotonic clock. */
export type Clock = () => number;

const monotonic: Clock = () => performance.now();

/** Cancelled entries are dropped in bulk once there are at least this many and they are the majority. */
const COMPACT_MIN_CANCELLED = 1024;

const MAX_TIMER_MS = 2 ** 31 - 1;

interface CallOwner {
  noteCancelled(): void;
}

export class ScheduledCall {
  /** Deadline in milliseconds on the scheduler's clock. */
  readonly deadline: number;
  /** Scheduling order, the tie-break between equal deadlines. */
  readonly seq: number;
  private fn: (() => void) | null;
  private readonly label: string;
  /** Set while the call sits in a scheduler's heap, so cancel() can be counted there. */
  owner: CallOwner | null = null;

  constructor(deadline: number, seq: number, fn: () => void) {
    this.deadline = deadline;
    this.seq = seq;
    this.fn = fn;
    this.label = fn.name || 'anonymous';
  }

  /** True until the call ran or was cancelled. */
  valid(): boolean {
    return this.fn !== null;
  }

  cancel(): void {
    if (this.fn === null) return;
    this.fn = null;
    this.owner?.noteCancelled();
  }

  /** Runs the callable at most once (the Scheduler calls this); its exception propagates. */
  execute(): void {
    const fn = this.fn;
    if (fn === null) return;
    this.fn = null;
    fn();
  }

  toString(): string {
    return `<ScheduledCall ${this.label} deadline=${this.deadline.toFixed(3)}${this.fn ? '' : ' done'}>`;
  }
}

/** Heap order: earlier deadline first, then earlier scheduling. */
export function callBefore(a: ScheduledCall, b: ScheduledCall): boolean {
  return a.deadline < b.deadline || (a.deadline === b.deadline && a.seq < b.seq);
}

export interface SchedulerOptions {
  logger?: Logger;
  /** Milliseconds, monotonic; performance.now by default. */
  clock?: Clock;
}

export class Scheduler implements CallOwner {
  readonly name: string;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly heap = new MinHeap<ScheduledCall>(callBefore);
  private seq = 0;
  private cancelled = 0;
  private isRunning = false;
  private timer: NodeJS.Timeout | null = null;
  private armedFor = Infinity;

  constructor(name = 'Scheduler', options: SchedulerOptions = {}) {
    this.name = name;
    this.log = options.logger ?? getLogger('scheduler', { scheduler: name });
    this.clock = options.clock ?? monotonic;
  }

  get running(): boolean {
    return this.isRunning;
  }

  /** Calls in the heap, cancelled ones not yet dropped included. */
  get pending(): number {
    return this.heap.size;
  }

  now(): number {
    return this.clock();
  }

  start(): void {
    if (this.isRunning) throw new AlreadyStarted(`Scheduler ${this.name}`);
    this.log.debug('Starting scheduler %s', this.name);
    this.isRunning = true;
    this.arm();
  }

  stop(): void {
    if (!this.isRunning) return;
    this.log.debug('Stopping scheduler %s', this.name);
    this.isRunning = false;
    this.disarm();
    for (const call of this.heap.clear()) {
      call.owner = null;
      call.cancel();
    }
    this.cancelled = 0;
  }

  /** Runs fn after `delay` seconds, never earlier. */
  schedule(delay: number, fn: () => void): ScheduledCall {
    if (Number.isNaN(delay)) throw new InvalidValue(`Invalid delay ${delay} for ${fn.name || 'a call'}`);
    const deadline = this.clock() + delay * 1000;
    if (!this.isRunning) throw new NotRunning(`Scheduler ${this.name}`);
    const call = new ScheduledCall(deadline, this.seq++, fn);
    call.owner = this;
    this.heap.push(call);
    if (deadline < this.armedFor) this.arm();
    return call;
  }

  noteCancelled(): void {
    this.cancelled++;
    if (this.cancelled >= COMPACT_MIN_CANCELLED && this.cancelled * 2 > this.heap.size) {
      this.heap.retain((call) => {
        if (call.valid()) return true;
        call.owner = null;
        return false;
      });
      this.cancelled = 0;
    }
  }

  /** Sets the one timer for the earliest deadline, if it is not already set for it or earlier. */
  private arm(): void {
    if (!this.isRunning) return;
    const next = this.heap.peek();
    if (next === undefined) {
      this.disarm();
      return;
    }
    if (this.timer !== null && this.armedFor <= next.deadline) return;
    this.disarm();
    this.armedFor = next.deadline;
    // setTimeout takes at most 2^31-1 ms (longer becomes 1 ms); a far deadline just re-arms.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, Math.ceil(next.deadline - this.clock())));
    this.timer = setTimeout(this.onTimer, delay);
  }

  private disarm(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.armedFor = Infinity;
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.armedFor = Infinity;
    const now = this.clock();
    const due: ScheduledCall[] = [];
    for (let next = this.heap.peek(); next !== undefined && next.deadline <= now; next = this.heap.peek()) {
      this.heap.pop();
      next.owner = null;
      if (next.valid()) due.push(next);
      else this.cancelled--;
    }
    for (const call of due) {
      try {
        call.execute();
      } catch (err) {
        this.log.error({ err }, 'Unhandled exception in %s', String(call));
      }
    }
    this.arm();
  };
}
