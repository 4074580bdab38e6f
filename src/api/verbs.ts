/**
 * Runs libvirt work for a verb on the rpc executor, with the verb timeout, and unwraps the
 * outcome into a value or a vdsm error (`code` is the verb's own, e.g. createErr). The wait for
 * a worker is bounded too, by two timeouts: time enough for a stuck worker ahead to be discarded
 * and replaced, and with every worker stuck on a hung libvirtd (max_workers reached) the verb is
 * answered then, rather than whenever a stuck call comes back.
 */
import type { TaskSpec } from '../concurrency/index.js';
import { workerFile } from '../paths.js';
import { unwrap, type Outcome } from '../virt/libvirt/outcome.js';
import type { ApiContext } from './context.js';
import { toVdsmError } from './errors.js';

export async function onWorker<T>(ctx: ApiContext, task: TaskSpec, vmId?: string, code?: number): Promise<T> {
  try {
    return await ctx.rpc.dispatch<T>(task, { timeout: ctx.verbTimeout, discard: true, startWithin: 2 * ctx.verbTimeout });
  } catch (err) {
    throw toVdsmError(err, vmId, code);
  }
}

/** One LibvirtConnection method by name in a worker, e.g. `libvirtVerb(ctx, 'suspend', [uuid], uuid)`. */
export async function libvirtVerb<T = void>(ctx: ApiContext, verb: string, args: unknown[], vmId?: string, code?: number): Promise<T> {
  const outcome = await onWorker<Outcome<T>>(ctx, { name: 'verb', filename: workerFile('libvirt'), args: { uri: ctx.uri, verb, args } }, vmId, code);
  try {
    return unwrap(outcome);
  } catch (err) {
    throw toVdsmError(err, vmId, code);
  }
}
