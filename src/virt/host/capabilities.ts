/**
 * The host's capabilities, kept. Gathering them reads dpkg's database, sysfs and libvirt's
 * capabilities (seconds on a real host), so a worker gathers them: first before any client is
 * served, then on a slow period and after every reconnection to libvirt (a libvirtd restart can
 * come with a new QEMU). Host.getCapabilities answers from the last gathering. A managed network
 * whose device is gone is warned about at each gathering, as vdsm does.
 */
import type { Logger } from '../../log.js';
import type { Dispatcher } from '../../tasks/contract.js';
import { hostCapsTasks, type CapabilityFacts } from '../../tasks/host-caps.js';
import type { PackageVersion } from './caps/packages.js';
import type { NetworkCapsOptions } from './caps/read-network.js';

export interface HostCapabilitiesOptions {
  uri: string;
  /** This daemon's version, reported in the agent's slot of packages2. */
  agent: PackageVersion;
  network: NetworkCapsOptions;
  log: Logger;
}

export class HostCapabilities {
  private current: CapabilityFacts | undefined;
  private gatheredAt: number | undefined;
  /** Gatherings started, and the latest one whose answer is kept: an older one ending later is dropped. */
  private started = 0;
  private kept = 0;
  /** The gathering the last change started, until it completes. */
  private stale: Promise<void> | undefined;

  constructor(private readonly options: HostCapabilitiesOptions) {}

  /** Gathers them again in a worker; the previous ones stay served until this completes. */
  readonly refresh = async (ctx: Dispatcher): Promise<void> => {
    const { uri, agent, network, log } = this.options;
    const gathering = ++this.started;
    const facts = await hostCapsTasks.capabilities(ctx, { uri, agent, network });
    if (gathering < this.kept) return;
    this.kept = gathering;
    this.current = facts;
    this.gatheredAt = Date.now();
    for (const name of facts.missingNetworks) log.warn({ network: name }, 'missing network: its device does not exist, so it is not reported');
  };

  /**
   * The host changed under the last gathering (a network setup): gathers again, and until that
   * completes `upToDate()` waits for it rather than answer what is no longer true. A gathering
   * that started before the change and ends after it does not replace this one's answer.
   */
  changed(ctx: Dispatcher): void {
    const gathering: Promise<void> = this.refresh(ctx)
      .catch((err: unknown) => this.options.log.warn({ err }, 'gathering the host capabilities failed'))
      .finally(() => {
        if (this.stale === gathering) this.stale = undefined;
      });
    this.stale = gathering;
  }

  /** The capabilities as they are now: after the gathering the last change started, if one runs. */
  async upToDate(): Promise<CapabilityFacts | undefined> {
    while (this.stale !== undefined) await this.stale;
    return this.current;
  }

  /** The last gathering; undefined before the first completed. */
  get facts(): CapabilityFacts | undefined {
    return this.current;
  }

  /** When the last gathering completed, milliseconds since the epoch. */
  get updatedAt(): number | undefined {
    return this.gatheredAt;
  }
}
