/**
 * Property-based fuzzing of the XML-RPC decoder: random and mutated documents never
 * make decodeMethodCall throw anything but an XmlRpcDecodeError (the HTTP front turns that into a
 * fault), values survive encode → decode, entity tricks are refused quickly, and the depth and
 * value limits hold whatever the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeMethodCall, XmlRpcDecodeError, type MethodCall, type XmlRpcValue } from '../../src/net/xmlrpc/decode.js';
import { encodeResponse } from '../../src/net/xmlrpc/encode.js';

const LIMITS = { maxDepth: 8, maxValues: 500 };

/** Decodes; returns the call, or the error, failing the test on anything else (a crash). */
function decode(xml: string, limits = LIMITS): MethodCall | XmlRpcDecodeError {
  try {
    return decodeMethodCall(xml, limits);
  } catch (err) {
    if (err instanceof XmlRpcDecodeError) {
      expect(err.message.length).toBeGreaterThan(0);
      return err;
    }
    throw new Error(`decoder crashed on ${JSON.stringify(xml.slice(0, 120))}: ${String(err)}`);
  }
}

/** A methodCall with the given params, built from the response encoder's value encoding. */
function callXml(method: string, params: unknown[]): string {
  const values = params.map((p) => encodeResponse(p).replace(/^[\s\S]*?<param>\n/, '').replace(/\n<\/param>[\s\S]*$/, ''));
  return `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${values.map((v) => `<param>${v}</param>`).join('')}</params></methodCall>`;
}

/** Text XML 1.0 can carry (escapeText replaces the rest); CR included, sent as &#13;. */
const xmlSafeString = fc.string({ unit: 'grapheme', maxLength: 16 }).map((s) =>
  // eslint-disable-next-line no-control-regex
  s.replace(/[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]/g, '?'),
);
const { value: valueArb } = fc.letrec<{ value: XmlRpcValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
    fc.maxSafeInteger(),
    fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Number.isInteger(d)),
    fc.boolean(),
    xmlSafeString,
    fc.constant(null),
    fc.date({ min: new Date('1970-01-01T00:00:00Z'), max: new Date('9999-12-31T23:59:59Z'), noInvalidDate: true }).map((d) => new Date(Math.floor(d.getTime() / 1000) * 1000)),
    fc.uint8Array({ maxLength: 20 }).map((b) => Buffer.from(b)),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(xmlSafeString, tie('value'), { maxKeys: 4 }),
  ),
}));

const mutation = fc.tuple(fc.nat(), fc.oneof(fc.constantFrom('<', '>', '&', '</value>', '<value>', '<array><data>', '<struct>', ']]>', '<![CDATA[', '&amp;', '&#0;', '&#x110000;', '&lol;', '<!DOCTYPE x>', '<?pi x?>', '\0', '\uFFFF', '"', "'"), fc.string({ maxLength: 4 })), fc.nat({ max: 6 }));

