/**
 * The small face through which the capability readers see the host: files, folders, and
 * running a program without a shell. Every call blocks (sync fs, execFileSync): the readers run
 * in a worker thread. Tests give the readers a fixture tree instead of the real root.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';

export interface HostFiles {
  /** The file's text, or undefined when it is missing or unreadable (root-only, EINVAL from a down link). */
  readFile(path: string): string | undefined;
  /** The folder's entry names, sorted; [] when it is missing or unreadable. */
  readdir(path: string): string[];
  exists(path: string): boolean;
  /** A symbolic link's target, or undefined when the path is not a readable link. */
  readlink(path: string): string | undefined;
  /** The program's standard output, or undefined when it could not run or failed. */
  execFile(file: string, args: readonly string[]): string | undefined;
}

/** How long a host tool (dpkg-query, ip) may take before it counts as failed. */
const EXEC_TIMEOUT_MS = 10_000;

/**
 * The host as it is, seen below `root` (`/` normally; a copied tree in tests). Programs run on the
 * real host whatever the root; `exec` replaces them (tests feed their recorded output).
 */
export function hostFilesAt(root = '/', exec?: HostFiles['execFile']): HostFiles {
  const at = (path: string) => (root === '/' ? path : join(root, path));
  return {
    readFile(path) {
      try {
        return readFileSync(at(path), 'utf8');
      } catch {
        return undefined;
      }
    },
    readdir(path) {
      try {
        return readdirSync(at(path)).sort();
      } catch {
        return [];
      }
    },
    exists(path) {
      return existsSync(at(path));
    },
    readlink(path) {
      try {
        return readlinkSync(at(path));
      } catch {
        return undefined;
      }
    },
    execFile: exec ?? runProgram,
  };
}

function runProgram(file: string, args: readonly string[]): string | undefined {
  try {
    return execFileSync(file, args, { encoding: 'utf8', timeout: EXEC_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}
