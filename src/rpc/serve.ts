/**
 * The one request path every JSON-RPC transport takes (STOMP, JSON-RPC over WebSocket, the broker):
 * count the request in flight, hand it to the engine, and give the reply to the transport once,
 * synchronously when every method answered synchronously (no promise turn for Host.ping2).
 *
 * Back-pressure: a client with `limit` requests in flight is not read until one of them finishes,
 * so one client cannot queue unbounded work; what it sent meanwhile waits in the kernel's buffers.
 */
import type { Logger } from '../log.js';
import type { EncodedReply, RequestContext } from './engine.js';

/** The engine as a transport sees it. */
export interface RpcEngine {
  /** The reply (undefined: nothing to send), synchronously when every method answered synchronously. */
  handle(body: string, ctx: RequestContext): EncodedReply | undefined | Promise<EncodedReply | undefined>;
}

/** Where a client's requests come from: a reader that can stop and go on. */
export interface RequestSource {
  pauseReading(): void;
  resumeReading(): void;
}

/** The requests of one client in flight, with the back-pressure rule above. */
export class InFlight {
  private count = 0;
  private holding = false;
  private idle: (() => void) | undefined;

  constructor(
    private readonly limit: number,
    private readonly source: RequestSource,
  ) {}

  get size(): number {
    return this.count;
  }

  started(): void {
    if (++this.count >= this.limit && !this.holding) {
      this.holding = true;
      this.source.pauseReading();
    }
  }

  finished(): void {
    this.count--;
    if (this.holding && this.count < this.limit) {
      // Cleared first: reading may start requests at once, which can reach the limit again.
      this.holding = false;
      this.source.resumeReading();
    }
    if (this.count === 0 && this.idle !== undefined) {
      const idle = this.idle;
      this.idle = undefined;
      // After the reply of the last request is queued: the transport writes it right after this.
      queueMicrotask(idle);
    }
  }

  /** Calls `then` once no request is in flight (now, if none is): a graceful stop waits so. */
  whenIdle(then: () => void): void {
    if (this.count === 0) then();
    else this.idle = then;
  }
}

/** One request as a transport hands it over: its context, and the client's count, if it keeps one. */
export interface ServedRequest extends RequestContext {
  readonly inFlight?: InFlight | undefined;
}

/** What a transport does with the engine's reply to one of its requests. */
export interface Replier<R extends ServedRequest> {
  /** Called once per request: the reply, or undefined (nothing to send, or the engine failed). */
  replied(reply: EncodedReply | undefined, request: R): void;
}

/** Serves one JSON-RPC message; `log` gets an engine failure (a bug: the engine answers errors). */
export function serve<R extends ServedRequest>(engine: RpcEngine, body: string, request: R, replier: Replier<R>, log: Logger): void {
  request.inFlight?.started();
  let reply: ReturnType<RpcEngine['handle']>;
  try {
    reply = engine.handle(body, request);
  } catch (err) {
    failed(request, replier, log, err);
    return;
  }
  if (reply instanceof Promise) {
    reply.then(
      (r) => finished(request, replier, r),
      (err: unknown) => failed(request, replier, log, err),
    );
  } else {
    finished(request, replier, reply);
  }
}

function finished<R extends ServedRequest>(request: R, replier: Replier<R>, reply: EncodedReply | undefined): void {
  request.inFlight?.finished();
  replier.replied(reply, request);
}

function failed<R extends ServedRequest>(request: R, replier: Replier<R>, log: Logger, err: unknown): void {
  log.error({ peer: request.peer, flowId: request.flowId, err }, 'JSON-RPC engine failed');
  finished(request, replier, undefined);
}
