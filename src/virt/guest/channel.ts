/**
 * One VM's guest-agent channel: a client of the unix socket QEMU listens on (source mode='bind').
 * Non-blocking throughout: connects, reads and writes are libuv's; the path is resolved with an
 * asynchronous realpath. A failed connect or a dropped connection is retried with exponential
 * backoff and jitter, reset on a successful connect (a connection that drops within a second
 * without a byte counts as a failure, so a flapping peer cannot make it spin). A path outside the
 * channels folder, lexically or through a symlink, is refused and logged, and never retried.
 */
import { createConnection, type Socket } from 'node:net';
import type { Logger } from '../../log.js';
import { Backoff, type BackoffOptions } from '../../concurrency/backoff.js';
import { isInside, resolveInside } from './channel-path.js';

/**
 * Seconds: from 0.25 s doubling to 30 s, about vdsm's five quick tries and then one every 30 s,
 * with equal jitter so a thousand channels that lost QEMU at once do not retry in lockstep.
 */
export const DEFAULT_CHANNEL_BACKOFF = { initial: 0.25, max: 30 } as const;

export interface ChannelHandlers {
  connected(): void;
  data(chunk: Buffer): void;
  disconnected(): void;
}

export type ChannelState = 'idle' | 'resolving' | 'connecting' | 'connected' | 'waiting' | 'refused' | 'closed';

export interface ChannelOptions {
  vmId: string;
  path: string;
  /** The channels folder, already resolved with realpath. */
  realDir: string;
  handlers: ChannelHandlers;
  log: Logger;
  /** Reconnect delays in seconds; DEFAULT_CHANNEL_BACKOFF's by default. */
  backoff?: Partial<BackoffOptions>;
  /** Bytes queued for the guest beyond which writes are refused (the guest is not reading). */
  maxQueuedWrite?: number;
  monotonic?: () => number;
}

/** A connection shorter than this, without data, counts as a failed attempt. */
const FLAP_SECONDS = 1;
const MAX_QUEUED_WRITE = 256 * 1024;

export class GuestChannel {
  state: ChannelState = 'idle';
  /** Monotonic seconds of the last read (or of the connect). */
  lastReadAt = -Infinity;
  connects = 0;
  private socket: Socket | undefined;
  private timer: NodeJS.Timeout | undefined;
  private readonly backoff: Backoff;
  private connectedAt = 0;
  private gotData = false;
  private failuresBeforeConnect = 0;
  private readonly monotonic: () => number;

  constructor(private readonly options: ChannelOptions) {
    this.backoff = new Backoff({ ...DEFAULT_CHANNEL_BACKOFF, ...options.backoff });
    this.monotonic = options.monotonic ?? (() => performance.now() / 1000);
  }

  get path(): string {
    return this.options.path;
  }

  start(): void {
    if (this.state !== 'idle') return;
    if (!isInside(this.options.path, this.options.realDir)) {
      this.refuse('outside the channels folder');
      return;
    }
    void this.attempt();
  }

  /** Writes a line; false when not connected or the guest is not reading what it was sent. */
  write(line: string): boolean {
    const socket = this.socket;
    if (this.state !== 'connected' || socket === undefined) return false;
    if (socket.writableLength > (this.options.maxQueuedWrite ?? MAX_QUEUED_WRITE)) return false;
    socket.write(line);
    return true;
  }

  close(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.timer);
    this.timer = undefined;
    this.socket?.destroy();
    this.socket = undefined;
  }

  private refuse(why: string, resolved?: string): void {
    this.state = 'refused';
    this.options.log.error({ vmId: this.options.vmId, path: this.options.path, resolved, channelsDir: this.options.realDir }, `guest agent channel refused: ${why}`);
  }

  private async attempt(): Promise<void> {
    this.timer = undefined;
    this.state = 'resolving';
    const resolved = await resolveInside(this.options.path, this.options.realDir);
    if (this.state !== 'resolving') return; // closed meanwhile
    if (!resolved.ok) {
      if (resolved.outside) {
        this.refuse('resolves outside the channels folder');
        return;
      }
      this.retryLater(resolved.error?.code ?? 'realpath failed');
      return;
    }
    this.state = 'connecting';
    const socket = createConnection({ path: resolved.path });
    this.socket = socket;
    socket.on('connect', () => this.onConnect(socket));
    socket.on('data', (chunk: Buffer) => this.onData(socket, chunk));
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.options.log.debug({ vmId: this.options.vmId, path: this.options.path, code: err.code }, 'guest agent channel error');
    });
    socket.on('close', () => this.onClose(socket));
  }

  private onConnect(socket: Socket): void {
    if (socket !== this.socket) return;
    this.state = 'connected';
    this.connects++;
    this.connectedAt = this.monotonic();
    this.lastReadAt = this.connectedAt;
    this.gotData = false;
    this.failuresBeforeConnect = this.backoff.attempts;
    this.backoff.reset();
    this.options.log.debug({ vmId: this.options.vmId, path: this.options.path }, 'guest agent channel connected');
    this.options.handlers.connected();
  }

  private onData(socket: Socket, chunk: Buffer): void {
    if (socket !== this.socket) return;
    this.gotData = true;
    this.lastReadAt = this.monotonic();
    this.options.handlers.data(chunk);
  }

  private onClose(socket: Socket): void {
    if (socket !== this.socket) return;
    this.socket = undefined;
    const wasConnected = this.state === 'connected';
    if (wasConnected) {
      const flapped = !this.gotData && this.monotonic() - this.connectedAt < FLAP_SECONDS;
      if (flapped) this.backoff.restore(this.failuresBeforeConnect + 1);
      this.options.log.debug({ vmId: this.options.vmId, path: this.options.path }, 'guest agent channel closed');
      this.options.handlers.disconnected();
      if (this.state === 'closed') return; // a handler closed it
    }
    this.retryLater(wasConnected ? 'closed' : 'connect failed');
  }

  private retryLater(why: string): void {
    if (this.state === 'closed' || this.state === 'refused') return;
    this.state = 'waiting';
    const delay = this.backoff.next();
    this.options.log.debug({ vmId: this.options.vmId, path: this.options.path, why, delay }, 'guest agent channel: retrying');
    this.timer = setTimeout(() => void this.attempt(), delay * 1000);
    this.timer.unref();
  }
}
