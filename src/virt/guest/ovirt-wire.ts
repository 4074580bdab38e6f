/**
 * The oVirt guest agent's line protocol: one JSON object per line, the message name under
 * `__name__`. Host messages are encoded byte for byte as vdsm's Python json.dumps makes them
 * (", " and ": " separators, non-ASCII as \uXXXX, the arguments first and `__name__` last).
 * Guest lines are parsed defensively: a guest is not trusted.
 */
import { filterValue } from './xml-chars.js';

export type MessageArgs = Record<string, unknown>;

function pyString(text: string): string {
  // JSON.stringify escapes quotes, backslashes and controls; Python also escapes non-ASCII.
  return JSON.stringify(text).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function pyJson(value: unknown): string {
  if (typeof value === 'string') return pyString(value);
  if (value === null || value === undefined) return 'null';
  if (typeof value === 'number' || typeof value === 'boolean') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(pyJson).join(', ')}]`;
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  return `{${entries.map(([k, v]) => `${pyString(k)}: ${pyJson(v)}`).join(', ')}}`;
}

/** `{"apiVersion": 3, "__name__": "refresh"}\n`. */
export function encodeHostMessage(name: string, args: MessageArgs = {}): string {
  const body = pyJson({ ...args, __name__: name });
  return `${body}\n`;
}

export type ParsedLine =
  | { ok: true; name: string; args: MessageArgs }
  | { ok: false; reason: 'json' | 'not-object' | 'no-name' | 'too-deep'; detail: string };

/** A guest line as a message: JSON object, XML-filtered strings, `__name__` taken out. */
export function parseGuestLine(line: string): ParsedLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (err) {
    return { ok: false, reason: 'json', detail: (err as Error).message };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { ok: false, reason: 'not-object', detail: value === null ? 'null' : Array.isArray(value) ? 'array' : typeof value };
  }
  let args: MessageArgs;
  try {
    args = filterValue(value) as MessageArgs;
  } catch (err) {
    return { ok: false, reason: 'too-deep', detail: (err as Error).message };
  }
  const name = args['__name__'];
  if (typeof name !== 'string') return { ok: false, reason: 'no-name', detail: typeof name };
  delete args['__name__'];
  return { ok: true, name, args };
}
