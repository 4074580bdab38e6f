/**
 * Powering a VM down gently (vdsm's vmpowerdown): each method in turn, until the VM is down.
 * - The QEMU guest agent (libvirt's GUEST_AGENT shutdown) when the poller reaches it; the oVirt
 *   agent (`shutdown` with the user's delay and message) when it is responsive; then ACPI; then
 *   destroy when `force`. Each method has `timeout` seconds (the oVirt one delay + timeout) to
 *   bring the VM down before the next is tried.
 * - The first method runs inside the request, so a failure of the only method is the caller's to
 *   see; the rest runs after the reply, waiting on the registry's status events (Down, or the VM
 *   removed), not polling.
 * - A reboot has no fallback after an agent method: nothing tells us a reboot happened, and a
 *   second one would hurt the guest.
 * - A shutdown while a chain runs for the VM starts no second chain.
 */
import { getLogger, type Logger } from '../log.js';
import type { GuestAgentsView } from './guest/guests.js';
import type { VmRegistry } from './registry.js';
import type { Vm } from './vm.js';

/** vdsm's [vars] user_shutdown_timeout: the user's grace before the guest shuts down. */
export const DEFAULT_SHUTDOWN_DELAY = 30;
/** vdsm's [vars] sys_shutdown_timeout: how long each power-down method is given. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 120;
export const DEFAULT_SHUTDOWN_MESSAGE = 'System going down';

export interface PowerDownOptions {
  reboot: boolean;
  /** Seconds the user is given (oVirt agent only). */
  delay?: number | null;
  message?: string | null;
  /** Seconds each method is given to bring the VM down. */
  timeout?: number | null;
  force?: boolean;
}

/** The libvirt calls the chain needs, run off the main thread by the caller. */
export interface DomainPowerControl {
  /** `throughAgent`: libvirt's GUEST_AGENT flag, otherwise ACPI. */
  shutdown(throughAgent: boolean): Promise<void>;
  reboot(throughAgent: boolean): Promise<void>;
  destroy(): Promise<void>;
}

export interface PowerDownParts {
  registry: VmRegistry;
  guests: GuestAgentsView;
  domain: DomainPowerControl;
}

interface Method {
  name: string;
  /** Seconds it is given to bring the VM down. */
  seconds: number;
  run: () => Promise<unknown>;
}

/** The methods to try, in order. */
function methodsFor(vm: Vm, { guests, domain }: PowerDownParts, options: PowerDownOptions): Method[] {
  const delay = options.delay || DEFAULT_SHUTDOWN_DELAY;
  const timeout = options.timeout || DEFAULT_SHUTDOWN_TIMEOUT;
  const message = options.message || DEFAULT_SHUTDOWN_MESSAGE;
  const reboot = options.reboot;
  const methods: Method[] = [];
  if (guests.qemuActive(vm.id)) {
    methods.push({ name: 'qemu-guest-agent', seconds: timeout, run: () => (reboot ? domain.reboot(true) : domain.shutdown(true)) });
  }
  const agent = guests.ovirt(vm.id);
  if (agent?.isResponsive()) {
    methods.push({ name: 'ovirt-guest-agent', seconds: delay + timeout, run: async () => agent.desktopShutdown(delay, message, reboot) });
  }
  if (reboot && methods.length > 0) return methods.slice(0, 1);
  methods.push({ name: 'acpi', seconds: timeout, run: () => (reboot ? domain.reboot(false) : domain.shutdown(false)) });
  if (options.force && !reboot) methods.push({ name: 'destroy', seconds: timeout, run: () => domain.destroy() });
  return methods;
}

/** Resolves true once the VM is down or gone from the registry, false after `seconds`. */
export function downWithin(registry: VmRegistry, vm: Vm, seconds: number): Promise<boolean> {
  if (vm.status === 'Down' || registry.get(vm.id) !== vm) return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (down: boolean): void => {
      clearTimeout(timer);
      offStatus();
      offRemoved();
      resolve(down);
    };
    const offStatus = registry.onStatus((changed) => {
      if (changed === vm && vm.status === 'Down') done(true);
    });
    const offRemoved = registry.onRemoved((removed) => {
      if (removed === vm) done(true);
    });
    const timer = setTimeout(() => done(false), seconds * 1000);
    timer.unref();
  });
}

/** Starts the chain; resolves once the first method ran (or throws if it was the only one). */
export async function powerDown(vm: Vm, parts: PowerDownParts, options: PowerDownOptions): Promise<true> {
  const log = getLogger('power-down', { vmId: vm.id });
  const [first, ...rest] = methodsFor(vm, parts, options);
  if (!options.reboot) {
    if (vm.powerDownRunning) return true;
    vm.expect('shutdown');
    if (vm.status !== 'Powering down') vm.setStatus('Powering down');
  }
  let started = false;
  try {
    await first!.run();
    started = true;
  } catch (err) {
    if (rest.length === 0) throw err;
    log.info({ err, step: first!.name }, 'power-down method failed, trying the next');
  }
  if (options.reboot || rest.length === 0) return true;
  vm.powerDownRunning = true;
  void fallBack(vm, parts.registry, started ? first! : undefined, rest, log).finally(() => {
    vm.powerDownRunning = false;
  });
  return true;
}

/** After the first method: waits its time, then tries each of the rest until the VM is down. */
async function fallBack(vm: Vm, registry: VmRegistry, first: Method | undefined, rest: Method[], log: Logger): Promise<void> {
  if (first !== undefined && (await downWithin(registry, vm, first.seconds))) return;
  for (const method of rest) {
    log.info({ step: method.name }, 'VM not down yet, trying the next power-down method');
    try {
      await method.run();
    } catch (err) {
      log.info({ err, step: method.name }, 'power-down method failed');
      continue;
    }
    if (await downWithin(registry, vm, method.seconds)) return;
  }
  log.warn('VM did not power down');
}
