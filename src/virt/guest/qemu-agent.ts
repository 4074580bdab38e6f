/**
 * The QEMU guest agent poller (vdsm's QemuGuestAgentPoller; docs/protocol.md, "QEMU guest agent"). `poll` is the body
 * of an exclusive periodic Operation (a 5 s tick) on the poller's own executor: each tick, every
 * running VM with a QEMU agent channel gets one worker task with the commands due for it
 * (workers/qga.ts), per vdsm's periods:
 * - the capability check (`guest-info`) every 300 s, and every tick during the first 120 s of a
 *   VM's life until a version is known; other commands only when the agent says it has them;
 * - a VM whose agent call failed is left alone for 60 s (except for that boot-time check);
 * - a VM with a task still in flight is skipped, so a stuck agent costs one worker, once;
 * - a hypervisor that cannot run agent commands at all (VIR_ERR_NO_SUPPORT: libvirt's test
 *   driver, LXC) ends the polling, said once: asking again every tick would only spend threads.
 * Findings go to GuestData, where they override the oVirt agent's. The first sight of a QEMU agent
 * tells the VM its guest answered.
 */
import { getLogger, type Logger } from '../../log.js';
import type { Dispatcher } from '../../tasks/contract.js';
import { qgaTasks, type AgentCommandsTask, type AgentReply } from '../../tasks/qga.js';
import type { Vm } from '../vm.js';
import type { GuestData } from './guest-data.js';
import type { NetIface } from './ovirt-messages.js';
import {
  fakeAppsList,
  hasRoutableAddress,
  translateCaps,
  translateDevices,
  translateDisks,
  translateFsInfo,
  translateHostName,
  translateNetwork,
  translateOsInfo,
  translateTimezone,
  translateUsers,
  translateVcpus,
  type QgaCaps,
} from './qga-translate.js';
import { filterValue } from './xml-chars.js';

export const QEMU_CHANNEL = 'org.qemu.guest_agent.0';

/** Seconds between runs of each command (vdsm's [guest_agent] defaults). */
export const COMMAND_PERIODS: Readonly<Record<string, number>> = {
  'guest-info': 300,
  'guest-get-vcpus': 60,
  'guest-get-devices': 120,
  'guest-network-get-interfaces': 120,
  'guest-get-host-name': 120,
  'guest-get-osinfo': 120,
  'guest-get-timezone': 120,
  'guest-get-users': 10,
  'guest-get-disks': 300,
  'guest-get-fsinfo': 300,
};

/** vdsm's hard-coded failure throttling. */
export const FAILURE_SKIP = 60;
/** vdsm's qga_initial_info_interval: the boot phase. */
export const BOOT_PHASE = 120;

interface VmState {
  caps: QgaCaps | undefined;
  lastRun: Map<string, number>;
  lastFailure: number;
  inFlight: boolean;
  /** What the agent reported, per translator, merged on publish. */
  parts: Map<string, Record<string, unknown>>;
}

export interface QemuAgentPollerOptions {
  uri: string;
  vms: { all(): Iterable<Vm> };
  data: GuestData;
  /** [guest_agent] qga_command_timeout, seconds. */
  commandTimeout: number;
  /** [guest_agent] qga_polling_period: commands due within half a tick run on this one. */
  tick: number;
  periods?: Partial<Record<string, number>>;
  log?: Logger;
  monotonic?: () => number;
}

export class QemuAgentPoller {
  private readonly states = new Map<string, VmState>();
  /** Where the next round starts: a round cut short by a full queue resumes there, so no VM starves. */
  private cursor = 0;
  /** The hypervisor answered VIR_ERR_NO_SUPPORT: it cannot run agent commands, polling is over. */
  private unsupported = false;
  private readonly log: Logger;
  private readonly periods: Record<string, number>;
  private readonly monotonic: () => number;

  constructor(private readonly options: QemuAgentPollerOptions) {
    this.log = options.log ?? getLogger('qga-poller');
    this.periods = { ...COMMAND_PERIODS };
    for (const [command, period] of Object.entries(options.periods ?? {})) if (period !== undefined) this.periods[command] = period;
    this.monotonic = options.monotonic ?? (() => performance.now() / 1000);
  }

