/**
 * The host's capabilities, kept. Gathering them reads dpkg's database, sysfs and libvirt's
 * capabilities (seconds on a real host), so a worker gathers them: first before any client is
 * served, then on a slow period and after every reconnection to libvirt (a libvirtd restart can
 * come with a new QEMU). Host.getCapabilities answers from the last gathering.
 */
import type { Dispatcher } from '../../tasks/contract.js';
import { hostCapsTasks, type CapabilityFacts } from '../../tasks/host-caps.js';
import type { PackageVersion } from './caps/packages.js';

export interface HostCapabilitiesOptions {
  uri: string;
  /** This daemon's version, reported in the agent's slot of packages2. */
  agent: PackageVersion;
}

export class HostCapabilities {
  private current: CapabilityFacts | undefined;
  private gatheredAt: number | undefined;

  constructor(private readonly options: HostCapabilitiesOptions) {}

  /** Gathers them again in a worker; the previous ones stay served until this completes. */
  readonly refresh = async (ctx: Dispatcher): Promise<void> => {
    this.current = await hostCapsTasks.capabilities(ctx, { uri: this.options.uri, agent: this.options.agent });
    this.gatheredAt = Date.now();
  };

  /** The last gathering; undefined before the first completed. */
  get facts(): CapabilityFacts | undefined {
    return this.current;
  }

  /** When the last gathering completed, milliseconds since the epoch. */
  get updatedAt(): number | undefined {
    return this.gatheredAt;
  }
}
