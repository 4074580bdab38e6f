/**
 * Incremental STOMP frame decoder over Buffers.
 *
 *   COMMAND LF (name ":" value LF)* LF body NUL
 *
 * Lines end with LF, a CR before it is dropped. Blank lines where a command is expected are
 * heart-beats or padding and are skipped. A body is `content-length` bytes followed by a NUL
 * that must be there, or without that header everything up to the first NUL. Frame size, header
 * count and line length are limited (vdsm has no limits: one client could exhaust its memory).
 *
 * A head (command and headers) is scanned for its blank line as bytes arrive, each byte once, and
 * decoded in one piece when complete: one string per head rather than one per line. Bytes that do
 * not complete what the parser waits for are kept aside and joined only when the awaited LF, NUL
 * or byte count arrives, so a frame fed a byte at a time costs no more than one fed whole.
 */
import { unescapeHeader } from './escape.js';
import { FrameError, type Frame, type FrameLimits } from './frame.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

export class FrameParser {
  private tail: Buffer[] = [];
  private tailLen = 0;

  // The head being scanned, in offsets from its first byte (kept bytes start there).
  private scanned = 0;
  private headerCount = 0;

  // The frame whose body is being read.
  private command = '';
  private headers = new Map<string, string>();
  private headBytes = 0;
  private inBody = false;
  private contentLength = -1;

  private paused = false;
  private halted = false;

  constructor(
    private readonly limits: FrameLimits,
    private readonly onFrame: (frame: Frame) => void,
  ) {}

  /** Feeds bytes; calls onFrame for each complete frame. Throws FrameError on a bad frame. */
  push(chunk: Buffer): void {
    if (this.halted || chunk.length === 0) return;
    if (this.tailLen === 0 && !this.paused) {
      this.run(chunk);
      return;
    }
    this.tail.push(chunk);
    this.tailLen += chunk.length;
    if (this.paused || !this.completes(chunk)) {
      this.checkPending();
      return;
    }
    this.run(this.takeTail());
  }

  /** Stops delivering frames after the current one; bytes are kept until resume(). */
  pause(): void {
    this.paused = true;
  }

  resume(): void {
    if (!this.paused || this.halted) return;
    this.paused = false;
    if (this.tailLen > 0) this.run(this.takeTail());
  }

  get isPaused(): boolean {
    return this.paused;
  }

  /** Drops everything; later pushes are ignored (the connection is closing). */
  halt(): void {
    this.halted = true;
    this.tail = [];
    this.tailLen = 0;
  }

  /** Bytes received but not yet part of a delivered frame. */
  get pendingBytes(): number {
    return this.tailLen;
  }

  private takeTail(): Buffer {
    const buf = this.tail.length === 1 ? this.tail[0]! : Buffer.concat(this.tail, this.tailLen);
    this.tail = [];
    this.tailLen = 0;
    return buf;
  }

  /** Whether the new chunk brings what the kept bytes wait for. */
  private completes(chunk: Buffer): boolean {
    if (!this.inBody) return chunk.indexOf(LF) !== -1;
    if (this.contentLength >= 0) return this.tailLen > this.contentLength;
    return chunk.indexOf(NUL) !== -1;
  }

  /** Limits on bytes kept while waiting, so a peer cannot make us buffer without bound. */
  private checkPending(): void {
    const { maxFrameSize, maxHeaderLine } = this.limits;
    if (!this.inBody) {
      // The kept bytes are the head so far; past `scanned` is the line still arriving (+1: it may end in CR LF).
      if (this.tailLen - this.scanned > maxHeaderLine + 1) throw new FrameError(`header line longer than ${maxHeaderLine} bytes`, 'limit');
      if (this.tailLen > maxFrameSize) throw tooLarge(maxFrameSize);
    } else if (this.contentLength < 0 && this.headBytes + this.tailLen > maxFrameSize) {
      throw tooLarge(maxFrameSize);
    }
  }

  private run(buf: Buffer): void {
    let pos = 0;
    const end = buf.length;
    while (pos < end && !this.paused && !this.halted) {
      const next = this.inBody ? this.body(buf, pos) : this.head(buf, pos);
      if (next === -1) break;
      pos = next;
    }
    if (this.halted) return;
    if (pos < end) {
      const rest = pos === 0 ? buf : buf.subarray(pos);
      this.tail = [rest];
      this.tailLen = rest.length;
      if (!this.paused) this.checkPending();
    }
  }

