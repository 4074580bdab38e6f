/**
 * Host.setupNetworks as one transaction, owned by the privileged helper:
 *
 *   canonicalize and validate (vdsm's rules and codes; nothing touched on an error)
 *   -> journal the running configuration and the kernel state from before
 *   -> apply (ip operations, DHCP clients) -> save the running configuration
 *   -> connectivity check: the change stands only if a confirmation (the engine's
 *      Host.confirmConnectivity or Host.ping, forwarded by the daemon) arrives after it was applied
 *      and within connectivityTimeout seconds
 *   -> on success: commitOnSuccess makes it the safe configuration; on any failure: the kernel
 *      state and running configuration from before are put back and the call fails (code 10 for a
 *      lost connection).
 *
 * One setup (or setSafe) at a time; another gets vdsm's code 40. The journal makes the transaction
 * survive the helper itself: one left behind is rolled back when the helper starts. The daemon is
 * only a client here, so a daemon that dies mid-way leaves the check unconfirmed and the host goes
 * back to where it was.
 */
import type { Logger } from '../log.js';
import { canonicalizeSetupNetworks, isRemoval, type CanonicalRequest, type SetupNetworksParams } from './canonicalize.js';
import { networkDevice, type NetConfig } from './config.js';
import { DhcpError, type DhcpClients } from './dhcp.js';
import { NetworkError, NetworkErrorCode } from './errors.js';
import { runPlan, type IpOp } from './ip.js';
import { kernelDevices, readKernelState, type KernelState } from './kernel.js';
import { otherManager } from './other-managers.js';
import { isDeviceName, setupPlan } from './plan.js';
import { devicesPhase, linksPhase, routesPhase } from './rollback-plan.js';
import type { NetConfigStore } from './store.js';
import { applyToConfig, validateSetupNetworks } from './validate.js';

export interface NetworkHost {
  readKernel(): Promise<KernelState>;
  /** Runs a plan; with `force` every operation is tried and the failures are returned. */
  runPlan(plan: readonly IpOp[], options?: { force?: boolean }): Promise<Error[]>;
  dhcp: DhcpClients;
  /** The host's nameservers (/etc/resolv.conf), the default of the default-route network. */
  nameservers(): string[];
  /** NetworkManager or systemd-networkd when one of them manages the device. */
  otherManager(device: string, ifindex: number): Promise<string | undefined>;
}

export interface SetupOutcome {
  code: number;
  message: string;
}

export const DONE: SetupOutcome = { code: 0, message: 'Done' };

export class NetworkSetups {
  private busy = false;
  private confirmedAt = 0;
  private readonly confirmWaiters = new Set<() => void>();

  constructor(
    private readonly store: NetConfigStore,
    private readonly host: NetworkHost,
    private readonly log: Logger,
  ) {}

  /** An engine request reached the daemon. */
  confirm(): void {
    this.confirmedAt = Date.now();
    for (const wake of this.confirmWaiters) wake();
  }

  async setup(params: SetupNetworksParams): Promise<SetupOutcome> {
    return this.exclusive(async () => {
      const kernel = await this.host.readKernel();
      const running = this.store.running();
      const facts = { running, kernel: kernelDevices(kernel), nameservers: this.host.nameservers() };
      const request = canonicalizeSetupNetworks(params, facts);
      validateSetupNetworks(request, facts);
      refuseUnsafeNames(request);
      await this.refuseForeignDevices(request, kernel);
      const next = applyToConfig(running, request);
      await this.transaction(running, next, kernel, request);
      return DONE;
    });
  }

  /** A device the request would change that NetworkManager or systemd-networkd manages: refused. */
  private async refuseForeignDevices(request: CanonicalRequest, kernel: KernelState): Promise<void> {
    const devices = new Set<string>();
    for (const net of Object.values(request.networks)) if (!isRemoval(net)) for (const name of [net.nic, net.bonding]) if (name !== undefined) devices.add(name);
    for (const bond of Object.values(request.bonds)) if (!isRemoval(bond)) for (const nic of bond.nics) devices.add(nic);
    for (const device of devices) {
      const link = kernel.links.get(device);
      const manager = link && (await this.host.otherManager(device, link.ifindex));
      if (manager) throw new NetworkError(NetworkErrorCode.badParams, `${device} is managed by ${manager}: make it unmanaged there before hostvisor configures it`);
    }
  }

  /** Host.setSafeNetworkConfig: the running configuration becomes the safe one. */
  async setSafe(): Promise<boolean> {
    return this.exclusive(async () => {
      this.store.persist();
      return true;
    });
  }

  /** A setup a previous run of the helper left unfinished is rolled back. */
  async recover(): Promise<void> {
    const journal = this.store.unfinished();
    if (journal === undefined) return;
    this.log.warn({ started: new Date(journal.started).toISOString() }, 'rolling back the network setup a previous run left unfinished');
    await this.rollback(journal.kernel, journal.running, new Set());
  }

