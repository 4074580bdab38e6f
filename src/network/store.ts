/**
 * Where the helper keeps the network configuration, in one directory:
 * - `running.json`: the configuration applied now (vdsm's RunningConfig);
 * - `safe.json`: the one the engine last declared good, restored at boot (vdsm's PersistentConfig);
 * - `transaction.json`: present only while a setup is in progress: the running configuration and
 *   the kernel state from before it, so a helper that dies mid-way rolls the setup back when it
 *   starts again instead of leaving the host half-configured.
 * Every file is replaced atomically (a written, synced temporary file renamed over it), so a
 * reader sees the old or the new file, never a part.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { EMPTY_NET_CONFIG, parseNetConfig, type NetConfig } from './config.js';
import type { KernelLink, KernelRoute, KernelState } from './kernel.js';

export const RUNNING_FILE = 'running.json';
export const SAFE_FILE = 'safe.json';
const JOURNAL_FILE = 'transaction.json';

export interface Journal {
  /** When the setup started (ms since the epoch). */
  started: number;
  running: NetConfig;
  kernel: KernelState;
}

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as unknown;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Reads a stored configuration; a missing file is the empty one. */
export function readNetConfig(path: string): NetConfig {
  try {
    return parseNetConfig(readFileSync(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return EMPTY_NET_CONFIG;
    throw err;
  }
}

export function writeAtomically(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
  const dir = openSync(join(path, '..'), 'r');
  try {
    fsyncSync(dir);
  } finally {
    closeSync(dir);
  }
}

export class NetConfigStore {
  constructor(readonly dir: string) {
    mkdirSync(dir, { recursive: true, mode: 0o755 });
  }

  running(): NetConfig {
    return readNetConfig(join(this.dir, RUNNING_FILE));
  }

  safe(): NetConfig {
    return readNetConfig(join(this.dir, SAFE_FILE));
  }

  saveRunning(config: NetConfig): void {
    writeAtomically(join(this.dir, RUNNING_FILE), `${JSON.stringify(config, null, 2)}\n`);
  }

  /** The running configuration becomes the safe one. */
  persist(): void {
    writeAtomically(join(this.dir, SAFE_FILE), `${JSON.stringify(this.running(), null, 2)}\n`);
  }

  beginTransaction(journal: Journal): void {
    const kernel = { links: [...journal.kernel.links.values()], routes: journal.kernel.routes };
    writeAtomically(join(this.dir, JOURNAL_FILE), JSON.stringify({ ...journal, kernel }));
  }

  endTransaction(): void {
    rmSync(join(this.dir, JOURNAL_FILE), { force: true });
  }

  /** The setup a previous run of the helper left unfinished, if any. */
  unfinished(): Journal | undefined {
    const value = readJson(join(this.dir, JOURNAL_FILE)) as { started: number; running: NetConfig; kernel: { links: KernelLink[]; routes: KernelRoute[] } } | undefined;
    if (value === undefined) return undefined;
    return { started: value.started, running: value.running ?? EMPTY_NET_CONFIG, kernel: { links: new Map(value.kernel.links.map((l) => [l.name, l])), routes: value.kernel.routes } };
  }
}
