/**
 * Admission of incoming migrations on the destination (the resource claim of nova's resize and
 * cold migration). A VM is admitted when its memory and vCPUs fit what this host offers after
 * what is already taken:
 *
 *   memory: taken + vm <= total * memory_allocation_ratio - reserved_memory
 *   vCPUs:  taken + vm <= offered CPUs (the pin set) * cpu_allocation_ratio
 *
 * "Taken" is the resource view's use, which counts every VM registered here that is not Down:
 * an admitted VM is registered as "Migration Destination" at once, so it is its own claim for
 * the next admission, and the claim ends with its migration either way (removed when it fails,
 * running here when it succeeds).
 */

export interface AdmissionPolicy {
  /** nova's ram_allocation_ratio: how far memory may be over-committed. */
  memoryAllocationRatio: number;
  /** nova's reserved_host_memory_mb: memory kept for the host itself. */
  reservedMemoryMiB: number;
  /** nova's cpu_allocation_ratio, against the offered CPUs. */
  cpuAllocationRatio: number;
}

/** What the host offers and what is taken of it (the resource view's figures). */
export interface Capacity {
  memoryMiB: number;
  memoryUsedMiB: number;
  vcpus: number;
  vcpusUsed: number;
}

export interface Demand {
  memoryMiB: number;
  vcpus: number;
}

export type Admission = { admitted: true } | { admitted: false; reason: string };

export function admit(demand: Demand, capacity: Capacity, policy: AdmissionPolicy): Admission {
  const memoryFree = Math.floor(capacity.memoryMiB * policy.memoryAllocationRatio) - policy.reservedMemoryMiB - capacity.memoryUsedMiB;
  if (demand.memoryMiB > memoryFree) {
    return { admitted: false, reason: `the VM needs ${demand.memoryMiB} MiB of memory, ${Math.max(0, memoryFree)} MiB are free for VMs` };
  }
  const vcpusFree = Math.floor(capacity.vcpus * policy.cpuAllocationRatio) - capacity.vcpusUsed;
  if (demand.vcpus > vcpusFree) {
    return { admitted: false, reason: `the VM needs ${demand.vcpus} vCPUs, ${Math.max(0, vcpusFree)} are free` };
  }
  return { admitted: true };
}
