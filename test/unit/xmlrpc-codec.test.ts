import { describe, expect, it } from 'vitest';
import { decodeMethodCall, XmlRpcDecodeError } from '../../src/net/xmlrpc/decode.js';
import { encodeFault, encodeResponse, escapeText } from '../../src/net/xmlrpc/encode.js';

const limits = { maxDepth: 32, maxValues: 10_000 };
const call = (params: string, method = 'getVdsStats'): string =>
  `<?xml version="1.0"?><methodCall><methodName>${method}</methodName><params>${params}</params></methodCall>`;
const param = (value: string): string => `<param><value>${value}</value></param>`;

describe('XML-RPC decoding', () => {
  it('reads every type', () => {
    const xml = call(
      [
        '<int>42</int>',
        '<i4>-7</i4>',
        '<i8>9007199254740991</i8>',
        '<boolean>1</boolean>',
        '<boolean>0</boolean>',
        '<string>a &amp; b &lt;c&gt; &#233;</string>',
        'untyped text',
        '<double>-1.5e3</double>',
        '<dateTime.iso8601>20240102T03:04:05</dateTime.iso8601>',
        '<base64>aGVsbG8=</base64>',
        '<nil/>',
        '<array><data><value><int>1</int></value><value>two</value></data></array>',
        '<struct><member><name>vmId</name><value><string>abc</string></value></member><member><name>n</name><value><array><data/></array></value></member></struct>',
        '<string><![CDATA[<raw>]]></string>',
        '<string></string>',
      ]
        .map(param)
        .join(''),
    );
    const { method, params } = decodeMethodCall(xml, limits);
    expect(method).toBe('getVdsStats');
    expect(params).toEqual([
      42,
      -7,
      9007199254740991,
      true,
      false,
      'a & b <c> é',
      'untyped text',
      -1500,
      new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
      Buffer.from('hello'),
      null,
      [1, 'two'],
      { vmId: 'abc', n: [] },
      '<raw>',
      '',
    ]);
  });

  it('accepts a call with no params', () => {
    expect(decodeMethodCall('<methodCall><methodName>ping</methodName></methodCall>', limits)).toEqual({ method: 'ping', params: [] });
  });

  const bad: Array<[string, string, RegExp]> = [
    ['malformed XML', '<methodCall><methodName>x</methodName>', /malformed XML/],
    ['no method name', '<methodCall><params/></methodCall>', /no <methodName>/],
    ['a bad int', call(param('<int>12x</int>')), /<int> "12x" is not an integer/],
    ['an int out of range', call(param('<int>2147483648</int>')), /out of range/],
    ['a bad boolean', call(param('<boolean>yes</boolean>')), /<boolean> must be 0 or 1/],
    ['a bad double', call(param('<double>abc</double>')), /is not a number/],
    ['bad base64', call(param('<base64>!!</base64>')), /outside base64/],
    ['a bad date', call(param('<dateTime.iso8601>yesterday</dateTime.iso8601>')), /is not YYYYMMDDTHH:MM:SS/],
    ['an unknown element', call(param('<script>x</script>')), /unknown element <script>/],
    ['a member without a name', call(param('<struct><member><value>1</value></member></struct>')), /without a <name>/],
    ['an undefined entity', call(param('<string>&nope;</string>')), /malformed XML/],
    ['a bad method name', call('', 'a b'), /invalid method name/],
  ];
  for (const [what, xml, message] of bad) {
    it(`rejects ${what} with a clear error`, () => {
      expect(() => decodeMethodCall(xml, limits)).toThrowError(XmlRpcDecodeError);
      expect(() => decodeMethodCall(xml, limits)).toThrowError(message);
    });
  }

  it('refuses a billion-laughs document without expanding it', () => {
    const lol = ['<!DOCTYPE lolz [', '<!ENTITY lol "lol">'];
    for (let i = 1; i <= 9; i++) lol.push(`<!ENTITY lol${i} "${`&lol${i === 1 ? '' : i - 1};`.repeat(10)}">`);
    lol.push(']>');
    const xml = `<?xml version="1.0"?>${lol.join('')}<methodCall><methodName>x</methodName><params>${param('<string>&lol9;</string>')}</params></methodCall>`;
    const before = process.memoryUsage().heapUsed;
    expect(() => decodeMethodCall(xml, limits)).toThrowError(/DOCTYPE is not allowed/);
    expect(process.memoryUsage().heapUsed - before).toBeLessThan(50 * 1024 * 1024);
  });

  it('refuses an external entity to a local file', () => {
    const xml = `<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><methodCall><methodName>x</methodName><params>${param('<string>&xxe;</string>')}</params></methodCall>`;
    expect(() => decodeMethodCall(xml, limits)).toThrowError(/DOCTYPE is not allowed/);
  });

  it('bounds nesting depth and value count', () => {
    const deep = '<array><data><value>'.repeat(40) + '1' + '</value></data></array>'.repeat(40);
    expect(() => decodeMethodCall(call(param(deep)), limits)).toThrowError(/nesting deeper than 32/);
    const many = param(`<array><data>${'<value>1</value>'.repeat(20)}</data></array>`);
    expect(() => decodeMethodCall(call(many), { maxDepth: 32, maxValues: 10 })).toThrowError(/more than 10 values/);
  });
});

describe('XML-RPC encoding', () => {
  it('encodes results as Python\'s client reads them', () => {
    const xml = encodeResponse({ status: { code: 0, message: 'Done' }, n: 2 ** 40, f: 1.5, ok: true, none: null, list: ['a<b'] });
    expect(xml).toContain('<member><name>code</name><value><int>0</int></value></member>');
    expect(xml).toContain('<value><i8>1099511627776</i8></value>');
    expect(xml).toContain('<value><double>1.5</double></value>');
    expect(xml).toContain('<value><boolean>1</boolean></value>');
    expect(xml).toContain('<value><nil/></value>');
    expect(xml).toContain('<value><string>a&lt;b</string></value>');
    expect(xml.startsWith("<?xml version='1.0'?>\n<methodResponse>")).toBe(true);
  });

  it('encodes faults and round-trips through the decoder\'s value grammar', () => {
    const xml = encodeFault(1, 'Virtual machine does not exist');
    expect(xml).toContain('<fault>');
    expect(xml).toContain('<name>faultCode</name><value><int>1</int></value>');
  });

  it('replaces characters XML cannot carry', () => {
    expect(escapeText('a\u0000b\u0007c\td\uD800')).toBe('a\uFFFDb\uFFFDc\td\uFFFD');
    expect(escapeText('😀')).toBe('😀');
  });
});
