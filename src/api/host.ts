/**
 * Host.* verbs. All are answered from memory on the main thread:
 * the host monitor's samples and the VM registry, refreshed by periodic operations.
 */
import type { LogLevel } from '../config/schema.js';
import type { Method } from '../rpc/method-table.js';
import { RecoveringError } from '../rpc/errors.js';
import { RawJson } from '../rpc/raw-json.js';
import { hostCapsTasks } from '../tasks/host-caps.js';
import { hostDevicesByCaps } from '../virt/host/caps/node-device.js';
import type { JobType } from '../virt/jobs.js';
import type { ApiContext } from './context.js';
import { capabilitiesAnswer } from './host-capabilities.js';
import { onWorker } from './verbs.js';
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
  const facts = ctx.capabilities.facts;
  return facts ? capabilitiesAnswer(facts, { agent: ctx.agent }) : unavailable();
}

/** Before the first gathering (the daemon gathers before it serves): vdsm's "not ready yet". */
function unavailable(): never {
  throw new RecoveringError();
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
    { name: 'Host.getResources', params: [], handler: () => ctx.host.resources ?? unavailable() },
    // vdsm's deprecated liveness check: answers true, as ping2 does.
    { name: 'Host.ping', params: [], handler: () => true },
    { name: 'Host.getHardwareInfo', params: [], handler: () => onWorker(ctx, hostCapsTasks.hardwareInfo, { uri: ctx.uri }) },
    {
      name: 'Host.hostdevListByCaps',
      params: [{ name: 'caps', type: 'array', default: [] }],
      handler: async (args) => hostDevicesByCaps(await onWorker(ctx, hostCapsTasks.hostDevices, { uri: ctx.uri }), (args['caps'] as unknown[]).map(String)),
    },
    {
      name: 'Host.getJobs',
      params: [
        { name: 'job_type', type: 'string', enum: ['storage', 'v2v'], nullable: true },
        { name: 'job_ids', type: 'array', default: [] },
      ],
      handler: (args) => ctx.jobs.list(args['job_type'] as JobType | undefined, (args['job_ids'] as unknown[]).map(String)),
    },
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
