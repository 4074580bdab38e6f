/**
 * A libvirt verb stuck at daemon level: the real
 * daemon on a real libvirtd, where libvirtd stops answering mid-call.
 *
 * The libvirtd is the test's own: the Debian libvirtd binary (scripts/setup.sh installs it), run
 * unprivileged (as `nobody` when the test runs as root) with its runtime folder in a temporary
 * directory, so it shares nothing with the system libvirtd of test/e2e/real-qemu.test.ts (which
 * may run at the same time and stops what it started). The daemon talks to it over libvirt's
 * remote protocol, with its test driver behind it (`test+unix:///default?socket=…`: one running
 * domain), through a unix-socket proxy the test can freeze: while frozen it forwards nothing
 * either way, so every libvirt call in flight waits for an answer that does not come.
 *
 * With the proxy frozen: verbs that need libvirt get an error answer once [rpc] worker_timeout
 * runs out; the stuck workers are discarded and replaced up to [rpc] max_workers, never more;
 * Host.ping2, Host.getVMList and Host.getAllVmStats (answered from memory) keep coming promptly.
 * Unfrozen: the stuck calls return, their threads leave, the verb that waited for a thread is
 * served, and verbs work again. Frozen again with calls stuck: SIGTERM still exits within the
 * stop deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { QUICK_DAEMON, readyPort, startDaemon, type LogLine, type RunningDaemon } from '../helpers/daemon.js';

const VM = '6695eb01-f6a4-8304-79aa-97f2502e193f'; // the test driver's own domain
const WORKER_TIMEOUT_S = 2;
const WORKER_THREADS = 2;
const MAX_WORKERS = 4;
const STOP_TIMEOUT_S = 5;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(25);
  }
}

/** The libvirtd of this test: unprivileged, everything under `dir`. */
class PrivateLibvirtd {
  readonly socket: string;
  private constructor(
    readonly child: ChildProcess,
    readonly dir: string,
  ) {
    this.socket = join(dir, 'run', 'libvirt', 'libvirt-sock');
  }

  static async start(dir: string): Promise<PrivateLibvirtd> {
    const env: Record<string, string> = {
      PATH: '/usr/sbin:/usr/bin:/sbin:/bin',
      HOME: join(dir, 'home'),
      XDG_RUNTIME_DIR: join(dir, 'run'),
      XDG_CONFIG_HOME: join(dir, 'home', 'config'),
      XDG_CACHE_HOME: join(dir, 'home', 'cache'),
      XDG_DATA_HOME: join(dir, 'home', 'data'),
    };
    for (const d of [env['HOME']!, env['XDG_RUNTIME_DIR']!]) mkdirSync(d, { recursive: true });
    // As root, libvirtd would be the system one (shared sockets and state): run it as nobody.
    const ids = process.getuid?.() === 0 ? nobody() : undefined;
    if (ids) {
      chmodSync(dir, 0o755);
      for (const d of [env['HOME']!, env['XDG_RUNTIME_DIR']!]) chownSync(d, ids.uid, ids.gid);
    }
    const out = openSync(join(dir, 'libvirtd.log'), 'a');
    const child = spawn('libvirtd', ['--timeout', '300'], { env, cwd: dir, stdio: ['ignore', out, out], ...(ids ?? {}) });
    const d = new PrivateLibvirtd(child, dir);
    await until(
      `libvirtd's socket (${d.socket}); its log: ${d.logTail()}`,
      async () => child.exitCode === null && existsSync(d.socket) && (await connects(d.socket)),
      20_000,
    );
    return d;
  }

  logTail(): string {
    const path = join(this.dir, 'libvirtd.log');
    return existsSync(path) ? JSON.stringify(readFileSync(path, 'utf8').slice(-800)) : '(none)';
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.kill('SIGTERM');
    if ((await Promise.race([exited.then(() => true), sleep(5000).then(() => false)])) === false) this.child.kill('SIGKILL');
  }
}

