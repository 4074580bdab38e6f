/**
 * Host and VM sampling: the host monitor (host figures and the resource view), the host's
 * capabilities, the VM sampler, the `host` Part that takes the first host sample and gathers the
 * capabilities before any client is served, the `link-monitor` Part that has them gathered again
 * after the kernel's network changes, and the periodic Operations. The Operations are made once
 * metrics exist (they report after each run), which is why they come from a second call.
 */
import { Operation, type Executor, type Scheduler, type TaskDispatcher, type TaskSpec } from '../concurrency/index.js';
import type { Part } from '../lifecycle.js';
import { getLogger, type Logger } from '../log.js';
import type { Dispatcher } from '../tasks/contract.js';
import { HostCapabilities } from '../virt/host/capabilities.js';
import { LinkMonitor } from '../virt/host/link-monitor.js';
import { HostMonitor } from '../virt/host/monitor.js';
import { VmSampler } from '../virt/sampling/vm-sampler.js';
import { ExitCode, ExitReason, exitInfo } from '../virt/vm.js';
import type { SamplingSettings } from './settings.js';
import type { Vms } from './vms.js';

/** Seconds the first host sample may take, whatever the sampling period. */
const FIRST_SAMPLE_TIMEOUT = 10;
/** Seconds one gathering of the capabilities may take (dpkg and libvirt on a loaded host). */
const CAPABILITIES_TIMEOUT = 60;

export interface SamplingHooks {
  /** Runs the sampling tasks (the periodic pool, timed for metrics). */
  executor: TaskDispatcher;
  afterHostSample(): void;
  /** Never rejects. */
  afterVmCycle(): Promise<void>;
}

export interface Sampling {
  readonly host: HostMonitor;
  readonly capabilities: HostCapabilities;
  /** Gathers the capabilities again now (after a reconnection to libvirt); failures are logged. */
  refreshCapabilities(): void;
  readonly sampler: VmSampler;
  /** The first host sample: resources are known before recovery and before any client. */
  readonly firstHostSample: Part;
  /** Gathers the capabilities again after the kernel's links or addresses change. */
  readonly linkMonitor: Part;
  operations(scheduler: Scheduler, hooks: SamplingHooks): Operation[];
}

export function buildSampling(settings: SamplingSettings, vms: Vms, periodic: Executor, log: Logger): Sampling {
  const host = hostMonitor(settings, vms);
  const sampler = vmSampler(settings, vms);
  const capabilities = new HostCapabilities({ uri: settings.uri, agent: settings.agent, network: settings.network, log: getLogger('capabilities') });
  const gatherer: Dispatcher = { dispatch: (task: TaskSpec) => periodic.dispatch(task, { timeout: CAPABILITIES_TIMEOUT, discard: true }) };
  const refreshCapabilities = (): void => {
    capabilities.refresh(gatherer).catch((err: unknown) => log.warn({ err }, 'gathering the host capabilities failed'));
  };

  const firstHostSample: Part = {
    name: 'host',
    async start() {
      // Threads are still booting at start: a short sampling period must not fail the start.
      const timeout = Math.max(settings.hostInterval, FIRST_SAMPLE_TIMEOUT);
      await Promise.all([host.sample({ dispatch: (task: TaskSpec) => periodic.dispatch(task, { timeout, discard: true }) }), capabilities.refresh(gatherer)]);
      log.info({ resources: host.resources }, 'host resources');
    },
    stop() {},
  };
  const operations = (scheduler: Scheduler, hooks: SamplingHooks): Operation[] =>
    samplingOperations(settings, { host, capabilities, sampler, vms }, scheduler, hooks);
  const linkMonitor = new LinkMonitor({ onChange: refreshCapabilities, log: getLogger('link-monitor') });
  return { host, capabilities, refreshCapabilities, sampler, firstHostSample, linkMonitor, operations };
}

function hostMonitor(settings: SamplingSettings, vms: Vms): HostMonitor {
  return new HostMonitor({
    uri: settings.uri,
    statvfsPaths: settings.statvfsPaths,
    instancesPath: settings.instancesPath,
    vcpuPinSet: settings.vcpuPinSet,
    vms: () => vms.registry.all(),
    onResources: (view) => vms.events.emit('host', 'resources', 'no_id', { resources: view }),
    log: getLogger('host-monitor'),
  });
}

function vmSampler(settings: SamplingSettings, vms: Vms): VmSampler {
  const { registry } = vms;
  const sampler = new VmSampler({
    uri: settings.uri,
    cache: vms.cache,
    vms: () => registry.all(),
    // The domain went away without an event we saw (e.g. undefined behind our back).
    onVanished: (vmId) => registry.get(vmId)?.markDown(exitInfo(ExitCode.ERROR, ExitReason.LIBVIRT_DOMAIN_MISSING)),
    log: getLogger('vm-sampling'),
    // As many per-VM chunks as warm periodic threads: the per-VM calls are short (NOWAIT), two
    // chunks keep two cores busy, and more would start threads for a few milliseconds' work.
    chunks: 2,
  });
  registry.onRemoved((vm) => sampler.forget(vm.id));
  return sampler;
}

/** The periodic sampling: capabilities on a slow period, the host, and every VM. */
function samplingOperations(
  settings: SamplingSettings,
  parts: { host: HostMonitor; capabilities: HostCapabilities; sampler: VmSampler; vms: Vms },
  scheduler: Scheduler,
  hooks: SamplingHooks,
): Operation[] {
  const { host, capabilities, sampler, vms } = parts;
  return [
    new Operation(capabilities.refresh, settings.capabilitiesInterval, scheduler, {
      name: 'capabilities',
      exclusive: true,
      executor: hooks.executor,
      timeout: CAPABILITIES_TIMEOUT,
    }),
    new Operation(
      async (ctx) => {
        await host.sample(ctx);
        hooks.afterHostSample();
      },
      settings.hostInterval,
      scheduler,
      { name: 'host-sampling', exclusive: true, executor: hooks.executor, timeout: settings.hostInterval },
    ),
    new Operation(
      async (ctx) => {
        for (const vm of vms.registry.all()) vm.checkPowerUp(settings.powerUpGrace);
        await sampler.sample(ctx);
        void hooks.afterVmCycle(); // never rejects; yields between batches of VMs
      },
      settings.vmInterval,
      scheduler,
      { name: 'vm-sampling', executor: hooks.executor },
    ),
  ];
}
