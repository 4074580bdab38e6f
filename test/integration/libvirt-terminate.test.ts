/**
 * A worker thread terminated while it is inside the libvirt addon (what a stop does to a worker in
 * a call) must not take the process down: Node-API calls fail in a terminating thread, and the
 * addon must drop that failure rather than let a C++ exception abort the process (SIGABRT).
 * The churn runs in a child process, so an abort shows as its exit signal.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/paths.js';

const blocking = pathToFileURL(join(repoRoot, 'dist', 'src', 'virt', 'libvirt', 'blocking.js')).href;

/** Starts 50 workers looping addon calls, each terminated mid-loop. */
const CHURN = `
import { Worker } from 'node:worker_threads';
const loop = "import { connectionFor } from '${blocking}'; const c = connectionFor('test:///default'); for (;;) { c.listDomains(); c.nodeInfo(); }";
for (let i = 0; i < 50; i++) {
  const worker = new Worker(loop, { eval: true, type: 'module' });
  worker.on('error', () => undefined);
  await new Promise((r) => setTimeout(r, 20 + (i % 5) * 7));
  await worker.terminate();
}
process.stdout.write('done\\n');
`;

describe('a worker terminated inside the libvirt addon', () => {
  it('ends, and the process goes on (50 times, at different moments of its calls)', async () => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHURN], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
    expect({ code, signal, out, err: err.slice(-500) }).toEqual({ code: 0, signal: null, out: 'done\n', err: '' });
  }, 120_000);
});
