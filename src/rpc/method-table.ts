/**
 * What the engine needs from the API: a method by name, its parameters, its handler.
 * The engine never imports api/; the API builds a MethodTable and the daemon hands it over.
 */
import type { Logger } from '../log.js';

/** `integer`/`uint` accept decimal strings and `boolean` accepts "true"/"false": vdsm sends numbers
 * and booleans as strings in many places, and its bridge converts them. */
export type ParamType = 'string' | 'integer' | 'uint' | 'number' | 'boolean' | 'object' | 'array' | 'any';

export interface ParamSpec {
  readonly name: string;
  readonly type: ParamType;
  /** Required unless a default is given or this is false. */
  readonly required?: boolean;
  /** Used when the parameter is absent; copied for arrays and objects. */
  readonly default?: unknown;
  /** Allowed values (after coercion), e.g. log levels. */
  readonly enum?: readonly unknown[];
  /** null is accepted as "absent" (vdsm's schema marks many arguments `null`-able). */
  readonly nullable?: boolean;
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
  readonly params: readonly ParamSpec[];
  /** Returns the result; undefined or null is answered as `true` (vdsm's convention). */
  handler(args: Record<string, unknown>, ctx: CallContext): unknown;
}

export interface MethodTable {
  get(name: string): Method | undefined;
}
