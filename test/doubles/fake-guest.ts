/**
 * A stand-in for QEMU's end of an oVirt agent channel, for tests and the benchmark: it binds the
 * unix socket (as QEMU does with source mode='bind'), accepts the host's connection and speaks
 * the agent's line protocol, with helpers for the messages an OGA 1.0.16 agent sends.
 */
import { unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';

export class FakeGuest {
  /** Lines the host sent, parsed. */
  readonly received: Array<Record<string, unknown>> = [];
  connections = 0;
  private server: Server | undefined;
  private peer: Socket | undefined;
  private partial = '';
  private readonly waiters = new Set<() => void>();

  constructor(readonly path: string) {}

  get connected(): boolean {
    return this.peer !== undefined && !this.peer.destroyed;
  }

  async listen(): Promise<void> {
    await unlink(this.path).catch(() => undefined);
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.path, () => {
        server.off('error', reject);
        resolve();
      });
    });
  }

  /** Sends raw bytes (or text) to the host. */
  sendRaw(data: string | Buffer): boolean {
    if (!this.connected) return false;
    this.peer!.write(data);
    return true;
  }

  /** Sends one message the way the agent does: `{...args, "__name__": name}\n`. */
  send(name: string, args: Record<string, unknown> = {}): boolean {
    return this.sendRaw(`${JSON.stringify({ ...args, __name__: name })}\n`);
  }

  heartbeat(freeRam = '512', apiVersion?: number): boolean {
    const args: Record<string, unknown> = { 'free-ram': freeRam, 'memory-stat': { mem_total: 1048576, mem_unused: 524288, mem_free: 600000, swap_in: 0, swap_out: 0, pageflt: 10, majflt: 1 } };
    if (apiVersion !== undefined) args['apiVersion'] = apiVersion;
    return this.send('heartbeat', args);
  }

  /** Drops the host's connection and stops listening (QEMU gone). */
  async close(): Promise<void> {
    this.peer?.destroy();
    this.peer = undefined;
    const server = this.server;
    this.server = undefined;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.path).catch(() => undefined);
  }

  /** Drops the host's connection but keeps listening. */
  hangUp(): void {
    this.peer?.destroy();
    this.peer = undefined;
  }

  /** Resolves once `check` holds, checking on every event; rejects after `ms`. */
  async until(check: () => boolean, ms = 5000): Promise<void> {
    if (check()) return;
    await new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        if (!check()) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`fake guest ${this.path}: condition not met within ${ms} ms`));
      }, ms);
      const poll = setInterval(wake, 20);
      const cleanup = (): void => {
        clearTimeout(timer);
        clearInterval(poll);
        this.waiters.delete(wake);
      };
      this.waiters.add(wake);
    });
  }

  private accept(socket: Socket): void {
    this.peer?.destroy();
    this.peer = socket;
    this.connections++;
    this.partial = '';
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      const lines = (this.partial + text).split('\n');
      this.partial = lines.pop()!;
      for (const line of lines) {
        try {
          this.received.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          this.received.push({ __raw__: line });
        }
      }
      this.wakeAll();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (this.peer === socket) this.peer = undefined;
      this.wakeAll();
    });
    this.wakeAll();
  }

  private wakeAll(): void {
    for (const wake of [...this.waiters]) wake();
  }
}