function nobody(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('nobody:'));
  if (line === undefined) throw new Error('no user nobody in /etc/passwd');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function connects(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect(path, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/**
 * A unix-socket proxy to libvirtd that can be frozen: while frozen, bytes either way are held (in
 * order) instead of forwarded; thawing forwards what was held and goes on as before.
 */
class FreezableProxy {
  frozen = false;
  /** Bytes held since the last freeze, daemon→libvirtd and libvirtd→daemon. */
  heldUp = 0;
  heldDown = 0;
  connections = 0;
  private held: Array<() => void> = [];
  private readonly sockets = new Set<net.Socket>();
  private constructor(
    private readonly server: net.Server,
    readonly path: string,
  ) {}

  static listen(path: string, target: string): Promise<FreezableProxy> {
    let proxy: FreezableProxy | undefined;
    const server = net.createServer((client) => proxy!.pair(client, net.connect(target)));
    proxy = new FreezableProxy(server, path);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve(proxy!));
    });
  }

  private pair(client: net.Socket, upstream: net.Socket): void {
    this.connections++;
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('error', () => undefined);
      s.on('close', () => {
        this.sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const forward = (from: net.Socket, to: net.Socket, up: boolean): void => {
      from.on('data', (chunk: Buffer) => {
        if (!this.frozen) {
          to.write(chunk);
          return;
        }
        if (up) this.heldUp += chunk.length;
        else this.heldDown += chunk.length;
        this.held.push(() => to.write(chunk));
      });
    };
    forward(client, upstream, true);
    forward(upstream, client, false);
  }

  freeze(): void {
    this.frozen = true;
    this.heldUp = 0;
    this.heldDown = 0;
  }

  thaw(): void {
    this.frozen = false;
    const held = this.held;
    this.held = [];
    for (const write of held) write();
  }

  close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.server.close(() => r()));
  }
}

interface CallError extends Error {
  code?: number;
}

interface Settled {
  ok: boolean;
  at: number;
  error?: CallError;
}

