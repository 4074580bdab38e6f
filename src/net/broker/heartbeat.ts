/**
 * STOMP 1.2 heart-beat negotiation from the client's side. We offer `cx,cy` in CONNECT, the
 * broker answers `sx,sy` in CONNECTED: we send every max(cx, sy) ms when both are non-zero, and
 * expect something from the broker every max(cy, sx) ms when both are non-zero.
 */
export interface HeartbeatPlan {
  /** ms between our heart-beats when we wrote nothing else; 0 = none. */
  readonly sendEveryMs: number;
  /** ms of broker silence we expect at most; 0 = no check. */
  readonly expectEveryMs: number;
}

export function parseHeartbeat(header: string | undefined): [number, number] {
  const [a, b] = (header ?? '0,0').split(',').map((p) => Number.parseInt(p.trim(), 10));
  const ok = (n: number | undefined): number => (n !== undefined && Number.isFinite(n) && n > 0 ? n : 0);
  return [ok(a), ok(b)];
}

export function negotiate(offered: readonly [number, number], connectedHeader: string | undefined): HeartbeatPlan {
  const [cx, cy] = offered;
  const [sx, sy] = parseHeartbeat(connectedHeader);
  return {
    sendEveryMs: cx > 0 && sy > 0 ? Math.max(cx, sy) : 0,
    expectEveryMs: cy > 0 && sx > 0 ? Math.max(cy, sx) : 0,
  };
}

/** Missing this many expected heart-beats in a row means the broker (or the path to it) is gone. */
export const MISSED_BEATS_ALLOWED = 2;
