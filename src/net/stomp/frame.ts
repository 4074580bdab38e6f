/** A STOMP frame as parsed or to be encoded, and the protocol error that ends a connection. */

export interface Frame {
  readonly command: string;
  /** Decoded names and values in wire order; a repeated header keeps its first value (STOMP 1.2, vdsm). */
  readonly headers: Map<string, string>;
  readonly body: Buffer;
}

export interface FrameLimits {
  /** Largest frame (command, headers and body), in bytes. */
  readonly maxFrameSize: number;
  readonly maxHeaders: number;
  /** Longest command or header line, in bytes, without its line ending. */
  readonly maxHeaderLine: number;
}

/** A frame the peer should not have sent; the connection answers with ERROR and closes. */
export class FrameError extends Error {
  override name = 'FrameError';
  constructor(
    message: string,
    readonly kind: 'syntax' | 'limit',
  ) {
    super(message);
  }
}
