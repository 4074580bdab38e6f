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

/** Codes of a setup refused before anything on the host was touched (checks, or another setup running). */
const REFUSED_UNTOUCHED = new Set([21, 22, 23, 24, 25, 26, 27, 31, 40, -32600, -32601, -32602]);

/** Whether a network verb that failed with `err` may have changed the host. */
function mayHaveChanged(err: unknown): boolean {
  return !(err instanceof HelperUnavailable || (err instanceof HelperRefused && REFUSED_UNTOUCHED.has(err.code)));
}

function asVdsmError(err: unknown): never {
  if (err instanceof HelperRefused) throw new VdsmError(err.code, err.message);
  if (err instanceof HelperUnavailable) throw new VdsmError(VdsmCode.unexpected, err.message);
  throw err;
}

/**
 * `capabilitiesChanged` has the capabilities gathered again after a setup (or its rollback): the
 * engine reads them right after the answer, and they must show the networks as they are now.
 */
export function networkHandlers(helper: Helper, capabilitiesChanged: () => void): Handlers {
  const confirm = (): true => {
    helper.call('network.confirm', {}).catch(() => undefined);
    return true;
  };
  return {
    // The contract checked the shapes: maps of attribute maps, and a map of options.
    'Host.setupNetworks': async (args) => {
      const params = { networks: args['networks'] as AttrMap, bondings: args['bondings'] as AttrMap, options: args['options'] as Record<string, unknown> };
      try {
        const done = await helper.call('network.setup', params, null);
        capabilitiesChanged();
        return done;
      } catch (err) {
        if (mayHaveChanged(err)) capabilitiesChanged(); // rolled back: a gathering may have seen the change meanwhile
        return asVdsmError(err);
      }
    },
    'Host.setSafeNetworkConfig': async () => {
      const saved = await helper.call('network.setSafe', {}).catch(asVdsmError);
      capabilitiesChanged(); // netConfigDirty
      return saved;
    },
    'Host.confirmConnectivity': confirm,
    'Host.ping': confirm,
  };
}
