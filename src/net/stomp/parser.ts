/**
 * Incremental STOMP frame decoder over Buffers (reference §2.2).
 *
 *   COMMAND LF (name ":" value LF)* LF body NUL
 *
 * Lines end with LF, a CR before it is dropped. Blank lines where a command is expected are
 * heart-beats or padding and are skipped. A body is `content-length` bytes followed by a NUL
 * that must be there, or without that header everything up to the first NUL. Frame size, header
 * count and line length are limited (vdsm has no limits: one client could exhaust its memory).
 *
 * Each line and each body is looked at once: bytes that do not complete what the parser waits for
 * are kept aside and joined only when the awaited LF, NUL or byte count arrives, so a frame fed a
 * byte at a time costs no more than one fed whole.
 */
import { unescapeHeader } from './escape.js';
import { FrameError, type Frame, type FrameLimits } from './frame.js';

const LF = 0x0a;
const CR = 0x0d;
const NUL = 0x00;

export class FrameParser {
  private tail: Buffer[] = [];
  private tailLen = 0;

  // The frame being read.
  private command: string | undefined;
  private headers = new Map<string, string>();
  private headerCount = 0;
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
      // +1: the line may still end in CR LF.
      if (this.tailLen > maxHeaderLine + 1) throw new FrameError(`header line longer than ${maxHeaderLine} bytes`, 'limit');
      if (this.headBytes + this.tailLen > maxFrameSize) throw tooLarge(maxFrameSize);
    } else if (this.contentLength < 0 && this.headBytes + this.tailLen > maxFrameSize) {
      throw tooLarge(maxFrameSize);
    }
  }

  private run(buf: Buffer): void {
    let pos = 0;
    const end = buf.length;
    while (pos < end && !this.paused && !this.halted) {
      if (!this.inBody) {
        const nl = buf.indexOf(LF, pos);
        if (nl === -1) break;
        pos = this.line(buf, pos, nl);
      } else {
        const next = this.body(buf, pos);
        if (next === -1) break;
        pos = next;
      }
    }
    if (this.halted) return;
    if (pos < end) {
      const rest = pos === 0 ? buf : buf.subarray(pos);
      this.tail = [rest];
      this.tailLen = rest.length;
      if (!this.paused) this.checkPending();
    }
  }

  /** One command or header line ending at `nl`; returns the position after it. */
  private line(buf: Buffer, pos: number, nl: number): number {
    const end = nl > pos && buf[nl - 1] === CR ? nl - 1 : nl;
    if (end - pos > this.limits.maxHeaderLine) {
      throw new FrameError(`header line longer than ${this.limits.maxHeaderLine} bytes`, 'limit');
    }
    if (this.command === undefined) {
      if (end === pos) return nl + 1; // heart-beat or padding between frames
      this.command = buf.toString('latin1', pos, end);
      this.headBytes = nl + 1 - pos;
      return nl + 1;
    }
    this.headBytes += nl + 1 - pos;
    if (this.headBytes > this.limits.maxFrameSize) throw tooLarge(this.limits.maxFrameSize);
    if (end === pos) {
      this.startBody();
      return nl + 1;
    }
    if (++this.headerCount > this.limits.maxHeaders) {
      throw new FrameError(`more than ${this.limits.maxHeaders} headers`, 'limit');
    }
    const text = buf.toString('utf8', pos, end);
    const colon = text.indexOf(':');
    if (colon === -1) throw new FrameError('header line without a colon', 'syntax');
    if (text.indexOf(':', colon + 1) !== -1) throw new FrameError('raw colon in a header value', 'syntax');
    const name = unescapeHeader(text.slice(0, colon));
    if (!this.headers.has(name)) this.headers.set(name, unescapeHeader(text.slice(colon + 1)));
    return nl + 1;
  }

  private startBody(): void {
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
    const frame: Frame = { command: this.command!, headers: this.headers, body: buf.subarray(pos, bodyEnd) };
    this.command = undefined;
    this.headers = new Map();
    this.headerCount = 0;
    this.headBytes = 0;
    this.inBody = false;
    this.contentLength = -1;
    this.onFrame(frame);
    return bodyEnd + 1;
  }
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