  /** vdsm's is_active: the agent answered its capability check and has not failed since. */
  isActive(vmId: string): boolean {
    const state = this.states.get(vmId);
    return state?.caps !== undefined && state.lastFailure < (state.lastRun.get('guest-info') ?? -Infinity);
  }

  /** The capabilities last seen, for tests and the API. */
  caps(vmId: string): QgaCaps | undefined {
    return this.states.get(vmId)?.caps;
  }

  /** The Operation body: one round over the VMs. */
  readonly poll = async (ctx: Dispatcher): Promise<void> => {
    if (this.unsupported) return;
    const now = this.monotonic();
    const vms = [...this.options.vms.all()].filter((vm) => vm.running && vm.devices.channels.some((c) => c.target === QEMU_CHANNEL));
    const seen = new Set(vms.map((vm) => vm.id));
    const runs: Promise<void>[] = [];
    const start = vms.length === 0 ? 0 : this.cursor % vms.length;
    let left = 0;
    for (let i = 0; i < vms.length; i++) {
      const vm = vms[(start + i) % vms.length]!;
      const state = this.stateOf(vm.id);
      if (state.inFlight) continue;
      const commands = this.dueCommands(vm, state, now);
      if (commands.length === 0) continue;
      const task: AgentCommandsTask = { uri: this.options.uri, uuid: vm.id, commands, timeoutSec: Math.max(1, Math.ceil(this.options.commandTimeout)) };
      let pending: Promise<AgentReply[]>;
      try {
        pending = qgaTasks.agentCommands(ctx, task);
      } catch (err) {
        // The executor's queue is full: the rest wait for the next round, which starts here.
        this.cursor = (start + i) % vms.length;
        left = vms.length - i;
        this.log.debug({ err, vmId: vm.id }, 'QEMU agent task not dispatched');
        break;
      }
      for (const command of commands) state.lastRun.set(command, now);
      state.inFlight = true;
      runs.push(
        pending.then(
          (replies) => this.apply(vm, state, replies),
          (err: unknown) => {
            state.lastFailure = this.monotonic();
            this.log.debug({ err, vmId: vm.id }, 'QEMU agent task failed');
          },
        ).finally(() => {
          state.inFlight = false;
        }),
      );
    }
    if (left === 0) this.cursor = start;
    for (const vmId of [...this.states.keys()]) {
      if (!seen.has(vmId)) this.forget(vmId);
    }
    if (left > 0) this.log.info({ left }, 'QEMU agent poller: executor queue full, the rest of the VMs wait for the next round');
    await Promise.all(runs);
  };

  private stateOf(vmId: string): VmState {
    let state = this.states.get(vmId);
    if (state === undefined) {
      state = { caps: undefined, lastRun: new Map(), lastFailure: -Infinity, inFlight: false, parts: new Map() };
      this.states.set(vmId, state);
    }
    return state;
  }

  private forget(vmId: string): void {
    this.states.delete(vmId);
    this.options.data.setQemu(vmId, undefined);
  }

  private due(state: VmState, command: string, now: number): boolean {
    const last = state.lastRun.get(command);
    // Half a tick of slack: a period that is a multiple of the tick runs on its tick, not the next.
    return last === undefined || now - last >= (this.periods[command] ?? 300) - this.options.tick / 2;
  }

  private dueCommands(vm: Vm, state: VmState, now: number): string[] {
    const booting = vm.elapsedSeconds() < BOOT_PHASE;
    const capsUnknown = state.caps === undefined;
    if (booting && capsUnknown) return ['guest-info'];
    if (now - state.lastFailure < FAILURE_SKIP) return [];
    const commands: string[] = [];
    if (capsUnknown || this.due(state, 'guest-info', now)) commands.push('guest-info');
    const caps = state.caps;
    if (caps === undefined) return commands;
    for (const command of Object.keys(this.periods)) {
      if (command === 'guest-info' || !caps.commands.has(command)) continue;
      if (this.due(state, command, now)) commands.push(command);
      else if (command === 'guest-network-get-interfaces' && booting && !this.hasAddress(state)) commands.push(command);
    }
    // COMMAND_PERIODS lists guest-get-disks before guest-get-fsinfo, the order vdsm runs them in.
    return commands;
  }

