/**
 * The VMs of this host on the main thread: the events bus, the registry fed by libvirt's domain
 * events, the cache of their samples, destroy-on-reboot and devices re-read on device events; and
 * the `recovery` Part that registers every domain already on the host before any client is served
 * (nothing is lost across a restart).
 */
import type { Executor, TaskDispatcher } from '../concurrency/index.js';
import type { Part } from '../lifecycle.js';
import { getLogger, type Logger } from '../log.js';
import { EventBus, eventTime } from '../rpc/events.js';
import { callVerb } from '../tasks/libvirt.js';
import { vmTasks } from '../tasks/vm.js';
import { destroyOnReboot } from '../virt/destroy-on-reboot.js';
import { followDeviceChanges } from '../virt/device-changes.js';
import { parseDomainXml, type DomainDescription } from '../virt/domain-xml.js';
import type { Hypervisor } from '../virt/hypervisor.js';
import { DomainState } from '../virt/libvirt/index.js';
import { VmRegistry } from '../virt/registry.js';
import { StatsCache } from '../virt/sampling/stats-cache.js';
import type { VmSample } from '../virt/sampling/vm-sample.js';
import { vmStats, type VmStatsElement } from '../virt/vm-stats.js';
import type { Vm, VmStatus } from '../virt/vm.js';

export interface Vms {
  readonly events: EventBus;
  readonly registry: VmRegistry;
  readonly cache: StatsCache<VmSample>;
  /** A VM's stats element as VM.getStats answers it. */
  stats(vm: Vm): VmStatsElement;
  /** The domain as libvirt describes it now (its XML read in a worker). */
  describe(vmId: string): Promise<DomainDescription>;
}

export interface VmsOptions {
  hypervisor: Hypervisor;
  uri: string;
  /** Where a VM marked destroy-on-reboot is powered off (a libvirt call, so a worker pool). */
  rpc: TaskDispatcher;
  /** Seconds: stats older than this report the VM unresponsive. */
  commandTimeout: number;
  /** Seconds a libvirt call of ours may take. */
  verbTimeout: number;
  log: Logger;
}

export function buildVms(options: VmsOptions): Vms {
  const events = new EventBus();
  const registry = new VmRegistry(events, { eventTime, monotonic: () => performance.now() / 1000 });
  const cache = new StatsCache<VmSample>(getLogger('stats-cache'));
  registry.onAdded((vm) => cache.add(vm.id));
  // A VM back from Down must not look unresponsive before its first new sample.
  registry.onStarted((vm) => cache.add(vm.id));
  registry.onRemoved((vm) => cache.remove(vm.id));
  options.hypervisor.on('lifecycle', (event) => registry.handleEvent(event));
  options.hypervisor.on('io-error', (event) => registry.handleEvent(event));
  const describe = async (vmId: string): Promise<DomainDescription> =>
    parseDomainXml(await callVerb(options.rpc, { uri: options.uri, verb: 'xmlDesc', args: [vmId, 0] }, { timeout: options.verbTimeout, discard: true }));
  destroyOnReboot({
    vm: (id) => registry.get(id),
    onReboot: (listener) => options.hypervisor.on('reboot', listener),
    destroy: async (vmId) => {
      await callVerb(options.rpc, { uri: options.uri, verb: 'destroy', args: [vmId] });
    },
    log: options.log,
  });
  followDeviceChanges({
    vm: (id) => registry.get(id),
    onDeviceChanged: (listener) => options.hypervisor.on('device-changed', listener),
    describe,
    log: options.log,
  });
  return { events, registry, cache, stats: (vm) => vmStats(vm, cache.get(vm.id), { commandTimeout: options.commandTimeout }), describe };
}

export interface Recovery {
  /** Registers the domains already on the host. */
  readonly part: Part;
  /** False until then: requests are answered 99 (recovering) meanwhile. */
  done(): boolean;
}

export interface RecoveryOptions {
  uri: string;
  registry: VmRegistry;
  /** Where the domains are listed (a libvirt call, so a worker pool). */
  periodic: Executor;
  /** Called once every domain is registered (the resource view counts them). */
  onRecovered: () => void;
  log: Logger;
}

export function recovery(options: RecoveryOptions): Recovery {
  let done = false;
  const part: Part = {
    name: 'recovery',
    async start() {
      const domains = await vmTasks.discover(options.periodic, { uri: options.uri });
      for (const domain of domains) options.registry.add(domain.uuid, domain.name, recoveredStatus(domain.state, domain.migration)).describe(domain);
      options.onRecovered();
      done = true;
      options.log.info({ vms: options.registry.size }, 'recovered the VMs on the host');
    },
    stop() {},
  };
  return { part, done: () => done };
}

/**
 * A domain's libvirt state as the VM status it is recovered in. A migration libvirt is still
 * running (the daemon restarted in the middle) is reported as such; libvirt's events end it:
 * Stopped/Migrated (Down, exitReason 4) or Resumed (Up) on either side.
 */
export function recoveredStatus(state: number, migration?: 'out' | 'in'): VmStatus {
  if (migration === 'out') return 'Migration Source';
  if (migration === 'in') return 'Migration Destination';
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
