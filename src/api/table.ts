/** The whole method table: vdsm's verbs over one ApiContext. */
import type { ApiContext } from './context.js';
import { guestMethods } from './guest.js';
import { hostConnectivityMethods } from './host-connectivity.js';
import { hostMethods } from './host.js';
import { MethodRegistry } from './method-registry.js';
import { vmMethods } from './vm.js';

export function buildMethodTable(ctx: ApiContext): MethodRegistry {
  return new MethodRegistry().register(
    ...hostConnectivityMethods,
    ...hostMethods(ctx),
    ...vmMethods(ctx),
    ...(ctx.guests ? guestMethods(ctx, ctx.guests) : []),
  );
}
