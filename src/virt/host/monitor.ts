/**
 * Host sampling (vdsm's HostMonitor): each run takes one host sample, libvirt's node info and the
 * host readings (KSM, huge pages, NUMA, per-CPU times) in workers, keeps the last two of each for
 * rates, and recomputes the resource view. It is the body of
 * an exclusive Operation; the first run happens at start, before any client is served.
 */
import type { Logger } from '../../log.js';
import type { Dispatcher } from '../../tasks/contract.js';
import { hostCapsTasks, type StatsFacts } from '../../tasks/host-caps.js';
import { hostSampleTasks } from '../../tasks/host-sample.js';
import { libvirtTasks, type NodeSample } from '../../tasks/libvirt.js';
import { unwrap } from '../libvirt/outcome.js';
import type { HostIdentity, NodeInfo } from '../libvirt/types.js';
import { SampleWindow } from '../sampling/sample-window.js';
import { figureSource } from './caps/figures.js';
import { computeResources, offeredCpus, type ResourceView } from './resources.js';
import type { HostFacts, HostResourceSample } from './sample.js';
import { hostStats, type DriverMemory, type VmCounts } from './stats.js';

export interface HostMonitorOptions {
  uri: string;
  statvfsPaths: readonly string[];
  instancesPath: string;
  vcpuPinSet: string;
  /** The VMs whose use the resource view counts. */
  vms: () => Iterable<{ running: boolean; vcpus: number; memoryKiB: number }>;
  /** Called when the resource view changes (and after the first sample). */
  onResources: (view: ResourceView) => void;
  log: Logger;
}

export class HostMonitor {
  private readonly window = new SampleWindow<HostResourceSample>(2, () => Date.now() / 1000);
  private nodeSample: NodeSample | undefined;
  private readings: { previous: StatsFacts; current: StatsFacts } | undefined;
  private facts: HostFacts | undefined;
  private offered: number[] | undefined;
  private view: ResourceView | undefined;
  private lastSampleAt = 0;
  private answer: { inputs: readonly unknown[]; stats: Record<string, unknown> } | undefined;
  readonly startedAt = Date.now() / 1000;

  constructor(private readonly options: HostMonitorOptions) {}

  /** One run: the Operation's body. */
  readonly sample = async (ctx: Dispatcher): Promise<void> => {
    const paths = [...new Set([...this.options.statvfsPaths, this.options.instancesPath])];
    const [sample, node, facts] = await Promise.all([
      hostSampleTasks.hostSample(ctx, { statvfsPaths: paths }),
      libvirtTasks.hostInfo(ctx, { uri: this.options.uri }).then(unwrap),
      this.facts ? Promise.resolve(this.facts) : hostSampleTasks.hostFacts(ctx, undefined),
    ]);
    this.facts = facts;
    this.nodeSample = node;
    const current = await hostCapsTasks.statsFacts(ctx, {
      source: figureSource(node.host.type),
      ...(this.readings?.current.ksmd ? { ksmdPid: this.readings.current.ksmd.pid } : {}),
    });
    this.readings = { previous: this.readings?.current ?? current, current };
    // Checked on every sample, so a vcpu_pin_set outside the host refuses the start (first sample).
    this.offered ??= offeredCpus(this.options.vcpuPinSet, node.node.cpus);
    this.window.append(sample);
    this.lastSampleAt = performance.now() / 1000;
    this.refreshResources();
  };

  /** Recomputes the resource view (VMs started or stopped change it between samples too). */
  refreshResources(): void {
    const sample = this.window.last()?.value;
    if (!this.nodeSample || !sample || !this.offered) return;
    const view = computeResources({
      node: this.nodeSample.node,
      identity: this.nodeSample.host,
      offeredCpus: this.offered,
      vms: this.options.vms(),
      instancesDisk: sample.disks[this.options.instancesPath],
      cpuFeatures: this.facts?.cpuFlags ?? [],
    });
    if (JSON.stringify(view) === JSON.stringify(this.view)) return;
    this.view = view;
    this.options.onResources(view);
  }

  get resources(): ResourceView | undefined {
    return this.view;
  }

  get identity(): HostIdentity | undefined {
    return this.nodeSample?.host;
  }

  get node(): NodeInfo | undefined {
    return this.nodeSample?.node;
  }

  get hostFacts(): HostFacts | undefined {
    return this.facts;
  }

  /** Seconds since the last host sample (for /health); Infinity before the first. */
  sampleAge(): number {
    return this.lastSampleAt === 0 ? Infinity : performance.now() / 1000 - this.lastSampleAt;
  }

  /**
   * Host.getStats: rates need two samples; with one, the rates are zero. `netConfigDirty` is the
   * capabilities' (whether the running network configuration differs from the safe one).
   */
  stats(vms: VmCounts, netConfigDirty: 'True' | 'False' = 'False'): Record<string, unknown> {
    const last = this.window.last()?.value;
    if (!last) throw new Error('no host sample yet');
    const first = this.window.length > 1 ? this.window.last(2)!.value : last;
    const node = this.nodeSample;
    const driver = node && figureSource(node.host.type) === 'driver' ? this.driverMemory(node.node) : undefined;
    // The engine polls faster than the host is sampled: the same inputs give the same answer.
    const inputs = [first, last, this.readings, node, driver?.usedByVmsMiB, netConfigDirty, ...Object.values(vms)];
    if (this.answer !== undefined && inputs.every((input, i) => input === this.answer!.inputs[i])) return this.answer.stats;
    const stats = hostStats({
      first,
      last,
      readings: this.readings,
      driver,
      vms,
      daemonStartedAt: this.startedAt,
      netConfigDirty,
      // No memory-overcommit policy engine runs here.
      momStatus: 'disabled',
    });
    this.answer = { inputs, stats };
    return stats;
  }

  private driverMemory(node: NodeInfo): DriverMemory {
    let usedKiB = 0;
    for (const vm of this.options.vms()) if (vm.running) usedKiB += vm.memoryKiB;
    return { totalMiB: Math.floor(node.memoryKiB / 1024), usedByVmsMiB: Math.floor(usedKiB / 1024), cells: Math.max(node.nodes, 1) };
  }
}
