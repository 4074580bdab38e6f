/**
 * Broker mode's settings, derived once from the config: where the broker is, who we are to it,
 * and the destinations with `{host}` filled in. Everything else in net/broker takes these.
 */
import { hostname } from 'node:os';
import type { Config } from '../../config/schema.js';
import type { FrameLimits } from '../stomp/frame.js';

export interface BrokerTls {
  /** PEM file paths; empty means "not given". */
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export interface BrokerSettings {
  readonly enabled: boolean;
  readonly address: string;
  readonly port: number;
  readonly login: string;
  readonly passcode: string;
  /** The STOMP `host` header; RabbitMQ takes it as the virtual host. */
  readonly vhost: string;
  readonly hostName: string;
  readonly requestDestinations: readonly string[];
  /** Empty: events are not published. */
  readonly eventsDestination: string;
  /** Offered both ways, ms; 0 = none. */
  readonly heartbeatMs: number;
  readonly connectTimeoutMs: number;
  readonly reconnectMinMs: number;
  readonly reconnectMaxMs: number;
  readonly maxInFlight: number;
  readonly tls: BrokerTls | undefined;
  readonly limits: FrameLimits;
}

export const DEFAULT_REQUEST_DESTINATION = '/queue/hostvisor.requests.{host}';

/** `{host}` → the host's name, e.g. `/queue/hostvisor.requests.{host}` → `/queue/hostvisor.requests.node7`. */
export function destinationFor(template: string, host: string): string {
  return template.split('{host}').join(host);
}

export function brokerSettings(config: Config): BrokerSettings {
  const b = config.broker;
  const hostName = b.host_name !== '' ? b.host_name : hostname();
  const requests = b.request_destinations.length > 0 ? b.request_destinations : [DEFAULT_REQUEST_DESTINATION];
  const s = config.stomp;
  return {
    enabled: config.vars.broker_enable,
    address: config.vars.broker_address,
    port: config.vars.broker_port,
    login: b.login,
    passcode: b.passcode,
    vhost: b.vhost,
    hostName,
    requestDestinations: requests.map((d) => destinationFor(d, hostName)),
    eventsDestination: destinationFor(b.events_destination, hostName),
    heartbeatMs: b.heartbeat,
    connectTimeoutMs: b.connect_timeout * 1000,
    reconnectMinMs: b.reconnect_min * 1000,
    reconnectMaxMs: Math.max(b.reconnect_max, b.reconnect_min) * 1000,
    maxInFlight: b.max_in_flight,
    tls: b.tls ? { caFile: b.ca_file, certFile: b.cert_file, keyFile: b.key_file } : undefined,
    limits: { maxFrameSize: s.max_frame_size, maxHeaders: s.max_headers, maxHeaderLine: s.max_header_line },
  };
}
