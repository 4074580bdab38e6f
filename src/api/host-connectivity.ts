/**
 * Host.ping2 and Host.confirmConnectivity (vdsm 4.2): the engine's liveness probe and its
 * confirmation after a network change. Both answer `true`.
 */
import { MethodRegistry, type Handlers } from './method-registry.js';

export const connectivityHandlers: Handlers = {
  'Host.ping2': () => true,
  // The daemon's method table replaces it with the network part's, which also confirms a setup.
  'Host.confirmConnectivity': () => true,
};

/** A registry holding just these two: enough for the engine to be driven end to end. */
export function connectivityTable(): MethodRegistry {
  return new MethodRegistry().serve(connectivityHandlers);
}
