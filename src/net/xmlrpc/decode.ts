/**
 * XML-RPC methodCall decoding with saxes, a strict streaming XML parser. XML-RPC input is hostile:
 * a DOCTYPE is refused outright (XML-RPC never needs one, and it is how entity bombs and external
 * entities get in), undefined entities are errors, and nesting and value counts are bounded.
 * Every error is an XmlRpcDecodeError whose message the HTTP front sends back as a fault string.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';

export type XmlRpcValue =
  | number
  | boolean
  | string
  | null
  | Date
  | Buffer
  | XmlRpcValue[]
  | { [member: string]: XmlRpcValue };

export interface MethodCall {
  method: string;
  params: XmlRpcValue[];
}

export interface DecodeLimits {
  /** Deepest nesting of arrays and structs. */
  maxDepth: number;
  /** Most values in the whole call. */
  maxValues: number;
}

export class XmlRpcDecodeError extends Error {
  override name = 'XmlRpcDecodeError';
}

const SCALARS = new Set(['int', 'i4', 'i8', 'boolean', 'string', 'double', 'dateTime.iso8601', 'base64', 'nil']);

/** What is being built: a container waiting for values, or a scalar collecting text. */
type Frame =
  | { kind: 'array'; items: XmlRpcValue[] }
  | { kind: 'struct'; members: Record<string, XmlRpcValue>; name: string | undefined }
  | { kind: 'value'; text: string; typed: boolean; result: XmlRpcValue | undefined; hasResult: boolean }
  | { kind: 'scalar'; type: string; text: string }
  | { kind: 'name'; text: string }
  | { kind: 'other'; tag: string };

type ValueFrame = Extract<Frame, { kind: 'value' }>;

const fail = (message: string): never => {
  throw new XmlRpcDecodeError(message);
};

/** Structural elements: they hold values, not text. */
const STRUCTURAL = new Set(['methodCall', 'methodName', 'params', 'param', 'data', 'member']);
const VALUE_HOLDERS = new Set(['param', 'data', 'member']);

/** The call being built from the parser's events: a stack of frames, the params, the counts. */
class MethodCallBuilder {
  readonly params: XmlRpcValue[] = [];
  method: string | undefined;
  private readonly stack: Frame[] = [];
  private elements = 0;
  private methodText = '';
  private depth = 0;
  private values = 0;

  constructor(private readonly limits: DecodeLimits) {}

  open(name: string): void {
    if (++this.elements > this.limits.maxDepth * 3 + 8) fail(`nesting deeper than ${this.limits.maxDepth}`);
    const holder = this.top();
    if (holder?.kind === 'scalar') fail(`<${name}> inside <${holder.type}>`);
    if (name === 'value') {
      if (!VALUE_HOLDERS.has(this.parentTag() ?? '')) fail('a <value> outside <param>, <data> or <member>');
      if (++this.values > this.limits.maxValues) fail(`more than ${this.limits.maxValues} values`);
      this.stack.push({ kind: 'value', text: '', typed: false, result: undefined, hasResult: false });
    } else if (name === 'array' || name === 'struct') {
      this.typedValue(name, holder);
      if (++this.depth > this.limits.maxDepth) fail(`nesting deeper than ${this.limits.maxDepth}`);
      this.stack.push(name === 'array' ? { kind: 'array', items: [] } : { kind: 'struct', members: Object.create(null) as Record<string, XmlRpcValue>, name: undefined });
    } else if (name === 'name') {
      if (this.parentTag() !== 'member' || this.container()?.kind !== 'struct') fail('<name> outside a struct <member>');
      this.stack.push({ kind: 'name', text: '' });
    } else if (SCALARS.has(name)) {
      this.typedValue(name, holder);
      this.stack.push({ kind: 'scalar', type: name, text: '' });
    } else {
      if (!STRUCTURAL.has(name)) fail(`unknown element <${name}>`);
      this.stack.push({ kind: 'other', tag: name });
    }
  }

  text(text: string, cdata: boolean): void {
    const frame = this.top();
    if (frame?.kind === 'scalar' || frame?.kind === 'name' || frame?.kind === 'value') frame.text += text;
    else if (!cdata && frame?.kind === 'other' && frame.tag === 'methodName') this.methodText += text;
  }

  close(name: string): void {
    this.elements--;
    const frame = this.stack.pop();
    switch (frame?.kind) {
      case 'scalar':
        this.setResult(scalar(frame.type, frame.text));
        return;
      case 'array':
        this.depth--;
        this.setResult(frame.items);
        return;
      case 'struct':
        this.depth--;
        if (frame.name !== undefined) fail('a struct <member> without a <value>');
        this.setResult({ ...frame.members });
        return;
      case 'name':
        (this.container() as Extract<Frame, { kind: 'struct' }>).name = frame.text;
        return;
      case 'value':
        // An untyped <value>text</value> is a string.
        this.deliver(frame.hasResult ? frame.result! : frame.typed ? fail(`empty <value>`) : frame.text);
        return;
      case 'other':
        if (name === 'methodName') this.method = this.methodText.trim();
        return;
    }
  }

