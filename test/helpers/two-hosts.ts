/**
 * Two real libvirt hosts on this machine (scripts/two-hosts.sh): host A is qemu:///system, host B
 * a second libvirtd in its own mount namespace, reachable over TCP on loopback.
 */
import { execFile, type ExecFileOptions } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from '../../src/paths.js';
import { startDaemon, type RunningDaemon } from './daemon.js';
import type { E2eEnv } from './e2e-guest.js';

const run = promisify(execFile);
const script = join(repoRoot, 'scripts', 'two-hosts.sh');

export interface TwoHostsEnv extends E2eEnv {
  hostB: {
    /** Host A reaches B's libvirtd here (the migration's destination URI). */
    uri: string;
    /** Its namespace: a daemon for host B runs in it (startDaemon's mountNamespaceOf). */
    libvirtdPid: number;
    /** The guest channels folder as B's processes see it. */
    channelsDir: string;
  };
}

/** Starts what is not running yet; a first run installs packages and builds the guest. */
export async function twoHostsUp(): Promise<TwoHostsEnv> {
  const { stdout } = await run('bash', [script, 'up'], { timeout: 900_000, maxBuffer: 64 << 20 });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as TwoHostsEnv;
}

/** One user less of each host: B's last user destroys its domains and stops it; A counts as in e2e-env.sh. */
export async function twoHostsStop(): Promise<void> {
  await run('bash', [script, 'stop'], { timeout: 120_000 });
}

/** virsh against a host's libvirt; rejects when virsh fails. */
export async function virsh(uri: string, ...args: string[]): Promise<string> {
  const { stdout } = await run('virsh', ['-q', '-c', uri, ...args], { timeout: 60_000 });
  return stdout;
}

/**
 * Runs a command in host B's mount namespace (its channel sockets, its /run), from the repository's
 * root: nsenter would start it in / otherwise.
 */
export async function inHostB(env: TwoHostsEnv, command: string, args: string[] = [], options: ExecFileOptions = {}): Promise<{ stdout: string; stderr: string }> {
  const { stdout, stderr } = await run('nsenter', ['-t', String(env.hostB.libvirtdPid), '-m', `--wd=${repoRoot}`, command, ...args], { timeout: 60_000, ...options, encoding: 'utf8' });
  return { stdout, stderr };
}

/** The daemon (dist/src/main.js) as host B's: startDaemon inside B's mount namespace. */
export function startDaemonInHostB(env: TwoHostsEnv, args: string[], envVars: Record<string, string> = {}): RunningDaemon {
  return startDaemon(args, envVars, [], { mountNamespaceOf: env.hostB.libvirtdPid });
}
