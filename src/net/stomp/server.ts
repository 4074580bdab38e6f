/**
 * The STOMP server: destinations and routing between clients.
 * - SEND to a request queue (or a `<queue>.` child) is a JSON-RPC message for the engine; its reply
 *   goes as MESSAGE to every subscriber of the SEND's `reply-to`. The reply-to travels with the
 *   request, so equal ids from different clients (or the same one) cannot collide as in vdsm's
 *   global id map.
 * - Any SEND is also forwarded to subscribers of its destination or a dot-separated parent of it;
 *   a SEND that is neither a request nor reaches anyone gets ERROR `Subscription not available`.
 * - Events go to every subscriber of the event queue, encoded once.
 */
import type { Socket } from 'node:net';
import { getLogger, type Logger } from '../../log.js';
import type { EncodedReply } from '../../rpc/engine.js';
import type { EventBus, HostEvent } from '../../rpc/events.js';
import { serve, type Replier, type RpcEngine, type ServedRequest } from '../../rpc/serve.js';
import type { ProtocolHandler } from '../handoff.js';
import { StompConnection, type ConnectionSettings, type StompRouter, type Subscription } from './connection.js';
import { encodeFrame } from './encoder.js';
import type { Frame } from './frame.js';
import { SocketTransport, type StompTransport } from './transport.js';

export const REQUEST_QUEUES = ['jms.topic.vdsm_requests', 'jms.topic.vdsm_irs_requests'] as const;
export const RESPONSE_QUEUE = 'jms.topic.vdsm_responses';
export const EVENT_QUEUE = 'jms.queue.events';

const ROUTE_CACHE_SIZE = 1024;

/** A SEND to a request queue: its reply goes to the SEND's reply-to. */
interface StompRequest extends ServedRequest {
  readonly conn: StompConnection;
  readonly replyTo: string | undefined;
}

interface Route {
  /** Subscribers a SEND is forwarded to as MESSAGE. */
  readonly targets: readonly Subscription[];
  /** A request queue or one of its children: the body is JSON-RPC for the engine. */
  readonly isRequest: boolean;
}

export interface StompServerOptions {
  engine: RpcEngine;
  settings: ConnectionSettings;
  events?: EventBus;
  requestQueues?: readonly string[];
  /** Where replies nobody asked for under an id (parse errors, invalid requests) go, as in vdsm. */
  responseQueue?: string;
  eventQueue?: string;
  log?: Logger;
}

export class StompServer implements StompRouter, ProtocolHandler, Replier<StompRequest> {
  private readonly destinations = new Map<string, Set<Subscription>>();
  /** destination → where a SEND to it goes; cleared on every subscription change. */
  private readonly routeCache = new Map<string, Route>();
  private readonly connections = new Set<StompConnection>();
  private readonly engine: RpcEngine;
  private readonly settings: ConnectionSettings;
  private readonly queues: readonly string[];
  private readonly queueChildren: readonly string[];
  private readonly responseQueue: string;
  private readonly eventQueue: string;
  private readonly log: Logger;
  private readonly unsubscribeEvents: (() => void) | undefined;

  constructor(options: StompServerOptions) {
    this.engine = options.engine;
    this.settings = options.settings;
    this.queues = options.requestQueues ?? REQUEST_QUEUES;
    this.queueChildren = this.queues.map((q) => `${q}.`);
    this.responseQueue = options.responseQueue ?? RESPONSE_QUEUE;
    this.eventQueue = options.eventQueue ?? EVENT_QUEUE;
    this.log = options.log ?? getLogger('stomp');
    this.unsubscribeEvents = options.events?.subscribe((event) => this.publishEvent(event));
  }

  /** ProtocolHandler: a socket the acceptor detected as STOMP. */
  accept(socket: Socket, head: Buffer, peer: string): void {
    this.attach(new SocketTransport(socket), head, peer);
  }

