/**
 * Per-domain stats for every domain of a generated 1000-domain test host, sampled from a piscina
 * worker through hostvisor's addon, against the same loop through Debian's python3-libvirt (the C
 * binding), in the same run. Rounds alternate between the two so machine noise hits both alike;
 * each side times a warm pass; medians and best rounds are compared (on a shared 2-core machine
 * the slow rounds are other processes taking the core). Both sides make the same libvirt
 * calls per domain: lookup by UUID, info, isActive, blockStats per disk, interfaceStats per NIC,
 * memoryStats; ours returns them as objects keyed by device, Python as tuples and dicts.
 *
 *   npm run bench:libvirt            (builds TS first; needs the addon: npm run build:addon)
 *   node dist/bench/libvirt-stats.js [--domains 1000] [--rounds 7]
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Piscina } from 'piscina';
import { repoRoot } from '../src/paths.js';
import { workerModuleFile, type Dispatcher } from '../src/tasks/contract.js';
import { libvirtTasks, type DomainStatsTask } from '../src/tasks/libvirt.js';
import { writeTestHost } from '../test/doubles/testhost.js';

const PYTHON = '/usr/bin/python3';

const { values } = parseArgs({
  options: { domains: { type: 'string', default: '1000' }, rounds: { type: 'string', default: '7' } },
});
const domainCount = Number(values.domains);
const rounds = Number(values.rounds);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function runPython(uri: string, domainsFile: string): number {
  const out = spawnSync(PYTHON, [join(repoRoot, 'bench', 'libvirt_stats.py'), uri, domainsFile, '1'], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`python baseline failed: ${out.stderr || out.error?.message}`);
  return (JSON.parse(out.stdout) as { rounds_ms: number[] }).rounds_ms[0]!;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hostvisor-bench-'));
  const pool = new Piscina({ filename: workerModuleFile('libvirt'), minThreads: 1, maxThreads: 1 });
  // The pool itself, without an Executor: the benchmark measures the worker's loop and the transfer.
  const onPool: Dispatcher = { dispatch: (spec) => pool.run(spec.args, { name: spec.name }) };
  try {
    const host = writeTestHost({ dir, domains: domainCount, channelsDir: join(dir, 'channels') });
    const domains = host.domains.map(({ uuid, disks, nics }) => ({ uuid, disks, nics }));
    const domainsFile = join(dir, 'domains.json');
    writeFileSync(domainsFile, JSON.stringify(domains));
    const task: DomainStatsTask = { uri: host.uri, domains };

    // Warm-up: opens the connection in the worker and lets V8 optimise the loop.
    await libvirtTasks.domainStats(onPool, task);
    await libvirtTasks.domainStats(onPool, task);

    const ours: number[] = [];
    const oursRoundTrip: number[] = [];
    const python: number[] = [];
    for (let r = 0; r < rounds; r++) {
      // Each side measures a warm loop: the Python script samples once before its timed pass,
      // and so does the worker here (the Python process in between evicts caches).
      await libvirtTasks.domainStats(onPool, task);
      const t0 = performance.now();
      const result = await libvirtTasks.domainStats(onPool, task);
      oursRoundTrip.push(performance.now() - t0);
      if (result.samples.length !== domainCount || result.samples.includes(null)) {
        throw new Error('the worker failed to sample some domains');
      }
      ours.push(result.elapsedMs);
      python.push(runPython(host.uri, domainsFile));
    }

    const perDomainUs = (ms: number): string => ((ms * 1000) / domainCount).toFixed(2);
    const o = median(ours);
    const rt = median(oursRoundTrip);
    const p = median(python);
    console.log(`libvirt per-domain stats, ${domainCount} domains (info, 2 disks, 1 NIC, memory), ${rounds} rounds, medians`);
    console.log(`  hostvisor addon, worker loop     ${o.toFixed(1).padStart(8)} ms  (${perDomainUs(o)} µs/domain)`);
    console.log(`  hostvisor incl. transfer to main ${rt.toFixed(1).padStart(8)} ms  (${perDomainUs(rt)} µs/domain)`);
    console.log(`  python3-libvirt, same loop       ${p.toFixed(1).padStart(8)} ms  (${perDomainUs(p)} µs/domain)`);
    const fmt = (xs: number[]): string => [...xs].sort((a, b) => a - b).map((x) => x.toFixed(1)).join(' ');
    console.log(`  rounds, sorted (ms): hostvisor ${fmt(ours)} | python ${fmt(python)}`);
    console.log(
      `  ratio hostvisor/python: ${(o / p).toFixed(2)} (worker loop, medians), ` +
        `${(Math.min(...ours) / Math.min(...python)).toFixed(2)} (best rounds), ` +
        `${(rt / p).toFixed(2)} (incl. transfer); below 1 is faster`,
    );
  } finally {
    await pool.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
