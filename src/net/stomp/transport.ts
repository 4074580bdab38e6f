/**
 * What a STOMP connection runs over: bytes in, frames out, a backpressure signal and a close.
 * A TCP/TLS socket is one (frames joined into one write); a WebSocket is another (one frame per
 * message, see net/http/ws-stomp.ts). The connection knows only this interface.
 */
import type { Socket } from 'node:net';

export interface TransportListener {
  data(chunk: Buffer): void;
  /** The peer went away or the transport was destroyed; called once. */
  close(): void;
  error(err: Error): void;
}

export interface StompTransport {
  /** Starts delivering inbound bytes and the close; `head` holds bytes already read. */
  listen(listener: TransportListener): void;
  /** Frames queued within one turn, in order. */
  send(frames: readonly (Buffer | string)[]): void;
  /** Bytes handed to the transport and not yet taken by the peer. */
  readonly queuedBytes: number;
  pauseReading(): void;
  resumeReading(): void;
  /** Closes once what is queued went out. */
  end(): void;
  /** Closes at once. */
  destroy(): void;
  readonly destroyed: boolean;
}

const JOIN_LIMIT = 64 * 1024;

/** A byte stream: frames of one turn leave in a single write. */
export class SocketTransport implements StompTransport {
  constructor(private readonly socket: Socket) {}

  listen(listener: TransportListener): void {
    this.socket.on('data', (chunk: Buffer) => listener.data(chunk));
    this.socket.on('close', () => listener.close());
    this.socket.on('error', (err) => listener.error(err));
  }

  send(frames: readonly (Buffer | string)[]): void {
    if (frames.length === 1) {
      this.socket.write(frames[0]!);
      return;
    }
    // Small frames (the replies to one read) leave joined, in one write. Past JOIN_LIMIT they are
    // handed over corked, each as it is: a join would copy a large answer once more.
    let size = 0;
    for (const frame of frames) size += frame.length;
    if (size > JOIN_LIMIT) {
      this.socket.cork();
      for (const frame of frames) this.socket.write(frame);
      this.socket.uncork();
    } else if (frames.every((x) => typeof x === 'string')) this.socket.write(frames.join(''));
    else this.socket.write(Buffer.concat(frames.map((x) => (typeof x === 'string' ? Buffer.from(x, 'utf8') : x))));
  }

  get queuedBytes(): number {
    return this.socket.writableLength;
  }

  pauseReading(): void {
    this.socket.pause();
  }

  resumeReading(): void {
    this.socket.resume();
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  get destroyed(): boolean {
    return this.socket.destroyed;
  }
}