  /**
   * Boot: the safe configuration applied over whatever the host came up with, without a
   * connectivity check (nobody is connected yet).
   */
  async restoreSafe(): Promise<void> {
    await this.exclusive(async () => {
      const kernel = await this.host.readKernel();
      const running = this.store.running();
      const safe = this.store.safe();
      await this.apply(running, safe, kernel, new Set());
      this.store.saveRunning(safe);
    });
  }

  private async exclusive<T>(body: () => Promise<T>): Promise<T> {
    if (this.busy) throw new NetworkError(NetworkErrorCode.unavailable, 'Resource unavailable: another network setup is in progress');
    this.busy = true;
    try {
      return await body();
    } finally {
      this.busy = false;
    }
  }

  private async transaction(running: NetConfig, next: NetConfig, kernel: KernelState, request: CanonicalRequest): Promise<void> {
    this.store.beginTransaction({ started: Date.now(), running, kernel });
    const started = new Set<string>();
    try {
      await this.apply(running, next, kernel, started);
      this.store.saveRunning(next);
      if (request.options.connectivityCheck) await this.connectivityCheck(request.options.connectivityTimeout);
    } catch (err) {
      this.log.warn({ err: err instanceof Error ? err.message : err }, 'network setup failed: rolling back');
      await this.rollback(kernel, running, started);
      if (err instanceof NetworkError) throw err;
      if (err instanceof DhcpError) throw new NetworkError(NetworkErrorCode.failedIfup, err.message);
      throw err;
    }
    if (request.options.commitOnSuccess) this.store.persist();
    this.store.endTransaction();
  }

  /** Takes the kernel from `from` to `to`, adding each device it starts a DHCP client on to `dhcpStarted`. */
  private async apply(from: NetConfig, to: NetConfig, kernel: KernelState, dhcpStarted: Set<string>): Promise<void> {
    // Clients of networks that go away or stop using DHCP first: they would fight the change.
    for (const [name, net] of Object.entries(from.networks)) {
      const next = to.networks[name];
      if (net.bootproto === 'dhcp' && (next === undefined || next.bootproto !== 'dhcp' || networkDevice(name, next) !== networkDevice(name, net))) {
        await this.host.dhcp.stop(networkDevice(name, net));
      }
    }
    await this.host.runPlan(setupPlan(from, to, kernel));
    for (const [name, net] of Object.entries(to.networks)) {
      const device = networkDevice(name, net);
      if (net.bootproto !== 'dhcp' || this.host.dhcp.running(device)) continue;
      dhcpStarted.add(device);
      await this.host.dhcp.start(device);
    }
  }

  private connectivityCheck(timeoutSeconds: number): Promise<void> {
    const since = Date.now();
    return new Promise((resolve, reject) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.confirmWaiters.delete(wake);
        if (ok) resolve();
        else reject(new NetworkError(NetworkErrorCode.lostConnection, 'connectivity check failed'));
      };
      const wake = (): void => {
        if (this.confirmedAt >= since) done(true);
      };
      const timer = setTimeout(() => done(false), timeoutSeconds * 1000);
      this.confirmWaiters.add(wake);
    });
  }

  /**
   * The kernel as it was in `before` and the running configuration `running`, as far as the kernel
   * lets us: each failing operation is logged and the rest still run.
   */
  private async rollback(before: KernelState, running: NetConfig, dhcpStarted: ReadonlySet<string>): Promise<void> {
    for (const device of dhcpStarted) await this.host.dhcp.stop(device);
    for (const phase of [linksPhase, devicesPhase, routesPhase]) {
      const now = await this.host.readKernel();
      for (const failed of await this.host.runPlan(phase(now, before), { force: true })) this.log.error({ err: failed.message }, 'rollback step failed');
    }
    this.store.saveRunning(running);
    this.store.endTransaction();
  }
}

/**
 * Stricter than vdsm: a network name becomes a device name (a bridge's), so beyond vdsm's rule it
 * may hold only letters, digits, `_`, `.` and `-`: no shell metacharacters or path separators, even
 * though no shell ever sees it.
 */
function refuseUnsafeNames(request: CanonicalRequest): void {
  for (const name of Object.keys(request.networks)) {
    if (!isDeviceName(name)) throw new NetworkError(NetworkErrorCode.badBridge, `Bridge name isn't valid: ${name}`);
  }
}

/** The host as the helper sees it: the real kernel through iproute2. */
export function kernelHost(dhcp: DhcpClients, nameservers: () => string[]): NetworkHost {
  return { readKernel: readKernelState, runPlan, dhcp, nameservers, otherManager: (device, ifindex) => otherManager(device, ifindex) };
}
