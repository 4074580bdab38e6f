/**
 * Serves requests taken from the broker: each MESSAGE on one of our subscriptions goes through the
 * JSON-RPC engine, and its reply is SENT to the message's `reply-to` (RabbitMQ rewrites a
 * `/temp-queue/x` into `/reply-queue/amq.gen-…`, which any connection can send to).
 *
 * At most once. Subscriptions use `ack:client-individual` with `prefetch-count` = max in flight, so
 * the broker hands us no more than that many unanswered requests (flow control that `ack:auto`
 * cannot give: there the broker pushes as fast as TCP takes it). A request is ACKed once its reply
 * is written. If a session dies first, the broker requeues what we did not ACK and delivers it
 * again with `redelivered:true`; we cannot know whether an earlier session (or an earlier process)
 * already executed it, and verbs such as VM.create must not run twice, so a redelivered request is
 * ACKed and dropped unanswered: the engine times out, as it would with a lost reply.
 * A reply whose request came on a session that has since ended still goes out on the current one.
 */
import type { Logger } from '../../log.js';
import type { EncodedReply, RequestContext } from '../../rpc/engine.js';
import type { Frame } from '../stomp/frame.js';
import type { BrokerSession } from './session.js';

export interface RpcEngine {
  handle(body: string, ctx: RequestContext): EncodedReply | undefined | Promise<EncodedReply | undefined>;
}

export interface ResponderCounts {
  served: number;
  /** Redelivered requests dropped unanswered (at most once). */
  redeliveredDropped: number;
  /** Requests without reply-to, or whose reply found no session to go out on. */
  repliesDropped: number;
}

export class Responder {
  readonly counts: ResponderCounts = { served: 0, redeliveredDropped: 0, repliesDropped: 0 };

  constructor(
    private readonly engine: RpcEngine,
    /** The session replies go out on now (undefined while reconnecting). */
    private readonly current: () => BrokerSession | undefined,
    private readonly log: Logger,
  ) {}

  /** A MESSAGE from one of our request subscriptions, received on `session`. */
  serve(frame: Frame, session: BrokerSession): void {
    const ackId = frame.headers.get('ack');
    const replyTo = frame.headers.get('reply-to');
    if (frame.headers.get('redelivered') === 'true') {
      this.counts.redeliveredDropped++;
      this.log.warn({ replyTo, messageId: frame.headers.get('message-id') }, 'redelivered request dropped: it may have been served already');
      ack(session, ackId);
      return;
    }
    const flowId = frame.headers.get('ovirtCorrelationId');
    const ctx: RequestContext = { flowId, peer: replyTo === undefined ? 'broker' : `broker:${replyTo}` };
    let reply: EncodedReply | undefined | Promise<EncodedReply | undefined>;
    try {
      reply = this.engine.handle(frame.body.toString('utf8'), ctx);
    } catch (err) {
      // The engine answers errors itself; a throw is a bug, not the request's fault.
      this.log.error({ err, replyTo }, 'engine failed on a broker request');
      ack(session, ackId);
      return;
    }
    if (reply instanceof Promise) {
      reply.then(
        (r) => this.answer(r, replyTo, flowId, session, ackId),
        (err: unknown) => {
          this.log.error({ err, replyTo }, 'engine failed on a broker request');
          ack(session, ackId);
        },
      );
    } else {
      this.answer(reply, replyTo, flowId, session, ackId);
    }
  }

  private answer(reply: EncodedReply | undefined, replyTo: string | undefined, flowId: string | undefined, from: BrokerSession, ackId: string | undefined): void {
    this.counts.served++;
    if (reply !== undefined) {
      const out = from.isOpen ? from : this.current();
      const headers: [string, string][] = [['content-type', 'application/json']];
      if (flowId !== undefined) headers.push(['ovirtCorrelationId', flowId]);
      if (replyTo === undefined || out === undefined || !out.send('SEND', [['destination', replyTo], ...headers], reply.json)) {
        this.counts.repliesDropped++;
        this.log.debug({ replyTo, flowId }, 'reply dropped: no reply-to or no broker session');
      }
    }
    ack(from, ackId);
  }
}

/** ACK on the session the message came on; a dead session's messages are the broker's again. */
function ack(session: BrokerSession, ackId: string | undefined): void {
  if (ackId !== undefined) session.send('ACK', [['id', ackId]]);
}
