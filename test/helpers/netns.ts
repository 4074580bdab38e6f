/**
 * Two machines on one: a "host" and an "engine" network namespace joined by a veth pair. The host
 * has 198.51.100.10/24 on its NIC (named veth_* so capabilities count it as a NIC, as vdsm's
 * fake_nics does) with the engine, 198.51.100.1, as its gateway. The privileged helper runs as root
 * in the host namespace, the daemon as the unprivileged `hostvisor` user beside it, and the test's
 * client in the engine namespace (through a relay on a unix socket), so every request crosses the
 * link a network setup changes.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { repoRoot } from '../../src/paths.js';
import { AS_DAEMON_USER, DAEMON_USER, DAEMON_USER_ENV, startDaemon, type RunningDaemon } from './daemon.js';

const run = promisify(execFile);

export const HOST_ADDRESS = '198.51.100.10';
export const ENGINE_ADDRESS = '198.51.100.1';
export { DAEMON_USER };
export const DAEMON_PORT = 54321;

export interface NetnsWorld {
  hostNs: string;
  engineNs: string;
  /** The host's NIC (in hostNs) and the engine's end of the link. */
  hostNic: string;
  engineNic: string;
  /** Folder for sockets and the helper's state; readable by the daemon's user. */
  dir: string;
  stateDir: string;
  runDir: string;
  helperSocket: string;
  /** Runs a command in a namespace and resolves with its stdout. */
  exec(ns: string, argv: string[]): Promise<string>;
  destroy(): Promise<void>;
}

