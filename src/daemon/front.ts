/**
 * What clients reach: the API's method table over the VMs, the host, the rpc pool and the
 * privileged helper (the `helper` Part), the network front on the management port (the `acceptor`
 * Part) and broker mode (the `broker` Part, last to start and first to stop).
 */
import type { ApiContext } from '../api/context.js';
import { buildMethodTable } from '../api/table.js';
import { LegacyXmlRpc } from '../api/xmlrpc-legacy.js';
import type { TaskDispatcher } from '../concurrency/index.js';
import type { Config } from '../config/schema.js';
import { HelperClient } from '../helper/client.js';
import type { Part } from '../lifecycle.js';
import { getLogger, setLogLevel } from '../log.js';
import type { Metrics } from '../metrics/index.js';
import { createBrokerPart, type BrokerPart } from '../net/broker/part.js';
import { createFront, type Front } from '../net/front.js';
import type { HealthSnapshot } from '../net/http/health.js';
import type { GuestAgents } from '../virt/guest/guests.js';
import type { HostCapabilities } from '../virt/host/capabilities.js';
import { MemoryPolicy } from '../virt/host/memory-policy.js';
import type { HostMonitor } from '../virt/host/monitor.js';
import type { JobRegistry } from '../virt/jobs.js';
import type { Migrations } from '../virt/migration/migrations.js';
import type { Vm } from '../virt/vm.js';
import type { DaemonSettings } from './settings.js';
import type { Vms } from './vms.js';

export interface Serving {
  readonly front: Front;
  readonly acceptor: Part;
  readonly broker: BrokerPart;
  /** The connection to the privileged helper, closed at stop. */
  readonly helper: Part;
}

export interface ServingSources {
  vms: Vms;
  /** False while recovering: requests are answered 99 meanwhile. */
  isReady: () => boolean;
  host: HostMonitor;
  capabilities: HostCapabilities;
  agents: GuestAgents;
  jobs: JobRegistry;
  migrations: Migrations;
  /** The rpc pool, timed for metrics. */
  rpc: TaskDispatcher;
  metrics: Metrics<Vm>;
  /** /health's figures, less the broker's, which is added here. */
  health: () => Omit<HealthSnapshot, 'broker'>;
}

export function buildServing(config: Config, settings: DaemonSettings, sources: ServingSources): Serving {
  const { vms, metrics } = sources;
  const helper = new HelperClient(config.helper.socket, config.helper.timeout * 1000);
  const api: ApiContext = {
    uri: settings.uri,
    rpc: sources.rpc,
    verbTimeout: settings.verbTimeout,
    registry: vms.registry,
    host: sources.host,
    capabilities: sources.capabilities,
    jobs: sources.jobs,
    migrations: sources.migrations,
    memoryPolicy: new MemoryPolicy(getLogger('memory-policy'), (settings) => helper.call('ksm.configure', settings)),
    helper,
    vmStats: vms.stats,
    setLogLevel,
    agent: settings.sampling.agent,
    guests: sources.agents,
  };
  const methods = buildMethodTable(api);
  const { isReady } = sources;
  let broker: BrokerPart | undefined;
  const front = createFront(config, methods, {
    events: vms.events,
    isReady,
    metrics: metrics.registry,
    onCall: metrics.daemon.onCall,
    xmlrpc: (engine) => new LegacyXmlRpc(engine),
    // Read at each /health request, after the broker exists.
    health: { health: () => ({ ...sources.health(), broker: broker?.status() }) },
  });
  // Requests from a STOMP broker (fleet scale), through the same engine as direct clients.
  broker = createBrokerPart(config, { engine: front.engine, events: front.events, log: getLogger('broker') });
  metrics.daemon.countConnections(() => front.acceptor.connectionCount);
  const acceptor: Part = {
    name: 'acceptor',
    start: (signal) => front.acceptor.start(signal),
    async stop() {
      await front.acceptor.stop();
      front.http?.close();
    },
  };
  return { front, acceptor, broker, helper: { name: 'helper', start() {}, stop: () => helper.close() } };
}
