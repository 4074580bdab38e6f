/**
 * JSON-RPC and vdsm error codes, and the errors that carry them to the wire.
 * An RpcError's message is the exact wire text; vdsm forms it as `"<base>: <python repr of context>"`
 * (docs/protocol.md), and the engine's log and the client's UI show it as is.
 */
import { pyRepr } from './pyrepr.js';

export const RpcCode = {
  PARSE_ERROR: -32700,
  INVALID_REQUEST: -32600,
  METHOD_NOT_FOUND: -32601,
  INVALID_PARAMS: -32602,
  INTERNAL_ERROR: -32603,
} as const;

/** vdsm's own codes (lib/vdsm/common/exception.py), the ones the host/VM API uses. */
export const VdsmCode = {
  noVM: 1,
  nfsErr: 3,
  exist: 4,
  noVmType: 5,
  down: 6,
  createErr: 9,
  noConPeer: 10,
  MissParam: 11,
  migrateErr: 12,
  outOfMem: 14,
  unexpected: 16,
  nonresp: 19,
  unavail: 40,
  destroyErr: 42,
  noimpl: 44,
  migCancelErr: 47,
  migInProgress: 51,
  updateVmPolicyErr: 63,
  NoSuchJob: 66,
  resetErr: 90,
  InvalidParameter: 91,
  recovery: 99,
  GeneralException: 100,
  ResourceExhausted: 1100,
  HookError: 1500,
} as const;

export class RpcError extends Error {
  override name = 'RpcError';
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }

  toJSON(): { code: number; message: string } {
    return { code: this.code, message: this.message };
  }
}

/** `"<base>: <repr(context)>"`, or just the base when there is no context. */
export function withContext(base: string, context?: Record<string, unknown>): string {
  return context === undefined ? base : `${base}: ${pyRepr(context)}`;
}

export class ParseError extends RpcError {
  override name = 'ParseError';
  constructor() {
    super(
      RpcCode.PARSE_ERROR,
      'Invalid JSON was received by the server. An error occurred on the server while parsing the JSON text.',
    );
  }
}

export class InvalidRequestError extends RpcError {
  override name = 'InvalidRequestError';
  constructor(request: unknown, reason: string) {
    super(RpcCode.INVALID_REQUEST, withContext('Invalid request', { request, reason }));
  }
}

export class MethodNotFoundError extends RpcError {
  override name = 'MethodNotFoundError';
  constructor(method: string) {
    super(RpcCode.METHOD_NOT_FOUND, withContext('The method does not exist or is not available', { method }));
  }
}

export class InvalidParamsError extends RpcError {
  override name = 'InvalidParamsError';
  constructor(method: string, param: string, reason: string) {
    super(RpcCode.INVALID_PARAMS, withContext('Invalid method parameter(s)', { method, param, reason }));
  }
}

export class InternalRpcError extends RpcError {
  override name = 'InternalRpcError';
  constructor(reason: string) {
    super(RpcCode.INTERNAL_ERROR, withContext('Internal JSON-RPC error', { reason }));
  }
}

/** A vdsm error: `code` from VdsmCode, `base` its fixed text, `context` the details. */
export class VdsmError extends RpcError {
  override name = 'VdsmError';
  constructor(code: number, base: string, context?: Record<string, unknown>) {
    super(code, withContext(base, context));
  }
}

export class NoSuchVmError extends VdsmError {
  constructor(vmId: string) {
    super(VdsmCode.noVM, 'Virtual machine does not exist', { vmId });
  }
}

export class RecoveringError extends VdsmError {
  constructor() {
    super(VdsmCode.recovery, 'Recovering from crash or Initializing');
  }
}

/** vdsm's code 100 text is the repr of a 1-tuple: `General Exception: ('boom',)`. */
export class GeneralException extends VdsmError {
  constructor(text: string) {
    super(VdsmCode.GeneralException, `General Exception: (${pyRepr(text)},)`);
  }
}

export class ResourceExhaustedError extends VdsmError {
  constructor(context: Record<string, unknown>) {
    super(VdsmCode.ResourceExhausted, 'Not enough resources', context);
  }
}

/** What goes on the wire for anything a handler threw. */
export function toRpcError(err: unknown): RpcError {
  if (err instanceof RpcError) return err;
  return new InternalRpcError(err instanceof Error ? err.message : String(err));
}
