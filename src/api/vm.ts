/**
 * VM.* verbs. Each libvirt call runs on the rpc executor; the VM
 * registry is updated on the main thread from the outcome, and libvirt's lifecycle events carry
 * the status changes to subscribers.
 */
import { VdsmCode, VdsmError, NoSuchVmError } from '../rpc/errors.js';
import { DomainXmlError, parseDomainXml } from '../virt/domain-xml.js';
import { Affect } from '../virt/libvirt/constants.js';
import { vcpuBandwidth } from '../virt/vcpu-limit.js';
import { METADATA_NAMESPACE, METADATA_PREFIX, metadataXml } from '../virt/vm-metadata.js';
import { ExitCode, ExitReason, exitInfo, type Vm } from '../virt/vm.js';
import type { ApiContext } from './context.js';
import { powerDown } from './guest.js';
import type { Handlers } from './method-registry.js';
import { libvirtVerb, onWorker } from './verbs.js';
import { vmTasks, type CreateOutcome } from '../tasks/vm.js';

function vmOf(ctx: ApiContext, args: Record<string, unknown>): Vm {
  const vmId = args['vmID'] as string;
  const vm = ctx.registry.get(vmId);
  if (!vm) throw new NoSuchVmError(vmId);
  return vm;
}

function runningVmOf(ctx: ApiContext, args: Record<string, unknown>): Vm {
  const vm = vmOf(ctx, args);
  if (vm.status === 'Down') throw new NoSuchVmError(vm.id);
  return vm;
}

function createError(reason: string, vmId?: string): VdsmError {
  return new VdsmError(VdsmCode.createErr, 'Error creating the requested VM', { ...(vmId ? { vmId } : {}), reason });
}

async function create(ctx: ApiContext, args: Record<string, unknown>): Promise<Record<string, unknown>> {
  const vmParams = (args['vmParams'] ?? {}) as Record<string, unknown>;
  // vdsm's older clients send the definition as _srcDomXML.
  const given = vmParams['xml'] ?? vmParams['_srcDomXML'];
  if (typeof given !== 'string' || given.trim() === '') throw createError('vmParams.xml (or _srcDomXML), the libvirt domain XML, is required');
  let xml = given;
  let description;
  try {
    description = parseDomainXml(xml);
  } catch (err) {
    if (err instanceof DomainXmlError) throw createError(err.message);
    throw err;
  }
  // The XML's <uuid> is authoritative, as in vdsm 4.x; without one, vmID gives it.
  let vmId = description.uuid;
  if (vmId === '') {
    vmId = String(args['vmID'] ?? '').toLowerCase();
    if (!/^[0-9a-f]{8}-([0-9a-f]{4}-){3}[0-9a-f]{12}$/.test(vmId)) throw createError('the domain XML has no <uuid> and vmID is not a UUID');
    xml = xml.replace(/<domain\b[^>]*>/, (open) => `${open}<uuid>${vmId}</uuid>`);
  }
  if (ctx.registry.get(vmId)) throw new VdsmError(VdsmCode.exist, 'Virtual machine already exists', { vmId });

  const vm = ctx.registry.add(vmId, description.name, 'WaitForLaunch');
  vm.describe(description);
  const launched = { status: vm.status, statusTime: vm.statusTime };
  let outcome: CreateOutcome;
  try {
    outcome = await onWorker(ctx, vmTasks.create, { uri: ctx.uri, xml }, vmId, VdsmCode.createErr);
  } catch (err) {
    ctx.registry.remove(vmId);
    throw err;
  }
  if (!outcome.ok) {
    ctx.registry.remove(vmId);
    throw createError(`${outcome.stage} failed: ${outcome.error.message} (${outcome.error.codeName})`, vmId);
  }
  vm.describe(outcome.domain); // libvirt's expanded XML names the NICs' target devices
  ctx.host.refreshResources();
  return { vmId, ...launched, xml };
}

async function destroy(ctx: ApiContext, args: Record<string, unknown>): Promise<boolean> {
  const vm = vmOf(ctx, args);
  vm.expect('destroy');
  const outcome = await onWorker(ctx, vmTasks.destroy, { uri: ctx.uri, uuid: vm.id }, vm.id, VdsmCode.destroyErr);
  const gone = !outcome.ok && outcome.error.codeName === 'VIR_ERR_NO_DOMAIN';
  if (!outcome.ok && !gone) {
    throw new VdsmError(VdsmCode.destroyErr, 'Virtual machine destroy error', { vmId: vm.id, reason: outcome.error.message });
  }
  // libvirt's Stopped event may still be on its way: the Down status is ours to publish now.
  if (vm.status !== 'Down') vm.markDown(exitInfo(ExitCode.NORMAL, ExitReason.ADMIN_SHUTDOWN));
  ctx.registry.remove(vm.id);
  ctx.host.refreshResources();
  return true;
}

