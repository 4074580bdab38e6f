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

export function decodeMethodCall(xml: string, limits: DecodeLimits): MethodCall {
  const parser = new SaxesParser({ xmlns: false, position: false });
  const stack: Frame[] = [];
  const params: XmlRpcValue[] = [];
  const path: string[] = [];
  let method: string | undefined;
  let methodText = '';
  let depth = 0;
  let values = 0;
  let failure: Error | undefined;

  const fail = (message: string): never => {
    throw new XmlRpcDecodeError(message);
  };
  const top = (): Frame | undefined => stack[stack.length - 1];

  /** The innermost frame that is not a structural tag (params, param, data, member). */
  const container = (): Frame | undefined => {
    for (let i = stack.length - 1; i >= 0; i--) if (stack[i]!.kind !== 'other') return stack[i];
    return undefined;
  };
  const parentTag = (): string | undefined => {
    const frame = top();
    return frame?.kind === 'other' ? frame.tag : undefined;
  };

  /** Hands a finished value to whatever holds it: a param, an array's data or a struct member. */
  const deliver = (value: XmlRpcValue): void => {
    const where = parentTag();
    const holder = container();
    if (where === 'param' && holder === undefined) params.push(value);
    else if (where === 'data' && holder?.kind === 'array') holder.items.push(value);
    else if (where === 'member' && holder?.kind === 'struct') {
      if (holder.name === undefined) fail('a struct <member> without a <name>');
      holder.members[holder.name!] = value;
      holder.name = undefined;
    } else fail('a <value> outside <param>, <data> or <member>');
  };

  parser.on('doctype', () => fail('a DOCTYPE is not allowed in XML-RPC'));
  parser.on('processinginstruction', (pi) => fail(`processing instruction <?${pi.target}?> not allowed`));
  parser.on('opentag', (tag: SaxesTagPlain) => {
    const name = tag.name;
    path.push(name);
    if (path.length > limits.maxDepth * 3 + 8) fail(`nesting deeper than ${limits.maxDepth}`);
    const holder = top();
    if (holder?.kind === 'scalar') fail(`<${name}> inside <${holder.type}>`);
    switch (name) {
      case 'value':
        if (!['param', 'data', 'member'].includes(parentTag() ?? '')) fail('a <value> outside <param>, <data> or <member>');
        if (++values > limits.maxValues) fail(`more than ${limits.maxValues} values`);
        stack.push({ kind: 'value', text: '', typed: false, result: undefined, hasResult: false });
        return;
      case 'array':
      case 'struct': {
        if (holder?.kind !== 'value') fail(`<${name}> outside <value>`);
        if (++depth > limits.maxDepth) fail(`nesting deeper than ${limits.maxDepth}`);
        (holder as Extract<Frame, { kind: 'value' }>).typed = true;
        stack.push(name === 'array' ? { kind: 'array', items: [] } : { kind: 'struct', members: Object.create(null) as Record<string, XmlRpcValue>, name: undefined });
        return;
      }
      case 'name':
        if (parentTag() !== 'member' || container()?.kind !== 'struct') fail('<name> outside a struct <member>');
        stack.push({ kind: 'name', text: '' });
        return;
      default:
        if (SCALARS.has(name)) {
          if (holder?.kind !== 'value') fail(`<${name}> outside <value>`);
          (holder as Extract<Frame, { kind: 'value' }>).typed = true;
          stack.push({ kind: 'scalar', type: name, text: '' });
          return;
        }
        if (!['methodCall', 'methodName', 'params', 'param', 'data', 'member'].includes(name)) fail(`unknown element <${name}>`);
        stack.push({ kind: 'other', tag: name });
    }
  });
  parser.on('text', (text) => {
    const frame = top();
    if (frame === undefined) return;
    if (frame.kind === 'scalar' || frame.kind === 'name' || frame.kind === 'value') frame.text += text;
    else if (frame.kind === 'other' && frame.tag === 'methodName') methodText += text;
  });
  parser.on('cdata', (text) => {
    const frame = top();
    if (frame?.kind === 'scalar' || frame?.kind === 'value' || frame?.kind === 'name') frame.text += text;
  });
  parser.on('closetag', (tag) => {
    path.pop();
    const frame = stack.pop();
    if (frame === undefined) return;
    switch (frame.kind) {
      case 'scalar': {
        const holder = top() as Extract<Frame, { kind: 'value' }>;
        holder.result = scalar(frame.type, frame.text);
        holder.hasResult = true;
        return;
      }
      case 'array':
        depth--;
        setResult(frame.items);
        return;
      case 'struct':
        depth--;
        if (frame.name !== undefined) fail('a struct <member> without a <value>');
        setResult({ ...frame.members });
        return;
      case 'name':
        (container() as Extract<Frame, { kind: 'struct' }>).name = frame.text;
        return;
      case 'value':
        // An untyped <value>text</value> is a string.
        deliver(frame.hasResult ? frame.result! : frame.typed ? fail(`empty <value>`) : frame.text);
        return;
      case 'other':
        if (tag.name === 'methodName') method = methodText.trim();
        return;
    }
  });
  const setResult = (value: XmlRpcValue): void => {
    const holder = top() as Extract<Frame, { kind: 'value' }>;
    holder.result = value;
    holder.hasResult = true;
  };
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
  if (!method) fail('no <methodName>');
  if (!/^[A-Za-z0-9_.:/]+$/.test(method!)) fail(`invalid method name ${JSON.stringify(method)}`);
  return { method: method!, params };
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
