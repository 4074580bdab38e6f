/**
 * Guest-agent verbs, and VM.shutdown's power-down chain (virt/power-down.ts) over the rpc executor.
 * VM.desktopLock / desktopLogoff / desktopLogin / desktopSendHcCommand send their message to the
 * VM's oVirt agent; as vdsm, the send is tried first, then a non-responsive agent is error
 * `nonresp` (19).
 */
import { VdsmCode, VdsmError, NoSuchVmError } from '../rpc/errors.js';
import { getLogger } from '../log.js';
import { ShutdownFlags } from '../virt/libvirt/constants.js';
import { powerDown as powerDownChain, type DomainPowerControl, type PowerDownOptions } from '../virt/power-down.js';
import type { GuestAgentsView } from '../virt/guest/guests.js';
import type { OvirtAgent } from '../virt/guest/ovirt-agent.js';
import type { Vm } from '../virt/vm.js';
import type { ApiContext } from './context.js';
import type { Handlers } from './method-registry.js';
import { libvirtVerb } from './verbs.js';

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
      getLogger('guest-api', { vmId: vm.id }).debug({ err }, `${what}: guest agent message not sent`);
    }
  }
  if (agent === undefined || !agent.isResponsive()) throw new VdsmError(VdsmCode.nonresp, 'Guest agent non-responsive', { vmId: vm.id });
  return true;
}

export function guestHandlers(ctx: ApiContext, guests: GuestAgentsView): Handlers {
  return {
    'VM.desktopLock': (args) => toAgent(guests, runningVm(ctx, args), 'desktopLock', (a) => a.desktopLock()),
    // vdsm ignores `force`.
    'VM.desktopLogoff': (args) => toAgent(guests, runningVm(ctx, args), 'desktopLogoff', (a) => a.desktopLogoff()),
    'VM.desktopLogin': (args) =>
      toAgent(guests, runningVm(ctx, args), 'desktopLogin', (a) => a.desktopLogin(args['username'] as string, args['domain'] as string, args['password'] as string)),
    'VM.desktopSendHcCommand': (args) => toAgent(guests, runningVm(ctx, args), 'desktopSendHcCommand', (a) => a.send(args['message'] as string)),
  };
}

/** VM.shutdown with guest agents: vdsm's power-down chain, its libvirt calls on the rpc executor. */
export function powerDown(ctx: ApiContext, guests: GuestAgentsView, vm: Vm, options: PowerDownOptions): Promise<true> {
  const flags = (throughAgent: boolean): [string, number?] => (throughAgent ? [vm.id, ShutdownFlags.GUEST_AGENT] : [vm.id]);
  const domain: DomainPowerControl = {
    shutdown: (throughAgent) => libvirtVerb(ctx, 'shutdown', flags(throughAgent), vm.id),
    reboot: (throughAgent) => libvirtVerb(ctx, 'reboot', flags(throughAgent), vm.id),
    destroy: () => libvirtVerb(ctx, 'destroy', [vm.id], vm.id),
  };
  return powerDownChain(vm, { registry: ctx.registry, guests, domain }, options);
}
