/**
 * Property-based fuzzing of the STOMP frame codec. Random, mutated and re-chunked
 * inputs never make the parser throw anything but a FrameError, never make it hold more than a
 * frame's worth of bytes, never deliver a frame over the limits, and never cost more than linear
 * time. Valid frames survive encode → parse whatever the chunking. Fixed seeds, bounded runs.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeFrame } from '../../src/net/stomp/encoder.js';
import { FrameError, type Frame, type FrameLimits } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';

const LIMITS: FrameLimits = { maxFrameSize: 4096, maxHeaders: 8, maxHeaderLine: 256 };

interface Outcome {
  frames: { command: string; headers: [string, string][]; body: string }[];
  error: FrameError | undefined;
  maxPending: number;
}

/** Feeds `input` cut at `cuts` (offsets); records frames, the first error and the most bytes held. */
function feed(input: Buffer, cuts: number[] = [], limits = LIMITS): Outcome {
  const out: Outcome = { frames: [], error: undefined, maxPending: 0 };
  const parser = new FrameParser(limits, (f: Frame) => {
    out.frames.push({ command: f.command, headers: [...f.headers], body: f.body.toString('latin1') });
  });
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((a, b) => a - b);
  let at = 0;
  try {
    for (const p of [...points, input.length]) {
      if (p <= at) continue;
      parser.push(input.subarray(at, p));
      at = p;
      out.maxPending = Math.max(out.maxPending, parser.pendingBytes);
    }
  } catch (err) {
    if (!(err instanceof FrameError)) throw err; // anything else is a crash
    out.error = err;
  }
  return out;
}

/** What a peer may legitimately put in a header: anything, escaping makes it safe. */
const headerText = fc.string({ unit: 'grapheme', maxLength: 12 });
const command = fc.constantFrom('SEND', 'SUBSCRIBE', 'UNSUBSCRIBE', 'CONNECT', 'STOMP', 'DISCONNECT', 'ACK', 'X');
const frameArb = fc.record({
  command,
  headers: fc.uniqueArray(fc.tuple(headerText.filter((n) => n !== 'content-length' && n.length > 0), headerText), {
    maxLength: 6,
    selector: (h) => h[0],
  }),
  body: fc.uint8Array({ maxLength: 300 }),
  withLength: fc.boolean(),
});
type FrameSpec = typeof frameArb extends fc.Arbitrary<infer T> ? T : never;

function encode(spec: FrameSpec): Buffer {
  if (spec.withLength) return encodeFrame(spec.command, spec.headers, Buffer.from(spec.body));
  // Without content-length the body ends at the first NUL: keep NULs out of it.
  const body = Buffer.from(spec.body.map((b) => (b === 0 ? 1 : b)));
  const head = encodeFrame(spec.command, spec.headers);
  return Buffer.concat([head.subarray(0, head.length - 1), body, Buffer.from([0])]);
}

const cutsArb = fc.array(fc.nat(), { maxLength: 40 });

/** A mutation of a byte stream: flip, insert, delete, duplicate a slice, or truncate. */
const mutation = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: fc.nat(), byte: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ op: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }) }),
  fc.record({ op: fc.constant('special' as const), at: fc.nat(), byte: fc.constantFrom(0x00, 0x0a, 0x0d, 0x3a, 0x5c, 0xff) }),
  fc.record({ op: fc.constant('delete' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 16 }) }),
  fc.record({ op: fc.constant('dup' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 64 }), times: fc.integer({ min: 1, max: 200 }) }),
  fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function mutate(input: Buffer, muts: Mutation[]): Buffer {
  let b = input;
  for (const m of muts) {
    const at = b.length === 0 ? 0 : m.at % b.length;
    switch (m.op) {
      case 'flip':
      case 'special':
        if (b.length > 0) {
          b = Buffer.from(b);
          b[at] = m.byte;
        }
        break;
      case 'insert':
        b = Buffer.concat([b.subarray(0, at), Buffer.from(m.bytes), b.subarray(at)]);
        break;
      case 'delete':
        b = Buffer.concat([b.subarray(0, at), b.subarray(at + m.len)]);
        break;
      case 'dup': {
        const slice = b.subarray(at, at + m.len);
        b = Buffer.concat([b.subarray(0, at), ...Array<Buffer>(m.times).fill(slice), b.subarray(at)]);
        break;
      }
      case 'truncate':
        b = b.subarray(0, at);
        break;
    }
  }
  return b;
}

/** Invariants that hold for every input, valid or not. */
function checkBounded(o: Outcome, limits = LIMITS): void {
  // Held bytes never exceed a frame's worth (+1: a line may still end in CR LF; +1 for the NUL).
  expect(o.maxPending).toBeLessThanOrEqual(limits.maxFrameSize + 2);
  for (const f of o.frames) {
    expect(f.headers.length).toBeLessThanOrEqual(limits.maxHeaders);
    expect(Buffer.byteLength(f.command, 'latin1')).toBeLessThanOrEqual(limits.maxHeaderLine);
    expect(f.body.length).toBeLessThan(limits.maxFrameSize);
  }
  if (o.error) {
    expect(['syntax', 'limit']).toContain(o.error.kind);
    expect(o.error.message.length).toBeGreaterThan(0);
  }
}

