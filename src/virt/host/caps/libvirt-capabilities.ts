/**
 * libvirt's capabilities XML (virConnectGetCapabilities): the host's UUID, CPU, NUMA cells and
 * the machine types each guest architecture can emulate.
 */
import { childrenNamed, find, findAll, parseXmlTree, textAt, type XmlElement } from './xml-tree.js';

export interface CpuPlacement {
  id: number;
  socketId: number;
  dieId: number;
  coreId: number;
  /** libvirt's sibling list text, e.g. `0,8`: CPUs sharing one core. */
  siblings: string;
}

export interface NumaCell {
  id: number;
  memoryKiB: number;
  cpus: CpuPlacement[];
  /** Pages of each size (KiB) this cell has, as libvirt counts them. */
  pages: Array<{ sizeKiB: number; count: number }>;
  /** Distance to each cell, in the cells' order. */
  distances: Array<{ id: number; value: number }>;
}

export interface MachineType {
  name: string;
  /** The machine type an alias stands for (`pc` -> `pc-i440fx-7.2`). */
  canonical: string | undefined;
}

export interface GuestArch {
  osType: string;
  arch: string;
  /** Machines every domain type of this arch offers. */
  machines: MachineType[];
  /** Machines per domain type (`kvm`, `qemu`, `test`); empty when the domain lists none. */
  domains: Array<{ type: string; machines: MachineType[] }>;
}

export interface LibvirtCapabilities {
  uuid: string | undefined;
  arch: string;
  cpuModel: string | undefined;
  /** host/cpu/topology: per-socket counts, when libvirt gives them. */
  topology: { sockets: number; dies: number; cores: number; threads: number } | undefined;
  pageSizesKiB: number[];
  cells: NumaCell[];
  /** host/iommu support='yes'; undefined when libvirt does not say. */
  iommu: boolean | undefined;
  guests: GuestArch[];
}

function int(text: string | undefined, fallback = 0): number {
  const n = Number.parseInt(text ?? '', 10);
  return Number.isFinite(n) ? n : fallback;
}

function machines(parent: XmlElement): MachineType[] {
  return childrenNamed(parent, 'machine').map((m) => ({ name: m.text, canonical: m.attributes['canonical'] }));
}

function parseCell(cell: XmlElement): NumaCell {
  const memory = find(cell, 'memory');
  const unitFactor = (memory?.attributes['unit'] ?? 'KiB').toLowerCase() === 'kib' ? 1 : 1 / 1024;
  return {
    id: int(cell.attributes['id']),
    memoryKiB: Math.round(int(memory?.text) * unitFactor),
    cpus: findAll(cell, 'cpus/cpu').map((cpu) => ({
      id: int(cpu.attributes['id']),
      socketId: int(cpu.attributes['socket_id'], -1),
      dieId: int(cpu.attributes['die_id']),
      coreId: int(cpu.attributes['core_id'], -1),
      siblings: cpu.attributes['siblings'] ?? '',
    })),
    pages: childrenNamed(cell, 'pages').map((p) => ({ sizeKiB: int(p.attributes['size']), count: int(p.text) })),
    distances: findAll(cell, 'distances/sibling').map((s) => ({ id: int(s.attributes['id']), value: int(s.attributes['value']) })),
  };
}

function parseGuest(guest: XmlElement): GuestArch {
  const arch = find(guest, 'arch');
  return {
    osType: textAt(guest, 'os_type') ?? '',
    arch: arch?.attributes['name'] ?? '',
    machines: arch ? machines(arch) : [],
    domains: childrenNamed(arch, 'domain').map((d) => ({ type: d.attributes['type'] ?? '', machines: machines(d) })),
  };
}

export function parseLibvirtCapabilities(xml: string): LibvirtCapabilities {
  const root = parseXmlTree(xml);
  const host = find(root, 'host');
  const topology = find(host, 'cpu/topology');
  const iommu = find(host, 'iommu')?.attributes['support'];
  return {
    uuid: textAt(host, 'uuid') || undefined,
    arch: textAt(host, 'cpu/arch') ?? '',
    cpuModel: textAt(host, 'cpu/model') || undefined,
    topology: topology && {
      sockets: int(topology.attributes['sockets'], 1),
      dies: int(topology.attributes['dies'], 1),
      cores: int(topology.attributes['cores'], 1),
      threads: int(topology.attributes['threads'], 1),
    },
    pageSizesKiB: childrenNamed(find(host, 'cpu'), 'pages').map((p) => int(p.attributes['size'])),
    cells: findAll(host, 'topology/cells/cell').map(parseCell),
    iommu: iommu === undefined ? undefined : iommu === 'yes',
    guests: childrenNamed(root, 'guest').map(parseGuest),
  };
}

function namesAndAliases(list: MachineType[]): string[] {
  const names = new Set<string>();
  for (const m of list) {
    if (m.name) names.add(m.name);
    if (m.canonical) names.add(m.canonical);
  }
  return [...names];
}

/**
 * The machine types a guest of `arch` can use, each alias with its canonical name, as the engine
 * matches them against a cluster's. KVM's own list first; the arch's list when KVM lists none
 * (a host with only the KVM domain declared at arch level).
 */
export function emulatedMachines(caps: LibvirtCapabilities, arch: string): string[] {
  const guests = caps.guests.filter((g) => g.arch === arch && g.osType === 'hvm');
  const kvm = guests.flatMap((g) => g.domains.filter((d) => d.type === 'kvm').flatMap((d) => d.machines));
  const fromKvm = namesAndAliases(kvm);
  return fromKvm.length > 0 ? fromKvm : namesAndAliases(guests.flatMap((g) => g.machines));
}

export interface CellTopology {
  sockets: number;
  /** Distinct cores over the host (CPUs sharing a sibling list are one core). */
  cores: number;
  /** Online CPUs (hardware threads) over the host. */
  threads: number;
  onlineCpus: number[];
}

/** Host topology counted over the cells' CPUs, as vdsm counts it (CPUs without placement are offline). */
export function topologyFromCells(cells: readonly NumaCell[]): CellTopology {
  const sockets = new Set<number>();
  const siblings = new Set<string>();
  const online: number[] = [];
  for (const cpu of cells.flatMap((c) => c.cpus)) {
    if (cpu.socketId < 0 || cpu.coreId < 0 || cpu.siblings === '') continue;
    sockets.add(cpu.socketId);
    siblings.add(cpu.siblings);
    online.push(cpu.id);
  }
  return { sockets: sockets.size, cores: siblings.size, threads: online.length, onlineCpus: online.sort((a, b) => a - b) };
}
