#!/usr/bin/env node
// Builds the libvirt N-API addon (binding.gyp) with node-gyp; npm runs this on install.
// libvirt's headers come from the distribution, so check for them first and say what to install
// instead of letting the compiler fail on a missing header.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const probe = spawnSync('pkg-config', ['--exists', 'libvirt', 'libvirt-qemu'], { stdio: 'ignore' });
if (probe.error || probe.status !== 0) {
  console.error(
    'hostvisor: libvirt development files not found (pkg-config libvirt libvirt-qemu); install them with: apt-get install libvirt-dev pkg-config g++ make',
  );
  process.exit(1);
}

// Under npm, its bundled node-gyp is named by npm_config_node_gyp and is on PATH. Run by hand,
// fall back to the copy bundled with the npm next to this node.
function nodeGyp() {
  const fromNpm = process.env['npm_config_node_gyp'];
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const bundled = join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js');
  if (existsSync(bundled)) return [process.execPath, bundled];
  return ['node-gyp'];
}

// npm hands node-gyp its nodedir setting; by hand, use this node's own headers when it has
// them, so nothing is downloaded.
function nodedirArgs() {
  if (process.env['npm_config_nodedir']) return [];
  const prefix = join(dirname(process.execPath), '..');
  return existsSync(join(prefix, 'include', 'node', 'node_api.h')) ? [`--nodedir=${prefix}`] : [];
}

const [command, ...prefix] = nodeGyp();
const gyp = spawnSync(command, [...prefix, 'rebuild', ...nodedirArgs()], { cwd: root, stdio: 'inherit' });
if (gyp.error) {
  console.error(`hostvisor: cannot run node-gyp (${gyp.error.message}); run this through npm (npm run build:addon)`);
  process.exit(1);
}
process.exit(gyp.status ?? 1);
