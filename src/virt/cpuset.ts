/**
 * CPU set syntax as nova's vcpu_pin_set and the kernel's cpulists: comma-separated CPUs and ranges,
 * with `^N` excluding a CPU, e.g. `0-3,^2,8` = {0, 1, 3, 8}.
 */
export class CpuSetError extends Error {
  override name = 'CpuSetError';
}

export function parseCpuSet(spec: string): number[] {
  const include = new Set<number>();
  const exclude = new Set<number>();
  for (const raw of spec.split(',')) {
    const part = raw.trim();
    if (part === '') continue;
    const m = /^(\^)?(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new CpuSetError(`invalid CPU set "${spec}": "${part}" is not N, N-M or ^N`);
    const [, not, lo, hi] = m;
    if (not && hi !== undefined) throw new CpuSetError(`invalid CPU set "${spec}": an exclusion "${part}" takes one CPU`);
    const start = Number(lo);
    const end = hi === undefined ? start : Number(hi);
    if (end < start) throw new CpuSetError(`invalid CPU set "${spec}": range "${part}" runs backwards`);
    if (end - start > 65_536) throw new CpuSetError(`invalid CPU set "${spec}": range "${part}" is too large`);
    for (let cpu = start; cpu <= end; cpu++) (not ? exclude : include).add(cpu);
  }
  const cpus = [...include].filter((c) => !exclude.has(c)).sort((a, b) => a - b);
  if (cpus.length === 0) throw new CpuSetError(`invalid CPU set "${spec}": it names no CPU`);
  return cpus;
}

/** The set as a cpulist string, e.g. [0,1,2,5] → "0-2,5". */
export function formatCpuSet(cpus: readonly number[]): string {
  const out: string[] = [];
  for (let i = 0; i < cpus.length; ) {
    let j = i;
    while (j + 1 < cpus.length && cpus[j + 1] === cpus[j]! + 1) j++;
    out.push(i === j ? `${cpus[i]}` : `${cpus[i]}-${cpus[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
