/**
 * The daemon's settings, cut from the config once at the root: each builder in this folder gets
 * the few values it uses, never the whole Config, so what a part depends on reads off its type.
 */
import type { Config } from '../config/schema.js';
import type { PackageVersion } from '../virt/host/caps/packages.js';
import type { NetworkCapsOptions } from '../virt/host/caps/read-network.js';
import type { AdmissionPolicy } from '../virt/migration/admission.js';
import { agentPackage } from './version.js';

/** One executor's pool: vdsm's worker count, queue room per worker and stuck-worker ceiling. */
export interface PoolSettings {
  readonly workers: number;
  readonly tasksPerWorker: number;
  readonly maxWorkers: number;
}

export interface SamplingSettings {
  readonly uri: string;
  /** Seconds between host samples; also their timeout. */
  readonly hostInterval: number;
  /** Seconds between VM sampling cycles. */
  readonly vmInterval: number;
  /** Seconds between two gatherings of the host capabilities. */
  readonly capabilitiesInterval: number;
  /** This daemon as packages2 reports it. */
  readonly agent: PackageVersion;
  /** Where the managed networks' configuration is, and which devices count as NICs. */
  readonly network: NetworkCapsOptions;
  /** Seconds a VM may stay Powering up without a guest agent before it is taken as Up. */
  readonly powerUpGrace: number;
  readonly statvfsPaths: readonly string[];
  readonly instancesPath: string;
  readonly vcpuPinSet: string;
}

export interface GuestSettings {
  readonly uri: string;
  readonly channelsDir: string;
  /** Seconds of silence after which an oVirt agent is stale. */
  readonly staleAfter: number;
  readonly qgaCommandTimeout: number;
  readonly qgaPollingPeriod: number;
  readonly qgaTaskTimeout: number;
}

export interface MigrationSettings {
  readonly uri: string;
  readonly verbTimeout: number;
  /** Template with {host}. */
  readonly destinationLibvirtUri: string;
  readonly downtimeMs: number;
  readonly downtimeSteps: number;
  readonly monitorInterval: number;
  readonly maxOutgoing: number;
  readonly maxIncoming: number;
  readonly connectTimeout: number;
  readonly destinationTimeout: number;
  readonly retryInterval: number;
  readonly admission: AdmissionPolicy;
  /** The destination's daemon port when the engine's dst names none (ours). */
  readonly managementPort: number;
  /** The daemon's own certificate, when it serves TLS: the client's towards destinations. */
  readonly tls: { readonly certFile: string; readonly keyFile: string; readonly caFile: string } | undefined;
}

export interface DaemonSettings {
  readonly uri: string;
  readonly pools: { readonly rpc: PoolSettings; readonly periodic: PoolSettings; readonly qga: PoolSettings };
  readonly sampling: SamplingSettings;
  readonly guests: GuestSettings;
  /** Seconds: VM stats older than this report the VM unresponsive. */
  readonly vmCommandTimeout: number;
  /** Seconds a verb's libvirt call may take. */
  readonly verbTimeout: number;
  readonly migration: MigrationSettings;
}

export function daemonSettings(config: Config): DaemonSettings {
  const uri = config.libvirt.uri;
  const s = config.sampling;
  const ga = config.guest_agent;
  return {
    uri,
    pools: {
      rpc: { workers: config.rpc.worker_threads, tasksPerWorker: config.rpc.tasks_per_worker, maxWorkers: config.rpc.max_workers },
      periodic: { workers: s.periodic_workers, tasksPerWorker: s.periodic_task_per_worker, maxWorkers: s.max_workers },
      qga: { workers: ga.periodic_workers, tasksPerWorker: ga.periodic_task_per_worker, maxWorkers: ga.max_workers },
    },
    sampling: {
      uri,
      hostInterval: config.vars.host_sample_stats_interval,
      vmInterval: config.vars.vm_sample_interval,
      capabilitiesInterval: s.capabilities_refresh_interval,
      agent: agentPackage(),
      network: { configDir: config.network.config_dir, nicNames: { fake: config.network.fake_nics, hidden: config.network.hidden_nics } },
      powerUpGrace: config.vars.guest_agent_timeout,
      statvfsPaths: s.statvfs_paths,
      instancesPath: s.instances_path,
      vcpuPinSet: s.vcpu_pin_set,
    },
    guests: {
      uri,
      channelsDir: ga.channels_dir,
      staleAfter: config.vars.guest_agent_timeout,
      qgaCommandTimeout: ga.qga_command_timeout,
      qgaPollingPeriod: ga.qga_polling_period,
      qgaTaskTimeout: ga.qga_task_timeout,
    },
    vmCommandTimeout: config.vars.vm_command_timeout,
    verbTimeout: config.rpc.worker_timeout,
    migration: migrationSettings(config),
  };
}

function migrationSettings(config: Config): MigrationSettings {
  const m = config.migration;
  return {
    uri: config.libvirt.uri,
    verbTimeout: config.rpc.worker_timeout,
    destinationLibvirtUri: m.destination_libvirt_uri,
    downtimeMs: m.downtime,
    downtimeSteps: m.downtime_steps,
    monitorInterval: m.monitor_interval,
    maxOutgoing: m.max_outgoing,
    maxIncoming: m.max_incoming,
    connectTimeout: m.connect_timeout,
    destinationTimeout: m.destination_timeout,
    retryInterval: m.retry_interval,
    admission: { memoryAllocationRatio: m.memory_allocation_ratio, reservedMemoryMiB: m.reserved_memory_mb, cpuAllocationRatio: m.cpu_allocation_ratio },
    managementPort: config.addresses.management_port,
    tls: config.vars.ssl ? { certFile: config.tls.cert_file, keyFile: config.tls.key_file, caFile: config.tls.ca_file } : undefined,
  };
}
