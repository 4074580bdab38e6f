/**
 * The HTTP side until the HTTP part (XML-RPC, WebSocket, metrics) exists: a plain
 * `501 Not Implemented` and close. Replaced by a node:http based ProtocolHandler.
 */
import type { Socket } from 'node:net';
import { getLogger, type Logger } from '../log.js';
import type { ProtocolHandler } from './handoff.js';

const BODY = 'HTTP is not served here yet; use STOMP\n';
const RESPONSE = Buffer.from(
  `HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(BODY)}\r\nConnection: close\r\n\r\n${BODY}`,
  'latin1',
);

export class NotImplementedHttp implements ProtocolHandler {
  constructor(private readonly log: Logger = getLogger('http')) {}

  accept(socket: Socket, head: Buffer, peer: string): void {
    const eol = head.indexOf(0x0d);
    const requestLine = head.toString('latin1', 0, Math.min(eol === -1 ? head.length : eol, 200));
    this.log.info({ peer, request: requestLine }, 'HTTP not implemented yet: answered 501');
    socket.resume(); // drain whatever else the client sends until it reads our close
    socket.end(RESPONSE);
  }
}
