/**
 * Builds every part of the daemon and hands them to a Lifecycle in start order (vdsm's clientIF):
 *
 *   hypervisor    the libvirt connection and its event thread
 *   executors     the scheduler and the `rpc`, `periodic` and `qga` worker pools
 *   health        metrics: health checks and the statsd socket
 *   host          the first host sample: resources are known before any client is served
 *   link-monitor  capabilities gathered again after the kernel's network changes
 *   recovery      every domain on the host registered as a VM (nothing lost across a restart)
 *   guests        the guest agents' channels of every VM
 *   periodic      host and VM sampling, the QEMU guest agent poller
 *   helper        the connection to the privileged helper, closed once no client is served
 *   acceptor      the management port
 *   broker        requests through a STOMP broker, when broker mode is on (last to start,
 *                 first to stop)
 *
 * Stop runs in reverse. The config is cut into narrow settings here, once; each builder of this
 * folder makes one part from its settings. Every libvirt call runs in a worker; this folder only wires.
 */
import type { Executor, Operation } from '../concurrency/index.js';
import type { Config } from '../config/schema.js';
import { Lifecycle, type Part } from '../lifecycle.js';
import type { Logger } from '../log.js';
import { createMetrics, type Metrics } from '../metrics/index.js';
import type { HealthSnapshot } from '../net/http/health.js';
import { Hypervisor } from '../virt/hypervisor.js';
import { JobRegistry } from '../virt/jobs.js';
import type { CycleReport } from '../virt/sampling/vm-sampler.js';
import type { Vm } from '../virt/vm.js';
import { buildExecutors, type Executors } from './executors.js';
import { buildServing } from './front.js';
import { buildGuests } from './guests.js';
import { buildMigrations } from './migrations.js';
import { buildSampling, type Sampling, type SamplingHooks } from './sampling.js';
import { daemonSettings } from './settings.js';
import { buildVms, recovery, type Vms } from './vms.js';

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

  const vms = buildVms({ hypervisor, uri: settings.uri, rpc, commandTimeout: settings.vmCommandTimeout, verbTimeout: settings.verbTimeout, log });
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
  // A libvirtd restart can come with a new QEMU or new CPU models.
  hypervisor.on('connection-reopened', () => sampling.refreshCapabilities());

  const metrics = createMetrics(config, {
    executors: [rpc, periodic, qga],
    hostStats: () => sampling.host.stats(vms.registry.counts()),
    vms: () => vms.registry.all(),
    vmStats: vms.stats,
  });
  const operations = [...sampling.operations(scheduler, samplingHooks(metrics, periodic)), guests.qgaOperation];
  const serving = buildServing(config, settings, {
    vms,
    jobs,
    migrations,
    metrics,
    agents: guests.agents,
    isReady: recovered.done,
    host: sampling.host,
    capabilities: sampling.capabilities,
    rpc: metrics.daemon.timed(rpc),
    health: () => healthSnapshot(hypervisor, executors, sampling, vms),
  });

  const parts: Part[] = [
    hypervisor,
    executors.part,
    metrics.health,
    sampling.firstHostSample,
    sampling.linkMonitor,
    recovered.part,
    guests.part,
    periodicPart(operations),
    serving.helper,
    serving.acceptor,
    serving.broker,
  ];
  return {
    lifecycle: new Lifecycle(parts, log),
    stuckThreads: executors.stuckThreads,
    port: () => serving.front.acceptor.port,
    lastVmCycle: () => sampling.sampler.lastCycle,
    hypervisor,
  };
}

/** The sampling Operations run timed on the periodic pool and report to metrics after each run. */
function samplingHooks(metrics: Metrics<Vm>, periodic: Executor): SamplingHooks {
  return {
    executor: metrics.daemon.timed(periodic),
    afterHostSample: () => metrics.sampling.afterHostSample(),
    afterVmCycle: () => metrics.sampling.afterVmCycle(),
  };
}

/** /health's figures (the broker's are added where the broker is built). */
function healthSnapshot(hypervisor: Hypervisor, executors: Executors, sampling: Sampling, vms: Vms): Omit<HealthSnapshot, 'broker'> {
  const finite = (age: number): number | null => (Number.isFinite(age) ? age : null);
  return {
    hypervisorConnected: hypervisor.connected,
    executors: [executors.rpc.state(), executors.periodic.state(), executors.qga.state()],
    hostSampleAge: finite(sampling.host.sampleAge()),
    vmSampleAge: finite(vms.cache.newestAge()),
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