  private hasAddress(state: VmState): boolean {
    const ifaces = state.parts.get('guest-network-get-interfaces')?.['netIfaces'] as NetIface[] | undefined;
    return ifaces !== undefined && hasRoutableAddress(ifaces);
  }

  private apply(vm: Vm, state: VmState, replies: AgentReply[]): void {
    if (this.states.get(vm.id) !== state) return; // forgotten meanwhile
    let changed = false;
    for (const reply of replies) {
      if (!reply.ok) {
        if (reply.kind === 'libvirt' && reply.code === 'VIR_ERR_NO_SUPPORT') {
          if (!this.unsupported) this.log.info({ reason: reply.message }, 'the hypervisor does not run QEMU agent commands: QEMU agent polling stopped');
          this.unsupported = true;
        } else if (reply.kind === 'libvirt') {
          state.lastFailure = this.monotonic();
          this.log.debug({ vmId: vm.id, command: reply.command, code: reply.code, reason: reply.message }, 'QEMU agent call failed');
        } else {
          this.log.debug({ vmId: vm.id, command: reply.command, reason: reply.message }, 'QEMU agent refused a command');
        }
        continue;
      }
      let value: unknown;
      try {
        value = filterValue(reply.value);
      } catch {
        continue; // absurdly nested: not a reply any agent sends
      }
      if (reply.command === 'guest-info') {
        changed = this.applyCaps(vm, state, value) || changed;
        continue;
      }
      const translated = this.translate(reply.command, value, state);
      if (translated === undefined) {
        this.log.warn({ vmId: vm.id, command: reply.command }, 'QEMU agent reply of an unexpected shape ignored');
        continue;
      }
      state.parts.set(reply.command, translated);
      changed = true;
    }
    if (changed) this.publish(vm.id, state);
  }

  private applyCaps(vm: Vm, state: VmState, value: unknown): boolean {
    const caps = translateCaps(value);
    if (caps === undefined) return false;
    const first = state.caps === undefined;
    state.caps = caps;
    if (first) {
      state.lastFailure = -Infinity;
      this.log.info({ vmId: vm.id, version: caps.version, commands: [...caps.commands] }, 'QEMU guest agent found');
      vm.guestAnswered();
    }
    return true;
  }

  private translate(command: string, value: unknown, state: VmState): Record<string, unknown> | undefined {
    switch (command) {
      case 'guest-get-vcpus':
        return translateVcpus(value);
      case 'guest-get-devices':
        return translateDevices(value);
      case 'guest-network-get-interfaces':
        return translateNetwork(value);
      case 'guest-get-host-name':
        return translateHostName(value);
      case 'guest-get-osinfo':
        return translateOsInfo(value);
      case 'guest-get-timezone':
        return translateTimezone(value);
      case 'guest-get-users':
        return translateUsers(value);
      case 'guest-get-disks':
        return translateDisks(value);
      case 'guest-get-fsinfo':
        return translateFsInfo(value, !(state.caps?.commands.has('guest-get-disks') ?? false));
      default:
        return undefined;
    }
  }

  private publish(vmId: string, state: VmState): void {
    if (state.caps === undefined) return;
    const info: Record<string, unknown> = {};
    let mapping: Record<string, unknown> | undefined;
    for (const part of state.parts.values()) {
      for (const [key, value] of Object.entries(part)) {
        if (key === 'diskMapping') mapping = { ...mapping, ...(value as Record<string, unknown>) };
        else info[key] = value;
      }
    }
    if (mapping !== undefined) info['diskMapping'] = mapping;
    info['appsList'] = fakeAppsList(state.caps.version, state.parts.get('guest-get-osinfo'));
    this.options.data.setQemu(vmId, info);
  }
}
