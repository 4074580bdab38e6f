/** Readers of the host's CPUs: /proc/cpuinfo and /sys/devices/system/cpu. */
import { cpuTopologyFromSysfs, nodeOfCpu, type CpuTopology, type SysfsCpu } from './cpu-topology.js';
import { parseCpuInfo, type CpuInfo } from './cpuinfo.js';
import type { HostFiles } from './host-files.js';
import { parseIdList, parseIntFile } from './key-value.js';

const CPU_ROOT = '/sys/devices/system/cpu';

export function readCpuInfo(files: HostFiles): CpuInfo {
  return parseCpuInfo(files.readFile('/proc/cpuinfo') ?? '');
}

/** The online CPUs and where each sits. */
export function readCpuTopology(files: HostFiles): CpuTopology {
  const online = parseIdList(files.readFile(`${CPU_ROOT}/online`) ?? '');
  const cpus: SysfsCpu[] = online.map((id) => {
    const dir = `${CPU_ROOT}/cpu${id}`;
    const topology = (name: string) => parseIntFile(files.readFile(`${dir}/topology/${name}`));
    return {
      id,
      packageId: topology('physical_package_id') ?? 0,
      dieId: topology('die_id') ?? 0,
      coreId: topology('core_id') ?? id,
      node: nodeOfCpu(files.readdir(dir)),
    };
  });
  return cpuTopologyFromSysfs(cpus);
}
