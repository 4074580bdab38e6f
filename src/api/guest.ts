/**
 * Guest-agent verbs (reference §2.3) and vdsm's power-down chain for VM.shutdown.
 * - VM.desktopLock / desktopLogoff / desktopLogin / desktopSendHcCommand send their message to the
 *   VM's oVirt agent; as vdsm, the send is tried first, then a non-responsive agent is error
 *   `nonresp` (19).
 * - powerDown: the QEMU agent (libvirt's GUEST_AGENT shutdown) when the poller reaches it, the
 *   oVirt agent (`shutdown` with the user's delay and message) when it is responsive, then ACPI,
 *   then destroy when `force`; each step has `timeout` seconds (the oVirt step delay + timeout)
 *   to bring the VM down before the next is tried. The first step runs inside the request (so an
 *   ACPI failure still fails the call, as before); the rest runs after the reply. A reboot has no
 *   fallback after an agent step: nothing tells us a reboot happened, and a second one would
 *   hurt the guest.
 */
import { VdsmCode, VdsmError, NoSuchVmError } from '../rpc/errors.js';
import type { Method, ParamSpec } from '../rpc/method-table.js';
import { getLogger } from '../log.js';
import { ShutdownFlags } from '../virt/libvirt/constants.js';
import type { GuestAgentsView } from '../virt/guest/guests.js';
import type { OvirtAgent } from '../virt/guest/ovirt-agent.js';
import type { Vm } from '../virt/vm.js';
import type { ApiContext } from './context.js';
import { libvirtVerb } from './verbs.js';

/** vdsm's [vars] user_shutdown_timeout: the user's grace before the guest shuts down. */
export const DEFAULT_SHUTDOWN_DELAY = 30;
/** vdsm's [vars] sys_shutdown_timeout: how long each power-down method is given. */
export const DEFAULT_SHUTDOWN_TIMEOUT = 120;
export const DEFAULT_SHUTDOWN_MESSAGE = 'System going down';

const log = getLogger('guest-api');
const vmIdParam: ParamSpec = { name: 'vmID', type: 'string' };

function runningVm(ctx: ApiContext, args: Record<string, unknown>): Vm {
  const vmId = args['vmID'] as string;
  const vm = ctx.registry.get(vmId);
  if (vm === undefined || vm.status === 'Down') throw new NoSuchVmError(vmId);
  return vm;
}

/** vdsm: try to send; errors are logged and swallowed; a non-responsive agent is nonresp. */
function toAgent(guests: GuestAgentsView, vm: Vm, what: string, send: (agent: OvirtAgent) => void): true {
  const agent = guests.ovirt(vm.id);
  if (agent !== undefined) {
    try {
      send(agent);
    } catch (err) {
      log.debug({ err, vmId: vm.id }, `${what}: guest agent message not sent`);
    }
  }
  if (agent === undefined || !agent.isResponsive()) throw new VdsmError(VdsmCode.nonresp, 'Guest agent non-responsive', { vmId: vm.id });
  return true;
}

export function guestMethods(ctx: ApiContext, guests: GuestAgentsView): Method[] {
  return [
    {
      name: 'VM.desktopLock',
      params: [vmIdParam],
      handler: (args) => toAgent(guests, runningVm(ctx, args), 'desktopLock', (a) => a.desktopLock()),
    },
    {
      name: 'VM.desktopLogoff',
      // vdsm ignores `force`.
      params: [vmIdParam, { name: 'force', type: 'boolean', default: false }],
      handler: (args) => toAgent(guests, runningVm(ctx, args), 'desktopLogoff', (a) => a.desktopLogoff()),
    },
    {
      name: 'VM.desktopLogin',
      params: [vmIdParam, { name: 'domain', type: 'string' }, { name: 'username', type: 'string' }, { name: 'password', type: 'string' }],
      handler: (args) =>
        toAgent(guests, runningVm(ctx, args), 'desktopLogin', (a) => a.desktopLogin(args['username'] as string, args['domain'] as string, args['password'] as string)),
    },
    {
      name: 'VM.desktopSendHcCommand',
      params: [vmIdParam, { name: 'message', type: 'string' }],
      handler: (args) => toAgent(guests, runningVm(ctx, args), 'desktopSendHcCommand', (a) => a.send(args['message'] as string)),
    },
  ];
}

