/**
 * The main thread's hold on libvirt: open and close a connection (on libuv's thread pool), listen
 * to its domain events, and run libvirt's event-loop thread. Nothing here blocks; the blocking
 * calls live in blocking.ts, which only worker threads import.
 */
import { decodeEvent, type LibvirtEvent } from './events.js';
import { native, type NativeConnection } from './native.js';
import type { HostIdentity } from './types.js';

export class LibvirtHandle {
  private readonly handle: NativeConnection;

  constructor(uri: string) {
    this.handle = new native.Connection(uri);
  }

  get uri(): string {
    return this.handle.uri;
  }

  /** Whether the shared connection is open (a flag the addon keeps; no libvirt call). */
  isOpen(): boolean {
    return this.handle.isOpen();
  }

  /** Opens (or reopens) on libuv's thread pool. */
  openAsync(): Promise<HostIdentity> {
    return this.handle.openAsync();
  }

  /** Gives this holder's reference back; the libvirt call that closes runs on libuv's thread pool. */
  closeAsync(): Promise<void> {
    return this.handle.closeAsync();
  }

  /** Fault hook: behave as if libvirt reported the connection closed (reason `error`). */
  simulateDrop(): void {
    this.handle.simulateDrop();
  }

  /**
   * Delivers this connection's domain events (and its drops and reopens) to `listener` on the
   * calling thread, in order. Needs the event loop running (startEventLoop). The subscription
   * survives reopening. Listeners should not throw (a throw becomes a process warning).
   * Registering and giving back are calls to libvirtd, made on libuv's thread pool (a hung libvirtd
   * may never answer them). Resolves to the function that unsubscribes: deliveries stop at once,
   * and its promise settles when libvirt has the callbacks back.
   */
  async subscribe(listener: (event: LibvirtEvent) => void): Promise<() => Promise<void>> {
    const subscription = await native.subscribe(this.handle, (raw) => {
      try {
        listener(decodeEvent(raw));
      } catch (err) {
        // Thrown back into the addon it would vanish; a warning at least shows up.
        process.emitWarning(`libvirt event listener threw: ${err instanceof Error ? err.stack : String(err)}`);
      }
    });
    return () => subscription.closeAsync();
  }
}

/**
 * Starts the process-wide thread running libvirt's event loop. Counted: each start needs a stop.
 * Cheap and non-blocking, so the main thread may call it.
 */
export function startEventLoop(): void {
  native.startEventLoop();
}

/** Stops the event-loop thread (the last holder's stop ends it); false if it did not end in time. */
export function stopEventLoop(timeoutMs = 2000): boolean {
  return native.stopEventLoop(timeoutMs);
}

export function eventLoopRunning(): boolean {
  return native.eventLoopRunning();
}
