/** The whole method table: vdsm's verbs over one ApiContext, each bound to its declaration. */
import type { ApiContext } from './context.js';
import { guestHandlers } from './guest.js';
import { connectivityHandlers } from './host-connectivity.js';
import { hostHandlers } from './host.js';
import { MethodRegistry } from './method-registry.js';
import { migrationHandlers } from './migration.js';
import { vmHandlers } from './vm.js';

export function buildMethodTable(ctx: ApiContext): MethodRegistry {
  const table = new MethodRegistry().serve(connectivityHandlers).serve(hostHandlers(ctx)).serve(vmHandlers(ctx)).serve(migrationHandlers(ctx));
  return ctx.guests ? table.serve(guestHandlers(ctx, ctx.guests)) : table;
}
