/**
 * The host resource view a scheduler places VMs by (nova's resource tracker): CPUs and memory the
 * host offers and what running VMs use of them, local disk, and what the hypervisor is. Computed
 * before the acceptor opens and after every host sample; published as an event when it changes.
 */
import { CpuSetError, formatCpuSet, parseCpuSet } from '../cpuset.js';
import type { HostIdentity, NodeInfo } from '../libvirt/types.js';

export interface ResourceView {
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  /** Free GiB on the instances path (we do not know images' sparse sizes, so no over-commit margin). */
  disk_available_least: number;
  hypervisor_type: string;
  hypervisor_version: number;
  hypervisor_hostname: string;
  cpu_info: { model: string; topology: { sockets: number; cores: number; threads: number }; features: string[] };
  /** The CPUs offered to VMs, as a cpulist. */
  vcpu_pin_set: string;
}

export interface ResourceInputs {
  node: NodeInfo;
  identity: HostIdentity;
  /** The CPUs VMs may use (already checked against the host). */
  offeredCpus: readonly number[];
  vms: Iterable<{ running: boolean; vcpus: number; memoryKiB: number }>;
  instancesDisk: { freeMiB: number; totalMiB: number } | undefined;
  cpuFeatures: readonly string[];
}

/**
 * The CPUs `[sampling] vcpu_pin_set` offers on a host with `hostCpus` CPUs: all of them when the
 * set is empty. A set naming a CPU the host does not have is an error that stops the start.
 */
export function offeredCpus(pinSet: string, hostCpus: number): number[] {
  const all = Array.from({ length: hostCpus }, (_, i) => i);
  if (pinSet.trim() === '') return all;
  const cpus = parseCpuSet(pinSet);
  const outside = cpus.filter((c) => c >= hostCpus);
  if (outside.length > 0) {
    throw new CpuSetError(
      `[sampling] vcpu_pin_set = "${pinSet}" names CPUs ${formatCpuSet(outside)} the host does not have (it has ${formatCpuSet(all)})`,
    );
  }
  return cpus;
}

export function computeResources(inputs: ResourceInputs): ResourceView {
  let vcpusUsed = 0;
  let memoryKiBUsed = 0;
  for (const vm of inputs.vms) {
    if (!vm.running) continue;
    vcpusUsed += vm.vcpus;
    memoryKiBUsed += vm.memoryKiB;
  }
  const disk = inputs.instancesDisk;
  const gib = (mib: number): number => Math.floor(mib / 1024);
  return {
    vcpus: inputs.offeredCpus.length,
    vcpus_used: vcpusUsed,
    memory_mb: Math.floor(inputs.node.memoryKiB / 1024),
    memory_mb_used: Math.floor(memoryKiBUsed / 1024),
    local_gb: disk ? gib(disk.totalMiB) : 0,
    local_gb_used: disk ? gib(disk.totalMiB - disk.freeMiB) : 0,
    disk_available_least: disk ? gib(disk.freeMiB) : 0,
    hypervisor_type: inputs.identity.type,
    hypervisor_version: inputs.identity.version,
    hypervisor_hostname: inputs.identity.hostname,
    cpu_info: {
      model: inputs.node.model,
      topology: { sockets: inputs.node.sockets, cores: inputs.node.cores, threads: inputs.node.threads },
      features: [...inputs.cpuFeatures],
    },
    vcpu_pin_set: formatCpuSet(inputs.offeredCpus),
  };
}
