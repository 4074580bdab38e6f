/** Plain data the libvirt face returns: structured-clone safe, so workers can hand it back. */

/** What the hypervisor at the other end of a connection says about itself. */
export interface HostIdentity {
  uri: string;
  /** Driver name, e.g. `QEMU` or `TEST`. */
  type: string;
  /** Hypervisor version, encoded as major * 1e6 + minor * 1e3 + release. */
  version: number;
  /** libvirt version of the daemon (or library) serving the connection, same encoding. */
  libVersion: number;
  hostname: string;
}

export interface NodeInfo {
  model: string;
  memoryKiB: number;
  cpus: number;
  mhz: number;
  nodes: number;
  sockets: number;
  cores: number;
  threads: number;
}

/** Nanoseconds per field: `kernel`, `user`, `idle`, `iowait`, and whatever else the driver has. */
export type NodeCpuStats = Record<string, number>;

export interface DomainIdentity {
  uuid: string;
  name: string;
  /** -1 when the domain is not running. */
  id: number;
}

export interface DomainInfo {
  /** virDomainState, see DomainState. */
  state: number;
  maxMemKiB: number;
  memoryKiB: number;
  vcpus: number;
  cpuTimeNs: number;
}

export interface DomainStateReason {
  state: number;
  /** Reason code for the state (virDomainRunningReason, virDomainPausedReason, ...). */
  reason: number;
}

export interface BlockStats {
  rdReq: number;
  rdBytes: number;
  wrReq: number;
  wrBytes: number;
  errs: number;
}

export interface InterfaceStats {
  rxBytes: number;
  rxPackets: number;
  rxErrs: number;
  rxDrop: number;
  txBytes: number;
  txPackets: number;
  txErrs: number;
  txDrop: number;
}

/** libvirt's memory stat tags by their Python-binding names: `actual`, `rss`, `unused`, ... */
export type MemoryStats = Partial<Record<
  | 'swap_in' | 'swap_out' | 'major_fault' | 'minor_fault' | 'unused' | 'available' | 'actual' | 'rss'
  | 'usable' | 'last_update' | 'disk_caches' | 'hugetlb_pgalloc' | 'hugetlb_pgfail',
  number
>>;

/** A typed-parameter list as an object, e.g. `{ 'state.state': 1, 'block.count': 2 }`. */
export type TypedParams = Record<string, number | string | boolean>;

export interface DomainStatsRecord extends DomainIdentity {
  params: TypedParams;
}

/** Which devices to sample for one domain: disk target names and NIC names or MAC addresses. */
export interface DomainDevices {
  disks?: readonly string[];
  nics?: readonly string[];
}

/** One domain's per-domain sample: info, and device and memory stats when it is active. */
export interface DomainSample {
  info: DomainInfo;
  active: boolean;
  block: Record<string, BlockStats>;
  interfaces: Record<string, InterfaceStats>;
  /** Absent when the domain is not active. */
  memory?: MemoryStats;
}

/** The typed parameters of virDomainMigrateToURI3 hostvisor uses; absent ones are not passed. */
export interface MigrationParams {
  /** Where QEMU sends the memory stream, e.g. tcp://192.0.2.5 (VIR_MIGRATE_PARAM_URI). */
  uri?: string;
  /** The domain as the destination defines it (VIR_MIGRATE_PARAM_DEST_XML). */
  destXml?: string;
  /** Its persistent definition there, when it differs (VIR_MIGRATE_PARAM_PERSIST_XML). */
  persistXml?: string;
  /** MiB/s (VIR_MIGRATE_PARAM_BANDWIDTH). */
  bandwidth?: number;
  /** With MigrateFlags.PARALLEL (VIR_MIGRATE_PARAM_PARALLEL_CONNECTIONS). */
  parallelConnections?: number;
  /** Methods, with MigrateFlags.COMPRESSED (VIR_MIGRATE_PARAM_COMPRESSION). */
  compression?: string[];
  /** Percent, with MigrateFlags.AUTO_CONVERGE (VIR_MIGRATE_PARAM_AUTO_CONVERGE_INITIAL / _INCREMENT). */
  autoConvergeInitial?: number;
  autoConvergeIncrement?: number;
}

/**
 * virDomainGetJobStats: the job's type (JobType; NONE when there is none) and its numeric
 * figures by libvirt's names: time_elapsed, data_total, data_remaining, memory_iteration,
 * memory_dirty_rate, downtime (of a completed migration), ...
 */
export interface DomainJobStats {
  type: number;
  stats: Record<string, number>;
}
