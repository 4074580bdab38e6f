/**
 * What each helper operation does: network setups through their transaction, KSM switches, and the
 * root-only DMI serial number. Nothing else runs as root on the daemon's behalf.
 */
import { readFile } from 'node:fs/promises';
import { NetworkError } from '../network/errors.js';
import type { NetworkSetups } from '../network/setup.js';
import { applyKsm } from '../virt/host/ksm.js';
import { HelperError, type HelperHandlers } from './server.js';

/** Only root may read it; the engine shows it as the host's serial number. */
const DMI_SERIAL = '/sys/class/dmi/id/product_serial';

/** A network error keeps its vdsm code on the way to the daemon. */
async function asHelperError<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof NetworkError) throw new HelperError(err.code, err.message);
    throw err;
  }
}

export function helperHandlers(setups: NetworkSetups, ksmDir?: string): HelperHandlers {
  return {
    'network.setup': (args) => asHelperError(() => setups.setup(args)),
    'network.confirm': () => {
      setups.confirm();
      return true;
    },
    'network.setSafe': () => asHelperError(() => setups.setSafe()),
    'ksm.configure': async (args) => {
      await applyKsm(args, ksmDir);
      return true;
    },
    'host.serial': async () => (await readFile(DMI_SERIAL, 'utf8').catch(() => '')).trim(),
  };
}
