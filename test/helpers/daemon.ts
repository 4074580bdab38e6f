/**
 * Runs the real daemon (dist/src/main.js) as a child process and reads its JSON log lines.
 * Integration tests use it to see what an operator would see.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../../src/paths.js';

export interface LogLine {
  level: number;
  msg: string;
  component?: string;
  [key: string]: unknown;
}

export interface RunningDaemon {
  child: ChildProcess;
  logs: LogLine[];
  stderr: string[];
  /** Resolves with the first log line matching, waiting up to `ms`. */
  waitForLog(match: (line: LogLine) => boolean, ms?: number): Promise<LogLine>;
  /** Resolves with the exit code (or signal name) once the process has ended. */
  exited: Promise<number | string>;
}

export const mainJs = join(repoRoot, 'dist', 'src', 'main.js');

/**
 * Runs the daemon (or another of our programs: `script`); `mountNamespaceOf` runs it in that
 * process's mount namespace (a second libvirt host's, scripts/two-hosts.sh), `prefix` under
 * commands that exec it (`ip netns exec`, `setpriv`), so signals reach the program itself.
 */
export function startDaemon(args: string[], env: Record<string, string> = {}, nodeArgs: string[] = [], options: { mountNamespaceOf?: number; prefix?: string[]; script?: string } = {}): RunningDaemon {
  const command = [process.execPath, ...nodeArgs, options.script ?? mainJs, ...args];
  const nsenter = options.mountNamespaceOf === undefined ? [] : ['nsenter', '-t', String(options.mountNamespaceOf), '-m', `--wd=${repoRoot}`];
  const [file, ...argv] = [...nsenter, ...(options.prefix ?? []), ...command];
  const child = spawn(file!, argv, {
    env: { ...process.env, HOSTVISOR_LOGGING_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const logs: LogLine[] = [];
  const stderr: string[] = [];
  const waiters = new Set<() => void>();
  let partial = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (partial + chunk).split('\n');
    partial = lines.pop()!;
    for (const text of lines) {
      if (text.trim() === '') continue;
      try {
        logs.push(JSON.parse(text) as LogLine);
      } catch {
        logs.push({ level: 0, msg: text });
      }
    }
    for (const wake of waiters) wake();
  });
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
  const exited = new Promise<number | string>((resolve) => {
    child.on('exit', (code, signal) => {
      for (const wake of waiters) wake();
      resolve(code ?? signal ?? -1);
    });
  });

  const waitForLog = (match: (line: LogLine) => boolean, ms = 15_000): Promise<LogLine> =>
    new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = logs.find(match);
        if (found) {
          cleanup();
          resolve(found);
          return true;
        }
        if (child.exitCode !== null || child.signalCode !== null) {
          cleanup();
          const last = logs.slice(-3).map((l) => l.msg).join(' | ');
          reject(new Error(`daemon exited (${child.exitCode ?? child.signalCode}) before the log line; last logs: ${last}; stderr: ${stderr.join('')}`));
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`no matching log line within ${ms} ms; last lines: ${JSON.stringify(logs.slice(-5))}`));
      }, ms);
      const cleanup = (): void => {
        clearTimeout(timer);
        waiters.delete(wake);
      };
      const wake = (): void => void check();
      if (!check()) waiters.add(wake);
    });

  return { child, logs, stderr, waitForLog, exited };
}

/**
 * The daemon as systemd/hostvisord.service runs it: its own user (scripts/setup.sh makes it), with
 * that user's groups from the group database (libvirt, kvm, libvirt-qemu), no capabilities, none
 * to gain (an empty bounding set, no_new_privs). startDaemon's `prefix`, after nsenter when both.
 */
export const DAEMON_USER = 'hostvisor';
export const AS_DAEMON_USER = ['setpriv', `--reuid=${DAEMON_USER}`, `--regid=${DAEMON_USER}`, '--init-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--'];
/** The environment systemd gives it (User=, and a service's PATH): setpriv keeps root's otherwise. */
export const DAEMON_USER_ENV = { HOME: '/var/lib/hostvisor', USER: DAEMON_USER, LOGNAME: DAEMON_USER, PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' };

/** What the kernel says a process runs as (/proc/<pid>/status): ids, groups, capability sets, no_new_privs. */
export function identityOf(pid: number): Record<string, string> {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const fields = ['Uid', 'Gid', 'Groups', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs'];
  return Object.fromEntries(fields.map((f) => [f, (new RegExp(`^${f}:[ \\t]*(.*)$`, 'm').exec(status)?.[1] ?? '').trim().split(/\s+/).sort().join(' ')]));
}

/** identityOf the daemon run with AS_DAEMON_USER: DAEMON_USER and all its groups, no capabilities, none to gain. */
export function daemonUserIdentity(): Record<string, string> {
  const id = (flag: string): string => execFileSync('id', [flag, DAEMON_USER], { encoding: 'utf8' }).trim();
  const none = '0000000000000000';
  return {
    Uid: Array(4).fill(id('-u')).join(' '),
    Gid: Array(4).fill(id('-g')).join(' '),
    Groups: id('-G').split(' ').sort().join(' '),
    ...Object.fromEntries(['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'].map((c) => [c, none])),
    NoNewPrivs: '1',
  };
}

/** Sampling every second, no metrics, a quick stop: the base of most tests' daemon settings. */
export const QUICK_DAEMON = {
  HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '1',
  HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '1',
  HOSTVISOR_METRICS_ENABLED: 'false',
  HOSTVISOR_DAEMON_STOP_TIMEOUT: '5',
};

/** Waits for the daemon to serve and returns the port it listens on. */
export async function readyPort(daemon: RunningDaemon): Promise<number> {
  return (await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000))['port'] as number;
}

/** Closes the client, sends SIGTERM and resolves with the exit code. */
export async function stopDaemon(daemon: RunningDaemon, client?: { close(): Promise<void> }): Promise<number | string> {
  await client?.close();
  daemon.child.kill('SIGTERM');
  return daemon.exited;
}
