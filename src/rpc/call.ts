/** A handler's view of the call it serves; its logger is made only when something is logged. */
import type { Logger } from '../log.js';
import type { CallContext } from './method-table.js';

export class Call implements CallContext {
  private child: Logger | undefined;
  readonly flowId: string | undefined;
  readonly peer: string | undefined;

  constructor(
    readonly method: string,
    ctx: { flowId?: string | undefined; peer?: string | undefined },
    private readonly base: Logger,
  ) {
    this.flowId = ctx.flowId;
    this.peer = ctx.peer;
  }

  get log(): Logger {
    this.child ??= this.base.child(this.flowId === undefined ? { method: this.method } : { method: this.method, flowId: this.flowId });
    return this.child;
  }
}
