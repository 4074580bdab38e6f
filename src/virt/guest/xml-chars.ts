/**
 * vdsm's XML character filter for guest strings: every character XML 1.0 does not allow (and a few
 * it discourages) becomes U+FFFD, so guest data can always be encoded by the XML-RPC transport.
 * Kept: TAB, LF, CR, U+0020–007E, U+0085, U+00A0–D7FF, U+E000–FFFD, U+10000–10FFFF. Valid
 * surrogate pairs are one astral code point and are kept; only lone surrogates are replaced
 * (the `u` flag makes the regex see code points).
 */

const FORBIDDEN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u0084\u0086-\u009F\uD800-\uDFFF\uFFFE\uFFFF]/u;
const FORBIDDEN_ALL = new RegExp(FORBIDDEN.source, 'gu');

export function filterXmlChars(text: string): string {
  // Most guest strings are clean: test first, so they are returned without a copy.
  return FORBIDDEN.test(text) ? text.replace(FORBIDDEN_ALL, '\uFFFD') : text;
}

/** Nesting deeper than this is not data any agent sends; the message is refused. */
export const MAX_DEPTH = 32;

export class TooDeep extends Error {
  override name = 'TooDeep';
}

/** Filters every string of a parsed JSON value, keys included; numbers, booleans and null as is. */
export function filterValue(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return filterXmlChars(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth >= MAX_DEPTH) throw new TooDeep(`nested deeper than ${MAX_DEPTH}`);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = filterValue(value[i], depth + 1);
    return value;
  }
  const source = value as Record<string, unknown>;
  let renamed = false;
  for (const key in source) {
    if (filterXmlChars(key) !== key) renamed = true;
    source[key] = filterValue(source[key], depth + 1);
  }
  if (!renamed) return source;
  const out: Record<string, unknown> = {};
  // defineProperty: a guest key named "__proto__" must stay data, never become a prototype.
  for (const key in source) Object.defineProperty(out, filterXmlChars(key), { value: source[key], enumerable: true, writable: true, configurable: true });
  return out;
}
