/**
 * Who is at the other end of a unix socket, as the kernel recorded it at connect (SO_PEERCRED):
 * a check that a client cannot fake, unlike anything it sends. The libvirt addon provides it,
 * being the native module at hand.
 */
import type { Socket } from 'node:net';
import { native } from '../virt/libvirt/native.js';

export interface PeerCredentials {
  pid: number;
  uid: number;
  gid: number;
}

/** The peer of a connected unix socket; undefined when Node exposes no descriptor for it. */
export function peerCredentials(socket: Socket): PeerCredentials | undefined {
  // Node keeps the descriptor on its internal handle; a unix stream socket always has one.
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return undefined;
  return native.peerCredentials(fd);
}