export interface PowerDownOptions {
  reboot: boolean;
  /** Seconds the user is given (oVirt agent only). */
  delay?: number | null;
  message?: string | null;
  /** Seconds each method is given to bring the VM down. */
  timeout?: number | null;
  force?: boolean;
}

type Step = { name: string; run: () => Promise<boolean>; wait: number };

/** VMs with a power-down chain in flight: a second request does not start another. */
const inFlight = new WeakSet<Vm>();

/** Resolves true once the VM is down or gone, false after `seconds`. */
function downWithin(ctx: ApiContext, vm: Vm, seconds: number): Promise<boolean> {
  const isDown = (): boolean => vm.status === 'Down' || ctx.registry.get(vm.id) !== vm;
  return new Promise((resolve) => {
    if (isDown()) return resolve(true);
    const deadline = performance.now() + seconds * 1000;
    const timer = setInterval(() => {
      if (isDown()) {
        clearInterval(timer);
        resolve(true);
      } else if (performance.now() >= deadline) {
        clearInterval(timer);
        resolve(false);
      }
    }, 200);
    timer.unref();
  });
}

export async function powerDown(ctx: ApiContext, guests: GuestAgentsView, vm: Vm, options: PowerDownOptions): Promise<true> {
  const delay = options.delay || DEFAULT_SHUTDOWN_DELAY;
  const timeout = options.timeout || DEFAULT_SHUTDOWN_TIMEOUT;
  const message = options.message || DEFAULT_SHUTDOWN_MESSAGE;
  const reboot = options.reboot;
  const agent = guests.ovirt(vm.id);
  const steps: Step[] = [];
  if (guests.qemuActive(vm.id)) {
    steps.push({
      name: 'qemu-guest-agent',
      wait: timeout,
      run: async () => {
        await libvirtVerb(ctx, reboot ? 'reboot' : 'shutdown', [vm.id, ShutdownFlags.GUEST_AGENT], vm.id);
        return true;
      },
    });
  }
  if (agent?.isResponsive()) {
    steps.push({
      name: 'ovirt-guest-agent',
      wait: delay + timeout,
      run: async () => {
        agent.desktopShutdown(delay, message, reboot);
        return true;
      },
    });
  }
  if (reboot && steps.length > 0) steps.length = 1;
  else {
    steps.push({
      name: 'acpi',
      wait: timeout,
      run: async () => {
        await libvirtVerb(ctx, reboot ? 'reboot' : 'shutdown', [vm.id], vm.id);
        return true;
      },
    });
    if (options.force && !reboot) {
      steps.push({
        name: 'destroy',
        wait: timeout,
        run: async () => {
          await libvirtVerb(ctx, 'destroy', [vm.id], vm.id);
          return true;
        },
      });
    }
  }

  if (!reboot) {
    if (inFlight.has(vm)) return true;
    vm.expect('shutdown');
    if (vm.status !== 'Powering down') vm.setStatus('Powering down');
  }
  // The first step inside the request: a failure of the only step is the caller's to see.
  const [first, ...rest] = steps;
  let started = false;
  try {
    started = await first!.run();
  } catch (err) {
    if (rest.length === 0) throw err;
    log.info({ err, vmId: vm.id, step: first!.name }, 'power-down method failed, trying the next');
  }
  if (reboot || rest.length === 0) return true;
  inFlight.add(vm);
  void (async () => {
    try {
      if (started && (await downWithin(ctx, vm, first!.wait))) return;
      for (const step of rest) {
        log.info({ vmId: vm.id, step: step.name }, 'VM not down yet, trying the next power-down method');
        try {
          if (!(await step.run())) continue;
        } catch (err) {
          log.info({ err, vmId: vm.id, step: step.name }, 'power-down method failed');
          continue;
        }
        if (await downWithin(ctx, vm, step.wait)) return;
      }
      log.warn({ vmId: vm.id }, 'VM did not power down');
    } finally {
      inFlight.delete(vm);
    }
  })();
  return true;
}
