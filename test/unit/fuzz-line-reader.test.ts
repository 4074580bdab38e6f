/**
 * Property-based fuzzing of the guest-agent line reader: for any bytes cut anywhere,
 * the lines that come out are exactly a reference split of the stream (lines within the cap
 * decoded as UTF-8 with replacement, longer ones reported as too long with at least the cap's
 * size), and the bytes held never exceed the cap.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LineReader } from '../../src/virt/guest/line-reader.js';

type Event = { line: string } | { tooLong: number };

function read(input: Buffer, cuts: number[], max: number): { events: Event[]; maxBuffered: number; buffered: number } {
  const events: Event[] = [];
  const reader = new LineReader({ line: (line) => events.push({ line }), tooLong: (n) => events.push({ tooLong: n }) }, max);
  const points = [...new Set(cuts.map((c) => c % (input.length + 1))), input.length].sort((a, b) => a - b);
  let at = 0;
  let maxBuffered = 0;
  for (const p of points) {
    if (p <= at) continue;
    reader.push(input.subarray(at, p));
    at = p;
    maxBuffered = Math.max(maxBuffered, reader.buffered);
  }
  return { events, maxBuffered, buffered: reader.buffered };
}

/** The reference: split on LF; the unterminated rest is not a line yet. */
function reference(input: Buffer, max: number): { events: Event[]; rest: number } {
  const events: Event[] = [];
  let start = 0;
  for (let nl = input.indexOf(0x0a); nl !== -1; nl = input.indexOf(0x0a, start)) {
    const len = nl - start;
    events.push(len > max ? { tooLong: len } : { line: input.toString('utf8', start, nl) });
    start = nl + 1;
  }
  const rest = input.length - start;
  return { events, rest: rest > max ? 0 : rest };
}

/** Bytes rich in what matters: newlines, CR, multi-byte and invalid UTF-8. */
const byte = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
  { weight: 2, arbitrary: fc.constant(0x0a) },
  fc.constantFrom(0x0d, 0x00, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0xff, 0xfe, 0xc0, 0xed, 0xa0),
);
const cuts = fc.array(fc.nat(), { maxLength: 30 });

describe('guest-agent line reader fuzzing', () => {
  it('matches a reference split for any bytes, any chunking, any cap', () => {
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 400 }).map((b) => Buffer.from(b)), cuts, fc.integer({ min: 1, max: 64 }), (input, cutAt, max) => {
        const got = read(input, cutAt, max);
        const want = reference(input, max);
        expect(got.events.length).toBe(want.events.length);
        got.events.forEach((e, i) => {
          const w = want.events[i]!;
          if ('line' in w) expect(e).toEqual(w);
          else {
            // A dropped line is reported with at least the cap, at most its real length.
            expect('tooLong' in e).toBe(true);
            const n = (e as { tooLong: number }).tooLong;
            expect(n).toBeGreaterThan(max);
            expect(n).toBeLessThanOrEqual(w.tooLong);
          }
        });
        expect(got.maxBuffered).toBeLessThanOrEqual(max);
        expect(got.buffered).toBe(want.rest);
      }),
      { seed: 0x11e, numRuns: 600 },
    );
  });

  it('whatever the peer sends, held bytes stay under the cap', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 3000 }), { maxLength: 10 }), (chunks) => {
        const reader = new LineReader({ line: () => undefined, tooLong: () => undefined }, 1024);
        for (const c of chunks) {
          reader.push(Buffer.from(c));
          expect(reader.buffered).toBeLessThanOrEqual(1024);
        }
      }),
      { seed: 0x11f, numRuns: 200 },
    );
  });

  it('a 4 MiB line without a newline, a byte at a time, is dropped in linear time and memory', () => {
    let dropped = -1;
    const lines: string[] = [];
    const reader = new LineReader({ line: (l) => lines.push(l), tooLong: (n) => (dropped = n) });
    const one = Buffer.from('x');
    const t0 = performance.now();
    for (let i = 0; i < 4 * 1024 * 1024; i++) {
      reader.push(one);
      if (reader.buffered > 1024 * 1024) throw new Error(`held ${reader.buffered} bytes`);
    }
    reader.push(Buffer.from('\n{"__name__":"heartbeat"}\n'));
    expect(performance.now() - t0).toBeLessThan(15_000);
    expect(dropped).toBe(4 * 1024 * 1024);
    expect(lines).toEqual(['{"__name__":"heartbeat"}']);
  });
});
