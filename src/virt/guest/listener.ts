/**
 * The oVirt guest agent channels of every VM (vdsm's vmchannels.Listener with its GuestAgents),
 * all on the main thread with non-blocking sockets. It follows the VM registry: a running VM with
 * an oVirt agent channel (`ovirt-guest-agent.0`, else the legacy `com.redhat.rhevm.vdsm`) gets a
 * session (channel + line reader + agent); a VM that goes down or away loses it and gets a new one
 * when it runs again. VMs added to the registry are looked at once their description is in (on
 * the next turn of the event loop); status changes come from the registry, and a one-second sweep catches whatever was not forwarded. The sweep also marks
 * silent agents stale (every guest_agent_timeout of silence) and re-publishes guest data whose
 * responsiveness ran out.
 */
import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { getLogger, type Logger } from '../../log.js';
import type { Vm } from '../vm.js';
import type { BackoffOptions } from '../../concurrency/backoff.js';
import { GuestChannel } from './channel.js';
import type { GuestData } from './guest-data.js';
import { LineReader } from './line-reader.js';
import { OvirtAgent } from './ovirt-agent.js';

export const OVIRT_CHANNEL = 'ovirt-guest-agent.0';
export const LEGACY_CHANNEL = 'com.redhat.rhevm.vdsm';

/** What the listener reads of the VM registry. */
export interface VmSource {
  all(): Iterable<Vm>;
  get(vmId: string): Vm | undefined;
  onAdded(listener: (vm: Vm) => void): () => void;
  onRemoved(listener: (vm: Vm) => void): () => void;
  onStatus(listener: (vm: Vm) => void): () => void;
}

export interface GuestListenerOptions {
  vms: VmSource;
  data: GuestData;
  /** [guest_agent] channels_dir. */
  channelsDir: string;
  /** [vars] guest_agent_timeout, seconds: silence after which the agent's data is stale. */
  staleAfter: number;
  log?: Logger;
  /** Seconds between sweeps. */
  sweepInterval?: number;
  /** Reconnect delays of the channels, seconds. */
  backoff?: Partial<BackoffOptions>;
}

interface Session {
  path: string;
  channel: GuestChannel;
  agent: OvirtAgent;
  reader: LineReader;
  /** Monotonic seconds when the agent was last told it is silent. */
  staleMarkedAt: number;
}

/** The oVirt agent channel of a VM: the socket path, or undefined when it has none. */
export function ovirtChannelPath(vm: Pick<Vm, 'devices'>): string | undefined {
  const channels = vm.devices.channels;
  return (channels.find((c) => c.target === OVIRT_CHANNEL) ?? channels.find((c) => c.target === LEGACY_CHANNEL))?.path;
}

export class GuestListener {
  private readonly sessions = new Map<string, Session>();
  private readonly log: Logger;
  private realDir = '';
  private unsubscribe: Array<() => void> = [];
  private sweepTimer: NodeJS.Timeout | undefined;
  private running = false;

  constructor(private readonly options: GuestListenerOptions) {
    this.log = options.log ?? getLogger('guest-channels');
  }

  /** Sessions open now (connected or trying). */
  get size(): number {
    return this.sessions.size;
  }

  async start(): Promise<void> {
    if (this.running) return;
    try {
      this.realDir = await realpath(this.options.channelsDir);
    } catch (err) {
      // Not there yet (no VM ever ran): paths are still checked against it lexically and resolved.
      this.realDir = resolve(this.options.channelsDir);
      this.log.warn({ err, channelsDir: this.options.channelsDir }, 'guest agent channels folder not found');
    }
    this.running = true;
    const vms = this.options.vms;
    this.unsubscribe = [
      vms.onAdded((vm) => setImmediate(() => this.vmChanged(vm.id))),
      vms.onRemoved((vm) => this.drop(vm.id)),
      vms.onStatus((vm) => this.vmChanged(vm.id)),
    ];
    for (const vm of vms.all()) this.sync(vm);
    const every = (this.options.sweepInterval ?? 1) * 1000;
    this.sweepTimer = setInterval(() => this.sweep(), every);
    this.sweepTimer.unref();
    this.log.info({ channelsDir: this.realDir, sessions: this.sessions.size }, 'guest agent listener started');
  }

  stop(): void {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.sweepTimer);
    for (const off of this.unsubscribe) off();
    this.unsubscribe = [];
    for (const vmId of [...this.sessions.keys()]) this.drop(vmId);
  }

  /** A VM's status or description changed: open or drop its channel to match. */
  vmChanged(vmId: string): void {
    if (!this.running) return;
    const vm = this.options.vms.get(vmId);
    if (vm === undefined) this.drop(vmId);
    else this.sync(vm);
  }

  /** The oVirt agent of a VM, when it has a session. */
  agent(vmId: string): OvirtAgent | undefined {
    return this.sessions.get(vmId)?.agent;
  }

  /** The channel of a VM, for tests and health. */
  channel(vmId: string): GuestChannel | undefined {
    return this.sessions.get(vmId)?.channel;
  }

  private sync(vm: Vm): void {
    const path = vm.running ? ovirtChannelPath(vm) : undefined;
    const session = this.sessions.get(vm.id);
    if (session !== undefined && session.path === path) return;
    if (session !== undefined) this.drop(vm.id);
    if (path !== undefined) this.open(vm, path);
  }

  private open(vm: Vm, path: string): void {
    const vmId = vm.id;
    const data = this.options.data;
    const channel: GuestChannel = new GuestChannel({
      vmId,
      path,
      realDir: this.realDir,
      log: this.log,
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      handlers: {
        connected: () => {
          reader.reset();
          agent.connected();
        },
        data: (chunk) => reader.push(chunk),
        disconnected: () => reader.reset(),
      },
    });
    const agent = new OvirtAgent({
      vmId,
      log: this.log,
      send: (line) => channel.write(line),
      onChange: () => data.publish(vmId),
      onAnswer: () => this.options.vms.get(vmId)?.guestAnswered(),
    });
    const reader = new LineReader({ line: (text) => agent.line(text), tooLong: (bytes) => agent.tooLong(bytes) });
    this.sessions.set(vmId, { path, channel, agent, reader, staleMarkedAt: -Infinity });
    data.setOvirt(vmId, agent);
    channel.start();
  }

  private drop(vmId: string): void {
    const session = this.sessions.get(vmId);
    if (session === undefined) return;
    this.sessions.delete(vmId);
    session.channel.close();
    session.agent.close();
    const vm = this.options.vms.get(vmId);
    if (vm?.running) {
      this.options.data.setOvirt(vmId, undefined); // its channel moved: a new session follows
    } else {
      // Down or gone: nothing of this run's guest data may show when it runs again.
      this.options.data.drop(vmId);
      if (vm !== undefined) vm.guest = {};
    }
  }

  private sweep(): void {
    const vms = this.options.vms;
    for (const vm of vms.all()) this.sync(vm);
    const now = performance.now() / 1000;
    const staleAfter = this.options.staleAfter;
    for (const [vmId, session] of this.sessions) {
      if (vms.get(vmId) === undefined) {
        this.drop(vmId);
        continue;
      }
      if (session.channel.state !== 'connected') continue;
      // vdsm's timeout_cb: once per staleAfter seconds of silence.
      const quietSince = Math.max(session.channel.lastReadAt, session.staleMarkedAt);
      if (now - quietSince >= staleAfter) {
        session.staleMarkedAt = now;
        session.agent.silent();
      }
    }
    this.options.data.refresh();
  }
}
