/**
 * XML-RPC methodResponse encoding. Values JSON can hold map onto XML-RPC types: integers that fit
 * 32 bits are <int>, larger ones <i8>, other numbers <double>, null <nil/> (Python's client reads
 * it). Characters XML 1.0 cannot carry are replaced, so a response is always well-formed.
 */
// CR goes as a character reference: a raw one is read back as LF (XML's end-of-line handling).
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '\r': '&#13;' };
// Tab, LF and CR are allowed; other C0 controls, lone surrogates and U+FFFE/U+FFFF are not.
// eslint-disable-next-line no-control-regex
const NOT_XML = /[\x00-\x08\x0B\x0C\x0E-\x1F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function escapeText(s: string): string {
  return s.replace(NOT_XML, '\uFFFD').replace(/[&<>\r]/g, (c) => ESCAPES[c]!);
}

function encodeValue(value: unknown, out: string[], seen: Set<object>): void {
  if (value === null || value === undefined) {
    out.push('<value><nil/></value>');
  } else if (typeof value === 'boolean') {
    out.push(`<value><boolean>${value ? 1 : 0}</boolean></value>`);
  } else if (typeof value === 'number') {
    if (Number.isInteger(value) && Math.abs(value) < 2 ** 31) out.push(`<value><int>${value}</int></value>`);
    else if (Number.isSafeInteger(value)) out.push(`<value><i8>${value}</i8></value>`);
    else out.push(`<value><double>${Number.isFinite(value) ? value : 0}</double></value>`);
  } else if (typeof value === 'bigint') {
    out.push(`<value><i8>${value}</i8></value>`);
  } else if (typeof value === 'string') {
    out.push(`<value><string>${escapeText(value)}</string></value>`);
  } else if (value instanceof Date) {
    out.push(`<value><dateTime.iso8601>${value.toISOString().slice(0, 19).replace(/-/g, '')}</dateTime.iso8601></value>`);
  } else if (Buffer.isBuffer(value)) {
    out.push(`<value><base64>${value.toString('base64')}</base64></value>`);
  } else if (typeof value === 'object') {
    if (seen.has(value)) throw new TypeError('cannot encode a cyclic value');
    seen.add(value);
    if (Array.isArray(value)) {
      out.push('<value><array><data>');
      for (const item of value) encodeValue(item, out, seen);
      out.push('</data></array></value>');
    } else {
      out.push('<value><struct>');
      for (const [name, member] of Object.entries(value)) {
        if (member === undefined) continue;
        out.push(`<member><name>${escapeText(name)}</name>`);
        encodeValue(member, out, seen);
        out.push('</member>');
      }
      out.push('</struct></value>');
    }
    seen.delete(value);
  } else {
    out.push(`<value><string>${escapeText(String(value))}</string></value>`);
  }
}

const HEAD = "<?xml version='1.0'?>\n<methodResponse>\n";

export function encodeResponse(result: unknown): string {
  const out = [HEAD, '<params>\n<param>\n'];
  encodeValue(result, out, new Set());
  out.push('\n</param>\n</params>\n</methodResponse>\n');
  return out.join('');
}

export function encodeFault(code: number, message: string): string {
  const out = [HEAD, '<fault>\n'];
  encodeValue({ faultCode: code, faultString: message }, out, new Set());
  out.push('\n</fault>\n</methodResponse>\n');
  return out.join('');
}
