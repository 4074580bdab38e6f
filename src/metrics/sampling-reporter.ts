/**
 * The hooks the daemon calls after each sampling cycle: afterHostSample() after the host
 * sampling operation, afterVmCycle() after the VM one. Each reads the figures the daemon already
 * serves (Host.getStats, the VM stats elements), builds one report and publishes it, on the main
 * thread. A failure is logged (rate-limited), never thrown: the sampling operation is not failed
 * by its metrics.
 */
import type { Logger } from '../log.js';
import type { VmStatsElement } from '../virt/vm-stats.js';
import { hostMetrics } from './host-metrics.js';
import type { MetricsHub } from './hub.js';
import { ThrottledLog } from '../log-throttle.js';
import { vmMetrics } from './vm-metrics.js';

export interface SamplingReporterOptions<V> {
  hub: MetricsHub;
  /** Host.getStats (HostMonitor.stats with the registry's counts). */
  hostStats: () => Readonly<Record<string, unknown>>;
  /** The VMs (the registry's) and their stats elements (what VM.getStats answers). */
  vms: () => Iterable<V>;
  vmStats: (vm: V) => VmStatsElement;
  log: Logger;
  /** VMs per slice of a VM report (default 25): the main thread yields between slices. */
  sliceVms?: number;
}

export interface ReportCost {
  /** Figures in the last report. */
  figures: number;
  /** Main-thread milliseconds the last report took, building and sending (slices summed). */
  ms: number;
}

export class SamplingReporter<V> {
  private readonly failures: ThrottledLog;
  lastHost: ReportCost | undefined;
  lastVms: ReportCost | undefined;
  private vmReportRunning = false;

  constructor(private readonly options: SamplingReporterOptions<V>) {
    this.failures = new ThrottledLog(options.log, { period: 60, keyField: null });
  }

  afterHostSample(): void {
    const t0 = performance.now();
    try {
      const batch = hostMetrics(this.options.hostStats());
      this.options.hub.publish('host', batch);
      this.lastHost = { figures: batch.size, ms: performance.now() - t0 };
    } catch (err) {
      this.failures.log('failures', 'warn', { err }, 'host metrics failed');
    }
  }

  /**
   * After a VM sampling cycle. Built and sent in slices of `sliceVms` VMs, yielding the event loop
   * between slices: 1000 VMs are some 40k figures, and no single turn of the loop should carry
   * them all. A call while the previous one is still running is skipped.
   */
  async afterVmCycle(): Promise<void> {
    if (this.vmReportRunning) {
      this.failures.log('failures', 'warn', {}, 'VM metrics of the previous cycle still being sent: skipping this cycle');
      return;
    }
    this.vmReportRunning = true;
    let busyMs = 0;
    let t0 = performance.now();
    try {
      const report = this.options.hub.open('vms');
      const vms = [...this.options.vms()];
      const slice = this.options.sliceVms ?? DEFAULT_SLICE;
      for (let i = 0; i < vms.length; i++) {
        vmMetrics(this.options.vmStats(vms[i]!), report.batch);
        if ((i + 1) % slice === 0 && i + 1 < vms.length) {
          report.flush();
          busyMs += performance.now() - t0;
          await yieldToLoop();
          t0 = performance.now();
        }
      }
      report.end();
      busyMs += performance.now() - t0;
      this.lastVms = { figures: report.batch.size, ms: busyMs };
    } catch (err) {
      this.failures.log('failures', 'warn', { err }, 'VM metrics failed');
    } finally {
      this.vmReportRunning = false;
    }
  }
}

/** 25 VMs are some 1000 figures: 1-2 ms of building and packing on a busy 2-core host (the soak). */
const DEFAULT_SLICE = 25;

const yieldToLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
