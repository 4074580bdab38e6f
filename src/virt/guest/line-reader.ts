/**
 * Newline framing for a byte stream from an untrusted peer. Lines are decoded as UTF-8 with
 * replacement (one U+FFFD per invalid maximal subpart, as Python's 'replace'). A line longer than
 * `maxLine` bytes is dropped whole: once the unterminated part reaches the cap, its bytes are
 * discarded as they arrive and the next newline ends the dropped line, so memory stays bounded by
 * the cap plus one read, whatever the peer sends. (vdsm can let a line slightly over 1 MiB through
 * when its newline comes in the same read; the cap here holds for every line.)
 */

/** vdsm's MAX_MESSAGE_SIZE. */
export const MAX_LINE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

export interface LineSink {
  line(text: string): void;
  /** A line over the cap was dropped; `bytes` is how much of it was seen (at least the cap). */
  tooLong(bytes: number): void;
}

export class LineReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Bytes of the over-long line being skipped, or -1 when reading normally. */
  private skipping = -1;

  constructor(
    private readonly sink: LineSink,
    private readonly maxLine = MAX_LINE_BYTES,
  ) {}

  /** Bytes held for an unterminated line. */
  get buffered(): number {
    return this.pendingBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(NEWLINE, start);
      if (nl === -1) break;
      this.endLine(chunk, start, nl);
      start = nl + 1;
    }
    if (start < chunk.length) this.keep(chunk, start);
  }

  /** Forgets any partial line (a new connection starts clean). */
  reset(): void {
    this.pending = [];
    this.pendingBytes = 0;
    this.skipping = -1;
  }

  private endLine(chunk: Buffer, start: number, end: number): void {
    const size = this.pendingBytes + (end - start);
    if (this.skipping >= 0 || size > this.maxLine) {
      const seen = this.skipping >= 0 ? this.skipping + (end - start) : size;
      this.reset();
      this.sink.tooLong(seen);
      return;
    }
    let text: string;
    if (this.pendingBytes === 0) {
      text = chunk.toString('utf8', start, end);
    } else {
      this.pending.push(chunk.subarray(start, end));
      text = Buffer.concat(this.pending, size).toString('utf8');
      this.pending = [];
      this.pendingBytes = 0;
    }
    this.sink.line(text);
  }

  private keep(chunk: Buffer, start: number): void {
    const tail = chunk.length - start;
    if (this.skipping >= 0) {
      this.skipping += tail;
      return;
    }
    if (this.pendingBytes + tail > this.maxLine) {
      // Over the cap without a newline: drop what we hold and skip to the next newline.
      this.skipping = this.pendingBytes + tail;
      this.pending = [];
      this.pendingBytes = 0;
      return;
    }
    // Copy: the socket's chunk may be a slice of a larger pooled buffer we must not pin.
    this.pending.push(Buffer.from(chunk.subarray(start)));
    this.pendingBytes += tail;
  }
}
