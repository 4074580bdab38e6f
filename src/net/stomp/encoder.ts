/**
 * STOMP frame encoding as vdsm does it: command, headers in order with names and
 * values escaped, a blank line, the body, NUL. A frame with a body carries `content-length` (a
 * stale one is rewritten where it stands); frames without a body (CONNECTED, RECEIPT) carry none.
 *
 * The hot path, MESSAGE to a subscriber, uses a per-subscription prefix made once, so a response
 * costs one allocation and one copy of its body.
 */
import { escapeHeader } from './escape.js';

export type HeaderList = Iterable<readonly [string, string]>;

/** A heart-beat on the wire: one LF. */
export const HEARTBEAT: Buffer = Buffer.from('\n', 'latin1');

export function encodeFrame(command: string, headers: HeaderList, body?: Buffer | string): Buffer {
  const bodyBytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : body;
  let head = `${command}\n`;
  let sawLength = false;
  for (const [name, value] of headers) {
    if (name === 'content-length') {
      if (bodyBytes === undefined || sawLength) continue;
      sawLength = true;
      head += `content-length:${bodyBytes.length}\n`;
      continue;
    }
    head += `${escapeHeader(name)}:${escapeHeader(value)}\n`;
  }
  if (bodyBytes !== undefined && !sawLength) head += `content-length:${bodyBytes.length}\n`;
  head += '\n';
  const headLen = Buffer.byteLength(head, 'utf8');
  const out = Buffer.allocUnsafe(headLen + (bodyBytes?.length ?? 0) + 1);
  out.write(head, 0, 'utf8');
  if (bodyBytes !== undefined) bodyBytes.copy(out, headLen);
  out[out.length - 1] = 0;
  return out;
}

/** vdsm's ERROR frame: plain-text body and content-length, no `message` header. */
export function encodeError(text: string): Buffer {
  return encodeFrame('ERROR', [], text);
}

export function encodeConnected(heartBeat: readonly [number, number]): Buffer {
  return encodeFrame('CONNECTED', [
    ['version', '1.2'],
    ['heart-beat', `${heartBeat[0]},${heartBeat[1]}`],
  ]);
}

export function encodeReceipt(receiptId: string): Buffer {
  return encodeFrame('RECEIPT', [['receipt-id', receiptId]]);
}

/**
 * Everything of a MESSAGE frame for a JSON response or event up to the content-length value,
 * with vdsm's header order: destination, content-type, subscription, content-length.
 */
export function messagePrefix(destination: string, subscriptionId: string): string {
  return `MESSAGE\ndestination:${escapeHeader(destination)}\ncontent-type:application/json\nsubscription:${escapeHeader(subscriptionId)}\ncontent-length:`;
}

/** prefix (messagePrefix as bytes) + length + blank line + body + NUL, in one buffer. */
export function encodeMessage(prefix: Buffer, body: Buffer): Buffer {
  const len = String(body.length);
  const out = Buffer.allocUnsafe(prefix.length + len.length + 2 + body.length + 1);
  let at = prefix.copy(out, 0);
  at += out.write(len, at, 'latin1');
  out[at++] = 0x0a;
  out[at++] = 0x0a;
  at += body.copy(out, at);
  out[at] = 0;
  return out;
}
