/**
 * What the XML-RPC route hands calls to. net/ knows no API: the daemon gives the front a maker of
 * one over the engine (api/xmlrpc-legacy.ts maps vdsm's legacy verbs onto the engine's methods).
 */
import type { XmlRpcValue } from '../xmlrpc/decode.js';

export interface XmlRpcCallContext {
  /** `host:port` of the client, for logs. */
  readonly peer: string;
  /** The client's address alone (vdsm reported it as `lastClient`). */
  readonly remoteAddress: string;
  /** The `FlowID` HTTP header (vdsm's correlation id over XML-RPC). */
  readonly flowId: string | undefined;
}

export interface XmlRpcBackend {
  /**
   * The value to send back as the methodResponse. Failures of the call itself are values too
   * (vdsm's `{status: {code, message}}`); a throw is answered as a fault.
   */
  call(method: string, params: XmlRpcValue[], ctx: XmlRpcCallContext): unknown;
}