  /**
   * The head starting at `start`: scans the lines not scanned yet and, once the blank line is
   * there, decodes it and starts the body. Returns the position after what it took, or -1 when the
   * head is incomplete (its bytes are kept from `start`).
   */
  private head(buf: Buffer, start: number): number {
    const { maxHeaderLine, maxHeaders, maxFrameSize } = this.limits;
    let lineStart = start + this.scanned;
    for (;;) {
      const nl = buf.indexOf(LF, lineStart);
      if (nl === -1) {
        this.scanned = lineStart - start;
        return -1;
      }
      const lineEnd = nl > lineStart && buf[nl - 1] === CR ? nl - 1 : nl;
      if (lineEnd - lineStart > maxHeaderLine) throw new FrameError(`header line longer than ${maxHeaderLine} bytes`, 'limit');
      if (nl + 1 - start > maxFrameSize) throw tooLarge(maxFrameSize);
      if (lineEnd === lineStart) {
        // Before a command: a heart-beat or padding between frames. After one: the end of the head.
        if (lineStart === start) return nl + 1;
        this.scanned = 0;
        this.headerCount = 0;
        this.headBytes = nl + 1 - start;
        this.decodeHead(buf.toString('utf8', start, lineStart));
        return nl + 1;
      }
      if (lineStart > start && ++this.headerCount > maxHeaders) throw new FrameError(`more than ${maxHeaders} headers`, 'limit');
      lineStart = nl + 1;
    }
  }

  /** Command and headers from the head's text (its lines, each ending in LF or CR LF). */
  private decodeHead(text: string): void {
    let nl = text.indexOf('\n');
    this.command = text.slice(0, lineEnd(text, 0, nl));
    for (let at = nl + 1; at < text.length; at = nl + 1) {
      nl = text.indexOf('\n', at);
      const end = lineEnd(text, at, nl);
      const colon = text.indexOf(':', at);
      if (colon === -1 || colon > end) throw new FrameError('header line without a colon', 'syntax');
      const raw = text.indexOf(':', colon + 1);
      if (raw !== -1 && raw < end) throw new FrameError('raw colon in a header value', 'syntax');
      const name = unescapeHeader(text.slice(at, colon));
      if (!this.headers.has(name)) this.headers.set(name, unescapeHeader(text.slice(colon + 1, end)));
    }
    this.inBody = true;
    const cl = this.headers.get('content-length');
    if (cl === undefined) return;
    this.contentLength = parseLength(cl);
    if (this.headBytes + this.contentLength + 1 > this.limits.maxFrameSize) throw tooLarge(this.limits.maxFrameSize);
  }

  /** The body starting at `pos`; returns the position after its NUL, or -1 if incomplete. */
  private body(buf: Buffer, pos: number): number {
    let bodyEnd: number;
    if (this.contentLength >= 0) {
      bodyEnd = pos + this.contentLength;
      if (bodyEnd >= buf.length) return -1;
      if (buf[bodyEnd] !== NUL) throw new FrameError("Frame doesn't end with NULL byte", 'syntax');
    } else {
      bodyEnd = buf.indexOf(NUL, pos);
      if (bodyEnd === -1) return -1;
      if (this.headBytes + bodyEnd - pos + 1 > this.limits.maxFrameSize) throw tooLarge(this.limits.maxFrameSize);
    }
    const frame: Frame = { command: this.command, headers: this.headers, body: buf.subarray(pos, bodyEnd) };
    this.headers = new Map();
    this.headBytes = 0;
    this.inBody = false;
    this.contentLength = -1;
    this.onFrame(frame);
    return bodyEnd + 1;
  }
}

/** Where the line from `at` to the LF at `nl` ends without its CR. */
function lineEnd(text: string, at: number, nl: number): number {
  return nl > at && text.charCodeAt(nl - 1) === CR ? nl - 1 : nl;
}

/** Decimal digits only (no sign, space or exponent), at most 15 of them. */
function parseLength(text: string): number {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9 || i >= 15) throw new FrameError(`invalid content-length: ${JSON.stringify(text)}`, 'syntax');
    n = n * 10 + d;
  }
  if (text.length === 0) throw new FrameError('invalid content-length: ""', 'syntax');
  return n;
}

function tooLarge(max: number): FrameError {
  return new FrameError(`frame larger than ${max} bytes`, 'limit');
}
