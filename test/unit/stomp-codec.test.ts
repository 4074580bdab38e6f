import { describe, expect, it } from 'vitest';
import { encodeConnected, encodeError, encodeFrame, encodeMessage, encodeReceipt, HEARTBEAT, messagePrefix } from '../../src/net/stomp/encoder.js';
import { escapeHeader, unescapeHeader } from '../../src/net/stomp/escape.js';
import { FrameError, type Frame, type FrameLimits } from '../../src/net/stomp/frame.js';
import { FrameParser } from '../../src/net/stomp/parser.js';

const LIMITS: FrameLimits = { maxFrameSize: 1024 * 1024, maxHeaders: 64, maxHeaderLine: 8192 };

function parse(input: Buffer | string | (Buffer | string)[], limits = LIMITS): Frame[] {
  const frames: Frame[] = [];
  const parser = new FrameParser(limits, (f) => frames.push(f));
  for (const chunk of Array.isArray(input) ? input : [input]) parser.push(Buffer.from(chunk));
  return frames;
}

function bytewise(s: string | Buffer): Buffer[] {
  const b = Buffer.from(s);
  return [...b].map((x) => Buffer.from([x]));
}

const simple = (f: Frame) => ({ command: f.command, headers: Object.fromEntries(f.headers), body: f.body.toString('utf8') });

describe('header escaping (encoding_test)', () => {
  it.each([
    ['a\rb', 'a\\rb'],
    ['a\nb', 'a\\nb'],
    ['a:b', 'a\\cb'],
    ['a\\b', 'a\\\\b'],
    ['\\\r\n:', '\\\\\\r\\n\\c'],
    ['plain', 'plain'],
  ])('escapes %j as %j and back', (raw, escaped) => {
    expect(escapeHeader(raw)).toBe(escaped);
    expect(unescapeHeader(escaped)).toBe(raw);
  });

  it('rejects an undefined escape such as \\m', () => {
    expect(() => unescapeHeader('a\\mb')).toThrow(FrameError);
    expect(() => unescapeHeader('trailing\\')).toThrow(FrameError);
  });

  it('round-trips names and values through a frame', () => {
    const headers: [string, string][] = [
      ['accept-version', '1.2'],
      ['1.2:', 'x'],
      ['id', 'c2b7\n\r-uuid'],
      ['back\\slash', 'v\\'],
    ];
    const [f] = parse(encodeFrame('SEND', headers, 'body'));
    expect([...f!.headers]).toEqual([...headers, ['content-length', '4']]);
  });
});

describe('frame encoding (frame_test)', () => {
  it('heart-beat is a single LF', () => {
    expect(HEARTBEAT.toString()).toBe('\n');
  });

  it('command-only frame', () => {
    expect(encodeFrame('CONNECT', []).toString()).toBe('CONNECT\n\n\0');
  });

  it('keeps header order and escapes', () => {
    expect(encodeFrame('SEND', [['b', '1'], ['a', 'x\ny']]).toString()).toBe('SEND\nb:1\na:x\\ny\n\n\0');
  });

  it('a body sets content-length: 0 for empty, byte length for UTF-8, NUL inside', () => {
    expect(encodeFrame('SEND', [], '').toString()).toBe('SEND\ncontent-length:0\n\n\0');
    expect(encodeFrame('SEND', [], 'é€').toString()).toBe('SEND\ncontent-length:5\n\né€\0');
    const withNul = encodeFrame('SEND', [], Buffer.from('a\0b'));
    expect(withNul.toString('latin1')).toBe('SEND\ncontent-length:3\n\na\0b\0');
  });

  it('rewrites a stale content-length where it stands', () => {
    const out = encodeFrame('SEND', [['content-length', '99'], ['x', 'y']], 'hi').toString();
    expect(out).toBe('SEND\ncontent-length:2\nx:y\n\nhi\0');
  });

  it('vdsm frames byte for byte', () => {
    expect(encodeConnected([24000, 0]).toString()).toBe('CONNECTED\nversion:1.2\nheart-beat:24000,0\n\n\0');
    expect(encodeError('Version unsupported').toString()).toBe('ERROR\ncontent-length:19\n\nVersion unsupported\0');
    expect(encodeReceipt('r-1').toString()).toBe('RECEIPT\nreceipt-id:r-1\n\n\0');
    const msg = encodeMessage(Buffer.from(messagePrefix('35f5:x', 'sub-1')), Buffer.from('{"a":1}'));
    expect(msg.toString()).toBe(
      'MESSAGE\ndestination:35f5\\cx\ncontent-type:application/json\nsubscription:sub-1\ncontent-length:7\n\n{"a":1}\0',
    );
  });
});

