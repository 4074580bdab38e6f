/**
 * One VM's oVirt guest agent session (vdsm's GuestAgent), fed lines by its channel:
 * - on connect, `refresh` with apiVersion 3; api-version negotiation on heartbeats;
 * - every message of the agent's protocol (docs/protocol.md) applied to the guest info (ovirt-messages.ts); any parsed message is a
 *   sign of life: responsive while the last one is under 120 s old; the first one tells the VM its
 *   agent answered (a VM powering up is then up);
 * - hostile input (bad JSON, non-objects, unknown names, wrong types, over-long lines) is ignored
 *   with rate-limited warnings and never ends the session;
 * - commands to the guest (desktop lock/logoff/login, shutdown, lifecycle events) with vdsm's API
 *   version gates; a lifecycle event with a reply_id resolves when the guest's `completion` comes.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../log.js';
import { applyMessage, initialGuestInfo, type OvirtGuestInfo } from './ovirt-messages.js';
import { encodeHostMessage, parseGuestLine, type MessageArgs } from './ovirt-wire.js';
import { ThrottledLog } from '../../log-throttle.js';

/** The highest API version the host speaks (vdsm's _MAX_SUPPORTED_API_VERSION). */
export const MAX_API_VERSION = 3;
/** vdsm's hard-coded responsiveness window, seconds since the last message. */
export const RESPONSIVE_WINDOW = 120;

/** Minimum effective API version of host → guest messages; 0 for the rest. */
const MIN_API: Record<string, number> = { 'set-number-of-cpus': 1, 'lifecycle-event': 3 };

export class UnsupportedMessage extends Error {
  override name = 'UnsupportedMessage';
}

export class AgentNotConnected extends Error {
  override name = 'AgentNotConnected';
}

export interface OvirtAgentOptions {
  vmId: string;
  /** Writes a line to the channel; false when it is not connected (or the guest does not read). */
  send(line: string): boolean;
  /** The guest info changed or responsiveness may have. */
  onChange(): void;
  /** The first message of the session arrived. */
  onAnswer(): void;
  log: Logger;
  /** Seconds on a monotonic clock. */
  monotonic?: () => number;
  /** Epoch seconds, for lastLogin/lastLogout. */
  epoch?: () => number;
  /** The API version this VM last agreed on (vdsm keeps it in the VM metadata). */
  initialApiVersion?: number;
}

export type LifecycleType = 'before_migration' | 'after_migration' | 'before_hibernation' | 'after_hibernation';

export class OvirtAgent {
  readonly info: OvirtGuestInfo = initialGuestInfo();
  /** The negotiated API version. */
  apiVersion: number;
  /** Monotonic seconds of the last parsed message; -Infinity before any. */
  lastMessageAt = -Infinity;
  private answered = false;
  private readonly warnings: ThrottledLog;
  private readonly waiters = new Map<string, (answered: boolean) => void>();
  private readonly monotonic: () => number;
  private readonly epoch: () => number;

  constructor(private readonly options: OvirtAgentOptions) {
    this.apiVersion = Math.min(Math.max(options.initialApiVersion ?? 0, 0), MAX_API_VERSION);
    this.monotonic = options.monotonic ?? (() => performance.now() / 1000);
    this.epoch = options.epoch ?? (() => Date.now() / 1000);
    this.warnings = new ThrottledLog(options.log, { period: 60, fields: { vmId: options.vmId }, keyField: 'kind' });
  }

  isResponsive(now = this.monotonic()): boolean {
    return now - this.lastMessageAt < RESPONSIVE_WINDOW;
  }

  /** Whether a lifecycle event would be answered (vdsm's can_reply). */
  canReply(): boolean {
    return this.isResponsive() && this.apiVersion >= 3;
  }

  /** The channel connected: greet the agent (vdsm sends the host's maximum, not the negotiated one). */
  connected(): void {
    this.options.send(encodeHostMessage('refresh', { apiVersion: MAX_API_VERSION }));
  }

  /** Nothing read for guest_agent_timeout: the free-memory figure is stale (vdsm's timeout_cb). */
  silent(): void {
    if (this.info.memUsage !== 0) {
      this.info.memUsage = 0;
      this.options.onChange();
    }
  }

  tooLong(bytes: number): void {
    this.warnings.log('too-long', 'warn', { bytes }, 'guest agent message too big, dropped');
  }