describe('STOMP codec fuzzing', () => {
  it('round-trips valid frames under any chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 5 }), cutsArb, fc.boolean(), (specs, cuts, padding) => {
        const parts = specs.map(encode);
        // Heart-beats (LF, CR LF) between frames are allowed and skipped.
        const input = Buffer.concat(padding ? parts.flatMap((p) => [Buffer.from('\r\n\n'), p]) : parts);
        const o = feed(input, cuts);
        expect(o.error).toBeUndefined();
        expect(o.frames.map((f) => f.command)).toEqual(specs.map((s) => s.command));
        o.frames.forEach((f, i) => {
          const spec = specs[i]!;
          const expectHeaders = spec.withLength ? [...spec.headers, ['content-length', String(spec.body.length)]] : spec.headers;
          expect(f.headers).toEqual(expectHeaders);
          const body = spec.withLength ? Buffer.from(spec.body) : Buffer.from(spec.body.map((b) => (b === 0 ? 1 : b)));
          expect(Buffer.from(f.body, 'latin1').equals(body)).toBe(true);
        });
      }),
      { seed: 0x57011, numRuns: 300 },
    );
  });

  it('random bytes: only FrameError, bounded memory, bounded frames', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2048 }), cutsArb, (bytes, cuts) => {
        checkBounded(feed(Buffer.from(bytes), cuts));
      }),
      { seed: 0x57012, numRuns: 500 },
    );
  });

  it('random text built from the protocol alphabet: only FrameError, bounded', () => {
    const token = fc.constantFrom('SEND', 'CONNECT', '\n', '\r\n', '\0', ':', '\\', '\\c', '\\n', '\\x', 'content-length', ':5', ':-1', ':999999999999999999', 'a', 'destination:/q', 'é', '\u{1F600}');
    fc.assert(
      fc.property(fc.array(token, { maxLength: 200 }), cutsArb, (tokens, cuts) => {
        checkBounded(feed(Buffer.from(tokens.join(''), 'utf8'), cuts));
      }),
      { seed: 0x57013, numRuns: 500 },
    );
  });

  it('mutated valid streams: only FrameError, bounded, and chunking never changes the outcome', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 4 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), cutsArb, (specs, muts, cuts) => {
        const input = mutate(Buffer.concat(specs.map(encode)), muts);
        const whole = feed(input);
        const chunked = feed(input, cuts);
        checkBounded(whole);
        checkBounded(chunked);
        // The same frames come out however the bytes arrive; a bad stream is refused either way.
        expect(chunked.frames).toEqual(whole.frames);
        expect(chunked.error === undefined).toBe(whole.error === undefined);
        if (whole.error) expect(chunked.error!.kind).toBe(whole.error.kind);
      }),
      { seed: 0x57014, numRuns: 400 },
    );
  });

  it('refuses each kind of bad frame with its documented error', () => {
    const cases: [string, RegExp, 'syntax' | 'limit'][] = [
      [`SEND\n${'a'.repeat(300)}:b\n\n\0`, /header line longer than 256 bytes/, 'limit'],
      [`${'S'.repeat(300)}\n\n\0`, /header line longer than 256 bytes/, 'limit'],
      [`SEND\n${Array.from({ length: 9 }, (_, i) => `h${i}:v`).join('\n')}\n\n\0`, /more than 8 headers/, 'limit'],
      ['SEND\ncontent-length:5000\n\n', /frame larger than 4096 bytes/, 'limit'],
      [`SEND\n\n${'x'.repeat(5000)}`, /frame larger than 4096 bytes/, 'limit'],
      ['SEND\nnocolon\n\n\0', /header line without a colon/, 'syntax'],
      ['SEND\na:b:c\n\n\0', /raw colon in a header value/, 'syntax'],
      ['SEND\na:\\m\n\n\0', /invalid escape sequence/, 'syntax'],
      ['SEND\ncontent-length:-1\n\n\0', /invalid content-length/, 'syntax'],
      ['SEND\ncontent-length:1e3\n\n\0', /invalid content-length/, 'syntax'],
      ['SEND\ncontent-length:2\n\nabc\0', /doesn't end with NULL byte/, 'syntax'],
    ];
    for (const [text, message, kind] of cases) {
      for (const cuts of [[], Array.from({ length: text.length }, (_, i) => i)]) {
        const o = feed(Buffer.from(text, 'latin1'), cuts);
        expect(o.error, text.slice(0, 40)).toBeInstanceOf(FrameError);
        expect(o.error!.message).toMatch(message);
        expect(o.error!.kind).toBe(kind);
        expect(o.frames).toEqual([]);
      }
    }
  });

  it('costs linear time: a 1 MiB frame fed a byte at a time', () => {
    const limits: FrameLimits = { maxFrameSize: 2 * 1024 * 1024, maxHeaders: 8, maxHeaderLine: 256 };
    const body = Buffer.alloc(1024 * 1024, 0x61);
    for (const withLength of [false, true]) {
      const frame = encode({ command: 'SEND', headers: [['destination', '/q']], body, withLength });
      let frames = 0;
      const parser = new FrameParser(limits, () => frames++);
      const t0 = performance.now();
      for (let i = 0; i < frame.length; i++) parser.push(frame.subarray(i, i + 1));
      const ms = performance.now() - t0;
      expect(frames).toBe(1);
      expect(parser.pendingBytes).toBe(0);
      // Quadratic joining would take minutes; linear is well under a second, with room for a noisy machine.
      expect(ms).toBeLessThan(10_000);
    }
  });
});
