/**
 * Plain JSON-RPC 2.0 over WebSocket (subprotocol `jsonrpc`, or none): each text message is one
 * JSON-RPC message for the engine, each reply one message back.
 *
 * Events are pushed as JSON-RPC notifications (`{"jsonrpc":"2.0","method":"|virt|VM_status|…",
 * "params":{…}}`, exactly as on jms.queue.events) to clients that asked for them with a request
 * the transport answers itself, not the method table:
 *   {"jsonrpc":"2.0","id":1,"method":"Events.subscribe","params":{"prefixes":["|virt|"]}} → true
 *   {"jsonrpc":"2.0","id":2,"method":"Events.unsubscribe"}                                → true
 * `prefixes` (optional) keeps only events whose method starts with one of them; a new subscribe
 * replaces the previous filter. Events.* is recognised as a single request, not inside a batch.
 */
import type { WebSocket } from 'ws';
import type { Logger } from '../../log.js';
import type { EncodedReply } from '../../rpc/engine.js';
import type { HostEvent } from '../../rpc/events.js';
import { InFlight, serve, type Replier, type RpcEngine, type ServedRequest } from '../../rpc/serve.js';
import type { WsSettings } from './settings.js';

export const EVENTS_SUBSCRIBE = 'Events.subscribe';
export const EVENTS_UNSUBSCRIBE = 'Events.unsubscribe';

export class JsonRpcSocket implements Replier<ServedRequest> {
  private closed = false;
  /** Every request of this client: the peer, and its count in flight (back-pressure). */
  private readonly request: ServedRequest;
  /** undefined: not subscribed; [] : every event. */
  private eventPrefixes: readonly string[] | undefined;

  constructor(
    private readonly ws: WebSocket,
    readonly peer: string,
    private readonly engine: RpcEngine,
    private readonly settings: WsSettings,
    private readonly log: Logger,
  ) {
    const inFlight = new InFlight(settings.maxPendingRequests, {
      pauseReading: () => ws.pause(),
      resumeReading: () => {
        if (!this.closed) ws.resume();
      },
    });
    this.request = { peer, inFlight };
    ws.on('message', (data: Buffer) => this.received(data.toString('utf8')));
    ws.on('close', () => {
      this.closed = true;
    });
  }

  get subscribed(): boolean {
    return this.eventPrefixes !== undefined;
  }

  /** An event from the bus; sent when this client asked for it. */
  event(event: HostEvent): void {
    const prefixes = this.eventPrefixes;
    if (prefixes === undefined || this.closed) return;
    if (prefixes.length > 0 && !prefixes.some((p) => event.method.startsWith(p))) return;
    this.send(event.json);
  }

  private received(text: string): void {
    if (this.closed) return;
    if (text.includes('"Events.') && this.transportRequest(text)) return;
    serve(this.engine, text, this.request, this, this.log);
  }

  /** Events.subscribe / Events.unsubscribe; false when the message is something else. */
  private transportRequest(text: string): boolean {
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return false;
    }
    if (msg === null || typeof msg !== 'object' || Array.isArray(msg)) return false;
    const { method, id, params, jsonrpc } = msg as Record<string, unknown>;
    if (jsonrpc !== '2.0' || (method !== EVENTS_SUBSCRIBE && method !== EVENTS_UNSUBSCRIBE)) return false;
    const respond = (body: string): void => {
      if (id !== undefined && id !== null) this.send(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},${body}}`);
    };
    if (method === EVENTS_UNSUBSCRIBE) {
      this.eventPrefixes = undefined;
      respond('"result":true');
      return true;
    }
    const prefixes = (params as { prefixes?: unknown } | undefined)?.prefixes;
    if (prefixes !== undefined && !(Array.isArray(prefixes) && prefixes.every((p) => typeof p === 'string'))) {
      const message = JSON.stringify(`Invalid method parameter(s): prefixes must be a list of strings`);
      respond(`"error":{"code":-32602,"message":${message}}`);
      return true;
    }
    this.eventPrefixes = (prefixes as string[] | undefined) ?? [];
    this.log.debug({ peer: this.peer, prefixes: this.eventPrefixes }, 'WebSocket client subscribed to events');
    respond('"result":true');
    return true;
  }

  /** Replier: the engine's reply goes back as one message. */
  replied(reply: EncodedReply | undefined): void {
    if (reply !== undefined) this.send(reply.json);
  }

  private send(json: string): void {
    if (this.closed) return;
    this.ws.send(json);
    if (this.ws.bufferedAmount > this.settings.maxOutboundBuffer) {
      this.log.warn({ peer: this.peer, queued: this.ws.bufferedAmount, limit: this.settings.maxOutboundBuffer }, 'WebSocket client is not reading: closing');
      this.closed = true;
      this.ws.terminate();
    }
  }
}
