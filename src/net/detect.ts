/**
 * Protocol detection on the first bytes of a connection, deciding as soon as the
 * bytes allow rather than waiting for 11 of them as vdsm does:
 * - STOMP: one of the nine commands vdsm detects, or STOMP 1.2's `STOMP`, followed by an end of
 *   line; leading heart-beat newlines are allowed (vdsm wrongly rejects both).
 * - HTTP: an upper-case method token, a space and `/` (`GET /`, `POST /`, `PUT /`, …).
 * - anything else is unknown.
 */

export const STOMP_COMMANDS: ReadonlySet<string> = new Set([
  'MESSAGE',
  'SEND',
  'SUBSCRIBE',
  'UNSUBSCRIBE',
  'CONNECT',
  'CONNECTED',
  'ERROR',
  'RECEIPT',
  'DISCONNECT',
  'STOMP',
]);

export type Detected = 'stomp' | 'http' | 'unknown' | 'more';

/** More bytes than this without a decision (e.g. endless newlines) is not a protocol we speak. */
export const MAX_DETECTION_BYTES = 4096;
const MAX_TOKEN = 16;

const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const SLASH = 0x2f;

export function detectProtocol(head: Buffer): Detected {
  const len = Math.min(head.length, MAX_DETECTION_BYTES);
  let i = 0;
  while (i < len && (head[i] === LF || head[i] === CR)) i++;
  if (i === len) return head.length >= MAX_DETECTION_BYTES ? 'unknown' : 'more';

  let j = i;
  while (j < len && j - i <= MAX_TOKEN && head[j]! >= 0x41 && head[j]! <= 0x5a) j++;
  if (j === i || j - i > MAX_TOKEN) return 'unknown';
  const word = head.toString('latin1', i, j);
  if (j === len) return i === 0 || couldBeStomp(word) ? 'more' : 'unknown';

  const next = head[j];
  if (next === LF || next === CR) return STOMP_COMMANDS.has(word) ? 'stomp' : 'unknown';
  if (next === SPACE && i === 0) {
    if (j + 1 === len) return 'more';
    return head[j + 1] === SLASH ? 'http' : 'unknown';
  }
  return 'unknown';
}

function couldBeStomp(prefix: string): boolean {
  for (const command of STOMP_COMMANDS) if (command.startsWith(prefix)) return true;
  return false;
}
