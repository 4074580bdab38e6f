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
    if (this.child === undefined) {
      const method = clip(this.method);
      this.child = this.base.child(this.flowId === undefined ? { method } : { method, flowId: clip(this.flowId) });
    }
    return this.child;
  }
}

/** Longest method name or flow id put in a log line: both come from the client, which could
 * otherwise make every line of its calls as long as a frame. */
const MAX_LOGGED = 128;

export function clip(text: string): string {
  return text.length <= MAX_LOGGED ? text : `${text.slice(0, MAX_LOGGED)}… (${text.length} characters)`;
}
