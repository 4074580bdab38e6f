/**
 * Whether a channel socket path may be used: only sockets inside the channels folder are. The
 * domain XML is written by whoever defined the VM, so its paths are not trusted: a `..` that walks
 * out is refused before anything is opened, and a symlink out is refused once resolved (the path
 * actually connected to is the resolved one, so the link cannot be swapped in between).
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';

/** Lexically inside `dir` (both absolute): no `..` escape, not the folder itself. */
export function isInside(path: string, dir: string): boolean {
  if (!isAbsolute(path)) return false;
  const rel = relative(resolve(dir), resolve(path));
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export type ResolvedPath = { ok: true; path: string } | { ok: false; outside: boolean; error: NodeJS.ErrnoException | undefined };

/**
 * The real path of `path` if it lies inside `realDir` (a folder already resolved with realpath).
 * Asynchronous: realpath runs on libuv's pool, never on the main thread.
 */
export async function resolveInside(path: string, realDir: string): Promise<ResolvedPath> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (err) {
    return { ok: false, outside: false, error: err as NodeJS.ErrnoException };
  }
  return isInside(real, realDir) ? { ok: true, path: real } : { ok: false, outside: true, error: undefined };
}
