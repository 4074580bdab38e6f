/**
 * The privileged helper's side of the socket: it serves only the operations of the protocol, only
 * to the daemon's user (the kernel's record of who connected, not a claim or a file mode), checks
 * every argument against the operation's schema before running it, and logs each operation with
 * its caller. Requests on one connection run concurrently: a confirmation must reach a setup
 * that is waiting for it.
 */
import { chmodSync, chownSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import type { TSchema } from '@sinclair/typebox';
import type { Logger } from '../log.js';
import { peerCredentials, type PeerCredentials } from '../process/peer-credentials.js';
import { LineReader } from '../virt/guest/line-reader.js';
import { HELPER_OPERATIONS, isHelperOperation, MAX_MESSAGE_BYTES, type HelperArgs, type HelperOperation, type HelperReply, type HelperResult } from './protocol.js';

export type HelperHandlers = { [O in HelperOperation]: (args: HelperArgs<O>, caller: PeerCredentials) => Promise<HelperResult<O>> | HelperResult<O> };

/** An error a handler throws to answer with a vdsm code and message. */
export class HelperError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'HelperError';
  }
}

export const INVALID_REQUEST = -32600;
export const UNKNOWN_OPERATION = -32601;
export const INVALID_ARGUMENTS = -32602;
export const INTERNAL_ERROR = -32603;

export interface HelperServerOptions {
  socketPath: string;
  /** The one user allowed to call (the daemon's). */
  allowUid: number;
  /** Group the socket file is given to, so the daemon's user can open it. */
  socketGid: number;
  handlers: HelperHandlers;
  log: Logger;
}

const checks = new Map<HelperOperation, TypeCheck<TSchema>>(
  Object.entries(HELPER_OPERATIONS).map(([op, { args }]) => [op as HelperOperation, TypeCompiler.Compile(args)]),
);

export class HelperServer {
  private readonly server: Server;
  private readonly sockets = new Set<Socket>();

  constructor(private readonly options: HelperServerOptions) {
    this.server = createServer((socket) => this.accept(socket));
  }

  async listen(): Promise<void> {
    const { socketPath, socketGid } = this.options;
    rmSync(socketPath, { force: true }); // a socket left by a previous run
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(socketPath, () => resolve());
    });
    chownSync(socketPath, 0, socketGid);
    chmodSync(socketPath, 0o660);
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(socket: Socket): void {
    const { log, allowUid } = this.options;
    let caller: PeerCredentials | undefined;
    try {
      caller = peerCredentials(socket);
    } catch (err) {
      log.warn({ err }, 'refused a connection whose credentials cannot be read');
    }
    if (caller === undefined || caller.uid !== allowUid) {
      log.warn({ caller }, 'refused a connection from a user other than the daemon');
      socket.end(`${JSON.stringify({ id: 0, error: { code: INVALID_REQUEST, message: 'this user may not use the helper' } })}\n`);
      return;
    }
    const peer = caller;
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    socket.on('error', () => undefined);
    const reader = new LineReader(
      {
        line: (text) => void this.serve(socket, text, peer),
        tooLong: (bytes) => {
          log.warn({ caller: peer, bytes }, 'dropped a request over the size limit');
          this.reply(socket, { id: 0, error: { code: INVALID_REQUEST, message: `request over ${MAX_MESSAGE_BYTES} bytes` } });
        },
      },
      MAX_MESSAGE_BYTES,
    );
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  private async serve(socket: Socket, text: string, caller: PeerCredentials): Promise<void> {
    const { log, handlers } = this.options;
    let request: { id?: unknown; op?: unknown; args?: unknown };
    try {
      request = JSON.parse(text) as typeof request;
    } catch {
      this.reply(socket, { id: 0, error: { code: INVALID_REQUEST, message: 'not JSON' } });
      return;
    }
    const id = typeof request.id === 'number' ? request.id : 0;
    const op = typeof request.op === 'string' ? request.op : '';
    if (!isHelperOperation(op)) {
      log.warn({ caller, op: op.slice(0, 64) }, 'refused an operation outside the allowlist');
      this.reply(socket, { id, error: { code: UNKNOWN_OPERATION, message: `no such operation: ${op.slice(0, 64)}` } });
      return;
    }
    const args = request.args ?? {};
    const check = checks.get(op)!;
    if (!check.Check(args)) {
      const first = check.Errors(args).First();
      log.warn({ caller, op, problem: first?.message, path: first?.path }, 'refused an operation with bad arguments');
      this.reply(socket, { id, error: { code: INVALID_ARGUMENTS, message: `bad arguments for ${op}: ${first?.path ?? ''} ${first?.message ?? ''}`.trim() } });
      return;
    }
    const started = Date.now();
    try {
      const handler = handlers[op] as (args: unknown, caller: PeerCredentials) => unknown;
      const result = await handler(args, caller);
      log.info({ caller, op, ms: Date.now() - started }, `${op} done`);
      this.reply(socket, { id, result });
    } catch (err) {
      const code = err instanceof HelperError ? err.code : INTERNAL_ERROR;
      const message = err instanceof Error ? err.message : String(err);
      log.warn({ caller, op, code, message, ms: Date.now() - started }, `${op} failed`);
      this.reply(socket, { id, error: { code, message } });
    }
  }

  private reply(socket: Socket, reply: HelperReply): void {
    if (!socket.destroyed) socket.write(`${JSON.stringify(reply)}\n`);
  }
}
