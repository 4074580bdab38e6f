/**
 * The events bus: server → client notifications `|<namespace>|<event>|<id>`.
 * Each event is encoded once, as JSON text and as UTF-8 bytes, however many transports and
 * subscribers it reaches.
 */
import { getLogger, type Logger } from '../log.js';

/** An event as it goes on the wire: `{"jsonrpc":"2.0","method":…,"params":{…,"notify_time":N}}`. */
export interface HostEvent {
  readonly method: string;
  readonly json: string;
  readonly bytes: Buffer;
}

export type EventListener = (event: HostEvent) => void;

const INT_MAX = 2 ** 31 - 1;

/**
 * vdsm's `event_time()`: monotonic milliseconds offset above INT_MAX, because older engines
 * mis-parsed small values. Also the form of `statusTime`.
 */
export function eventTime(): number {
  // hrtime is CLOCK_MONOTONIC on Linux (time since boot), like Python's monotonic(): values keep
  // growing across daemon restarts, which the engine relies on to order status updates.
  return INT_MAX + Number(process.hrtime.bigint() / 1_000_000n);
}

export class EventBus {
  private readonly listeners = new Set<EventListener>();
  private readonly log: Logger;

  constructor(options: { log?: Logger; clock?: () => number } = {}) {
    this.log = options.log ?? getLogger('events');
    this.clock = options.clock ?? eventTime;
  }

  private readonly clock: () => number;

  /** Adds a listener (a transport); returns the function that removes it. */
  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Emits `|namespace|event|id` with `params`; `notify_time` is added as the last key.
   * E.g. `emit('virt', 'VM_status', vmId, { [vmId]: { status: 'Up' } })`.
   */
  emit(namespace: string, event: string, id: string, params: Record<string, unknown>): HostEvent {
    for (const part of [namespace, event, id]) {
      if (part.includes('|') || part === '') throw new TypeError(`event name part ${JSON.stringify(part)} must be non-empty and free of '|'`);
    }
    const method = `|${namespace}|${event}|${id}`;
    const withTime: Record<string, unknown> = { ...params };
    delete withTime['notify_time'];
    withTime['notify_time'] = this.clock();
    const json = `{"jsonrpc":"2.0","method":${JSON.stringify(method)},"params":${JSON.stringify(withTime)}}`;
    const encoded: HostEvent = { method, json, bytes: Buffer.from(json, 'utf8') };
    for (const listener of this.listeners) {
      try {
        listener(encoded);
      } catch (err) {
        this.log.error({ err, method }, 'event listener failed');
      }
    }
    return encoded;
  }
}
