/**
 * Host.* verbs. All are answered from memory on the main thread:
 * the host monitor's samples and the VM registry, refreshed by periodic operations.
 */
import type { LogLevel } from '../config/schema.js';
import type { Method } from '../rpc/method-table.js';
import { RawJson } from '../rpc/raw-json.js';
import { formatVersion } from '../virt/libvirt/index.js';
import type { ApiContext } from './context.js';
import { sharedWhileRunning } from './shared-while-running.js';

/** vdsm's level names (Python logging) onto pino's. */
const LEVELS: Record<string, LogLevel> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'fatal',
  CRIT: 'fatal',
};

function vmFilter(ctx: ApiContext, vmList: unknown): Array<{ vmId: string; status: string; statusTime: string }> {
  const wanted = Array.isArray(vmList) && vmList.length > 0 ? new Set(vmList.map(String)) : undefined;
  const out = [];
  for (const vm of ctx.registry.all()) if (!wanted || wanted.has(vm.id)) out.push(vm.shortStatus());
  return out;
}

function capabilities(ctx: ApiContext): Record<string, unknown> {
  const node = ctx.host.node;
  const identity = ctx.host.identity;
  const facts = ctx.host.hostFacts;
  const cpus = node?.cpus ?? 0;
  const os = facts?.osRelease ?? {};
  const libvirtVersion = identity ? formatVersion(identity.libVersion) : '';
  return {
    cpuCores: String(node ? node.sockets * node.cores * node.nodes : 0),
    cpuThreads: String(cpus),
    cpuSockets: String(node ? node.sockets * node.nodes : 0),
    cpuSpeed: String(node?.mhz ?? 0),
    cpuModel: facts?.cpuModel || node?.model || '',
    cpuFlags: (facts?.cpuFlags ?? []).join(','),
    onlineCpus: Array.from({ length: cpus }, (_, i) => i).join(','),
    memSize: String(node ? Math.floor(node.memoryKiB / 1024) : 0),
    reservedMem: '321',
    guestOverhead: '65',
    kvmEnabled: String(identity?.type === 'QEMU'),
    vmTypes: ['kvm'],
    liveSnapshot: 'true',
    liveMerge: 'true',
    netConfigDirty: 'False',
    uuid: facts?.hostUuid ?? '',
    operatingSystem: { name: os['NAME'] ?? '', version: os['VERSION_ID'] ?? '', release: '', pretty_name: os['PRETTY_NAME'] ?? '' },
    kernelArgs: '',
    packages2: {
      hostvisor: { version: ctx.version, release: '1' },
      libvirt: { version: libvirtVersion, release: '' },
      kernel: { version: facts?.kernel ?? '', release: '' },
    },
    software_version: ctx.version,
    software_revision: '1',
    version_name: 'hostvisor',
    supportedENGINEs: ['4.2', '4.3', '4.4', '4.5'],
    clusterLevels: ['4.2', '4.3', '4.4', '4.5', '4.6', '4.7'],
    hypervisor: identity ? { uri: identity.uri, type: identity.type, version: formatVersion(identity.version), hostname: identity.hostname } : {},
    hostResources: ctx.host.resources,
    lastClientIface: '',
  };
}

/** VMs encoded per turn of the event loop: a slice of 25 takes 1-2 ms on a busy 2-core host (the
 * soak), so a turn never holds the loop long while a thousand VMs are encoded. */
const STATS_SLICE = 25;

/**
 * Every VM's stats element, encoded a slice at a time with the event loop free in between: a
 * thousand VMs make over a megabyte of JSON, which in one piece would hold the loop for tens of ms.
 */
async function allVmStats(ctx: ApiContext): Promise<RawJson> {
  const vms = [...ctx.registry.all()];
  const pieces: string[] = ['['];
  for (let i = 0; i < vms.length; i++) {
    if (i > 0 && i % STATS_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
    if (i > 0) pieces.push(',');
    pieces.push(JSON.stringify(ctx.vmStats(vms[i]!)));
  }
  pieces.push(']');
  return new RawJson(pieces);
}

export function hostMethods(ctx: ApiContext): Method[] {
  // Two engines (or one engine's retries) asking together get one answer, built once: built
  // separately, their slices would run back to back in the same turn of the event loop.
  const allStats = sharedWhileRunning(() => allVmStats(ctx));
  return [
    { name: 'Host.getCapabilities', params: [], handler: () => capabilities(ctx) },
    { name: 'Host.getStats', params: [], handler: () => ctx.host.stats(ctx.registry.counts()) },
    {
      name: 'Host.getVMList',
      params: [
        { name: 'fullStatus', type: 'boolean', default: false },
        { name: 'vmList', type: 'array', default: [] },
        { name: 'onlyUUID', type: 'boolean', default: false },
      ],
      // vdsm ignores fullStatus and onlyUUID since 2019: the short list either way.
      handler: (args) => vmFilter(ctx, args['vmList']),
    },
    {
      name: 'Host.getVMFullList',
      params: [{ name: 'vmList', type: 'array', default: [] }],
      handler: (args) => vmFilter(ctx, args['vmList']),
    },
    {
      name: 'Host.getAllVmStats',
      params: [],
      handler: allStats,
    },
    {
      name: 'Host.setLogLevel',
      params: [
        { name: 'level', type: 'string', enum: Object.keys(LEVELS) },
        { name: 'name', type: 'string', default: '' },
      ],
      handler: (args) => {
        ctx.setLogLevel(LEVELS[args['level'] as string]!);
        return true;
      },
    },
  ];
}
