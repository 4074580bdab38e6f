/**
 * Gathers CapabilityFacts from the host (through HostFiles) and what libvirt said (plain data, so
 * the gathering itself can be fed fixtures). Blocking: it runs in a worker thread. A worker calls
 * `readLibvirtSources(connection)` then `gatherCapabilityFacts(hostFilesAt('/'), sources)`.
 */
import type { LibvirtCalls } from '../../libvirt/blocking.js';
import type { NodeInfo } from '../../libvirt/types.js';
import { parseProcStat } from '../proc.js';
import type { CapabilityFacts, CapabilityNumaNode } from './capability-facts.js';
import { cpuFlags, parseDomainCapabilities, type DomainCpuCapabilities } from './domain-capabilities.js';
import { figureSource, figuresFromHost, figuresFromNodeInfo, type HostFigures } from './figures.js';
import type { HostFiles } from './host-files.js';
import { emulatedMachines, parseLibvirtCapabilities, type LibvirtCapabilities } from './libvirt-capabilities.js';
import type { PackageVersion } from './packages.js';
import { readCpuInfo, readCpuTopology } from './read-cpu.js';
import { readAutoNumaBalancing, readHugepages, readMeminfo, readNumaNodes } from './read-memory.js';
import { readManagedNetworks, readNetworkDevices, type NetworkCapsOptions } from './read-network.js';
import * as system from './read-system.js';

/** What the capabilities need from libvirt, read in one go. */
export interface LibvirtSources {
  type: string;
  libVersion: number;
  nodeInfo: NodeInfo;
  capabilitiesXml: string;
  /** Null where the driver has no domain capabilities (the test driver). */
  domainCapabilitiesXml: string | null;
}

/** The libvirt calls capabilities need; blocking. */
export function readLibvirtSources(connection: LibvirtCalls): LibvirtSources {
  const identity = connection.describe();
  return {
    type: identity.type,
    libVersion: identity.libVersion,
    nodeInfo: connection.nodeInfo(),
    capabilitiesXml: connection.capabilities(),
    domainCapabilitiesXml: domainCapabilitiesXml(connection),
  };
}

/**
 * The CPU models KVM can run, as vdsm asks; on a host without KVM (a TCG-only host, where libvirt
 * refuses the kvm accelerator) those of the default, emulated accelerator. Neither answering means no
 * model flags, never a host that fails to start.
 */
function domainCapabilitiesXml(connection: LibvirtCalls): string | null {
  for (const options of [{ virttype: 'kvm' }, {}]) {
    try {
      const xml = connection.domainCapabilities(options);
      if (xml !== null) return xml;
    } catch {
      // next accelerator
    }
  }
  return null;
}

export interface GatherOptions {
  /** The agent's own version, reported in packages2's `vdsm` slot. */
  agent?: PackageVersion;
  /** Without them (fixtures, benches): no managed networks, and NICs told by their hardware alone. */
  network?: NetworkCapsOptions;
}

function hostFigures(files: HostFiles, sources: LibvirtSources): HostFigures {
  if (figureSource(sources.type) === 'driver') return figuresFromNodeInfo(sources.nodeInfo);
  return figuresFromHost({
    memTotalKiB: readMeminfo(files)['MemTotal'] ?? 0,
    cpuMhz: readCpuInfo(files).mhz,
    topology: readCpuTopology(files),
    numaNodes: readNumaNodes(files),
  });
}

function numaNodes(figures: HostFigures): Record<string, CapabilityNumaNode> {
  const out: Record<string, CapabilityNumaNode> = {};
  for (const [id, node] of Object.entries(figures.numaNodes)) {
    const hugepages: CapabilityNumaNode['hugepages'] = {};
    for (const [size, total] of Object.entries(node.hugepages)) hugepages[size] = { totalPages: String(total) };
    out[id] = { cpus: node.cpus, totalMemory: String(node.totalMemoryMiB), hugepages };
  }
  return out;
}

/** Distances per node: the host's sysfs, or the driver's cells on the test driver. */
function numaDistances(files: HostFiles, figures: HostFigures, caps: LibvirtCapabilities): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  if (figures.source === 'host') {
    for (const node of readNumaNodes(files)) out[String(node.id)] = node.distances;
  } else {
    for (const id of Object.keys(figures.numaNodes)) out[id] = caps.cells.find((c) => String(c.id) === id)?.distances.map((d) => d.value) ?? [];
  }
  return out;
}

function domainCpu(xml: string | null): DomainCpuCapabilities | undefined {
  return xml === null ? undefined : parseDomainCapabilities(xml);
}

export function gatherCapabilityFacts(files: HostFiles, sources: LibvirtSources, options: GatherOptions = {}): CapabilityFacts {
  const caps = parseLibvirtCapabilities(sources.capabilitiesXml);
  const figures = hostFigures(files, sources);
  const cpu = readCpuInfo(files);
  const { topology } = figures;
  const arch = caps.arch || process.arch;
  const devices = readNetworkDevices(files, options.network?.nicNames);
  return {
    figureSource: figures.source,
    uuid: caps.uuid ?? '',
    kvmEnabled: system.readKvmEnabled(files) ? 'true' : 'false',
    cpuSockets: String(topology.sockets),
    cpuCores: String(topology.cores),
    cpuThreads: String(topology.threads),
    onlineCpus: topology.onlineCpus.join(','),
    cpuTopology: topology.cpuTopology,
    cpuSpeed: figures.cpuSpeedMhz,
    cpuModel: (figures.source === 'driver' ? caps.cpuModel ?? sources.nodeInfo.model : cpu.modelName) || sources.nodeInfo.model,
    cpuFlags: cpuFlags(cpu.flags, domainCpu(sources.domainCapabilitiesXml)).join(','),
    memSize: String(figures.memSizeMiB),
    numaNodes: numaNodes(figures),
    numaNodeDistance: numaDistances(files, figures, caps),
    autoNumaBalancing: readAutoNumaBalancing(files),
    hugepages: Object.keys(readHugepages(files)).map(Number).sort((a, b) => a - b),
    emulatedMachines: emulatedMachines(caps, arch),
    rngSources: system.readRngSources(files),
    HBAInventory: system.readHbaInventory(files),
    ISCSIInitiatorName: system.readIscsiInitiatorName(files),
    kdumpStatus: system.readKdumpStatus(files),
    selinux: { mode: String(system.readSelinuxMode(files)) },
    nameservers: system.readNameservers(files),
    supportsIPv6: system.readSupportsIpv6(files),
    hostdevPassthrough: system.readHostdevPassthrough(files, arch) ? 'true' : 'false',
    operatingSystem: system.readOperatingSystem(files),
    packages2: system.readPackages(files, { libvirtVersion: sources.libVersion, ...(options.agent ? { agent: options.agent } : {}) }),
    bootTime: parseProcStat(files.readFile('/proc/stat') ?? '').bootTime,
    kernelArgs: system.readKernelArgs(files),
    vdsmToCpusAffinity: system.readProcessCpus(files),
    hypervisor: { type: sources.type, libVersion: sources.libVersion },
    ...devices,
    ...readManagedNetworks(files, options.network?.configDir, devices),
  };
}
