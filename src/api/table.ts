/** The whole method table: vdsm's verbs over one ApiContext, each bound to its declaration. */
import type { ApiContext } from './context.js';
import { guestHandlers } from './guest.js';
import { connectivityHandlers } from './host-connectivity.js';
import { hostHandlers } from './host.js';
import { MethodRegistry } from './method-registry.js';
import { migrationHandlers } from './migration.js';
import { networkHandlers } from './network.js';
import { vmHandlers } from './vm.js';

export function buildMethodTable(ctx: ApiContext): MethodRegistry {
  // The network part's confirmations replace the bare ones of connectivityHandlers.
  const table = new MethodRegistry().serve({ ...connectivityHandlers, ...networkHandlers(ctx.helper, () => ctx.capabilities.changed(ctx.rpc)) }).serve(hostHandlers(ctx)).serve(vmHandlers(ctx)).serve(migrationHandlers(ctx));
  return ctx.guests ? table.serve(guestHandlers(ctx, ctx.guests)) : table;
}
