/**
 * Test collectors for the metrics tests: a UDP listener standing in for statsd (it keeps every
 * datagram as received), a TCP line receiver standing in for graphite's carbon (plaintext protocol:
 * `path value timestamp\n`), and a free-port helper.
 */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';

export interface UdpCollector {
  readonly port: number;
  readonly datagrams: Buffer[];
  /** Every statsd line received so far. */
  lines(): string[];
  /** `name -> value` of the gauges received (the last one wins). */
  gauges(): Map<string, string>;
  /** Resolves once `predicate` holds, or rejects after `ms`. */
  until(predicate: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function udpCollector(): Promise<UdpCollector> {
  const socket: Socket = createSocket('udp4');
  const datagrams: Buffer[] = [];
  socket.on('message', (msg) => datagrams.push(msg));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  // A burst of a few hundred datagrams must not overflow the default receive buffer.
  socket.setRecvBufferSize(8 * 1024 * 1024);
  const lines = (): string[] => datagrams.flatMap((d) => d.toString('utf8').split('\n'));
  return {
    port: socket.address().port,
    datagrams,
    lines,
    gauges() {
      const out = new Map<string, string>();
      for (const line of lines()) {
        const m = /^(.*):([^:|]+)\|g$/.exec(line);
        if (m) out.set(m[1]!, m[2]!);
      }
      return out;
    },
    until: (predicate, ms = 5000) => waitUntil(predicate, ms),
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

export interface LineReceiver {
  readonly port: number;
  /** `path -> [value, timestamp]` of every plaintext line received (the last one wins). */
  readonly paths: Map<string, [string, string]>;
  until(predicate: () => boolean, ms?: number): Promise<void>;
  close(): Promise<void>;
}

export async function graphiteReceiver(): Promise<LineReceiver> {
  const paths = new Map<string, [string, string]>();
  const server: Server = createServer((conn) => {
    let rest = '';
    conn.setEncoding('utf8');
    conn.on('data', (chunk: string) => {
      rest += chunk;
      const lines = rest.split('\n');
      rest = lines.pop()!;
      for (const line of lines) {
        const [path, value, ts] = line.split(' ');
        if (path && value !== undefined && ts !== undefined) paths.set(path, [value, ts]);
      }
    });
    conn.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    port: address.port,
    paths,
    until: (predicate, ms = 10_000) => waitUntil(predicate, ms),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A UDP port nobody listens on (bound, then released). */
export async function unusedUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const port = socket.address().port;
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

/** A TCP port nobody listens on (bound, then released). */
export async function unusedTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function waitUntil(predicate: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
