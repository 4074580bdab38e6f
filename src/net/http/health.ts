/**
 * GET /health: the daemon's readiness as JSON, 200 when healthy and 503 when not. The figures
 * come from a HealthSource the daemon supplies; the verdict (and its reasons) is made here.
 */
import type { ServerResponse } from 'node:http';
import type { ExecutorState } from '../../concurrency/executor.js';
import { sendJson } from './respond.js';

export interface HealthSnapshot {
  readonly hypervisorConnected: boolean;
  readonly executors: readonly ExecutorState[];
  /** Seconds since the last host sample; null before the first. */
  readonly hostSampleAge: number | null;
  /** Seconds since the last VM (bulk stats) sample; null before the first. */
  readonly vmSampleAge: number | null;
  /** Broker mode's link (net/broker BrokerStatus fits); absent when broker mode is off. */
  readonly broker?: BrokerHealth | undefined;
}

/** What /health needs of broker mode: the engine reaches a broker-mode host only through it. */
export interface BrokerHealth {
  readonly state: string;
  readonly connected: boolean;
  /** Failed connection attempts since the last success. */
  readonly attempts: number;
  readonly lastError: string | null;
}

/** What the daemon implements (hypervisor connection, executors, stats cache). */
export interface HealthSource {
  health(): HealthSnapshot;
}

export interface HealthLimits {
  /** Older samples than these make the daemon unhealthy (a few sampling periods). */
  readonly maxHostSampleAge: number;
  readonly maxVmSampleAge: number;
}

export interface HealthReport {
  healthy: boolean;
  problems: string[];
  hypervisor: { connected: boolean };
  executors: { name: string; running: boolean; workers: number; busy: number; discarded: number; queued: number; maxTasks: number }[];
  samples: { hostAge: number | null; vmAge: number | null; maxHostAge: number; maxVmAge: number };
  broker?: BrokerHealth;
}

export function healthReport(s: HealthSnapshot, limits: HealthLimits): HealthReport {
  const problems: string[] = [];
  if (!s.hypervisorConnected) problems.push('hypervisor not connected');
  const executors = s.executors.map((e) => {
    if (!e.running) problems.push(`executor ${e.name} not running`);
    else if (e.queued >= e.maxTasks) problems.push(`executor ${e.name} queue full`);
    return {
      name: e.name,
      running: e.running,
      workers: e.active,
      busy: e.workers.filter((w) => !w.discarded && w.task !== null).length,
      discarded: e.discarded,
      queued: e.queued,
      maxTasks: e.maxTasks,
    };
  });
  const stale = (what: string, age: number | null, max: number): void => {
    if (age === null) problems.push(`no ${what} sample yet`);
    else if (age > max) problems.push(`last ${what} sample ${age.toFixed(1)} s old (limit ${max} s)`);
  };
  stale('host', s.hostSampleAge, limits.maxHostSampleAge);
  stale('VM', s.vmSampleAge, limits.maxVmSampleAge);
  if (s.broker !== undefined && !s.broker.connected) {
    problems.push(`broker not connected (${s.broker.state}, ${s.broker.attempts} failed attempts${s.broker.lastError ? `: ${s.broker.lastError}` : ''})`);
  }
  return {
    healthy: problems.length === 0,
    problems,
    hypervisor: { connected: s.hypervisorConnected },
    executors,
    samples: { hostAge: s.hostSampleAge, vmAge: s.vmSampleAge, maxHostAge: limits.maxHostSampleAge, maxVmAge: limits.maxVmSampleAge },
    ...(s.broker !== undefined ? { broker: s.broker } : {}),
  };
}

export class HealthRoute {
  constructor(
    private readonly source: HealthSource,
    private readonly limits: HealthLimits,
  ) {}

  serve(res: ServerResponse): void {
    let report: HealthReport;
    try {
      report = healthReport(this.source.health(), this.limits);
    } catch (err) {
      sendJson(res, 503, { healthy: false, problems: [`health source failed: ${(err as Error).message}`] });
      return;
    }
    sendJson(res, report.healthy ? 200 : 503, report);
  }
}
