/**
 * Builds every part of the daemon and hands them to a Lifecycle in start order (vdsm's clientIF):
 *
 *   hypervisor  the libvirt connection and its event thread
 *   executors   the scheduler and the `rpc` and `periodic` worker pools
 *   host        the first host sample: resources are known before any client is served
 *   recovery    every domain on the host registered as a VM (nothing lost across a restart)
 *   guests      the guest agents' channels of every VM
 *   periodic    host and VM sampling, the QEMU guest agent poller
 *   acceptor    the management port
 *   broker      requests through a STOMP broker, when broker mode is on (last to start, first to stop)
 *
 * Stop runs in reverse. Every libvirt call runs in a worker; this file only wires.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ApiContext } from './api/context.js';
import { buildMethodTable } from './api/table.js';
import { GuestData } from './virt/guest/guest-data.js';
import { GuestAgents } from './virt/guest/guests.js';
import { GuestListener } from './virt/guest/listener.js';
import { QemuAgentPoller } from './virt/guest/qemu-agent.js';
import { LegacyXmlRpc } from './api/xmlrpc-legacy.js';
import { Executor, Operation, Scheduler, type TaskSpec } from './concurrency/index.js';
import type { Config } from './config/schema.js';
import { Lifecycle, type Part } from './lifecycle.js';
import { createMetrics } from './metrics/index.js';
import { getLogger, setLogLevel, type Logger } from './log.js';
import { createBrokerPart } from './net/broker/part.js';
import { createFront } from './net/front.js';
import { repoRoot, workerFile } from './paths.js';
import { EventBus, eventTime } from './rpc/events.js';
import { HostMonitor } from './virt/host/monitor.js';
import { Hypervisor } from './virt/hypervisor.js';
import { DomainState } from './virt/libvirt/index.js';
import { VmRegistry } from './virt/registry.js';
import { StatsCache } from './virt/sampling/stats-cache.js';
import type { VmSample } from './virt/sampling/vm-sample.js';
import { VmSampler, type CycleReport } from './virt/sampling/vm-sampler.js';
import { vmStats, type VmStatsElement } from './virt/vm-stats.js';
import { ExitCode, ExitReason, exitInfo, type Vm, type VmStatus } from './virt/vm.js';
import type { DiscoveredDomain } from '../workers/vm.js';

/** Seconds the first host sample may take, whatever the sampling period. */
const FIRST_SAMPLE_TIMEOUT = 10;

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

