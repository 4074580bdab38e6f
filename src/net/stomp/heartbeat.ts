/**
 * STOMP 1.2 heart-beats: the `heart-beat: x,y` header of CONNECT and CONNECTED, and its
 * negotiation. Each side says it can send every x ms and wants to receive every y ms (0: never).
 * A side then sends every max(its x, the other's y) ms when both are non-zero, and expects
 * something every max(its y, the other's x) ms when both are non-zero.
 */

/** A non-zero interval is taken as at least this (as vdsm does): no peer gets beats every millisecond. */
export const MIN_HEARTBEAT_MS = 1000;

/** The header's two intervals in ms; a missing or malformed one is 0 (none). */
export function parseHeartBeat(value: string | undefined): [number, number] {
  const parts = (value ?? '0,0').split(',');
  return [interval(parts[0]), interval(parts[1])];
}

function interval(text: string | undefined): number {
  if (text === undefined || !/^\s*\d+\s*$/.test(text)) return 0;
  const ms = Number(text);
  return ms === 0 ? 0 : Math.max(ms, MIN_HEARTBEAT_MS);
}

/** A client's heart-beats after CONNECTED. */
export interface HeartbeatPlan {
  /** ms between our heart-beats when we wrote nothing else; 0 = none. */
  readonly sendEveryMs: number;
  /** ms of silence from the server we expect at most; 0 = no check. */
  readonly expectEveryMs: number;
}

/** The client's side of the negotiation: we offered `cx,cy`, the server answered `connectedHeader`. */
export function negotiate(offered: readonly [number, number], connectedHeader: string | undefined): HeartbeatPlan {
  const [cx, cy] = offered;
  const [sx, sy] = parseHeartBeat(connectedHeader);
  return {
    sendEveryMs: cx > 0 && sy > 0 ? Math.max(cx, sy) : 0,
    expectEveryMs: cy > 0 && sx > 0 ? Math.max(cy, sx) : 0,
  };
}
