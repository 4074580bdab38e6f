/**
 * WebSocket upgrades on `/` and `/jsonrpc` through `ws` (noServer, handleUpgrade), after our own
 * checks: the Origin allow-list (browsers from other origins could otherwise drive the host with
 * the user's network position), the path, and the subprotocol:
 * - `v12.stomp` / `v11.stomp`: STOMP, attached to the same StompServer as TCP clients;
 * - `jsonrpc` or none: plain JSON-RPC 2.0 messages (ws-jsonrpc.ts).
 * Messages over the size limit close the socket with 1009 (ws does it); pings keep idle
 * connections honest: a client that has not answered the previous ping is dropped.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import type { EventBus } from '../../rpc/events.js';
import type { RpcEngine } from '../../rpc/serve.js';
import type { StompTransport } from '../stomp/transport.js';
import type { WsSettings } from './settings.js';
import { JsonRpcSocket } from './ws-jsonrpc.js';
import { WebSocketTransport } from './ws-stomp.js';

export const WS_PATHS: ReadonlySet<string> = new Set(['/', '/jsonrpc']);
export const STOMP_SUBPROTOCOLS = ['v12.stomp', 'v11.stomp'] as const;
export const JSONRPC_SUBPROTOCOL = 'jsonrpc';

/** The part of the StompServer a WebSocket needs. */
export interface StompAttach {
  attach(transport: StompTransport, head: Buffer, peer: string): unknown;
}

export interface WebSocketGatewayOptions {
  readonly settings: WsSettings;
  readonly engine: RpcEngine;
  readonly stomp: StompAttach;
  readonly events?: EventBus | undefined;
  readonly log: Logger;
}

type Choice = { kind: 'stomp' | 'jsonrpc'; protocol: string | undefined } | { kind: 'refused'; reason: string };

/** Picks the subprotocol: STOMP first (newest version), then jsonrpc, then none (plain JSON-RPC). */
export function chooseSubprotocol(header: string | undefined): Choice {
  if (header === undefined || header.trim() === '') return { kind: 'jsonrpc', protocol: undefined };
  const offered = new Set(header.split(',').map((p) => p.trim()));
  for (const p of STOMP_SUBPROTOCOLS) if (offered.has(p)) return { kind: 'stomp', protocol: p };
  if (offered.has(JSONRPC_SUBPROTOCOL)) return { kind: 'jsonrpc', protocol: JSONRPC_SUBPROTOCOL };
  return { kind: 'refused', reason: `none of the offered subprotocols is served (${[...STOMP_SUBPROTOCOLS, JSONRPC_SUBPROTOCOL].join(', ')})` };
}

export function originAllowed(origin: string | undefined, allowed: readonly string[]): boolean {
  if (origin === undefined) return true; // not a browser: nothing to protect against
  const o = origin.trim().toLowerCase();
  return allowed.includes('*') || allowed.includes(o);
}

export class WebSocketGateway {
  private readonly wss: WebSocketServer;
  private readonly jsonClients = new Set<JsonRpcSocket>();
  private readonly sockets = new Set<WebSocket>();
  private readonly unsubscribeEvents: (() => void) | undefined;
  private readonly log: Logger;

  constructor(private readonly options: WebSocketGatewayOptions) {
    this.log = options.log;
    this.wss = new WebSocketServer({
      noServer: true,
      clientTracking: false,
      maxPayload: options.settings.maxMessage,
      perMessageDeflate: false,
      // The choice was made (and refusals answered) before handleUpgrade.
      handleProtocols: (protocols) => {
        const choice = chooseSubprotocol([...protocols].join(','));
        return choice.kind === 'refused' ? false : (choice.protocol ?? false);
      },
    });
    this.unsubscribeEvents = options.events?.subscribe((event) => {
      for (const client of this.jsonClients) client.event(event);
    });
  }

  get connectionCount(): number {
    return this.sockets.size;
  }

  /** The server's `upgrade` event: checks, then the WebSocket handshake, then the protocol. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, path: string, peer: string): void {
    const origin = req.headers.origin;
    if (!originAllowed(origin, this.options.settings.allowedOrigins)) {
      this.log.warn({ peer, origin }, 'WebSocket refused: Origin not allowed');
      return reject(socket, 403, 'Forbidden', 'Origin not allowed\n');
    }
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return reject(socket, 400, 'Bad Request', 'only WebSocket upgrades are served\n');
    }
    if (!WS_PATHS.has(path)) return reject(socket, 404, 'Not Found', `no WebSocket endpoint at ${path}\n`);
    const choice = chooseSubprotocol(req.headers['sec-websocket-protocol']);
    if (choice.kind === 'refused') {
      this.log.info({ peer, offered: req.headers['sec-websocket-protocol'] }, 'WebSocket refused: unsupported subprotocol');
      return reject(socket, 400, 'Bad Request', `${choice.reason}\n`);
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.opened(ws, choice.kind, peer));
  }

  /** Closes every WebSocket and stops listening to events. */
  /** Graceful stop: each client is sent a close frame (1001, going away). */
  drain(): void {
    for (const ws of this.sockets) ws.close(1001, 'server stopping');
  }

  close(): void {
    this.unsubscribeEvents?.();
    for (const ws of this.sockets) ws.terminate();
  }

  private opened(ws: WebSocket, kind: 'stomp' | 'jsonrpc', peer: string): void {
    this.sockets.add(ws);
    this.log.info({ peer, protocol: ws.protocol || '(none)' }, 'WebSocket connected');
    ws.on('error', (err) => this.log.info({ peer, error: err.message }, 'WebSocket error: closing'));
    ws.on('close', (code: number) => {
      this.sockets.delete(ws);
      this.log.info({ peer, code }, 'WebSocket closed');
    });
    this.keepAlive(ws, peer);
    if (kind === 'stomp') {
      this.options.stomp.attach(new WebSocketTransport(ws), Buffer.alloc(0), peer);
      return;
    }
    const client = new JsonRpcSocket(ws, peer, this.options.engine, this.options.settings, this.log);
    this.jsonClients.add(client);
    ws.on('close', () => this.jsonClients.delete(client));
  }

  private keepAlive(ws: WebSocket, peer: string): void {
    const every = this.options.settings.pingIntervalMs;
    if (every <= 0) return;
    let answered = true;
    const alive = (): void => {
      answered = true;
    };
    ws.on('pong', alive);
    ws.on('message', alive);
    const timer = setInterval(() => {
      if (!answered) {
        this.log.warn({ peer, pingIntervalMs: every }, 'WebSocket client did not answer a ping: dropping');
        ws.terminate();
        return;
      }
      answered = false;
      ws.ping();
    }, every);
    timer.unref();
    ws.on('close', () => clearInterval(timer));
  }
}

/** A plain HTTP answer on a socket whose upgrade we refuse. */
function reject(socket: Duplex, status: number, reason: string, text: string): void {
  if (socket.writable) {
    socket.end(
      `HTTP/1.1 ${status} ${reason}\r\nConnection: close\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`,
    );
  }
  setTimeout(() => socket.destroy(), 1000).unref();
}
