/**
 * Builds every part of the daemon and hands them to a Lifecycle in start order (vdsm's clientIF):
 *
 *   hypervisor  the libvirt connection and its event thread
 *   executors   the scheduler and the `rpc`, `periodic` and `qga` worker pools
 *   health      metrics: health checks and the statsd socket
 *   host        the first host sample: resources are known before any client is served
 *   recovery    every domain on the host registered as a VM (nothing lost across a restart)
 *   guests      the guest agents' channels of every VM
 *   periodic    host and VM sampling, the QEMU guest agent poller
 *   acceptor    the management port
 *   broker      requests through a STOMP broker, when broker mode is on (last to start, first to stop)
 *
 * Stop runs in reverse. The config is cut into narrow settings here, once; each builder of this
 * folder makes one part from its settings. Every libvirt call runs in a worker; this folder only wires.
 */
import type { Operation } from '../concurrency/index.js';
import type { Config } from '../config/schema.js';
import { Lifecycle, type Part } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { createMetrics } from '../metrics/index.js';
import { callVerb } from '../tasks/libvirt.js';
import { destroyOnReboot } from '../virt/destroy-on-reboot.js';
import { Hypervisor } from '../virt/hypervisor.js';
import { JobRegistry } from '../virt/jobs.js';
import type { CycleReport } from '../virt/sampling/vm-sampler.js';
import { buildExecutors } from './executors.js';
import { buildServing } from './front.js';
import { HelperClient } from '../helper/client.js';
import { buildGuests } from './guests.js';
import { buildSampling } from './sampling.js';
import { daemonSettings } from './settings.js';
import { buildMigrations } from './migrations.js';
import { buildVms, recovery } from './vms.js';

export interface Daemon {
  readonly lifecycle: Lifecycle;
  /** Worker threads still stuck in a call after the stop: the process must exit the hard way. */
  stuckThreads(): number;
  /** The management port actually bound (useful with port 0). */
  port(): number | undefined;
  /** What the last VM sampling cycle did (benchmarks, diagnostics). */
  lastVmCycle(): CycleReport | undefined;
  /** The hypervisor connection part (in-process fault tests reach its `simulateDrop()` here). */
  readonly hypervisor: Hypervisor;
}

export function buildDaemon(config: Config, log: Logger): Daemon {
  const settings = daemonSettings(config);
  const hypervisor = new Hypervisor(settings.uri);
  const executors = buildExecutors(settings.pools);
  const { scheduler, rpc, periodic, qga } = executors;

  const vms = buildVms({ hypervisor, commandTimeout: settings.vmCommandTimeout });
  const sampling = buildSampling(settings.sampling, vms, periodic, log);
  const jobs = new JobRegistry();
  const migrations = buildMigrations(settings.migration, { vms, host: sampling.host, rpc, jobs, log });
  const recovered = recovery({
    uri: settings.uri,
    registry: vms.registry,
    periodic,
    onRecovered: () => {
      sampling.host.refreshResources();
      for (const vm of vms.registry.all()) if (vm.status === 'Migration Source') migrations.watchRecovered(vm);
    },
    log,
  });
  const guests = buildGuests(settings.guests, vms.registry, qga, scheduler);
  destroyOnReboot({
    vm: (id) => vms.registry.get(id),
    onReboot: (listener) => hypervisor.on('reboot', listener),
    destroy: async (vmId) => {
      await callVerb(rpc, { uri: settings.uri, verb: 'destroy', args: [vmId] });
    },
    log,
  });
  // A libvirtd restart can come with a new QEMU or new CPU models.
  hypervisor.on('connection-reopened', () => sampling.refreshCapabilities());

  const metrics = createMetrics(config, {
    executors: [rpc, periodic, qga],
    hostStats: () => sampling.host.stats(vms.registry.counts()),
    vms: () => vms.registry.all(),
    vmStats: vms.stats,
  });
  const operations = [
    ...sampling.operations(scheduler, {
      executor: metrics.daemon.timed(periodic),
      afterHostSample: () => metrics.sampling.afterHostSample(),
      afterVmCycle: () => metrics.sampling.afterVmCycle(),
    }),
    guests.qgaOperation,
  ];
  const finite = (age: number): number | null => (Number.isFinite(age) ? age : null);
  const helper = new HelperClient(config.helper.socket, config.helper.timeout * 1000);
  const serving = buildServing(config, settings, {
    vms,
    helper,
    isReady: recovered.done,
    host: sampling.host,
    capabilities: sampling.capabilities,
    agents: guests.agents,
    jobs,
    migrations,
    rpc: metrics.daemon.timed(rpc),
    metrics,
    health: () => ({
      hypervisorConnected: hypervisor.connected,
      executors: [rpc.state(), periodic.state(), qga.state()],
      hostSampleAge: finite(sampling.host.sampleAge()),
      vmSampleAge: finite(vms.cache.newestAge()),
    }),
  });

  const parts: Part[] = [
    hypervisor,
    executors.part,
    metrics.health,
    sampling.firstHostSample,
    recovered.part,
    guests.part,
    periodicPart(operations),
    serving.acceptor,
    serving.broker,
    { name: 'helper', start() {}, stop: () => helper.close() },
  ];
  return {
    lifecycle: new Lifecycle(parts, log),
    stuckThreads: executors.stuckThreads,
    port: () => serving.front.acceptor.port,
    lastVmCycle: () => sampling.sampler.lastCycle,
    hypervisor,
  };
}

/** The periodic Operations as one Part: started in order, stopped in reverse. */
function periodicPart(operations: readonly Operation[]): Part {
  return {
    name: 'periodic',
    start() {
      for (const operation of operations) operation.start();
    },
    stop() {
      for (const operation of [...operations].reverse()) operation.stop();
    },
  };
}