  /** A type element (scalar, array, struct) directly inside a <value>, which it types. */
  private typedValue(name: string, holder: Frame | undefined): void {
    if (holder?.kind !== 'value') fail(`<${name}> outside <value>`);
    (holder as ValueFrame).typed = true;
  }

  private setResult(value: XmlRpcValue): void {
    const holder = this.top() as ValueFrame;
    holder.result = value;
    holder.hasResult = true;
  }

  /** Hands a finished value to whatever holds it: a param, an array's data or a struct member. */
  private deliver(value: XmlRpcValue): void {
    const where = this.parentTag();
    const holder = this.container();
    if (where === 'param' && holder === undefined) this.params.push(value);
    else if (where === 'data' && holder?.kind === 'array') holder.items.push(value);
    else if (where === 'member' && holder?.kind === 'struct') {
      if (holder.name === undefined) fail('a struct <member> without a <name>');
      holder.members[holder.name!] = value;
      holder.name = undefined;
    } else fail('a <value> outside <param>, <data> or <member>');
  }

  private top(): Frame | undefined {
    return this.stack[this.stack.length - 1];
  }

  /** The innermost frame that is not a structural tag (params, param, data, member). */
  private container(): Frame | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) if (this.stack[i]!.kind !== 'other') return this.stack[i];
    return undefined;
  }

  private parentTag(): string | undefined {
    const frame = this.top();
    return frame?.kind === 'other' ? frame.tag : undefined;
  }
}

export function decodeMethodCall(xml: string, limits: DecodeLimits): MethodCall {
  const parser = new SaxesParser({ xmlns: false, position: false });
  const call = new MethodCallBuilder(limits);
  let failure: Error | undefined;
  parser.on('doctype', () => fail('a DOCTYPE is not allowed in XML-RPC'));
  parser.on('processinginstruction', (pi) => fail(`processing instruction <?${pi.target}?> not allowed`));
  parser.on('opentag', (tag: SaxesTagPlain) => call.open(tag.name));
  parser.on('text', (text) => call.text(text, false));
  parser.on('cdata', (text) => call.text(text, true));
  parser.on('closetag', (tag) => call.close(tag.name));
  parser.on('error', (err) => {
    failure ??= new XmlRpcDecodeError(`malformed XML: ${err.message}`);
  });
  try {
    parser.write(xml).close();
  } catch (err) {
    if (err instanceof XmlRpcDecodeError) throw err;
    throw new XmlRpcDecodeError(`malformed XML: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  const method = call.method;
  if (!method) return fail('no <methodName>');
  if (!/^[A-Za-z0-9_.:/]+$/.test(method)) fail(`invalid method name ${JSON.stringify(method)}`);
  return { method, params: call.params };
}

function scalar(type: string, text: string): XmlRpcValue {
  switch (type) {
    case 'int':
    case 'i4':
    case 'i8': {
      const t = text.trim();
      if (!/^[+-]?\d+$/.test(t)) throw new XmlRpcDecodeError(`<${type}> ${JSON.stringify(t.slice(0, 40))} is not an integer`);
      const n = Number(t);
      const inRange = type === 'i8' ? Number.isSafeInteger(n) : n >= -(2 ** 31) && n < 2 ** 31;
      if (!inRange) throw new XmlRpcDecodeError(`<${type}> ${t} is out of range`);
      return n;
    }
    case 'boolean': {
      const t = text.trim();
      if (t === '1') return true;
      if (t === '0') return false;
      throw new XmlRpcDecodeError(`<boolean> must be 0 or 1, not ${JSON.stringify(t.slice(0, 40))}`);
    }
    case 'double': {
      const t = text.trim();
      const n = Number(t);
      if (t === '' || !Number.isFinite(n)) throw new XmlRpcDecodeError(`<double> ${JSON.stringify(t.slice(0, 40))} is not a number`);
      return n;
    }
    case 'dateTime.iso8601': {
      const m = /^(\d{4})-?(\d{2})-?(\d{2})T(\d{2}):(\d{2}):(\d{2})$/.exec(text.trim());
      if (!m) throw new XmlRpcDecodeError(`<dateTime.iso8601> ${JSON.stringify(text.slice(0, 40))} is not YYYYMMDDTHH:MM:SS`);
      return new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
    }
    case 'base64': {
      const t = text.replace(/\s+/g, '');
      if (!/^[A-Za-z0-9+/]*={0,2}$/.test(t)) throw new XmlRpcDecodeError('<base64> holds characters outside base64');
      return Buffer.from(t, 'base64');
    }
    case 'nil':
      return null;
    default:
      return text;
  }
}
