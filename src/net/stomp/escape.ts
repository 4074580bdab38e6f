/**
 * STOMP 1.2 header escaping, applied by vdsm to names and values of every frame, CONNECT and
 * CONNECTED included: `\` → `\\`, CR → `\r`, LF → `\n`, `:` → `\c`. Any other escape is an error.
 */
import { FrameError } from './frame.js';

const NEEDS_ESCAPE = /[\\\r\n:]/;
const ESCAPES = /[\\\r\n:]/g;
const ESCAPED: Record<string, string> = { '\\': '\\\\', '\r': '\\r', '\n': '\\n', ':': '\\c' };

export function escapeHeader(s: string): string {
  return NEEDS_ESCAPE.test(s) ? s.replace(ESCAPES, (c) => ESCAPED[c]!) : s;
}

const SEQUENCES = /\\(.?)/gs;
const UNESCAPED: Record<string, string> = { '\\': '\\', r: '\r', n: '\n', c: ':' };

/** Reverses escapeHeader; `raw` comes from the wire and must hold no raw `:` (checked by the caller). */
export function unescapeHeader(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(SEQUENCES, (_seq, c: string) => {
    const out = UNESCAPED[c];
    if (out === undefined) throw new FrameError(`invalid escape sequence in header: \\${c}`, 'syntax');
    return out;
  });
}
