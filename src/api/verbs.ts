/**
 * Runs libvirt work for a verb on the rpc executor, with the verb timeout, and unwraps the
 * outcome into a value or a vdsm error (`code` is the verb's own, e.g. createErr). The wait for
 * a worker is bounded too, by two timeouts: time enough for a stuck worker ahead to be discarded
 * and replaced, and with every worker stuck on a hung libvirtd (max_workers reached) the verb is
 * answered then, rather than whenever a stuck call comes back.
 */
import type { DispatchOptions } from '../concurrency/index.js';
import type { TaskCaller } from '../tasks/contract.js';
import { callVerb, type LibvirtVerb, type VerbResult, type VerbTask } from '../tasks/libvirt.js';
import type { ApiContext } from './context.js';
import { toVdsmError } from './errors.js';

const verbBounds = <R>(ctx: ApiContext): DispatchOptions<R> => ({ timeout: ctx.verbTimeout, discard: true, startWithin: 2 * ctx.verbTimeout });

/** Runs `task` on the rpc executor with the verb's bounds; a failure becomes a vdsm error. */
export async function onWorker<A, R>(ctx: ApiContext, task: TaskCaller<A, R>, args: A, vmId?: string, code?: number): Promise<R> {
  try {
    return await task(ctx.rpc, args, verbBounds(ctx));
  } catch (err) {
    throw toVdsmError(err, vmId, code);
  }
}

/** One libvirt call by name in a worker, e.g. `libvirtVerb(ctx, 'suspend', [uuid], uuid)`. */
export async function libvirtVerb<V extends LibvirtVerb>(
  ctx: ApiContext,
  verb: V,
  args: VerbTask<V>['args'],
  vmId?: string,
  code?: number,
): Promise<VerbResult<V>> {
  try {
    return await callVerb(ctx.rpc, { uri: ctx.uri, verb, args }, verbBounds(ctx));
  } catch (err) {
    throw toVdsmError(err, vmId, code);
  }
}
