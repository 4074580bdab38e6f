/**
 * Turns what a libvirt verb can fail with into vdsm's errors: a missing domain is noVM (1),
 * a full executor is ResourceExhausted (1100), a verb stuck past its timeout or a daemon that is
 * stopping get their own clear messages, and anything else from libvirt gets the verb's own code.
 */
import { NotRunning, ResourceExhausted, TaskTimeout, WaitTimeout } from '../concurrency/index.js';
import { NoSuchVmError, RecoveringError, ResourceExhaustedError, RpcError, VdsmCode, VdsmError } from '../rpc/errors.js';
import { isNoDomain, LibvirtError } from '../virt/libvirt/index.js';

/** vdsm's fixed texts for the codes the VM verbs use. */
const BASE: Record<number, string> = {
  [VdsmCode.createErr]: 'Error creating the requested VM',
  [VdsmCode.destroyErr]: 'Virtual machine destroy error',
  [VdsmCode.unexpected]: 'Unexpected exception',
  [VdsmCode.updateVmPolicyErr]: 'Failed to update VM SLA policy',
  [VdsmCode.resetErr]: 'Failed to reset VM.',
  [VdsmCode.GeneralException]: 'General Exception',
};

export function toVdsmError(err: unknown, vmId: string | undefined, code: number = VdsmCode.GeneralException): RpcError {
  if (err instanceof RpcError) return err;
  if (isNoDomain(err) && vmId !== undefined) return new NoSuchVmError(vmId);
  if (err instanceof ResourceExhausted) return new ResourceExhaustedError({ ...err.context });
  if (err instanceof NotRunning) return new RecoveringError();
  if (err instanceof TaskTimeout) {
    return new VdsmError(VdsmCode.GeneralException, BASE[VdsmCode.GeneralException]!, {
      reason: `the hypervisor did not answer within ${err.timeout} s`,
    });
  }
  if (err instanceof WaitTimeout) {
    return new VdsmError(VdsmCode.GeneralException, BASE[VdsmCode.GeneralException]!, {
      reason: `no worker came free within ${err.waited} s: earlier calls to the hypervisor are not answered`,
    });
  }
  const reason = err instanceof LibvirtError ? `${err.message} (${err.codeName})` : err instanceof Error ? err.message : String(err);
  return new VdsmError(code, BASE[code] ?? BASE[VdsmCode.GeneralException]!, { ...(vmId ? { vmId } : {}), reason });
}
