/**
 * The HTTP side's limits, as plain numbers (front.ts fills them from config [http]).
 */
import type { DecodeLimits } from '../xmlrpc/decode.js';

export interface HttpSettings {
  /** Largest request head, in bytes (node:http maxHeaderSize). */
  readonly maxHeaderSize: number;
  readonly headerTimeoutMs: number;
  readonly requestTimeoutMs: number;
  /** Idle connections (keep-alive between requests, or stalled mid-request) are closed after this. */
  readonly idleTimeoutMs: number;
  readonly maxBodySize: number;
  readonly xml: DecodeLimits;
  readonly ws: WsSettings;
}

export interface WsSettings {
  readonly maxMessage: number;
  /** 0: no pings. */
  readonly pingIntervalMs: number;
  /** Lower-cased Origins allowed; `*` allows any. Requests without Origin are always allowed. */
  readonly allowedOrigins: readonly string[];
  /** Requests of one JSON-RPC WebSocket served at once; past it the socket is not read. */
  readonly maxPendingRequests: number;
  /** Bytes queued for a client that does not read before it is cut off. */
  readonly maxOutboundBuffer: number;
}
