/**
 * The network verbs, done by the privileged helper: Host.setupNetworks (which waits as long as the
 * setup and its connectivity check take; the RPC layer goes on serving meanwhile),
 * Host.setSafeNetworkConfig, and the engine's confirmations. Host.confirmConnectivity and the older
 * Host.ping tell the helper that the engine reached us (vdsm's client.log touch); Host.ping2 does
 * not, as in vdsm. A helper that cannot be reached fails the network verbs with a message naming
 * it; the confirmations still answer true.
 */
import { HelperRefused, HelperUnavailable, type Helper } from '../helper/client.js';
import { VdsmCode, VdsmError } from '../rpc/errors.js';
import type { Handlers } from './method-registry.js';

type AttrMap = Record<string, Record<string, unknown>>;

function asVdsmError(err: unknown): never {
  if (err instanceof HelperRefused) throw new VdsmError(err.code, err.message);
  if (err instanceof HelperUnavailable) throw new VdsmError(VdsmCode.unexpected, err.message);
  throw err;
}

/**
 * `refreshCapabilities` gathers the capabilities again after a setup or its rollback: the engine
 * reads them right after the answer, and they must show the networks as they are now.
 */
export function networkHandlers(helper: Helper, refreshCapabilities: () => Promise<void>): Handlers {
  const confirm = (): true => {
    helper.call('network.confirm', {}).catch(() => undefined);
    return true;
  };
  return {
    // The contract checked the shapes: maps of attribute maps, and a map of options.
    'Host.setupNetworks': async (args) => {
      const setup = helper.call('network.setup', { networks: args['networks'] as AttrMap, bondings: args['bondings'] as AttrMap, options: args['options'] as Record<string, unknown> }, null);
      const outcome = await setup.catch((err: unknown) => err);
      // Refused before anything changed (a validation error) or not: the gathering is cheap either way.
      if (!(outcome instanceof HelperUnavailable)) await refreshCapabilities().catch(() => undefined);
      return outcome instanceof Error ? asVdsmError(outcome) : outcome;
    },
    'Host.setSafeNetworkConfig': async () => {
      const saved = await helper.call('network.setSafe', {}).catch(asVdsmError);
      await refreshCapabilities().catch(() => undefined); // netConfigDirty
      return saved;
    },
    'Host.confirmConnectivity': confirm,
    'Host.ping': confirm,
  };
}