describe('a libvirt verb stuck at daemon level, on a real libvirtd that stops answering', () => {
  let dir: string;
  let libvirtd: PrivateLibvirtd;
  let proxy: FreezableProxy;
  let daemon: RunningDaemon;
  let port: number;
  let client: JsonRpcClient;

  beforeAll(async () => {
    dir = mkdtempSync('/tmp/hv-stuck-');
    libvirtd = await PrivateLibvirtd.start(dir);
    proxy = await FreezableProxy.listen(join(dir, 'proxy.sock'), libvirtd.socket);
    daemon = startDaemon(['--listen', '127.0.0.1:0', '--libvirt-uri', `test+unix:///default?socket=${proxy.path}`], {
      ...QUICK_DAEMON,
      HOSTVISOR_RPC_WORKER_TIMEOUT: String(WORKER_TIMEOUT_S),
      HOSTVISOR_RPC_WORKER_THREADS: String(WORKER_THREADS),
      HOSTVISOR_RPC_MAX_WORKERS: String(MAX_WORKERS),
      HOSTVISOR_DAEMON_STOP_TIMEOUT: String(STOP_TIMEOUT_S),
    });
    port = await readyPort(daemon);
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 30_000 });
  }, 40_000);

  afterAll(async () => {
    proxy?.thaw();
    await client?.close().catch(() => undefined);
    if (daemon && daemon.child.exitCode === null && daemon.child.signalCode === null) {
      daemon.child.kill('SIGKILL');
      await daemon.exited;
    }
    await proxy?.close();
    await libvirtd?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  const rpcHealth = async (): Promise<{ workers: number; busy: number; discarded: number; queued: number }> => {
    const res = await fetch(`http://127.0.0.1:${port}/health`);
    const body = (await res.json()) as { executors: Array<{ name: string; workers: number; busy: number; discarded: number; queued: number }> };
    return body.executors.find((e) => e.name === 'rpc')!;
  };
  const setMemory = (memory: number): Promise<Settled> =>
    client.call('VM.setMemory', { vmID: VM, memory }).then(
      () => ({ ok: true, at: Date.now() }),
      (error: CallError) => ({ ok: false, at: Date.now(), error }),
    );
  const rpcLog = (l: LogLine): boolean => l['executor'] === 'rpc';

  it('the daemon serves on the real libvirtd through the proxy', async () => {
    expect(proxy.connections).toBeGreaterThan(0);
    const vms = (await client.call('Host.getVMList')) as Array<{ vmId: string; status: string }>;
    expect(vms.map((v) => v.vmId)).toEqual([VM]);
    expect(await setMemory(1024)).toMatchObject({ ok: true });
    await until('a VM sample', async () => ((await client.call('Host.getAllVmStats')) as unknown[]).length === 1, 10_000);
  });

  it('frozen: libvirt verbs time out with an error, stuck workers are replaced up to max_workers, answers from memory keep coming', async () => {
    proxy.freeze();
    const t0 = Date.now();
    // As many verbs as max_workers allows threads for: two run and stick, are discarded at the
    // timeout and replaced; the replacements take the other two, which stick and are discarded too.
    const verbs = Array.from({ length: MAX_WORKERS }, (_, i) => setMemory(1024 + i));
    let settled = 0;
    for (const v of verbs) void v.then(() => settled++);

    const latencies: Record<string, number[]> = { 'Host.ping2': [], 'Host.getVMList': [], 'Host.getAllVmStats': [] };
    let maxThreads = 0;
    while (settled < verbs.length && Date.now() - t0 < 20_000) {
      for (const method of Object.keys(latencies)) {
        const t = Date.now();
        const result = await client.call(method);
        latencies[method]!.push(Date.now() - t);
        if (method === 'Host.ping2') expect(result).toBe(true);
        if (method === 'Host.getVMList') expect((result as Array<{ vmId: string }>).map((v) => v.vmId)).toEqual([VM]);
        if (method === 'Host.getAllVmStats') expect(result).toHaveLength(1);
      }
      const rpc = await rpcHealth();
      maxThreads = Math.max(maxThreads, rpc.workers + rpc.discarded);
      await sleep(50);
    }
    const results = await Promise.all(verbs);
    // The daemon did try to talk to libvirt, and libvirt did not answer.
    expect(proxy.heldUp).toBeGreaterThan(0);
    expect(proxy.frozen).toBe(true);

    for (const r of results) {
      expect(r.ok).toBe(false);
      expect(r.error?.code).toBe(100);
      expect(`${r.error?.message} ${JSON.stringify(r.error)}`).toMatch(new RegExp(`did not answer within ${WORKER_TIMEOUT_S} s`));
      const took = r.at - t0;
      expect(took).toBeGreaterThanOrEqual(WORKER_TIMEOUT_S * 1000 - 200);
      // Two rounds of the timeout (the second pair waits for the replacements), and some slack.
      expect(took).toBeLessThan(2 * WORKER_TIMEOUT_S * 1000 + 5000);
    }

    // Every stuck worker was discarded; replaced while under max_workers, then no more.
    const discarded = daemon.logs.filter((l) => rpcLog(l) && l.msg.startsWith('Worker discarded'));
    expect(discarded).toHaveLength(MAX_WORKERS);
    await daemon.waitForLog((l) => rpcLog(l) && l.msg === `Too many workers (limit=${MAX_WORKERS}), not adding more`, 5000);
    const rpc = await rpcHealth();
    expect(rpc.discarded).toBe(MAX_WORKERS);
    expect(rpc.workers + rpc.discarded).toBeLessThanOrEqual(MAX_WORKERS);
    expect(maxThreads).toBeLessThanOrEqual(MAX_WORKERS);

    // Answers from memory were prompt throughout.
    for (const [method, ms] of Object.entries(latencies)) {
      expect(ms.length, method).toBeGreaterThan(5);
      expect(Math.max(...ms), method).toBeLessThan(1500);
    }
    expect(daemon.child.exitCode).toBeNull();
  }, 30_000);

  it('still frozen, every worker stuck at max_workers: a verb is answered within two timeouts, not left waiting', async () => {
    const t0 = Date.now();
    const r = await setMemory(3072);
    expect(r.ok).toBe(false);
    expect(r.error?.code).toBe(100);
    expect(`${r.error?.message} ${JSON.stringify(r.error)}`).toMatch(new RegExp(`no worker came free within ${2 * WORKER_TIMEOUT_S} s`));
    expect(r.at - t0).toBeGreaterThanOrEqual(2 * WORKER_TIMEOUT_S * 1000 - 200);
    expect(r.at - t0).toBeLessThan(2 * WORKER_TIMEOUT_S * 1000 + 3000);
    expect((await rpcHealth()).queued).toBe(0);
  }, 20_000);

  it('unfrozen: the stuck calls return, their threads leave, the verb waiting for a thread is served, verbs work again', async () => {
    // Every rpc thread is stuck: a verb now waits for one (its timeout counts once it has one).
    const waiting = setMemory(2048);
    await sleep(300);
    expect((await rpcHealth()).queued).toBe(1);
    const thawedAt = Date.now();
    proxy.thaw();

    const w = await waiting;
    expect(w).toMatchObject({ ok: true });
    expect(w.at - thawedAt).toBeLessThan(10_000);
    await until('the discarded workers to leave', () => daemon.logs.filter((l) => rpcLog(l) && l.msg === 'Worker was discarded').length === MAX_WORKERS, 10_000);
    const rpc = await until('the rpc executor back to its threads', async () => {
      const h = await rpcHealth();
      return h.discarded === 0 && h.workers === WORKER_THREADS ? h : undefined;
    }, 10_000);
    expect(rpc.queued).toBe(0);

    // Verbs work again, promptly.
    const t = Date.now();
    for (let i = 0; i < 4; i++) expect(await setMemory(1024 + i)).toMatchObject({ ok: true });
    expect(Date.now() - t).toBeLessThan(5000);
    expect((await client.call('Host.getVMList')) as unknown[]).toHaveLength(1);
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  }, 30_000);

  it('frozen again with calls stuck: SIGTERM exits within the stop deadline', async () => {
    proxy.freeze();
    const stuck = [setMemory(4096), setMemory(4097)];
    await until('two stuck verbs', async () => (await rpcHealth()).busy === WORKER_THREADS, 5000);
    await client.close().catch(() => undefined);
    const t0 = Date.now();
    daemon.child.kill('SIGTERM');
    const code = await Promise.race([daemon.exited, sleep((STOP_TIMEOUT_S + 10) * 1000).then(() => 'still running' as const)]);
    const took = Date.now() - t0;
    const after = daemon.logs.filter((l) => (l['time'] as number) >= t0).map((l) => JSON.stringify(l).slice(0, 300));
    // Where the main thread is, if it is still there (7: poll, libvirt's remote client waiting
    // for an answer; 232/281: epoll_wait, libuv's loop).
    const syscall = code === 'still running' ? readFileSync(`/proc/${daemon.child.pid}/syscall`, 'utf8').split(' ')[0] : 'exited';
    expect(code, `main thread in syscall ${syscall}; logs since SIGTERM: ${after.join(' | ')}; stderr: ${daemon.stderr.join('')}`).not.toBe('still running');
    expect(typeof code).toBe('number'); // it exited by itself, not killed by a signal
    expect(took).toBeLessThan(STOP_TIMEOUT_S * 1000 + 3000);
    await Promise.allSettled(stuck);
  }, 30_000);
});
