/**
 * The transport-free JSON-RPC 2.0 engine: one message (a request, a notification or a batch)
 * in, at most one encoded reply out. Transports decide where the reply goes.
 *
 * Where vdsm breaks clients we do not follow it: notification-only messages are
 * answered with nothing (vdsm kills its request thread), batches get a proper array (vdsm answers
 * nothing), every invalid request is answered once (vdsm twice). A single response is a bare
 * object even for a one-element batch, as vdsm answers its own client. Error texts and codes are vdsm's.
 */
import { getLogger, type Logger } from '../log.js';
import {
  InvalidRequestError,
  MethodNotFoundError,
  ParseError,
  RecoveringError,
  RpcError,
  toRpcError,
} from './errors.js';
import type { Method, MethodTable } from './method-table.js';
import { Call, clip } from './call.js';
import { bindParams } from './params.js';
import { RawJson } from './raw-json.js';

export interface RequestContext {
  /** The flow id (STOMP header `ovirtCorrelationId`); it goes in every log line of the request. */
  readonly flowId?: string | undefined;
  readonly peer?: string | undefined;
}

/**
 * One message's answer as JSON text in pieces, in order. Small answers are one piece; a large
 * result (RawJson) keeps the pieces it was made of, so a transport writes them, or joins them once
 * with its own framing, rather than each layer copying megabytes into a new string.
 */
export class EncodedReply {
  constructor(
    readonly pieces: readonly string[],
    /** A single response with a null id (parse error, invalid request): nobody asked under that id,
     * so vdsm sends it to the default response queue rather than to the requester's reply-to. */
    readonly orphan: boolean,
  ) {}

  /** The whole text (for a large answer, a copy). */
  get json(): string {
    return this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('');
  }
}

/** An answer's text in pieces (see EncodedReply). */
export type Pieces = readonly string[];

export interface EngineOptions {
  log?: Logger;
  /** While false every request is answered with code 99 (vdsm: recovering or initializing). */
  isReady?: () => boolean;
  /**
   * Observer of every call to a method of the table, once it is answered (metrics): its time in
   * milliseconds and, when it failed, the error code. Unknown methods are not reported. Must not
   * throw; if it does, the call's answer is unaffected.
   */
  onCall?: CallObserver;
}

export type CallObserver = (method: string, ms: number, errorCode?: number) => void;

/** What a binding other than JSON-RPC's (XML-RPC) needs of the engine: a method's declaration, and
 * a call through the one path every call takes (readiness, binding, metrics, failure logs). */
export interface MethodInvoker {
  method(name: string): Method | undefined;
  invoke(method: string, params: unknown, ctx: RequestContext): unknown;
}

export type Id = string | number | null;

/** One response of a message, with the id it answers (null: nobody asked under an id). */
interface Response {
  readonly id: Id;
  readonly pieces: Pieces;
}

const NO_REPLY = undefined;

export class JsonRpcEngine implements MethodInvoker {
  private readonly log: Logger;
  private readonly isReady: () => boolean;
  private readonly onCall: CallObserver | undefined;

  constructor(
    private readonly methods: MethodTable,
    options: EngineOptions = {},
  ) {
    this.log = options.log ?? getLogger('jsonrpc');
    this.isReady = options.isReady ?? (() => true);
    this.onCall = options.onCall;
  }

  /**
   * Serves one message: the reply, or undefined when nothing is to be sent. Synchronous when
   * every method involved answered synchronously (no promise turn for Host.ping2), else a promise.
   */
  handle(body: string, ctx: RequestContext = {}): EncodedReply | undefined | Promise<EncodedReply | undefined> {
    let message: unknown;
    try {
      message = JSON.parse(body);
    } catch {
      this.logFor(ctx).info({ peer: ctx.peer }, 'request is not JSON');
      return new EncodedReply(errorResponse(null, new ParseError()), true);
    }
    if (!Array.isArray(message)) {
      const single = this.answer(message, ctx);
      if (single === NO_REPLY) return NO_REPLY;
      if (!(single instanceof Promise)) return reply(single);
      return single.then((response) => (response === NO_REPLY ? NO_REPLY : reply(response)));
    }
    if (message.length === 0) {
      return new EncodedReply(errorResponse(null, new InvalidRequestError([], 'request batch is empty')), true);
    }
    const answers = message.map((m) => this.answer(m, ctx));
    if (answers.some((a) => a instanceof Promise)) return Promise.all(answers).then(joinBatch);
    return joinBatch(answers as (Response | undefined)[]);
  }

  /** A method of the table, for bindings that name parameters themselves (XML-RPC). */
  method(name: string): Method | undefined {
    return this.methods.get(name);
  }

  /**
   * Calls one method, for every binding: readiness, lookup, parameter binding and the handler; the
   * call observer sees it and a failure is logged here, once. Returns the handler's result (a value
   * or a promise). Fails (a throw, or the promise rejects) with an RpcError, or with the handler's
   * own error when it was unexpected: each binding answers that in its own way. `id` is the
   * request's, for log lines.
   */
  invoke(method: string, params: unknown, ctx: RequestContext, id?: Id): unknown {
    if (!this.isReady()) throw new RecoveringError();
    const call = new Call(method, ctx, this.log);
    const entry = this.methods.get(method);
    if (entry === undefined) {
      if (this.log.isLevelEnabled('info')) call.log.info({ peer: ctx.peer }, 'no such method');
      throw new MethodNotFoundError(method);
    }
    let result: unknown;
    const t0 = this.onCall === undefined ? 0 : performance.now();
    try {
      const args = bindParams(entry, params);
      // Checked on the engine's logger: asking the call's would build a child logger per request.
      if (this.log.isLevelEnabled('debug')) call.log.debug({ id, peer: ctx.peer }, 'calling');
      result = entry.handler(args, call);
    } catch (err) {
      throw this.failed(call, id, err, t0);
    }
    if (!isPromiseLike(result)) {
      this.observe(method, t0);
      return result;
    }
    return Promise.resolve(result).then(
      (value) => {
        this.observe(method, t0);
        return value;
      },
      (err: unknown) => {
        throw this.failed(call, id, err, t0);
      },
    );
  }

