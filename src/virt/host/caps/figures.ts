/**
 * Where the host's memory and CPU figures come from. Capabilities and stats must agree (the engine
 * computes memory use from one's memSize and the other's free memory), so both ask this module.
 * libvirt's test driver describes an imaginary host (its node info, its NUMA cells): there every
 * figure comes from the driver's node. On a real hypervisor every figure is the real host's.
 */
import type { NodeInfo } from '../../libvirt/types.js';
import type { CpuTopology, CpuTopologyEntry } from './cpu-topology.js';
import type { SysfsNumaNode } from './read-memory.js';

export type FigureSource = 'driver' | 'host';

/** The one rule: the test driver's figures are its own; any other driver runs on this host. */
export function figureSource(hypervisorType: string): FigureSource {
  return hypervisorType.toUpperCase() === 'TEST' ? 'driver' : 'host';
}

export interface NumaNodeFigures {
  cpus: number[];
  totalMemoryMiB: number;
  /** Pages of each size (KiB) the node holds. */
  hugepages: Record<number, number>;
}

export interface HostFigures {
  source: FigureSource;
  memSizeMiB: number;
  cpuSpeedMhz: string;
  topology: CpuTopology;
  numaNodes: Record<string, NumaNodeFigures>;
}

/**
 * The driver's node as a host: virNodeInfo counts sockets per NUMA node, cores per socket and
 * threads per core, and numbers CPUs node by node, socket by socket, core by core. Memory is
 * split evenly between the nodes (the node info gives only the total).
 */
export function figuresFromNodeInfo(node: NodeInfo): HostFigures {
  const nodes = Math.max(node.nodes, 1);
  const perCore = Math.max(node.threads, 1);
  const perSocket = Math.max(node.cores, 1) * perCore;
  const perNode = Math.max(node.sockets, 1) * perSocket;
  const entries: CpuTopologyEntry[] = [];
  for (let cpu = 0; cpu < node.cpus; cpu++) {
    const cell = Math.floor(cpu / perNode);
    const socket = Math.floor(cpu / perSocket);
    entries.push({ cpu_id: cpu, numa_cell_id: cell, socket_id: socket, die_id: 0, core_id: Math.floor((cpu % perSocket) / perCore) });
  }
  const memSizeMiB = Math.floor(node.memoryKiB / 1024);
  const numaNodes: Record<string, NumaNodeFigures> = {};
  for (let cell = 0; cell < nodes; cell++) {
    numaNodes[String(cell)] = { cpus: entries.filter((e) => e.numa_cell_id === cell).map((e) => e.cpu_id), totalMemoryMiB: Math.floor(memSizeMiB / nodes), hugepages: {} };
  }
  return {
    source: 'driver',
    memSizeMiB,
    cpuSpeedMhz: String(node.mhz),
    topology: {
      sockets: new Set(entries.map((e) => e.socket_id)).size,
      cores: new Set(entries.map((e) => `${e.socket_id}/${e.core_id}`)).size,
      threads: entries.length,
      onlineCpus: entries.map((e) => e.cpu_id),
      cpuTopology: entries,
    },
    numaNodes,
  };
}

/** The real host's figures, from /proc/meminfo, /proc/cpuinfo and sysfs. */
export function figuresFromHost(host: { memTotalKiB: number; cpuMhz: string; topology: CpuTopology; numaNodes: readonly SysfsNumaNode[] }): HostFigures {
  const numaNodes: Record<string, NumaNodeFigures> = {};
  for (const node of host.numaNodes) {
    const hugepages: Record<number, number> = {};
    for (const [size, pages] of Object.entries(node.hugepages)) hugepages[Number(size)] = pages.total;
    numaNodes[String(node.id)] = { cpus: node.cpus, totalMemoryMiB: Math.floor(node.memory.totalKiB / 1024), hugepages };
  }
  return { source: 'host', memSizeMiB: Math.floor(host.memTotalKiB / 1024), cpuSpeedMhz: host.cpuMhz, topology: host.topology, numaNodes };
}
