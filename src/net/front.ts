/**
 * Builds the network front from the config: JSON-RPC engine over a method table, STOMP server,
 * the HTTP stand-in and the acceptor (a lifecycle Part). The supervisor calls createFront once.
 */
import type { Config } from '../config/schema.js';
import { getLogger, type Logger } from '../log.js';
import { JsonRpcEngine } from '../rpc/engine.js';
import { EventBus } from '../rpc/events.js';
import type { MethodTable } from '../rpc/method-table.js';
import { Acceptor } from './acceptor.js';
import type { ProtocolHandler } from './handoff.js';
import { NotImplementedHttp } from './http-501.js';
import type { ConnectionSettings } from './stomp/connection.js';
import { StompServer } from './stomp/server.js';

export interface FrontOptions {
  /** The daemon's events bus; a new one when absent. */
  events?: EventBus;
  /** The HTTP side (XML-RPC, WebSocket); a 501 stand-in until it exists. */
  http?: ProtocolHandler;
  /** Requests are answered with code 99 while this returns false (vdsm: recovering). */
  isReady?: () => boolean;
  /** Parent logger (tests); by default each component gets getLogger(<component>). */
  log?: Logger;
}

export interface Front {
  /** The lifecycle Part `acceptor`: listens on start, closes every connection on stop. */
  readonly acceptor: Acceptor;
  readonly events: EventBus;
  readonly engine: JsonRpcEngine;
  readonly stomp: StompServer;
}

export function createFront(config: Config, methods: MethodTable, options: FrontOptions = {}): Front {
  // getLogger's loggers follow Host.setLogLevel; children of a given logger (tests) do not need to.
  const logFor = (component: string): Logger => (options.log ? options.log.child({ component }) : getLogger(component));
  const events = options.events ?? new EventBus({ log: logFor('events') });
  const engine = new JsonRpcEngine(methods, {
    log: logFor('jsonrpc'),
    ...(options.isReady ? { isReady: options.isReady } : {}),
  });
  const stomp = new StompServer({
    engine,
    events,
    settings: stompSettings(config),
    log: logFor('stomp'),
  });
  const acceptor = new Acceptor({
    host: config.addresses.management_ip,
    port: config.addresses.management_port,
    tls: config.vars.ssl
      ? { caFile: config.tls.ca_file, certFile: config.tls.cert_file, keyFile: config.tls.key_file }
      : undefined,
    handshakeTimeoutMs: config.tls.handshake_timeout * 1000,
    detectionTimeoutMs: config.acceptor.detection_timeout * 1000,
    maxConnections: config.acceptor.max_connections,
    allowPlaintextRemote: config.vars.allow_plaintext_remote,
    stomp,
    http: options.http ?? new NotImplementedHttp(logFor('http')),
    log: logFor('acceptor'),
  });
  return { acceptor, events, engine, stomp };
}

export function stompSettings(config: Config): ConnectionSettings {
  const s = config.stomp;
  return {
    limits: { maxFrameSize: s.max_frame_size, maxHeaders: s.max_headers, maxHeaderLine: s.max_header_line },
    maxOutboundBuffer: s.max_outbound_buffer,
    maxPendingRequests: s.max_pending_requests,
    heartbeatGraceMs: s.heartbeat_grace * 1000,
    outgoingHeartbeatMs: s.outgoing_heartbeat,
  };
}
