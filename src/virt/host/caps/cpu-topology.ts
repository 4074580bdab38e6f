/**
 * The host's CPU topology from /sys/devices/system/cpu: which CPUs are online and where each sits
 * (socket, die, core, NUMA node). Counted as vdsm counts it: cores are distinct
 * (socket, die, core) triples, threads are online CPUs.
 */

/** What sysfs says about one online CPU (cpuN/topology/* and its nodeM link). */
export interface SysfsCpu {
  id: number;
  packageId: number;
  /** topology/die_id; 0 on kernels without dies. */
  dieId: number;
  coreId: number;
  /** The NUMA node the cpuN folder links to (nodeM); 0 on hosts without NUMA. */
  node: number;
}

/** One entry of capabilities' cpuTopology, named as vdsm names them. */
export interface CpuTopologyEntry {
  cpu_id: number;
  numa_cell_id: number;
  socket_id: number;
  die_id: number;
  core_id: number;
}

export interface CpuTopology {
  sockets: number;
  /** Cores over the whole host. */
  cores: number;
  /** Online hardware threads over the whole host. */
  threads: number;
  onlineCpus: number[];
  cpuTopology: CpuTopologyEntry[];
}

export function cpuTopologyFromSysfs(cpus: readonly SysfsCpu[]): CpuTopology {
  const sorted = [...cpus].sort((a, b) => a.id - b.id);
  const sockets = new Set(sorted.map((c) => c.packageId));
  const cores = new Set(sorted.map((c) => `${c.packageId}/${c.dieId}/${c.coreId}`));
  return {
    sockets: sockets.size,
    cores: cores.size,
    threads: sorted.length,
    onlineCpus: sorted.map((c) => c.id),
    cpuTopology: sorted.map((c) => ({ cpu_id: c.id, numa_cell_id: c.node, socket_id: c.packageId, die_id: c.dieId, core_id: c.coreId })),
  };
}

/** The node a cpuN folder belongs to, from its entries (`node0` link); 0 when it has none. */
export function nodeOfCpu(entries: readonly string[]): number {
  for (const name of entries) {
    const match = /^node(\d+)$/.exec(name);
    if (match) return Number(match[1]);
  }
  return 0;
}
