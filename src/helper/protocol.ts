/**
 * The contract between the daemon and its privileged helper, imported by both sides and by
 * neither from the other. The helper does only what is listed here: each operation has a name,
 * typed arguments (checked by the helper before anything runs) and a typed result.
 *
 * Wire: one JSON object per line over a unix stream socket. A request is
 * `{"id": n, "op": name, "args": {...}}`; its answer `{"id": n, "result": ...}` or
 * `{"id": n, "error": {"code": c, "message": text}}`, where `code` is a vdsm error code. Answers
 * may come in any order; a client may have several requests in flight.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';

/** vdsm's `{code, message}` answer of the network verbs. */
export const Status = Type.Object({ code: Type.Integer(), message: Type.String() });

/** The engine's request as it sends it; the helper canonicalizes and validates every value. */
const AttrMap = Type.Record(Type.String({ maxLength: 64 }), Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()));

export const HELPER_OPERATIONS = {
  /** Host.setupNetworks: validate, apply, check connectivity, roll back or keep. */
  'network.setup': {
    args: Type.Object({ networks: AttrMap, bondings: AttrMap, options: Type.Record(Type.String({ maxLength: 64 }), Type.Unknown()) }, { additionalProperties: false }),
    result: Status,
  },
  /** An engine request reached the daemon (Host.confirmConnectivity, Host.ping): a setup waiting for one stands. */
  'network.confirm': { args: Type.Object({}, { additionalProperties: false }), result: Type.Boolean() },
  /** Host.setSafeNetworkConfig: the running configuration becomes the one restored at boot. */
  'network.setSafe': { args: Type.Object({}, { additionalProperties: false }), result: Type.Boolean() },
  /** The KSM part of the engine's memory policy: ksmd on or off, merging across NUMA nodes. */
  'ksm.configure': {
    args: Type.Object({ run: Type.Optional(Type.Boolean()), mergeAcrossNodes: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
    result: Type.Boolean(),
  },
  /** Root-only host facts for the capabilities: the DMI serial number ('' when the host has none). */
  'host.serial': { args: Type.Object({}, { additionalProperties: false }), result: Type.String() },
} satisfies Record<string, { args: TSchema; result: TSchema }>;

export type HelperOperation = keyof typeof HELPER_OPERATIONS;
export type HelperArgs<O extends HelperOperation> = Static<(typeof HELPER_OPERATIONS)[O]['args']>;
export type HelperResult<O extends HelperOperation> = Static<(typeof HELPER_OPERATIONS)[O]['result']>;

export interface HelperRequest {
  id: number;
  op: string;
  args: unknown;
}

export type HelperReply = { id: number; result: unknown } | { id: number; error: { code: number; message: string } };

/** A request or answer line longer than this is refused (the engine's requests are a few kB). */
export const MAX_MESSAGE_BYTES = 1024 * 1024;

export function isHelperOperation(op: string): op is HelperOperation {
  return Object.prototype.hasOwnProperty.call(HELPER_OPERATIONS, op);
}
