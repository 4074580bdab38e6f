/**
 * The acceptor: one port for everything. TLS first when enabled (client certificate
 * required and checked against the CA, TLS 1.2 or newer, handshake deadline from accept), then
 * protocol detection on the decrypted bytes within its own deadline, then hand-off to STOMP or
 * HTTP. A cap on concurrent connections; accepts, detections, refusals and closes are logged
 * with the peer.
 */
import { readFile } from 'node:fs/promises';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Part } from '../lifecycle.js';
import { getLogger, type Logger } from '../log.js';
import { detectProtocol } from './detect.js';
import { peerName, type ProtocolHandler } from './handoff.js';

export interface TlsFiles {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface AcceptorOptions {
  readonly host: string;
  /** 0 picks a free port; see `port` once started. */
  readonly port: number;
  /** TLS with client certificates; plaintext when absent. */
  readonly tls?: TlsFiles | undefined;
  readonly handshakeTimeoutMs: number;
  readonly detectionTimeoutMs: number;
  readonly maxConnections: number;
  readonly stomp: ProtocolHandler;
  readonly http: ProtocolHandler;
  /** How long a stop waits for requests already read to be answered. */
  readonly drainTimeoutMs?: number;
  readonly log?: Logger;
}

export class Acceptor implements Part {
  readonly name = 'acceptor';
  private server: net.Server | undefined;
  private stopping = false;
  private readonly sockets = new Set<net.Socket>();
  /** Sockets whose protocol is not known yet: nothing of theirs has been read as a request. */
  private readonly detecting = new Set<net.Socket>();
  /** Called when the last socket has closed (a stop waits for it). */
  private onAllClosed: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly options: AcceptorOptions) {
    this.log = options.log ?? getLogger('acceptor');
  }

  /** The bound port (after start). */
  get port(): number {
    const address = this.server?.address();
    if (address === null || address === undefined || typeof address === 'string') throw new Error('acceptor is not listening');
    return address.port;
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  async start(signal: AbortSignal): Promise<void> {
    // Plaintext beyond loopback was refused when the config was loaded (config/load.ts).
    const { host, tls: files } = this.options;
    const server = files === undefined ? net.createServer() : await this.tlsServer(files);
    signal.throwIfAborted();
    this.server = server;
    server.maxConnections = this.options.maxConnections;
    server.on('connection', (socket: net.Socket) => this.accepted(socket, files !== undefined));
    server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.log.warn({ peer: `${data?.remoteAddress}:${data?.remotePort}`, max: this.options.maxConnections }, 'connection refused: too many connections');
    });
    server.on('error', (err) => this.log.error({ err }, 'listening socket error'));
    await this.listen(server, host);
    this.log.info({ host, port: this.port, tls: files !== undefined }, 'listening');
  }

  /**
   * Graceful stop: no new connections (the port closes at once), clients still being detected are
   * closed unserved, every request already read is answered, and each connection closes once its
   * last answer has gone out, all within the drain timeout. Whatever is left then is cut off.
   */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.stopping = true;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of this.detecting) socket.destroy();
    // Destroying a socket discards what it still has to write (a large answer): wait for the
    // connections to end by themselves after their drain.
    const drained = Promise.all([this.options.stomp.drain?.(), this.options.http.drain?.()]).then(() => this.allClosed());
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), this.options.drainTimeoutMs ?? 0)));
    if ((await Promise.race([drained, timeout])) === 'timeout') {
      this.log.warn({ connections: this.sockets.size, drainTimeoutMs: this.options.drainTimeoutMs }, 'requests still unanswered at the drain deadline: closing');
    }
    clearTimeout(timer);
    for (const socket of this.sockets) socket.destroy();
    await closed;
    this.server = undefined;
  }

  private allClosed(): Promise<void> {
    if (this.sockets.size === 0) return Promise.resolve();
    return new Promise((resolve) => (this.onAllClosed = resolve));
  }

  private async tlsServer(files: TlsFiles): Promise<tls.Server> {
    const [ca, cert, key] = await Promise.all([readFile(files.caFile), readFile(files.certFile), readFile(files.keyFile)]);
    const server = tls.createServer({
      ca,
      cert,
      key,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      handshakeTimeout: this.options.handshakeTimeoutMs,
    });
    server.on('secureConnection', (socket: tls.TLSSocket) => {
      socket.on('error', (err) => this.log.debug({ err, peer: peerName(socket) }, 'TLS socket error'));
      this.log.debug({ peer: peerName(socket), protocol: socket.getProtocol() }, 'TLS handshake done');
      this.detect(socket, peerName(socket));
    });
    server.on('tlsClientError', (err: Error & { code?: string }, socket: tls.TLSSocket) => {
      this.log.warn({ peer: peerName(socket), error: err.code ?? err.message }, 'TLS handshake failed: closing');
      socket.destroy();
    });
    return server;
  }

  private listen(server: net.Server, host: string): Promise<void> {
    const attempt = (h: string): Promise<void> =>
      new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen({ host: h, port: this.options.port }, () => {
          server.off('error', onError);
          resolve();
        });
      });
    return attempt(host).catch((err: NodeJS.ErrnoException) => {
      // As vdsm: no IPv6 on this host, listen on IPv4 instead.
      if (err.code !== 'EAFNOSUPPORT' || (host !== '::' && host !== '::1')) throw err;
      const fallback = host === '::' ? '0.0.0.0' : '127.0.0.1';
      this.log.warn({ host, fallback }, 'IPv6 not available: listening on IPv4');
      return attempt(fallback);
    });
  }

  private accepted(socket: net.Socket, tlsFirst: boolean): void {
    const peer = peerName(socket);
    this.sockets.add(socket);
    socket.setNoDelay(true);
    socket.on('error', (err) => this.log.debug({ err, peer }, 'socket error'));
    socket.on('close', () => {
      this.sockets.delete(socket);
      this.log.info({ peer }, 'connection closed');
      if (this.sockets.size === 0) this.onAllClosed?.();
    });
    this.log.info({ peer }, 'connection accepted');
    if (!tlsFirst) this.detect(socket, peer);
  }

  /** Reads until the protocol is known, within the detection deadline, then hands the socket off. */
  private detect(socket: net.Socket, peer: string): void {
    let head: Buffer | undefined;
    this.detecting.add(socket);
    const timer = setTimeout(() => {
      done();
      this.log.warn({ peer, timeoutMs: this.options.detectionTimeoutMs }, 'no protocol detected in time: closing');
      socket.destroy();
    }, this.options.detectionTimeoutMs);
    const done = (): void => {
      this.detecting.delete(socket);
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', done);
    };
    const onData = (chunk: Buffer): void => {
      head = head === undefined ? chunk : Buffer.concat([head, chunk]);
      const protocol = detectProtocol(head);
      if (protocol === 'more') return;
      done();
      if (protocol === 'unknown') {
        this.log.warn({ peer, head: head.toString('latin1', 0, 32) }, 'Unrecognized protocol: closing');
        socket.destroy();
        return;
      }
      socket.pause();
      if (this.stopping) {
        socket.destroy(); // nothing read from it was served; a stopping daemon takes no new client
        return;
      }
      this.log.info({ peer, protocol }, 'protocol detected');
      (protocol === 'stomp' ? this.options.stomp : this.options.http).accept(socket, head, peer);
    };
    socket.on('data', onData);
    socket.on('close', done);
  }
}
