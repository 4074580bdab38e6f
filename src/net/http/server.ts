/**
 * The HTTP side of the management port: a node:http Server that never listens itself; the
 * acceptor hands it sockets it detected as HTTP (ProtocolHandler). Keep-alive, and limits on the
 * request head (size, time), the whole request (time), the body (size, per route) and idleness.
 *
 * Routes (one module per concern):
 *   POST / and /RPC2            XML-RPC (xmlrpc.ts)
 *   GET / and /jsonrpc + Upgrade WebSocket: STOMP or JSON-RPC (websocket.ts)
 *   GET /health                 readiness (health.ts)
 *   GET /metrics                Prometheus text (metrics.ts)
 *   anything else               404 (405 for a known path with another method)
 */
import * as http from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Registry } from 'prom-client';
import type { Logger } from '../../log.js';
import type { EventBus } from '../../rpc/events.js';
import { peerName, type ProtocolHandler } from '../handoff.js';
import type { RpcEngine } from '../../rpc/serve.js';
import { HealthRoute, type HealthLimits, type HealthSource } from './health.js';
import { MetricsRoute } from './metrics.js';
import { refuse, sendText } from './respond.js';
import type { HttpSettings } from './settings.js';
import { WebSocketGateway, WS_PATHS, type StompAttach } from './websocket.js';
import type { XmlRpcBackend } from './xmlrpc-backend.js';
import { XMLRPC_PATHS, XmlRpcRoute } from './xmlrpc.js';

export interface HttpFrontOptions {
  readonly settings: HttpSettings;
  readonly engine: RpcEngine;
  readonly stomp: StompAttach;
  readonly events?: EventBus | undefined;
  /** POST /RPC2 answers a fault without one. */
  readonly xmlrpc?: XmlRpcBackend | undefined;
  /** GET /health is 404 without one. */
  readonly health?: { source: HealthSource; limits: HealthLimits } | undefined;
  /** GET /metrics is 404 without one. */
  readonly metrics?: Registry | undefined;
  readonly log: Logger;
}

const STATUS_TEXT: Record<string, [number, string]> = {
  HPE_HEADER_OVERFLOW: [431, 'Request Header Fields Too Large'],
  HPE_CHUNK_EXTENSIONS_OVERFLOW: [413, 'Payload Too Large'],
  ERR_HTTP_REQUEST_TIMEOUT: [408, 'Request Timeout'],
};

export class HttpFront implements ProtocolHandler {
  private readonly server: http.Server;
  private readonly peers = new WeakMap<object, string>();
  private readonly xmlrpc: XmlRpcRoute;
  private readonly health: HealthRoute | undefined;
  private readonly metrics: MetricsRoute | undefined;
  readonly websockets: WebSocketGateway;
  private readonly log: Logger;
  /** Requests being answered, for a graceful stop. */
  private active = 0;
  private draining: (() => void) | undefined;

