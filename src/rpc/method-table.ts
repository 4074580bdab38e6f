/**
 * What the engine needs from the API: a method by name, its parameters, its handler.
 * The engine never imports api/; the API builds a MethodTable and the daemon hands it over.
 */
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from '../log.js';

/**
 * One parameter of a method, in call order (positional params bind by it). Its schema is a
 * typebox schema; strings are converted where vdsm's bridge converts them ("5" to an integer,
 * "true" to a boolean), since the engine sends many numbers and booleans as strings.
 */
export interface Param {
  readonly name: string;
  readonly schema: TSchema;
  /** Used when the parameter is absent or null; copied for arrays and objects. */
  readonly default?: unknown;
  /** May be absent (or null) with no default: the handler sees it absent. */
  readonly optional?: boolean;
}

/** Whether a call must give the parameter. */
export function isRequired(param: Param): boolean {
  return param.default === undefined && param.optional !== true;
}

/** What a handler knows about the call it serves. */
export interface CallContext {
  readonly method: string;
  /** The flow id (STOMP `ovirtCorrelationId`), when the client gave one. */
  readonly flowId: string | undefined;
  /** The client, e.g. `192.0.2.7:40312`; transports fill it in. */
  readonly peer: string | undefined;
  /** A logger bound to the method and flow id, made on first use. */
  readonly log: Logger;
}

export interface Method {
  readonly name: string;
  readonly params: readonly Param[];
  /** Returns the result; undefined or null is answered as `true` (vdsm's convention). */
  handler(args: Record<string, unknown>, ctx: CallContext): unknown;
}

export interface MethodTable {
  get(name: string): Method | undefined;
}
