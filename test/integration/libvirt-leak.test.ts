/**
 * Leak check: 100k domain lookups and stats calls (plus failing calls, holders and event
 * subscriptions made and dropped) keep RSS flat. Runs in a child process with --expose-gc so
 * garbage collection is forced before each reading and nothing else shares the heap.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { repoRoot } from '../../src/paths.js';

const dist = (...p: string[]): string => join(repoRoot, 'dist', 'src', 'virt', 'libvirt', ...p);
const doubles = (...p: string[]): string => join(repoRoot, 'dist', 'test', 'doubles', ...p);
const dir = mkdtempSync(join(tmpdir(), 'hostvisor-leak-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const script = `
  import { BlockingLibvirt } from ${JSON.stringify(dist('blocking.js'))};
  import { LibvirtHandle, startEventLoop, stopEventLoop } from ${JSON.stringify(dist('index.js'))};
  import { writeTestHost } from ${JSON.stringify(doubles('testhost.js'))};
  const host = writeTestHost({ dir: ${JSON.stringify(dir)}, domains: 100 });
  const conn = new BlockingLibvirt(host.uri);
  const UNKNOWN = '00000000-0000-4000-8000-00000000beef';
  startEventLoop();
  let failures = 0;
  // Yields now and then, as a worker does between tasks: N-API runs finalizers of dropped
  // holders and closes thread-safe functions from the event loop, not in the middle of a loop.
  async function round(n) {
    for (let i = 0; i < n; i++) {
      const d = host.domains[i % host.domains.length];
      conn.lookupByUuid(d.uuid);
      conn.sampleDomain(d.uuid, d);
      if (i % 10 === 0) {
        try { conn.info(UNKNOWN); } catch { failures++; }
        conn.domainListStats([d.uuid]);
      }
      if (i % 1000 === 0) {
        const holder = new LibvirtHandle(host.uri);
        await (await holder.subscribe(() => {}))();
        await holder.closeAsync();
        await new Promise((r) => setImmediate(r));
      }
    }
  }
  const settle = () => new Promise((r) => setImmediate(r));
  const rss = async () => {
    for (let i = 0; i < 3; i++) { globalThis.gc(); await settle(); }
    return process.memoryUsage().rss;
  };
  await round(20000); // warm-up: JIT, heap sizing, libvirt's first-use allocations
  const before = await rss();
  const growth = [];
  for (let k = 0; k < 4; k++) { await round(25000); growth.push((await rss()) - before); }
  stopEventLoop(2000);
  conn.close();
  console.log(JSON.stringify({ before, growth, failures }));
`;

it('100k lookups and stats calls keep RSS flat (within a few MB)', () => {
  expect(existsSync(dist('index.js')), 'build first: npx tsc -p tsconfig.json').toBe(true);
  const child = spawnSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
  });
  expect(child.stderr).toBe('');
  expect(child.status).toBe(0);
  const { growth, failures } = JSON.parse(child.stdout) as { growth: number[]; failures: number };
  expect(failures).toBe(12_000);
  const MiB = 1024 * 1024;
  // Flat: every reading within a few MiB of the warmed-up baseline. (A 300k-call run settles
  // at about 4 MiB above the baseline and stays there: allocator and heap sizing, not a leak.)
  for (const g of growth) expect(g).toBeLessThan(6 * MiB);
  expect(growth[3]! - growth[0]!).toBeLessThan(4 * MiB);
}, 60_000);
