/**
 * Host.* verbs. All are answered from memory on the main thread:
 * the host monitor's samples and the VM registry, refreshed by periodic operations.
 */
import type { LogLevel } from '../config/schema.js';
import { NoSuchVmError, RecoveringError } from '../rpc/errors.js';
import { RawJson } from '../rpc/raw-json.js';
import { hostCapsTasks } from '../tasks/host-caps.js';
import { hostDevicesByCaps } from '../virt/host/caps/node-device.js';
import type { JobType } from '../virt/jobs.js';
import type { ApiContext } from './context.js';
import { capabilitiesAnswer } from './host-capabilities.js';
import type { LOG_LEVELS } from './contract/host-verbs.js';
import type { Handlers } from './method-registry.js';
import { libvirtVerb, onWorker } from './verbs.js';
import { sharedWhileRunning } from './shared-while-running.js';

type LogLevelName = (typeof LOG_LEVELS)[number];

/** vdsm's level names (Python logging) onto pino's. */
const LEVELS: Record<LogLevelName, LogLevel> = {
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

async function capabilities(ctx: ApiContext): Promise<Record<string, unknown>> {
  const facts = await ctx.capabilities.upToDate();
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

async function dumpxmls(ctx: ApiContext, vmList: readonly string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const vmId of vmList) {
    if (!ctx.registry.get(vmId)) throw new NoSuchVmError(vmId);
    out[vmId] = await libvirtVerb(ctx, 'xmlDesc', [vmId], vmId);
  }
  return out;
}

export function hostHandlers(ctx: ApiContext): Handlers {
  // Two engines (or one engine's retries) asking together get one answer, built once: built
  // separately, their slices would run back to back in the same turn of the event loop.
  const allStats = sharedWhileRunning(() => allVmStats(ctx));
  return {
    'Host.getCapabilities': () => capabilities(ctx),
    'Host.getStats': () => ctx.host.stats(ctx.registry.counts(), ctx.capabilities.facts?.netConfigDirty),
    'Host.getResources': () => ctx.host.resources ?? unavailable(),
    'Host.getHardwareInfo': async () => {
      const info = await onWorker(ctx, hostCapsTasks.hardwareInfo, { uri: ctx.uri });
      // The serial number is root's to read: the helper reads it for an unprivileged daemon.
      if (info.systemSerialNumber !== '') return info;
      return { ...info, systemSerialNumber: await ctx.helper.call('host.serial', {}).catch(() => '') };
    },
    'Host.hostdevListByCaps': async (args) => hostDevicesByCaps(await onWorker(ctx, hostCapsTasks.hostDevices, { uri: ctx.uri }), args['caps'] as string[]),
    'Host.getJobs': (args) => ctx.jobs.list(args['job_type'] as JobType | undefined, args['job_ids'] as string[]),
    // vdsm ignores fullStatus and onlyUUID since 2019: the short list either way.
    'Host.getVMList': (args) => vmFilter(ctx, args['vmList']),
    'Host.getVMFullList': (args) => vmFilter(ctx, args['vmList']),
    'Host.getAllVmStats': allStats,
    'Host.dumpxmls': (args) => dumpxmls(ctx, args['vmList'] as string[]),
    'Host.setMOMPolicyParameters': async (args) => {
      await ctx.memoryPolicy.update(args['key_value_store'] as Record<string, unknown>);
      return true;
    },
    'Host.setLogLevel': (args) => {
      ctx.setLogLevel(LEVELS[args['level'] as LogLevelName]);
      return true;
    },
  };
}
