/**
 * Broker mode as a lifecycle Part: `{ name: 'broker', start, stop }`, and its status for /health.
 * With `[vars] broker_enable = false` (the default) the Part does nothing and status() says
 * 'disabled'.
 */
import type { Config } from '../../config/schema.js';
import { getLogger, type Logger } from '../../log.js';
import type { EventBus } from '../../rpc/events.js';
import { BrokerLink } from './link.js';
import type { RpcEngine } from '../../rpc/serve.js';
import { brokerSettings, type BrokerSettings } from './settings.js';
import type { BrokerStatus } from './state.js';

export interface BrokerPart {
  readonly name: 'broker';
  start(signal: AbortSignal): void;
  stop(): Promise<void>;
  /** undefined when broker mode is off. */
  status(): BrokerStatus | undefined;
  /** Resolves once connected and subscribed (at once when broker mode is off). */
  ready(): Promise<void>;
  readonly settings: BrokerSettings;
}

export interface BrokerPartOptions {
  engine: RpcEngine;
  events?: EventBus;
  log?: Logger;
}

export function createBrokerPart(config: Config, options: BrokerPartOptions): BrokerPart {
  return brokerPartFrom(brokerSettings(config), options);
}

export function brokerPartFrom(settings: BrokerSettings, options: BrokerPartOptions): BrokerPart {
  if (!settings.enabled) {
    return {
      name: 'broker',
      start() {},
      async stop() {},
      status: () => undefined,
      ready: () => Promise.resolve(),
      settings,
    };
  }
  const link = new BrokerLink({
    settings,
    engine: options.engine,
    ...(options.events ? { events: options.events } : {}),
    log: options.log ?? getLogger('broker'),
  });
  return {
    name: 'broker',
    start: (signal) => link.start(signal),
    stop: () => link.stop(),
    status: () => link.status(),
    ready: () => link.ready(),
    settings,
  };
}