  line(text: string): void {
    const parsed = parseGuestLine(text);
    if (!parsed.ok) {
      if (text.trim() !== '') this.warnings.log(parsed.reason, 'warn', { detail: parsed.detail.slice(0, 200) }, 'invalid guest agent message ignored');
      return;
    }
    this.lastMessageAt = this.monotonic();
    const effect = applyMessage(this.info, parsed.name, parsed.args, this.epoch());
    switch (effect.kind) {
      case 'invalid':
        this.warnings.log(`invalid:${parsed.name}`, 'warn', { message: parsed.name.slice(0, 64), field: effect.field }, 'guest agent message with a wrong field ignored');
        break;
      case 'unknown':
        this.warnings.log('unknown', 'warn', { message: parsed.name.slice(0, 64) }, 'unknown guest agent message ignored');
        break;
      case 'heartbeat':
        this.negotiate(effect.apiVersion);
        break;
      case 'completion':
        this.waiters.get(effect.replyId)?.(true);
        break;
      default:
        break;
    }
    if (!this.answered) {
      this.answered = true;
      this.options.onAnswer();
    }
    this.options.onChange();
  }

  /** vdsm's on-heartbeat negotiation: a heartbeat without apiVersion means an old agent. */
  private negotiate(reported: number | undefined): void {
    if (reported === undefined) {
      this.apiVersion = 0;
      return;
    }
    let common = reported;
    if (common < 0) {
      this.warnings.log('api-version', 'warn', {}, 'guest agent reported an invalid apiVersion, using 0');
      common = 0;
    }
    common = Math.min(common, MAX_API_VERSION);
    if (common === this.apiVersion) return;
    this.apiVersion = common;
    if (common !== 0) this.options.send(encodeHostMessage('api-version', { apiVersion: common }));
  }

  /** Sends a command, refusing what the negotiated version does not allow. */
  send(name: string, args: MessageArgs = {}): void {
    const needed = MIN_API[name] ?? 0;
    if (this.apiVersion < needed) throw new UnsupportedMessage(`${name} needs guest agent API ${needed}, the agent speaks ${this.apiVersion}`);
    if (!this.options.send(encodeHostMessage(name, args))) throw new AgentNotConnected(`the guest agent channel of ${this.options.vmId} is not connected`);
  }

  desktopLock(): void {
    this.send('lock-screen');
  }

  desktopLogoff(): void {
    this.send('log-off');
  }

  desktopLogin(user: string, domain: string, password: string): void {
    this.send('login', { username: domain ? `${user}@${domain}` : user, password });
  }

  /** vdsm's desktopShutdown: `reboot` goes as the string "True"/"False". */
  desktopShutdown(timeout: number, message: string, reboot: boolean): void {
    this.send('shutdown', { timeout: Math.trunc(timeout), message, reboot: reboot ? 'True' : 'False' });
  }

  /**
   * Sends a lifecycle event. before_* events carry a reply_id; when the agent can reply and
   * `waitSeconds` is given, resolves true once its completion arrives (false after the wait).
   * Skipped (resolves false) when the agent's API is below 3, as vdsm swallows that.
   */
  async lifecycleEvent(type: LifecycleType, options: { failure?: boolean; waitSeconds?: number } = {}): Promise<boolean> {
    if (this.apiVersion < MIN_API['lifecycle-event']!) return false;
    const args: MessageArgs = { type };
    if (options.failure) args['failure'] = true;
    const wantsReply = type.startsWith('before_');
    const replyId = wantsReply ? randomUUID() : undefined;
    if (replyId !== undefined) args['reply_id'] = replyId;
    const wait = replyId !== undefined && options.waitSeconds !== undefined && this.canReply();
    const answered = wait ? this.waitFor(replyId, options.waitSeconds!) : undefined;
    try {
      this.send('lifecycle-event', args);
    } catch (err) {
      if (replyId !== undefined) this.waiters.get(replyId)?.(false);
      if (err instanceof AgentNotConnected) return false;
      throw err;
    }
    return answered === undefined ? false : answered;
  }

  private waitFor(replyId: string, seconds: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters.delete(replyId);
        resolve(false);
      }, seconds * 1000);
      this.waiters.set(replyId, (answered) => {
        clearTimeout(timer);
        this.waiters.delete(replyId);
        resolve(answered);
      });
    });
  }

  /** The session ended (channel dropped for good): pending waits give up. */
  close(): void {
    for (const done of [...this.waiters.values()]) done(false);
  }
}
