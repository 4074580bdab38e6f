/**
 * The outgoing migrations allowed at once (vdsm's bounded semaphore): a migration waits for a
 * slot, in arrival order, and can stop waiting when it is cancelled. The bound can change while
 * migrations wait (the engine's outgoingLimit, as vdsm).
 */
export class Slots {
  private used = 0;
  private readonly waiting: Array<{ grant: () => void }> = [];

  constructor(private bound: number) {}

  setBound(bound: number): void {
    this.bound = bound;
    this.grantWaiting();
  }

  get inUse(): number {
    return this.used;
  }

  /** Resolves with the function that gives the slot back; rejects when `signal` aborts first. */
  acquire(signal: AbortSignal): Promise<() => void> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(new Error('cancelled while waiting for a migration slot'));
      const waiter = {
        grant: () => {
          signal.removeEventListener('abort', onAbort);
          this.used++;
          let released = false;
          resolve(() => {
            if (released) return;
            released = true;
            this.used--;
            this.grantWaiting();
          });
        },
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(new Error('cancelled while waiting for a migration slot'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
      this.grantWaiting();
    });
  }

  private grantWaiting(): void {
    while (this.used < this.bound && this.waiting.length > 0) this.waiting.shift()!.grant();
  }
}
