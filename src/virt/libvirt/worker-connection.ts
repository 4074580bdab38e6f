/**
 * A worker thread's holder of the process-wide connection for a URI, opened on first use and kept
 * for the thread's life (the addon shares one connection among all threads).
 */
import { LibvirtConnection } from './connection.js';

const connections = new Map<string, LibvirtConnection>();

export function connectionFor(uri: string): LibvirtConnection {
  let conn = connections.get(uri);
  if (conn === undefined) {
    conn = new LibvirtConnection(uri);
    connections.set(uri, conn);
  }
  return conn;
}