async function shutdown(ctx: ApiContext, args: Record<string, unknown>): Promise<boolean> {
  const vm = runningVmOf(ctx, args);
  // With guest agents wired: vdsm's power-down chain (agents first, then ACPI).
  if (ctx.guests !== undefined) {
    return powerDown(ctx, ctx.guests, vm, {
      reboot: args['reboot'] === true,
      delay: args['delay'] as number | null | undefined,
      message: args['message'] as string | null | undefined,
      timeout: args['timeout'] as number | null | undefined,
      force: args['force'] === true,
    });
  }
  if (args['reboot'] === true) {
    await libvirtVerb(ctx, 'reboot', [vm.id], vm.id);
    return true;
  }
  vm.expect('shutdown');
  if (vm.status !== 'Powering down') vm.setStatus('Powering down');
  await libvirtVerb(ctx, 'shutdown', [vm.id], vm.id);
  return true;
}

function policyError(reason: string, vmId: string): VdsmError {
  return new VdsmError(VdsmCode.updateVmPolicyErr, 'Failed to update VM SLA policy', { vmId, reason });
}

/** Everything is checked before anything is applied: a refused policy changes nothing. */
async function updateVmPolicy(ctx: ApiContext, args: Record<string, unknown>): Promise<true> {
  const vm = runningVmOf(ctx, args);
  const policy = args['params'] as { vcpuLimit?: number | string; ioTune?: unknown[] };
  if (policy.vcpuLimit === undefined && policy.ioTune === undefined) {
    throw new VdsmError(VdsmCode.MissParam, 'Missing required parameter', { reason: 'updateVmPolicy got an empty policy' });
  }
  if ((policy.ioTune?.length ?? 0) > 0) throw policyError('I/O limits apply to disks of storage domains, which this host does not manage', vm.id);
  if (policy.vcpuLimit === undefined) return true;
  const hostCpus = Number(ctx.capabilities.facts?.cpuThreads ?? 0);
  if (!(hostCpus > 0)) throw policyError("the host's CPUs are not known yet", vm.id);
  const bandwidth = vcpuBandwidth(Number(policy.vcpuLimit), hostCpus, vm.vcpus);
  await libvirtVerb(ctx, 'setVcpuBandwidth', [vm.id, bandwidth.quota, bandwidth.period, Affect.LIVE], vm.id, VdsmCode.updateVmPolicyErr);
  vm.vcpuBandwidth = bandwidth;
  return true;
}

export function vmHandlers(ctx: ApiContext): Handlers {
  return {
    'VM.create': (args) => create(ctx, args),
    'VM.destroy': (args) => destroy(ctx, args),
    'VM.shutdown': (args) => shutdown(ctx, args),
    'VM.reboot': async (args) => {
      const vm = runningVmOf(ctx, args);
      await libvirtVerb(ctx, 'reboot', [vm.id], vm.id);
      return true;
    },
    'VM.reset': async (args) => {
      const vm = runningVmOf(ctx, args);
      await libvirtVerb(ctx, 'reset', [vm.id], vm.id, VdsmCode.resetErr);
      return true;
    },
    'VM.setDestroyOnReboot': async (args) => {
      const vm = runningVmOf(ctx, args);
      // Kept in the domain first, so a daemon restart cannot lose the mark the engine relies on.
      const xml = metadataXml({ destroyOnReboot: true });
      await libvirtVerb(ctx, 'setMetadata', [vm.id, xml, METADATA_PREFIX, METADATA_NAMESPACE, Affect.LIVE], vm.id);
      vm.destroyOnReboot = true;
      return true;
    },
    'VM.updateVmPolicy': (args) => updateVmPolicy(ctx, args),
    'VM.pause': async (args) => {
      const vm = runningVmOf(ctx, args);
      await libvirtVerb(ctx, 'suspend', [vm.id], vm.id);
      return { vmList: {} };
    },
    'VM.cont': async (args) => {
      const vm = runningVmOf(ctx, args);
      if (vm.status !== 'Paused') {
        throw new VdsmError(VdsmCode.unexpected, 'Unexpected exception', { vmId: vm.id, reason: `VM is ${vm.status}, not Paused` });
      }
      await libvirtVerb(ctx, 'resume', [vm.id], vm.id, VdsmCode.unexpected);
      return { vmList: {} };
    },
    'VM.getStats': (args) => [ctx.vmStats(vmOf(ctx, args))],
    'VM.setNumberOfCpus': async (args) => {
      const vm = runningVmOf(ctx, args);
      const count = args['numberOfCpus'] as number;
      if (count < 1) throw new VdsmError(VdsmCode.InvalidParameter, 'Invalid parameter', { numberOfCpus: count });
      await libvirtVerb(ctx, 'setVcpus', [vm.id, count], vm.id);
      vm.vcpus = count;
      ctx.host.refreshResources();
      return { vmList: vm.shortStatus() };
    },
    'VM.setMemory': async (args) => {
      const vm = runningVmOf(ctx, args);
      const kib = (args['memory'] as number) * 1024;
      await libvirtVerb(ctx, 'setMemory', [vm.id, kib], vm.id);
      vm.memoryKiB = kib;
      ctx.host.refreshResources();
      return true;
    },
  };
}
