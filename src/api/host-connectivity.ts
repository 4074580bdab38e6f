/**
 * Host.ping2 and Host.confirmConnectivity (vdsm 4.2): the engine's liveness probe and its
 * confirmation after a network change. Both answer `true`.
 */
import type { Method } from '../rpc/method-table.js';
import { MethodRegistry } from './method-registry.js';

export const hostConnectivityMethods: readonly Method[] = [
  { name: 'Host.ping2', params: [], handler: () => true },
  // vdsm uses the call to confirm a setupNetworks change before its rollback timer fires; the
  // network part hooks in here when it exists.
  { name: 'Host.confirmConnectivity', params: [], handler: () => true },
];

/** A registry holding just these two: enough for the engine to be driven end to end. */
export function connectivityTable(): MethodRegistry {
  return new MethodRegistry().register(...hostConnectivityMethods);
}
