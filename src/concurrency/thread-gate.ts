/**
 * ThreadGate: when does a task handed to piscina really start? Only once a ready thread is free
 * for it. A replacement thread takes tens to hundreds of milliseconds to boot, and a timeout armed
 * at hand-off would count that boot against the task (and discard the replacement's first task
 * on a loaded host). The gate counts ready threads (piscina's workerCreate/workerDestroy events)
 * and tasks holding one, and starts waiting tasks oldest first as threads come free, as
 * piscina's own FIFO hands them out. It is a model of piscina's choice, not a report from the
 * thread, so it can be off by a task when a booting and a freed thread race. piscina announces
 * its first minThreads threads as ready at once, so tasks dispatched right after start() are
 * timed from hand-off.
 */
import type { Piscina } from 'piscina';

export interface GateTicket {
  started: boolean;
  readonly start: () => void;
}

export class ThreadGate {
  private readonly ready = new Set<number>();
  private readonly waiting: GateTicket[] = [];
  private holding = 0;

  constructor(pool: Piscina) {
    pool.on('workerCreate', (thread: { id: number }) => {
      this.ready.add(thread.id);
      this.admit();
    });
    pool.on('workerDestroy', (thread: { id: number }) => {
      this.ready.delete(thread.id);
    });
  }

  /** Tasks handed off but still waiting for a thread. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Tasks handed off and not settled: started or waiting. */
  get handedOff(): number {
    return this.holding + this.waiting.length;
  }

  /** Ready threads holding no task. */
  get free(): number {
    return Math.max(0, this.ready.size - this.holding);
  }

  /** A task was handed to the pool; start() runs when a thread is free for it (maybe at once). */
  enter(start: () => void): GateTicket {
    const ticket: GateTicket = { started: false, start };
    this.waiting.push(ticket);
    this.admit();
    return ticket;
  }

  /** The pool settled the task (done, failed, or its thread died). */
  leave(ticket: GateTicket): void {
    if (ticket.started) {
      this.holding--;
    } else {
      const index = this.waiting.indexOf(ticket);
      if (index >= 0) this.waiting.splice(index, 1);
    }
    this.admit();
  }

  private admit(): void {
    while (this.waiting.length > 0 && this.holding < this.ready.size) {
      const ticket = this.waiting.shift() as GateTicket;
      ticket.started = true;
      this.holding++;
      ticket.start();
    }
  }
}
