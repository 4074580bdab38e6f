/**
 * Host.getCapabilities' answer: the readings the host's capabilities were gathered from (every
 * figure read from the host and libvirt, the managed networks and whether their configuration is
 * saved), with what is this daemon's to say rather than the host's: the engine versions and
 * cluster levels it serves, its version and what it reserves.
 */
import type { CapabilityFacts } from '../virt/host/caps/capability-facts.js';
import type { PackageVersion } from '../virt/host/caps/packages.js';

/** Engine versions and cluster compatibility levels whose API this daemon serves. */
export const SUPPORTED_ENGINES = ['4.2', '4.3', '4.4', '4.5', '4.6', '4.7', '4.8'];
export const CLUSTER_LEVELS = ['4.2', '4.3', '4.4', '4.5', '4.6', '4.7', '4.8'];

/** MiB the engine keeps free for the host itself, and its estimate of each VM's overhead (vdsm's
 * `host_mem_reserve` and `guest_ram_overhead` defaults). */
const RESERVED_MEM_MIB = 321;
const GUEST_OVERHEAD_MIB = 65;

export interface CapabilitiesContext {
  /** This daemon as a package (packages2's `vdsm` entry holds the same). */
  agent: PackageVersion;
}

export function capabilitiesAnswer(facts: CapabilityFacts, ctx: CapabilitiesContext): Record<string, unknown> {
  // Not in vdsm's capabilities: the figure rule and libvirt's description (for logs), the boot
  // time (Host.getStats reports it) and the networks left out for want of a device (logged).
  const { figureSource: _source, hypervisor: _hypervisor, bootTime: _bootTime, missingNetworks: _missing, ...readings } = facts;
  return {
    ...readings,
    vmTypes: ['kvm'],
    reservedMem: String(RESERVED_MEM_MIB),
    guestOverhead: String(GUEST_OVERHEAD_MIB),
    software_version: ctx.agent.version,
    software_revision: ctx.agent.release,
    version_name: 'hostvisor',
    supportedENGINEs: SUPPORTED_ENGINES,
    clusterLevels: CLUSTER_LEVELS,
    lastClientIface: '',
    // No storage verbs yet: no live snapshots or merges.
    liveSnapshot: 'false',
    liveMerge: 'false',
    additionalFeatures: [],
    vncEncrypted: 'false',
  };
}
