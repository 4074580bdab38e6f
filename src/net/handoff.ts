/**
 * How the acceptor hands a detected connection to a protocol: the socket (paused, with nothing of
 * ours listening to its data) and the bytes read while detecting, which belong to the protocol.
 */
import type { Socket } from 'node:net';

export interface ProtocolHandler {
  accept(socket: Socket, head: Buffer, peer: string): void;
  /** Graceful stop: answer what was read, then close; resolves when done. */
  drain?(): Promise<void>;
}

/** `host:port` for logs; IPv4-mapped IPv6 shown as IPv4, IPv6 in brackets. */
export function peerName(socket: Socket): string {
  let host = socket.remoteAddress ?? 'unknown';
  if (host.startsWith('::ffff:') && host.includes('.')) host = host.slice(7);
  return host.includes(':') ? `[${host}]:${socket.remotePort}` : `${host}:${socket.remotePort}`;
}
