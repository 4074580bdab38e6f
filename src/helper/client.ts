/**
 * The daemon's side of the privileged helper's socket. It connects when a call needs it and again
 * after the helper went away, so a helper started (or restarted) after the daemon is used without
 * restarting the daemon. A helper that cannot be reached fails the call with HelperUnavailable,
 * naming the socket; everything that does not need root goes on working.
 */
import { connect, type Socket } from 'node:net';
import { LineReader } from '../virt/guest/line-reader.js';
import { MAX_MESSAGE_BYTES, type HelperArgs, type HelperOperation, type HelperReply, type HelperResult } from './protocol.js';

export class HelperUnavailable extends Error {
  constructor(
    readonly socketPath: string,
    reason: string,
  ) {
    super(`the privileged helper (hostvisor-helper) is not reachable at ${socketPath}: ${reason}`);
    this.name = 'HelperUnavailable';
  }
}

/** The helper answered with an error: a vdsm code and its message. */
export class HelperRefused extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'HelperRefused';
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout | undefined;
}

export interface Helper {
  call<O extends HelperOperation>(op: O, args: HelperArgs<O>, timeoutMs?: number | null): Promise<HelperResult<O>>;
  close(): void;
}

export class HelperClient implements Helper {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;

  constructor(
    readonly socketPath: string,
    private readonly defaultTimeoutMs = 30_000,
  ) {}

  /** Calls an operation; `timeoutMs` null waits as long as the helper takes (a network setup). */
  async call<O extends HelperOperation>(op: O, args: HelperArgs<O>, timeoutMs: number | null = this.defaultTimeoutMs): Promise<HelperResult<O>> {
    const socket = await this.connected();
    const id = this.nextId++;
    return new Promise<HelperResult<O>>((resolve, reject) => {
      const timer = timeoutMs === null ? undefined : setTimeout(() => this.settle(id, new Error(`the privileged helper did not answer ${op} within ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      socket.write(`${JSON.stringify({ id, op, args })}\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = undefined;
  }

  private connected(): Promise<Socket> {
    if (this.socket !== undefined && !this.socket.destroyed) return Promise.resolve(this.socket);
    this.connecting ??= new Promise<Socket>((resolve, reject) => {
      const socket = connect(this.socketPath);
      const reader = new LineReader({ line: (text) => this.answer(text), tooLong: () => socket.destroy() }, MAX_MESSAGE_BYTES);
      socket.once('connect', () => {
        this.socket = socket;
        this.connecting = undefined;
        resolve(socket);
      });
      socket.on('data', (chunk: Buffer) => reader.push(chunk));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        if (this.connecting !== undefined && this.socket !== socket) {
          this.connecting = undefined;
          reject(new HelperUnavailable(this.socketPath, err.code ?? err.message));
        }
      });
      socket.on('close', () => {
        if (this.socket === socket) this.socket = undefined;
        for (const id of [...this.pending.keys()]) this.settle(id, new HelperUnavailable(this.socketPath, 'the connection was lost'));
      });
    });
    return this.connecting;
  }

  private answer(text: string): void {
    let reply: HelperReply;
    try {
      reply = JSON.parse(text) as HelperReply;
    } catch {
      return;
    }
    if ('error' in reply) {
      // id 0: the helper refused the connection itself (another user) or an unreadable request.
      const err = new HelperRefused(reply.error.code, reply.error.message);
      if (reply.id === 0) for (const id of [...this.pending.keys()]) this.settle(id, err);
      else this.settle(reply.id, err);
    } else {
      this.settle(reply.id, undefined, reply.result);
    }
  }

  private settle(id: number, err: Error | undefined, result?: unknown): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    clearTimeout(pending.timer);
    if (err) pending.reject(err);
    else pending.resolve(result);
  }
}