  /** A client on any transport (STOMP over WebSocket comes in here); `head` holds bytes already read. */
  attach(transport: StompTransport, head: Buffer, peer: string): StompConnection {
    const conn = new StompConnection(transport, peer, this, this.settings, this.log);
    this.connections.add(conn);
    conn.start(head);
    return conn;
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  /** Number of subscriptions on exactly `destination`. */
  subscriberCount(destination: string): number {
    return this.destinations.get(destination)?.size ?? 0;
  }

  /** Graceful stop: every client answers what it has read, then closes. */
  async drain(): Promise<void> {
    await Promise.all([...this.connections].map((conn) => conn.drain()));
  }

  /** Closes every client and stops listening to events. */
  close(): void {
    this.unsubscribeEvents?.();
    for (const conn of [...this.connections]) conn.close('server stopping', 'info', false);
  }

  subscribed(sub: Subscription): void {
    this.routeCache.clear();
    let subs = this.destinations.get(sub.destination);
    if (subs === undefined) {
      subs = new Set();
      this.destinations.set(sub.destination, subs);
    }
    subs.add(sub);
  }

  unsubscribed(sub: Subscription): void {
    this.routeCache.clear();
    const subs = this.destinations.get(sub.destination);
    if (subs === undefined) return;
    subs.delete(sub);
    if (subs.size === 0) this.destinations.delete(sub.destination);
  }

  closed(conn: StompConnection): void {
    this.connections.delete(conn);
  }

  send(conn: StompConnection, frame: Frame): void {
    const destination = frame.headers.get('destination');
    if (destination === undefined) {
      conn.sendError('Missing destination header');
      return;
    }
    const route = this.route(destination);
    for (const sub of route.targets) sub.conn.write(forwardedMessage(sub, frame));
    if (route.isRequest) this.request(conn, frame);
    else if (route.targets.length === 0) conn.sendError('Subscription not available');
  }

  /** Sends a JSON text in pieces (a response) to every subscriber of exactly `destination`. */
  deliver(destination: string, pieces: readonly string[]): number {
    const subs = this.destinations.get(destination);
    if (subs === undefined) return 0;
    for (const sub of subs) sub.conn.writeMessageText(sub, pieces);
    return subs.size;
  }

  private publishEvent(event: HostEvent): void {
    const subs = this.destinations.get(this.eventQueue);
    if (subs === undefined) return;
    for (const sub of subs) sub.conn.writeMessage(sub, event.bytes);
  }

  private request(conn: StompConnection, frame: Frame): void {
    const request: StompRequest = {
      flowId: frame.headers.get('ovirtCorrelationId'),
      peer: conn.peer,
      inFlight: conn.requests,
      conn,
      replyTo: frame.headers.get('reply-to'),
    };
    serve(this.engine, frame.body.toString('utf8'), request, this, conn.log);
  }

  /** Replier: the engine's reply to one request of `conn`. */
  replied(reply: EncodedReply | undefined, { conn, replyTo, flowId }: StompRequest): void {
    if (reply === undefined) return;
    // A reply under a null id goes where vdsm sends it: its Python client fails on a
    // null-id response in its own queue, the engine's queue tolerates it.
    const destination = reply.orphan ? this.responseQueue : replyTo;
    if (destination === undefined) {
      conn.log.debug({ peer: conn.peer, flowId }, 'request without reply-to: response dropped (as vdsm)');
      return;
    }
    if (this.deliver(destination, reply.pieces) === 0) {
      conn.log.debug({ peer: conn.peer, destination, flowId }, 'no subscriber for the response: dropped');
    }
  }

  /**
   * Where a SEND goes: subscribers of its destination and of its parents (`jms`, `jms.topic`, …
   * but not `jms.top`), and whether it is a request. Remembered until the next subscription change,
   * since requests reuse a few destinations.
   */
  private route(destination: string): Route {
    let route = this.routeCache.get(destination);
    if (route !== undefined) return route;
    const targets: Subscription[] = [];
    for (let end = destination.indexOf('.'); ; end = destination.indexOf('.', end + 1)) {
      const subs = this.destinations.get(end === -1 ? destination : destination.slice(0, end));
      if (subs !== undefined) targets.push(...subs);
      if (end === -1) break;
    }
    const isRequest = this.queues.some((q, i) => destination === q || destination.startsWith(this.queueChildren[i]!));
    route = { targets, isRequest };
    if (this.routeCache.size >= ROUTE_CACHE_SIZE) this.routeCache.clear();
    this.routeCache.set(destination, route);
    return route;
  }
}

/** vdsm's forwarded MESSAGE: `subscription` first, then the SEND's headers in order (a SEND
 * `subscription` header overrides the value in place), content-length recomputed. */
function forwardedMessage(sub: Subscription, frame: Frame): Buffer {
  const headers: [string, string][] = [['subscription', frame.headers.get('subscription') ?? sub.id]];
  for (const [name, value] of frame.headers) if (name !== 'subscription') headers.push([name, value]);
  return encodeFrame('MESSAGE', headers, frame.body);
}
