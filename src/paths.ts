/**
 * Where the built files are. Tests run the TypeScript sources directly (vitest) while piscina
 * loads compiled JavaScript, so worker modules are always found under dist/ from the repo root,
 * whether the caller runs from src/ or dist/src/.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'tsconfig.json'))) return dir;
    if (dirname(dir) === dir) throw new Error(`cannot find the hostvisor root above ${start}`);
  }
}

export const repoRoot = findRoot(dirname(fileURLToPath(import.meta.url)));

/** The compiled worker module `workers/<name>.ts`, as piscina wants it. */
export function workerFile(name: string): string {
  return join(repoRoot, 'dist', 'workers', `${name}.js`);
}
