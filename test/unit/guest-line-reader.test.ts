import { describe, expect, it } from 'vitest';
import { LineReader, MAX_LINE_BYTES } from '../../src/virt/guest/line-reader.js';

function collect(max?: number): { reader: LineReader; lines: string[]; dropped: number[] } {
  const lines: string[] = [];
  const dropped: number[] = [];
  const reader = new LineReader({ line: (t) => lines.push(t), tooLong: (n) => dropped.push(n) }, max);
  return { reader, lines, dropped };
}

describe('LineReader', () => {
  it('splits lines across and within reads', () => {
    const { reader, lines } = collect();
    reader.push(Buffer.from('{"a":1}\n{"b"'));
    reader.push(Buffer.from(':2}\n\n{"c":3}'));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '']);
    reader.push(Buffer.from('\n'));
    expect(lines.at(-1)).toBe('{"c":3}');
    expect(reader.buffered).toBe(0);
  });

  it('decodes a character split between reads, and replaces invalid UTF-8', () => {
    const { reader, lines } = collect();
    const euro = Buffer.from('€\n');
    reader.push(euro.subarray(0, 1));
    reader.push(euro.subarray(1));
    reader.push(Buffer.from([0x61, 0xff, 0x62, 0xe2, 0x82, 0x0a]));
    expect(lines).toEqual(['€', 'a\uFFFDb\uFFFD']);
  });

  it('drops a 2 MiB line and keeps memory bounded, then reads on', () => {
    const { reader, lines, dropped } = collect();
    reader.push(Buffer.from('{"ok":1}\n'));
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let peak = 0;
    for (let i = 0; i < 32; i++) {
      reader.push(chunk);
      peak = Math.max(peak, reader.buffered);
    }
    expect(peak).toBeLessThanOrEqual(MAX_LINE_BYTES);
    reader.push(Buffer.from('aaa\n{"ok":2}\n'));
    expect(lines).toEqual(['{"ok":1}', '{"ok":2}']);
    expect(dropped).toHaveLength(1);
    expect(dropped[0]).toBeGreaterThanOrEqual(2 * 1024 * 1024);
  });

  it('drops an over-long line even when its newline comes in the same read', () => {
    const { reader, lines, dropped } = collect(100);
    reader.push(Buffer.from(`${'x'.repeat(150)}\nshort\n`));
    expect(lines).toEqual(['short']);
    expect(dropped).toEqual([150]);
  });

  it('vdsm testBigChunk: messages over the limit are dropped, the others applied, in 51-byte chunks', () => {
    const { reader, lines } = collect(100);
    const msgs = ['a'.repeat(10), 'b'.repeat(120), 'c'.repeat(99), 'd'.repeat(300), 'e'.repeat(5)];
    const all = Buffer.from(msgs.map((m) => `${m}\n`).join(''));
    for (let i = 0; i < all.length; i += 51) reader.push(all.subarray(i, i + 51));
    expect(lines).toEqual([msgs[0], msgs[2], msgs[4]]);
  });
});
