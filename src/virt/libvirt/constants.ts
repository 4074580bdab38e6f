/**
 * libvirt's numeric enums and flag words that callers of the face pass or read (libvirt 9.0
 * headers). Flags are plain numbers OR-ed together, as in C.
 */

/** virDomainState. */
export const DomainState = {
  NOSTATE: 0,
  RUNNING: 1,
  BLOCKED: 2,
  PAUSED: 3,
  SHUTDOWN: 4,
  SHUTOFF: 5,
  CRASHED: 6,
  PMSUSPENDED: 7,
} as const;
export type DomainStateCode = (typeof DomainState)[keyof typeof DomainState];

const STATE_NAMES = ['nostate', 'running', 'blocked', 'paused', 'shutdown', 'shutoff', 'crashed', 'pmsuspended'] as const;
export type DomainStateName = (typeof STATE_NAMES)[number] | 'unknown';

export function domainStateName(state: number): DomainStateName {
  return STATE_NAMES[state] ?? 'unknown';
}

/** virConnectListAllDomainsFlags (also the filter half of the bulk-stats flags). */
export const ListDomains = {
  ACTIVE: 1 << 0,
  INACTIVE: 1 << 1,
  PERSISTENT: 1 << 2,
  TRANSIENT: 1 << 3,
  RUNNING: 1 << 4,
  PAUSED: 1 << 5,
  SHUTOFF: 1 << 6,
  OTHER: 1 << 7,
} as const;

/** virDomainStatsTypes: the groups of bulk stats. 0 asks for every group the driver has. */
export const StatsGroup = {
  ALL: 0,
  STATE: 1 << 0,
  CPU_TOTAL: 1 << 1,
  BALLOON: 1 << 2,
  VCPU: 1 << 3,
  INTERFACE: 1 << 4,
  BLOCK: 1 << 5,
  PERF: 1 << 6,
  IOTHREAD: 1 << 7,
  MEMORY: 1 << 8,
  DIRTYRATE: 1 << 9,
  VM: 1 << 10,
} as const;

/** virConnectGetAllDomainStatsFlags beyond the list filters. */
export const StatsFlags = {
  NOWAIT: 1 << 29,
  BACKING: 1 << 30,
  ENFORCE_STATS: 2 ** 31,
} as const;

/** virDomainModificationImpact, for setVcpus, setMemory, setVcpuBandwidth and setMetadata. */
export const Affect = { CURRENT: 0, LIVE: 1 << 0, CONFIG: 1 << 1 } as const;
export const VcpuFlags = { ...Affect, MAXIMUM: 1 << 2, GUEST: 1 << 3, HOTPLUGGABLE: 1 << 4 } as const;
export const MemoryFlags = { ...Affect, MAXIMUM: 1 << 2 } as const;

/** virDomainXMLFlags. */
export const XmlFlags = { SECURE: 1 << 0, INACTIVE: 1 << 1, UPDATE_CPU: 1 << 2, MIGRATABLE: 1 << 3 } as const;

/** virDomainUndefineFlagsValues. */
export const UndefineFlags = {
  MANAGED_SAVE: 1 << 0,
  SNAPSHOTS_METADATA: 1 << 1,
  NVRAM: 1 << 2,
  KEEP_NVRAM: 1 << 3,
  CHECKPOINTS_METADATA: 1 << 4,
  TPM: 1 << 5,
  KEEP_TPM: 1 << 6,
} as const;

/** virDomainShutdownFlagValues (also for reboot). */
export const ShutdownFlags = {
  DEFAULT: 0,
  ACPI_POWER_BTN: 1 << 0,
  GUEST_AGENT: 1 << 1,
  INITCTL: 1 << 2,
  SIGNAL: 1 << 3,
  PARAVIRT: 1 << 4,
} as const;

/** virDomainDestroyFlagsValues. */
export const DestroyFlags = { DEFAULT: 0, GRACEFUL: 1 << 0, REMOVE_LOGS: 1 << 1 } as const;

/** Special timeouts of qemuAgentCommand, in seconds; any value ≥ 0 is a timeout of its own. */
export const AgentTimeout = { BLOCK: -2, DEFAULT: -1, NOWAIT: 0 } as const;

/**
 * virDomainMigrateFlags through PARALLEL; the later ones (synchronous disk writes, postcopy
 * recovery, zero-copy) are for migrations hostvisor does not start.
 */
export const MigrateFlags = {
  LIVE: 1 << 0,
  PEER2PEER: 1 << 1,
  TUNNELLED: 1 << 2,
  PERSIST_DEST: 1 << 3,
  UNDEFINE_SOURCE: 1 << 4,
  PAUSED: 1 << 5,
  NON_SHARED_DISK: 1 << 6,
  NON_SHARED_INC: 1 << 7,
  CHANGE_PROTECTION: 1 << 8,
  UNSAFE: 1 << 9,
  OFFLINE: 1 << 10,
  COMPRESSED: 1 << 11,
  ABORT_ON_ERROR: 1 << 12,
  AUTO_CONVERGE: 1 << 13,
  RDMA_PIN_ALL: 1 << 14,
  POSTCOPY: 1 << 15,
  TLS: 1 << 16,
  PARALLEL: 1 << 17,
} as const;

/** virDomainJobType. */
export const JobType = { NONE: 0, BOUNDED: 1, UNBOUNDED: 2, COMPLETED: 3, FAILED: 4, CANCELLED: 5 } as const;

/** virDomainJobOperation: what a job does (job stats' `operation`). */
export const JobOperation = { MIGRATION_IN: 4, MIGRATION_OUT: 5 } as const;

/** virDomainGetJobStatsFlags. */
export const JobStatsFlags = { COMPLETED: 1 << 0, KEEP_COMPLETED: 1 << 1 } as const;

/** virConnectCloseReason. */
export const CloseReason = { ERROR: 0, EOF: 1, KEEPALIVE: 2, CLIENT: 3 } as const;