describe('XML-RPC decoder fuzzing', () => {
  it('round-trips any value through encode → decode', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { maxLength: 4 }), (params) => {
        const got = decode(callXml('Host.getStats', params), { maxDepth: 64, maxValues: 100_000 });
        expect(got).not.toBeInstanceOf(XmlRpcDecodeError);
        expect((got as MethodCall).method).toBe('Host.getStats');
        expect((got as MethodCall).params).toEqual(params);
      }),
      { seed: 0x3a1, numRuns: 300 },
    );
  });

  it('random text: only XmlRpcDecodeError', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.string({ unit: 'binary', maxLength: 300 })), (text) => {
        decode(text);
        decode(`<methodCall><methodName>x</methodName><params><param><value>${text}</value></param></params></methodCall>`);
      }),
      { seed: 0x3a2, numRuns: 400 },
    );
  });

  it('mutated valid calls: only XmlRpcDecodeError, and never past the limits', () => {
    fc.assert(
      fc.property(fc.array(valueArb, { minLength: 1, maxLength: 3 }), fc.array(mutation, { minLength: 1, maxLength: 5 }), (params, edits) => {
        let xml = callXml('VM.getStats', params);
        for (const [at, ins, del] of edits) {
          const p = at % (xml.length + 1);
          xml = xml.slice(0, p) + ins + xml.slice(p + del);
        }
        const got = decode(xml);
        if (!(got instanceof XmlRpcDecodeError)) {
          expect(depthOf(got.params) - 1).toBeLessThanOrEqual(LIMITS.maxDepth); // -1: the params list itself
          expect(countOf(got.params) - 1).toBeLessThanOrEqual(LIMITS.maxValues);
          expect(got.method).toMatch(/^[A-Za-z0-9_.:/]+$/);
        }
      }),
      { seed: 0x3a3, numRuns: 500 },
    );
  });

  it('nesting and value counts past the limits are refused with the documented error', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.constantFrom('array', 'struct'), (depth, kind) => {
        const open = kind === 'array' ? '<value><array><data>' : '<value><struct><member><name>m</name>';
        const close = kind === 'array' ? '</data></array></value>' : '</member></struct></value>';
        const inner = kind === 'array' ? '' : '<value>x</value>';
        const xml = `<methodCall><methodName>m</methodName><params><param>${open.repeat(depth)}${inner}${close.repeat(depth)}</param></params></methodCall>`;
        const got = decode(xml);
        if (depth > LIMITS.maxDepth) {
          expect(got).toBeInstanceOf(XmlRpcDecodeError);
          expect((got as Error).message).toBe(`nesting deeper than ${LIMITS.maxDepth}`);
        } else expect(got).not.toBeInstanceOf(XmlRpcDecodeError);
      }),
      { seed: 0x3a4, numRuns: 80 },
    );
    const many = `<methodCall><methodName>m</methodName><params>${'<param><value><int>1</int></value></param>'.repeat(LIMITS.maxValues + 1)}</params></methodCall>`;
    expect((decode(many) as Error).message).toBe(`more than ${LIMITS.maxValues} values`);
  });

  it('refuses entity tricks fast: billion laughs, external entities, parameter entities, undefined entities', () => {
    const lol = [
      '<?xml version="1.0"?>',
      '<!DOCTYPE lolz [<!ENTITY lol "lol">',
      ...Array.from({ length: 9 }, (_, i) => `<!ENTITY lol${i + 1} "${`&lol${i === 0 ? '' : i};`.repeat(10)}">`),
      ']>',
      '<methodCall><methodName>&lol9;</methodName><params/></methodCall>',
    ].join('\n');
    const cases = [
      lol,
      '<?xml version="1.0"?><!DOCTYPE m [<!ENTITY x SYSTEM "file:///etc/passwd">]><methodCall><methodName>&x;</methodName></methodCall>',
      '<?xml version="1.0"?><!DOCTYPE m SYSTEM "http://127.0.0.1:1/evil.dtd"><methodCall><methodName>m</methodName></methodCall>',
      '<!DOCTYPE m [<!ENTITY % p SYSTEM "http://127.0.0.1:1/p">%p;]><methodCall/>',
      '<methodCall><methodName>&undefined;</methodName></methodCall>',
      '<methodCall><methodName>m</methodName><params><param><value>&lol9;</value></param></params></methodCall>',
    ];
    for (const xml of cases) {
      const t0 = performance.now();
      const got = decode(xml);
      expect(got, xml.slice(0, 60)).toBeInstanceOf(XmlRpcDecodeError);
      expect(performance.now() - t0).toBeLessThan(1000);
    }
    expect((decode(cases[0]!) as Error).message).toBe('a DOCTYPE is not allowed in XML-RPC');
    expect((decode(cases[1]!) as Error).message).toBe('a DOCTYPE is not allowed in XML-RPC');
  });

  it('a 1 MiB string value decodes in linear time', () => {
    const big = 'a&amp;'.repeat(170_000);
    const t0 = performance.now();
    const got = decode(`<methodCall><methodName>m</methodName><params><param><value><string>${big}</string></value></param></params></methodCall>`);
    expect((got as MethodCall).params[0]).toHaveLength(170_000 * 2);
    expect(performance.now() - t0).toBeLessThan(5000);
  });
});

function depthOf(v: unknown): number {
  if (Buffer.isBuffer(v) || v instanceof Date || v === null || typeof v !== 'object') return 0;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + Math.max(0, ...children.map(depthOf));
}

function countOf(v: unknown): number {
  if (Buffer.isBuffer(v) || v instanceof Date || v === null || typeof v !== 'object') return 1;
  const children = Array.isArray(v) ? v : Object.values(v);
  return 1 + children.reduce((n: number, c) => n + countOf(c), 0);
}
