/**
 * Builds the network front from the config: JSON-RPC engine over a method table, STOMP server,
 * the HTTP side (XML-RPC, WebSocket, /health, /metrics) and the acceptor (a lifecycle Part).
 * The daemon calls createFront once.
 */
import type { Registry } from 'prom-client';
import type { Config } from '../config/schema.js';
import { getLogger, type Logger } from '../log.js';
import { JsonRpcEngine, type CallObserver, type MethodInvoker } from '../rpc/engine.js';
import { EventBus } from '../rpc/events.js';
import type { MethodTable } from '../rpc/method-table.js';
import { Acceptor } from './acceptor.js';
import type { ProtocolHandler } from './handoff.js';
import type { HealthSource } from './http/health.js';
import { HttpFront } from './http/server.js';
import type { HttpSettings } from './http/settings.js';
import type { XmlRpcBackend } from './http/xmlrpc-backend.js';
import type { ConnectionSettings } from './stomp/connection.js';
import { StompServer } from './stomp/server.js';

export interface FrontOptions {
  /** The daemon's events bus; a new one when absent. */
  events?: EventBus;
  /** Replaces the built-in HTTP side (tests); normally absent. */
  http?: ProtocolHandler;
  /** Makes what answers POST / and /RPC2 over the front's engine (api/xmlrpc-legacy.ts); without it
   * XML-RPC calls get a fault. */
  xmlrpc?: (engine: MethodInvoker) => XmlRpcBackend;
  /** Figures behind GET /health; without it /health is 404. */
  health?: HealthSource;
  /** The registry GET /metrics exposes; without it /metrics is 404. */
  metrics?: Registry;
  /** Requests are answered with code 99 while this returns false (vdsm: recovering). */
  isReady?: () => boolean;
  /** Told of every answered call (metrics). */
  onCall?: CallObserver;
  /** Parent logger (tests); by default each component gets getLogger(<component>). */
  log?: Logger;
}

export interface Front {
  /** The lifecycle Part `acceptor`: listens on start, closes every connection on stop. */
  readonly acceptor: Acceptor;
  readonly events: EventBus;
  readonly engine: JsonRpcEngine;
  readonly stomp: StompServer;
  /** The built-in HTTP side; undefined when `options.http` replaced it. */
  readonly http: HttpFront | undefined;
}

export function createFront(config: Config, methods: MethodTable, options: FrontOptions = {}): Front {
  // getLogger's loggers follow Host.setLogLevel; children of a given logger (tests) do not need to.
  const logFor = (component: string): Logger => (options.log ? options.log.child({ component }) : getLogger(component));
  const events = options.events ?? new EventBus({ log: logFor('events') });
  const engine = new JsonRpcEngine(methods, {
    log: logFor('jsonrpc'),
    ...(options.isReady ? { isReady: options.isReady } : {}),
    ...(options.onCall ? { onCall: options.onCall } : {}),
  });
  const stomp = new StompServer({
    engine,
    events,
    settings: stompSettings(config),
    log: logFor('stomp'),
  });
  const http =
    options.http === undefined
      ? new HttpFront({
          settings: httpSettings(config),
          engine,
          stomp,
          events,
          xmlrpc: options.xmlrpc?.(engine),
          health: options.health && {
            source: options.health,
            // A few sampling periods without a fresh sample means sampling is stuck.
            limits: { maxHostSampleAge: 3 * config.vars.host_sample_stats_interval, maxVmSampleAge: 3 * config.vars.vm_sample_interval },
          },
          metrics: options.metrics,
          log: logFor('http'),
        })
      : undefined;
  const acceptor = new Acceptor({
    host: config.addresses.management_ip,
    port: config.addresses.management_port,
    tls: config.vars.ssl
      ? { caFile: config.tls.ca_file, certFile: config.tls.cert_file, keyFile: config.tls.key_file }
      : undefined,
    handshakeTimeoutMs: config.tls.handshake_timeout * 1000,
    detectionTimeoutMs: config.acceptor.detection_timeout * 1000,
    maxConnections: config.acceptor.max_connections,
    // Half the stop deadline answers what was read; the parts stopped after the acceptor get the rest.
    drainTimeoutMs: config.daemon.stop_timeout * 500,
    stomp,
    http: options.http ?? http!,
    log: logFor('acceptor'),
  });
  return { acceptor, events, engine, stomp, http };
}

export function httpSettings(config: Config): HttpSettings {
  const h = config.http;
  return {
    maxHeaderSize: h.max_header_size,
    headerTimeoutMs: h.header_timeout * 1000,
    requestTimeoutMs: h.request_timeout * 1000,
    idleTimeoutMs: h.idle_timeout * 1000,
    maxBodySize: h.max_body_size,
    xml: { maxDepth: h.xml_max_depth, maxValues: h.xml_max_values },
    ws: {
      maxMessage: h.ws_max_message,
      pingIntervalMs: h.ws_ping_interval * 1000,
      allowedOrigins: h.ws_allowed_origins.map((o) => o.toLowerCase()),
      maxPendingRequests: config.stomp.max_pending_requests,
      maxOutboundBuffer: config.stomp.max_outbound_buffer,
    },
  };
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