  /** One element: its response, or undefined for a notification. Sync when it can be. */
  private answer(req: unknown, ctx: RequestContext): Response | undefined | Promise<Response | undefined> {
    if (req === null || typeof req !== 'object' || Array.isArray(req)) {
      return { id: null, pieces: errorResponse(null, new InvalidRequestError(req, 'request is not an object')) };
    }
    const r = req as Record<string, unknown>;
    const invalid = invalidReason(r);
    if (invalid !== undefined) return { id: null, pieces: errorResponse(null, new InvalidRequestError(r, invalid)) };
    // A null id is treated as a notification: the engine takes a null-id message without `error`
    // for an event, so answering it would confuse it.
    const id = (r['id'] ?? null) as Id;
    let result: unknown;
    try {
      result = this.invoke(r['method'] as string, r['params'], ctx, id);
    } catch (err) {
      return id === null ? NO_REPLY : { id, pieces: errorResponse(id, toRpcError(err)) };
    }
    if (!isPromiseLike(result)) return this.encode(id, result, ctx);
    return Promise.resolve(result).then(
      (value) => this.encode(id, value, ctx),
      (err: unknown) => (id === null ? NO_REPLY : { id, pieces: errorResponse(id, toRpcError(err)) }),
    );
  }

  private encode(id: Id, result: unknown, ctx: RequestContext): Response | undefined {
    if (id === null) return NO_REPLY;
    try {
      return { id, pieces: resultResponse(id, result) };
    } catch (err) {
      this.logFor(ctx).error({ err, id }, 'result cannot be encoded as JSON');
      return { id, pieces: errorResponse(id, toRpcError(err)) };
    }
  }

  /** Observes and logs a failed call; returns the error to throw on. */
  private failed(call: Call, id: Id | undefined, err: unknown, t0: number): unknown {
    const rpcErr = toRpcError(err);
    this.observe(call.method, t0, rpcErr.code);
    if (err instanceof RpcError) call.log.info({ id, code: rpcErr.code, error: rpcErr.message }, 'call failed');
    else call.log.error({ id, err }, 'call failed with an unexpected error');
    return err;
  }

  private observe(method: string, t0: number, errorCode?: number): void {
    if (this.onCall === undefined) return;
    try {
      this.onCall(method, performance.now() - t0, errorCode);
    } catch (err) {
      this.log.error({ err, method }, 'call observer failed');
    }
  }

  private logFor(ctx: RequestContext): Logger {
    return ctx.flowId === undefined ? this.log : this.log.child({ flowId: clip(ctx.flowId) });
  }
}

function invalidReason(r: Record<string, unknown>): string | undefined {
  if (r['jsonrpc'] !== '2.0') return 'Wrong protocol version';
  if (typeof r['method'] !== 'string') return 'missing method header in method';
  const params = r['params'];
  if (params !== undefined && (params === null || typeof params !== 'object')) return 'wrong params type';
  const id = r['id'];
  if (id !== undefined && id !== null && typeof id !== 'string' && typeof id !== 'number') return 'wrong id type';
  return undefined;
}

/** vdsm's rule, which its Python client relies on (it sends `[{…}]`): one response goes as a bare
 * object, more as an array. */
function joinBatch(answers: (Response | undefined)[]): EncodedReply | undefined {
  const parts = answers.filter((a): a is Response => a !== NO_REPLY);
  if (parts.length === 0) return NO_REPLY;
  if (parts.length === 1) return reply(parts[0]!);
  const pieces: string[] = ['['];
  for (let i = 0; i < parts.length; i++) {
    if (i > 0) pieces.push(',');
    for (const piece of parts[i]!.pieces) pieces.push(piece);
  }
  pieces.push(']');
  return new EncodedReply(pieces, false);
}

function reply(response: Response): EncodedReply {
  return new EncodedReply(response.pieces, response.id === null);
}

function isPromiseLike(v: unknown): v is PromiseLike<unknown> {
  return v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function';
}

/** Key order jsonrpc, id, result as vdsm; `undefined`/`null` results are `true`. A RawJson result
 * keeps its pieces. */
export function resultResponse(id: Id, result: unknown): Pieces {
  const head = `{"jsonrpc":"2.0","id":${encodeId(id)},"result":`;
  if (result instanceof RawJson) return [head, ...result.pieces, '}'];
  const encoded = result === undefined || result === null ? 'true' : JSON.stringify(result);
  if (encoded === undefined) throw new TypeError(`result of type ${typeof result} has no JSON form`);
  return [`${head}${encoded}}`];
}

export function errorResponse(id: Id, err: RpcError): Pieces {
  return [`{"jsonrpc":"2.0","id":${encodeId(id)},"error":{"code":${err.code},"message":${JSON.stringify(err.message)}}}`];
}

/** What JSON.stringify would escape in a string: quote, backslash, controls, surrogates. */
const JSON_ESCAPED = /["\\\u0000-\u001f\ud800-\udfff]/;

/** The id as JSON. Ids are nearly always UUIDs, which need no escaping: quoting them is cheaper
 * than JSON.stringify, and this runs for every request. */
function encodeId(id: Id): string {
  return typeof id === 'string' && !JSON_ESCAPED.test(id) ? `"${id}"` : JSON.stringify(id);
}