  constructor(options: HttpFrontOptions) {
    const s = options.settings;
    this.log = options.log;
    this.xmlrpc = new XmlRpcRoute({ backend: options.xmlrpc, maxBodySize: s.maxBodySize, limits: s.xml, log: this.log });
    this.health = options.health && new HealthRoute(options.health.source, options.health.limits);
    this.metrics = options.metrics && new MetricsRoute(options.metrics, this.log);
    this.websockets = new WebSocketGateway({ settings: s.ws, engine: options.engine, stomp: options.stomp, events: options.events, log: this.log });
    this.server = http.createServer(
      {
        maxHeaderSize: s.maxHeaderSize,
        headersTimeout: s.headerTimeoutMs,
        requestTimeout: Math.max(s.requestTimeoutMs, s.headerTimeoutMs),
        keepAliveTimeout: s.idleTimeoutMs,
        // How often head and request deadlines are checked: a fraction of the shorter one.
        connectionsCheckingInterval: Math.max(10, Math.min(1000, Math.floor(s.headerTimeoutMs / 4))),
        noDelay: true,
      },
      (req, res) => this.request(req, res),
    );
    this.server.timeout = s.idleTimeoutMs;
    this.server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
      this.websockets.handleUpgrade(req, socket, head, pathOf(req.url), this.peerOf(req.socket));
    });
    this.server.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => this.clientError(err, socket));
    // node:http starts checking head and request deadlines when it starts listening; this
    // server never listens (the acceptor owns the port), so start the checks as listening would.
    this.server.emit('listening');
  }

  /** ProtocolHandler: the acceptor detected HTTP; `head` holds the bytes it read. */
  accept(socket: Socket, head: Buffer, peer: string): void {
    this.peers.set(socket, peer);
    socket.unshift(head);
    this.server.emit('connection', socket);
    socket.resume();
  }

  /**
   * Graceful stop: idle keep-alive connections close, requests being answered finish (with
   * `Connection: close`), WebSocket clients are sent a close frame, and then it resolves.
   */
  drain(): Promise<void> {
    this.websockets.drain();
    this.server.closeIdleConnections();
    if (this.active === 0) return Promise.resolve();
    return new Promise((resolve) => (this.draining = resolve));
  }

  /** Closes every HTTP and WebSocket connection and stops the deadline checks. */
  close(): void {
    this.websockets.close();
    this.server.closeAllConnections();
    this.server.close(() => undefined);
  }

  private peerOf(socket: Socket): string {
    return this.peers.get(socket) ?? peerName(socket);
  }

  private request(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.active++;
    res.once('close', () => {
      if (--this.active === 0 && this.draining) this.draining();
    });
    if (this.draining) res.setHeader('Connection', 'close');
    const path = pathOf(req.url);
    const method = req.method ?? '';
    const peer = this.peerOf(req.socket);
    const read = method === 'GET' || method === 'HEAD';
    if (XMLRPC_PATHS.has(path) && method === 'POST') {
      this.xmlrpc.serve(req, res, peer).catch((err: unknown) => this.failed(res, peer, err));
    } else if (path === '/health' && this.health && read) {
      this.health.serve(res);
    } else if (path === '/metrics' && this.metrics && read) {
      this.metrics.serve(res).catch((err: unknown) => this.failed(res, peer, err));
    } else {
      this.notFound(req, res, path, peer);
    }
  }

  private notFound(req: http.IncomingMessage, res: http.ServerResponse, path: string, peer: string): void {
    const allow = XMLRPC_PATHS.has(path) || WS_PATHS.has(path) ? 'POST, GET' : (path === '/health' && this.health) || (path === '/metrics' && this.metrics) ? 'GET, HEAD' : undefined;
    const [status, text] = allow === undefined ? [404, `nothing at ${path}\n`] : [405, `${req.method} not allowed on ${path}\n`];
    this.log.info({ peer, method: req.method, path, status }, 'HTTP request refused');
    const headers: Record<string, string> = allow === undefined ? {} : { Allow: allow };
    // An unread body would be taken for the next request: close instead of reading it.
    if (hasBody(req)) refuse(res, status, text, headers);
    else sendText(res, status, text, headers);
  }

  private failed(res: http.ServerResponse, peer: string, err: unknown): void {
    this.log.error({ peer, err }, 'HTTP request failed');
    if (!res.headersSent) refuse(res, 500, 'internal error\n');
    else res.destroy();
  }

  /** node:http's own answers (431, 408, 400), logged with the peer. */
  private clientError(err: NodeJS.ErrnoException, socket: Duplex): void {
    const [status, reason] = STATUS_TEXT[err.code ?? ''] ?? [400, 'Bad Request'];
    this.log.info({ peer: this.peers.get(socket) ?? 'unknown', error: err.code ?? err.message, status }, 'bad HTTP request: closing');
    // Not in the middle of an answer already on its way (a pipelined earlier request), as node:http's own handler.
    const answering = (socket as Duplex & { _httpMessage?: { headersSent: boolean } | null })._httpMessage?.headersSent === true;
    if (socket.writable && !answering && err.code !== 'ECONNRESET') socket.end(`HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    socket.destroy();
  }
}

function pathOf(url: string | undefined): string {
  const u = url ?? '/';
  const q = u.indexOf('?');
  return q === -1 ? u : u.slice(0, q);
}

function hasBody(req: http.IncomingMessage): boolean {
  const length = req.headers['content-length'];
  return (length !== undefined && length !== '0') || req.headers['transfer-encoding'] !== undefined;
}
