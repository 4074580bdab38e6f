/** The daemon's version, from package.json. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../paths.js';
import type { PackageVersion } from '../virt/host/caps/packages.js';

let cached: string | undefined;

export function version(): string {
  cached ??= (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
  return cached;
}

/** This daemon as a package in capabilities' packages2: its version, and release 1 of it (the
 * daemon ships from its own repository, never rebuilt by a distribution). */
export function agentPackage(): PackageVersion {
  return { version: version(), release: '1' };
}
