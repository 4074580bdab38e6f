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
import type { EncodedReply } from '../../rpc/engine.js';
import { serve, type Replier, type RpcEngine, type ServedRequest } from '../../rpc/serve.js';
import type { Frame } from '../stomp/frame.js';
import type { BrokerSession } from './session.js';

/** A request taken from the broker: its reply is SENT to reply-to, then the message ACKed. */
interface BrokerRequest extends ServedRequest {
  readonly replyTo: string | undefined;
  /** The session the message came on, where it is ACKed. */
  readonly session: BrokerSession;
  readonly ackId: string | undefined;
}

export interface ResponderCounts {
  served: number;
  /** Redelivered requests dropped unanswered (at most once). */
  redeliveredDropped: number;
  /** Requests without reply-to, or whose reply found no session to go out on. */
  repliesDropped: number;
}

export class Responder implements Replier<BrokerRequest> {
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
    const request: BrokerRequest = {
      flowId: frame.headers.get('ovirtCorrelationId'),
      peer: replyTo === undefined ? 'broker' : `broker:${replyTo}`,
      replyTo,
      session,
      ackId,
    };
    serve(this.engine, frame.body.toString('utf8'), request, this, this.log);
  }

  /** Replier: the reply goes out on the message's session if it is still open, else on the current one. */
  replied(reply: EncodedReply | undefined, { replyTo, flowId, session, ackId }: BrokerRequest): void {
    this.counts.served++;
    if (reply !== undefined) {
      const out = session.isOpen ? session : this.current();
      const headers: [string, string][] = [['content-type', 'application/json']];
      if (flowId !== undefined) headers.push(['ovirtCorrelationId', flowId]);
      if (replyTo === undefined || out === undefined || !out.send('SEND', [['destination', replyTo], ...headers], reply.json)) {
        this.counts.repliesDropped++;
        this.log.debug({ replyTo, flowId }, 'reply dropped: no reply-to or no broker session');
      }
    }
    ack(session, ackId);
  }
}

/** ACK on the session the message came on; a dead session's messages are the broker's again. */
function ack(session: BrokerSession, ackId: string | undefined): void {
  if (ackId !== undefined) session.send('ACK', [['id', ackId]]);
}