export async function createWorld(): Promise<NetnsWorld> {
  const id = String(process.pid % 100000);
  const hostNs = `hvh${id}`;
  const engineNs = `hve${id}`;
  const hostNic = `veth_h${id}`;
  const engineNic = `veth_e${id}`;
  const ip = (...argv: string[]): Promise<unknown> => run('ip', argv);
  const exec = async (ns: string, argv: string[]): Promise<string> => (await run('ip', ['netns', 'exec', ns, ...argv], { timeout: 90_000 })).stdout;
  for (const ns of [hostNs, engineNs]) await ip('netns', 'del', ns).catch(() => undefined);
  await ip('netns', 'add', hostNs);
  await ip('netns', 'add', engineNs);
  await ip('link', 'add', hostNic, 'netns', hostNs, 'type', 'veth', 'peer', 'name', engineNic, 'netns', engineNs);
  for (const [ns, nic, address] of [[hostNs, hostNic, HOST_ADDRESS], [engineNs, engineNic, ENGINE_ADDRESS]] as const) {
    await exec(ns, ['ip', 'link', 'set', 'lo', 'up']);
    await exec(ns, ['ip', 'addr', 'add', `${address}/24`, 'dev', nic]);
    await exec(ns, ['ip', 'link', 'set', nic, 'up']);
  }
  await exec(hostNs, ['ip', 'route', 'add', 'default', 'via', ENGINE_ADDRESS, 'dev', hostNic]);
  // `ip netns exec` gives the namespace this resolv.conf: the host's own is never touched.
  mkdirSync(`/etc/netns/${hostNs}`, { recursive: true });
  writeFileSync(`/etc/netns/${hostNs}/resolv.conf`, 'nameserver 198.51.100.53\n');

  const dir = mkdtempSync(join(tmpdir(), 'hostvisor-netns-'));
  chmodSync(dir, 0o755);
  const stateDir = join(dir, 'netconf');
  const runDir = join(dir, 'run');
  return {
    hostNs,
    engineNs,
    hostNic,
    engineNic,
    dir,
    stateDir,
    runDir,
    helperSocket: join(dir, 'helper.sock'),
    exec,
    async destroy() {
      for (const ns of [hostNs, engineNs]) {
        // Whatever a test left running in a namespace (a DHCP client or server) goes with it.
        const pids = (await run('ip', ['netns', 'pids', ns]).catch(() => ({ stdout: '' }))).stdout.split('\n').filter((p) => p !== '');
        for (const pid of pids) {
          try {
            process.kill(Number(pid), 'SIGKILL');
          } catch {
            // already gone
          }
        }
        await ip('netns', 'del', ns).catch(() => undefined);
      }
      rmSync(`/etc/netns/${hostNs}`, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/**
 * dnsmasq as the engine's DHCP server, offering the host its own address (the one lease of the
 * range) with the engine as router. Resolves once it serves; kill it with the returned process.
 */
export async function startDhcpServer(world: NetnsWorld): Promise<ChildProcess> {
  const server = spawn('ip', [
    'netns', 'exec', world.engineNs, 'dnsmasq', '--no-daemon', '--port=0', `--interface=${world.engineNic}`, '--bind-interfaces',
    `--dhcp-range=${HOST_ADDRESS},${HOST_ADDRESS},255.255.255.0,1h`, `--dhcp-option=3,${ENGINE_ADDRESS}`,
    `--dhcp-leasefile=${join(world.dir, 'dnsmasq.leases')}`, '--log-dhcp',
  ], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    server.stderr!.setEncoding('utf8').on('data', (text: string) => {
      if (text.includes('DHCP, IP range')) resolve();
    });
    server.once('exit', (code) => reject(new Error(`dnsmasq exited (${code})`)));
  });
  return server;
}

/** The helper, as root in the host namespace. */
export function startHelper(world: NetnsWorld, extra: string[] = []): RunningDaemon {
  return startDaemon(
    ['--socket', world.helperSocket, '--allow-user', DAEMON_USER, '--state-dir', world.stateDir, '--run-dir', world.runDir, ...extra],
    {},
    [],
    { prefix: ['ip', 'netns', 'exec', world.hostNs], script: join(repoRoot, 'dist', 'src', 'helper', 'main.js') },
  );
}

/** `hostvisor-helper --restore-nets`: what the boot's oneshot unit runs. Resolves with its exit code. */
export async function restoreNets(world: NetnsWorld): Promise<number | string> {
  const once = startDaemon(['--restore-nets', '--state-dir', world.stateDir, '--run-dir', world.runDir], {}, [], {
    prefix: ['ip', 'netns', 'exec', world.hostNs],
    script: join(repoRoot, 'dist', 'src', 'helper', 'main.js'),
  });
  return once.exited;
}

/** The daemon, as the unprivileged user in the host namespace, listening on every address. */
export function startUnprivilegedDaemon(world: NetnsWorld, env: Record<string, string> = {}): RunningDaemon {
  return startDaemon(
    ['--listen', `0.0.0.0:${DAEMON_PORT}`],
    {
      HOSTVISOR_VARS_ALLOW_PLAINTEXT_REMOTE: 'true',
      HOSTVISOR_HELPER_SOCKET: world.helperSocket,
      HOSTVISOR_NETWORK_CONFIG_DIR: world.stateDir,
      HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '1',
      HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '1',
      HOSTVISOR_METRICS_ENABLED: 'false',
      ...DAEMON_USER_ENV,
      ...env,
    },
    [],
    { prefix: ['ip', 'netns', 'exec', world.hostNs, ...AS_DAEMON_USER] },
  );
}

/** A client in the engine namespace: a relay there carries its connection over the link. */
export async function engineClient(world: NetnsWorld, address = HOST_ADDRESS): Promise<{ client: JsonRpcClient; relay: ChildProcess }> {
  const path = join(world.dir, `engine-${Date.now()}.sock`);
  const relay = spawn('ip', ['netns', 'exec', world.engineNs, process.execPath, join(repoRoot, 'test', 'helpers', 'netns-relay.mjs'), path, address, String(DAEMON_PORT)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    relay.stdout!.once('data', () => resolve());
    relay.once('exit', (code) => reject(new Error(`relay exited (${code})`)));
  });
  const client = await JsonRpcClient.connect({ host: address, port: DAEMON_PORT, path, timeoutMs: 10_000 });
  return { client, relay };
}
