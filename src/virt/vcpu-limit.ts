/**
 * VM.updateVmPolicy's vcpuLimit as CFS bandwidth, the way oVirt's MOM applies it: the VM may use
 * `limit` percent of the host's CPU time, shared equally by its vCPUs, each getting `quota` µs of
 * every 100 ms `period` (libvirt's vcpu_quota and vcpu_period).
 */
import type { VcpuBandwidth } from './domain-xml.js';

export const VCPU_PERIOD_US = 100_000;
/** libvirt's bounds for vcpu_quota, in µs. */
const MIN_QUOTA_US = 1000;
const MAX_QUOTA_US = 17_592_186_044_415;

export function vcpuBandwidth(limitPercent: number, hostCpus: number, guestVcpus: number): VcpuBandwidth {
  const quota = Math.floor((VCPU_PERIOD_US * hostCpus * limitPercent) / 100 / Math.max(1, guestVcpus));
  return { quota: Math.min(MAX_QUOTA_US, Math.max(MIN_QUOTA_US, quota)), period: VCPU_PERIOD_US };
}