export function version(): string {
  return (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
}

/** A domain's libvirt state as the VM status it is recovered in. */
function recoveredStatus(state: number): VmStatus {
  switch (state) {
    case DomainState.RUNNING:
    case DomainState.BLOCKED:
      return 'Up';
    case DomainState.PAUSED:
    case DomainState.PMSUSPENDED:
      return 'Paused';
    case DomainState.SHUTDOWN:
      return 'Powering down';
    default:
      return 'Down';
  }
}

export function buildDaemon(config: Config, log: Logger): Daemon {
  const uri = config.libvirt.uri;
  const scheduler = new Scheduler('hostvisor.Scheduler', { logger: getLogger('scheduler') });
  const executor = (name: string, workers: number, tasksPerWorker: number, maxWorkers: number, worker: string, warmThreads?: number): Executor =>
    new Executor({
      name,
      workers,
      maxTasks: workers * tasksPerWorker,
      maxWorkers,
      scheduler,
      filename: workerFile(worker),
      logger: getLogger('executor', { executor: name }),
      ...(warmThreads === undefined ? {} : { warmThreads }),
    });
  // API verbs that reach libvirt are occasional, and the QEMU agent poller works a few times a
  // minute: they keep few threads warm and start the rest on demand. One warm rpc thread, not two:
  // each idle thread holds ~10 MB, and a second verb at once waits only for a thread's boot.
  const rpc = executor('rpc', config.rpc.worker_threads, config.rpc.tasks_per_worker, config.rpc.max_workers, 'libvirt', 1);
  const s = config.sampling;
  // Sampling needs two threads at once: the VM cycle (one bulk call; two chunks on the per-VM
  // path) and the host sample. The other periodic workers start on demand (a stuck call's
  // replacement, a burst): each warm idle thread holds ~10 MB.
  const periodic = executor('periodic', s.periodic_workers, s.periodic_task_per_worker, s.max_workers, 'libvirt', 2);
  const ga = config.guest_agent;
  const qga = executor('qga', ga.periodic_workers, ga.periodic_task_per_worker, ga.max_workers, 'qga', 1);

  const events = new EventBus();
  const registry = new VmRegistry(events, { eventTime, monotonic: () => performance.now() / 1000 });
  const vmCache = new StatsCache<VmSample>(getLogger('stats-cache'));
  registry.onAdded((vm) => vmCache.add(vm.id));
  // A VM back from Down must not look unresponsive before its first new sample.
  registry.onStarted((vm) => vmCache.add(vm.id));

  const hypervisor = new Hypervisor(config);
  hypervisor.on('lifecycle', (event) => registry.handleEvent(event));
  hypervisor.on('io-error', (event) => registry.handleEvent(event));

  const host = new HostMonitor({
    uri,
    statvfsPaths: config.sampling.statvfs_paths,
    instancesPath: config.sampling.instances_path,
    vcpuPinSet: config.sampling.vcpu_pin_set,
    vms: () => registry.all(),
    onResources: (view) => events.emit('host', 'resources', 'no_id', { resources: view }),
    log: getLogger('host-monitor'),
  });
  const sampler = new VmSampler({
    uri,
    cache: vmCache,
    vms: () => registry.all(),
    // The domain went away without an event we saw (e.g. undefined behind our back).
    onVanished: (vmId) => registry.get(vmId)?.markDown(exitInfo(ExitCode.ERROR, ExitReason.LIBVIRT_DOMAIN_MISSING)),
    log: getLogger('vm-sampling'),
    // As many per-VM chunks as warm periodic threads: the per-VM calls are short (NOWAIT), two
    // chunks keep two cores busy, and more would start threads for a few milliseconds' work.
    chunks: 2,
  });
  registry.onRemoved((vm) => {
    vmCache.remove(vm.id);
    sampler.forget(vm.id);
  });
  const vmStatsOf = (vm: Vm): VmStatsElement => vmStats(vm, vmCache.get(vm.id), { commandTimeout: config.vars.vm_command_timeout });
  // `front` is read only at health checks, after it exists.
  const metrics = createMetrics(config, {
    executors: [rpc, periodic, qga],
    connections: () => front.acceptor.connectionCount,
    hostStats: () => host.stats(registry.counts()),
    vms: () => registry.all(),
    vmStats: vmStatsOf,
  });
  const timedPeriodic = metrics.daemon.timed(periodic);

  const hostTimeout = config.vars.host_sample_stats_interval;
  const hostOperation = new Operation(
    async (ctx) => {
      await host.sample(ctx);
      metrics.sampling.afterHostSample();
    },
    config.vars.host_sample_stats_interval,
    scheduler,
    { name: 'host-sampling', exclusive: true, executor: timedPeriodic, timeout: hostTimeout },
  );
  const powerUpGrace = config.vars.guest_agent_timeout;
  const vmOperation = new Operation(
    async (ctx) => {
      for (const vm of registry.all()) vm.checkPowerUp(powerUpGrace);
      await sampler.sample(ctx);
      void metrics.sampling.afterVmCycle(); // never rejects; yields between batches of VMs
    },
    config.vars.vm_sample_interval,
    scheduler,
    { name: 'vm-sampling', executor: timedPeriodic },
  );

  const guestData = new GuestData(registry);
  const guestListener = new GuestListener({
    vms: registry,
    data: guestData,
    channelsDir: ga.channels_dir,
    staleAfter: config.vars.guest_agent_timeout,
    log: getLogger('guest-channels'),
  });
  const qgaPoller = new QemuAgentPoller({
    uri,
    vms: registry,
    data: guestData,
    commandTimeout: ga.qga_command_timeout,
    tick: ga.qga_polling_period,
    log: getLogger('qga-poller'),
  });
  const qgaOperation = new Operation(qgaPoller.poll, ga.qga_polling_period, scheduler, {
    name: 'qga-poller',
    exclusive: true,
    executor: qga,
    timeout: ga.qga_task_timeout,
  });

  const api: ApiContext = {
    uri,
    rpc: metrics.daemon.timed(rpc),
    verbTimeout: config.rpc.worker_timeout,
    registry,
    host,
    vmStats: vmStatsOf,
    setLogLevel,
    version: version(),
    guests: new GuestAgents(guestListener, qgaPoller),
  };
  let recovered = false;
  const isReady = (): boolean => recovered;
  const methods = buildMethodTable(api);
  const finite = (age: number): number | null => (Number.isFinite(age) ? age : null);
  const front = createFront(config, methods, {
    events,
    isReady,
    metrics: metrics.registry,
    onCall: metrics.daemon.onCall,
    xmlrpc: new LegacyXmlRpc(methods, { isReady }),
    health: {
      health: () => ({
        hypervisorConnected: hypervisor.connected,
        executors: [rpc.state(), periodic.state(), qga.state()],
        hostSampleAge: finite(host.sampleAge()),
        vmSampleAge: finite(vmCache.newestAge()),
        broker: broker.status(), // undefined when broker mode is off
      }),
    },
  });
  // Requests from a STOMP broker (fleet scale), through the same engine as direct clients.
  const broker = createBrokerPart(config, { engine: front.engine, events: front.events, log: getLogger('broker') });
  const acceptor: Part = {
    name: 'acceptor',
    start: (signal) => front.acceptor.start(signal),
    async stop() {
      await front.acceptor.stop();
      front.http?.close();
    },
  };

  let stuck = 0;
  const executors: Part = {
    name: 'executors',
    start() {
      scheduler.start();
      rpc.start();
      periodic.start();
      qga.start();
    },
    async stop() {
      const reports = await Promise.all([rpc.stop(), periodic.stop(), qga.stop()]);
      stuck = reports.reduce((n, r) => n + r.stuckThreads, 0);
      scheduler.stop();
    },
  };
  const firstHostSample: Part = {
    name: 'host',
    async start() {
      // Threads are still booting at start: a short sampling period must not fail the start.
      const timeout = Math.max(hostTimeout, FIRST_SAMPLE_TIMEOUT);
      await host.sample({ dispatch: (task: TaskSpec) => periodic.dispatch(task, { timeout, discard: true }) });
      log.info({ resources: host.resources }, 'host resources');
    },
    stop() {},
  };
  const recovery: Part = {
    name: 'recovery',
    async start() {
      const domains = await periodic.dispatch<DiscoveredDomain[]>({ name: 'discover', filename: workerFile('vm'), args: { uri } });
      for (const domain of domains) {
        const vm = registry.add(domain.uuid, domain.name, recoveredStatus(domain.state));
        vm.describe(domain);
      }
      host.refreshResources();
      recovered = true;
      log.info({ vms: registry.size }, 'recovered the VMs on the host');
    },
    stop() {},
  };
  const guests: Part = {
    name: 'guests',
    start: () => guestListener.start(),
    stop: () => guestListener.stop(),
  };
  const operations: Part = {
    name: 'periodic',
    start() {
      hostOperation.start();
      vmOperation.start();
      qgaOperation.start();
    },
    stop() {
      qgaOperation.stop();
      vmOperation.stop();
      hostOperation.stop();
    },
  };

  const lifecycle = new Lifecycle([hypervisor, executors, metrics.health, firstHostSample, recovery, guests, operations, acceptor, broker], log);
  return { lifecycle, stuckThreads: () => stuck, port: () => front.acceptor.port, lastVmCycle: () => sampler.lastCycle, hypervisor };
}