describe('frame parsing (parser_test)', () => {
  it('an empty parser yields nothing', () => {
    expect(parse([])).toEqual([]);
  });

  it('simple frame', () => {
    expect(parse('CONNECT\naccept-version:1.2\n\n\0').map(simple)).toEqual([
      { command: 'CONNECT', headers: { 'accept-version': '1.2' }, body: '' },
    ]);
  });

  it('unicode and escaped headers', () => {
    const [f] = parse('SEND\nnäme:välue\\c\\n\\\\\n\n\0');
    expect(f!.headers.get('näme')).toBe('välue:\n\\');
  });

  it('body with content-length, NULs inside', () => {
    const [f] = parse(Buffer.from('SEND\ncontent-length:3\n\na\0b\0', 'latin1'));
    expect(f!.body.toString('latin1')).toBe('a\0b');
  });

  it('two frames in one chunk', () => {
    const frames = parse('SEND\ndestination:a\n\nx\0SEND\ndestination:b\ncontent-length:1\n\ny\0');
    expect(frames.map(simple)).toEqual([
      { command: 'SEND', headers: { destination: 'a' }, body: 'x' },
      { command: 'SEND', headers: { destination: 'b', 'content-length': '1' }, body: 'y' },
    ]);
  });

  it('CRLF line endings', () => {
    expect(parse('SEND\r\ndestination:a\r\n\r\nbody\0').map(simple)).toEqual([{ command: 'SEND', headers: { destination: 'a' }, body: 'body' }]);
  });

  it('no content-length: body ends at the first NUL', () => {
    expect(parse('SEND\ndestination:q\n\n{"x":1}\0').map(simple)[0]!.body).toBe('{"x":1}');
  });

  it("wrong content-length: Frame doesn't end with NULL byte", () => {
    expect(() => parse('SEND\ncontent-length:2\n\nabc\0')).toThrow("Frame doesn't end with NULL byte");
  });

  it('byte-by-byte delivery, with and without content-length', () => {
    const wire = 'SEND\ndestination:a\ncontent-length:5\n\nhello\0\nSEND\r\ndestination:b\r\n\r\nworld\0';
    expect(parse(bytewise(wire)).map(simple)).toEqual([
      { command: 'SEND', headers: { destination: 'a', 'content-length': '5' }, body: 'hello' },
      { command: 'SEND', headers: { destination: 'b' }, body: 'world' },
    ]);
  });

  it('frames split at every position give the same result', () => {
    const wire = Buffer.from('\n\nSEND\r\na:b\ncontent-length:4\n\nab\0c\0\n\nSUBSCRIBE\nid:1\n\n\0');
    const whole = parse(wire).map(simple);
    for (let i = 1; i < wire.length; i++) {
      expect(parse([wire.subarray(0, i), wire.subarray(i)]).map(simple)).toEqual(whole);
    }
  });

  it('leading heart-beats and EOL padding between frames are skipped', () => {
    const frames = parse('\n\n\r\nCONNECT\n\n\0\n\n\nSEND\ndestination:x\n\n\0\n');
    expect(frames.map((f) => f.command)).toEqual(['CONNECT', 'SEND']);
  });

  it('a repeated header keeps its first value', () => {
    expect(parse('SEND\nfoo:1\nfoo:2\n\n\0')[0]!.headers.get('foo')).toBe('1');
  });

  it('a raw colon inside a value is an error', () => {
    expect(() => parse('SEND\ndestination:a:b\n\n\0')).toThrow(FrameError);
  });

  it('a header line without a colon is an error', () => {
    expect(() => parse('SEND\nnocolon\n\n\0')).toThrow('header line without a colon');
  });

  it('an invalid content-length is an error', () => {
    expect(() => parse('SEND\ncontent-length:x\n\n\0')).toThrow('invalid content-length');
  });

  it('an empty header value is allowed', () => {
    expect(parse('SEND\nx:\n\n\0')[0]!.headers.get('x')).toBe('');
  });

  it('content-length bodies in many chunks are joined once', () => {
    const body = 'x'.repeat(100_000);
    const wire = Buffer.from(`SEND\ncontent-length:${body.length}\n\n${body}\0`);
    const chunks: Buffer[] = [];
    for (let i = 0; i < wire.length; i += 1000) chunks.push(wire.subarray(i, i + 1000));
    expect(parse(chunks)[0]!.body.length).toBe(100_000);
  });
});

describe('limits', () => {
  const small: FrameLimits = { maxFrameSize: 1024, maxHeaders: 3, maxHeaderLine: 256 };

  it('frame size: declared content-length over the limit fails at once', () => {
    expect(() => parse('SEND\ncontent-length:5000\n\n', small)).toThrow(/frame larger than 1024/);
  });

  it('frame size: a NUL-terminated body growing past the limit fails before the NUL', () => {
    const parser = new FrameParser(small, () => undefined);
    parser.push(Buffer.from('SEND\n\n'));
    expect(() => {
      for (let i = 0; i < 20; i++) parser.push(Buffer.alloc(100, 0x61));
    }).toThrow(/frame larger/);
  });

  it('header count', () => {
    expect(() => parse('SEND\na:1\nb:2\nc:3\nd:4\n\n\0', small)).toThrow(/more than 3 headers/);
  });

  it('header line length, also while the line is still arriving', () => {
    expect(() => parse(`SEND\nx:${'a'.repeat(300)}\n\n\0`, small)).toThrow(/header line longer/);
    const parser = new FrameParser(small, () => undefined);
    parser.push(Buffer.from('SEND\nx:'));
    expect(() => parser.push(Buffer.alloc(300, 0x61))).toThrow(/header line longer/);
  });

  it('error kinds: limit vs syntax', () => {
    try {
      parse('SEND\na:1\nb:2\nc:3\nd:4\n\n\0', small);
    } catch (err) {
      expect((err as FrameError).kind).toBe('limit');
    }
    try {
      parse('SEND\nbad\n\n\0');
    } catch (err) {
      expect((err as FrameError).kind).toBe('syntax');
    }
  });
});

describe('pause and resume', () => {
  it('stops after the current frame and delivers the rest on resume', () => {
    const seen: string[] = [];
    const parser: FrameParser = new FrameParser(LIMITS, (f) => {
      seen.push(f.headers.get('n')!);
      if (seen.length === 1) parser.pause();
    });
    parser.push(Buffer.from('SEND\nn:1\n\n\0SEND\nn:2\n\n\0SEND\nn:3\n\n\0'));
    expect(seen).toEqual(['1']);
    parser.push(Buffer.from('SEND\nn:4\n\n\0'));
    expect(seen).toEqual(['1']);
    parser.resume();
    expect(seen).toEqual(['1', '2', '3', '4']);
  });
});
