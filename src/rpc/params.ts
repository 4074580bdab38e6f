/**
 * Binds a request's params (object or positional array) to a method's parameter schema:
 * defaults filled in, strings coerced where vdsm's bridge does, and the first bad parameter
 * named with the reason (-32602).
 */
import { InvalidParamsError } from './errors.js';
import type { Method, ParamSpec, ParamType } from './method-table.js';

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

export function bindParams(method: Method, params: unknown): Record<string, unknown> {
  const specs = method.params;
  let given: Record<string, unknown>;
  if (Array.isArray(params)) {
    if (params.length > specs.length) {
      throw new InvalidParamsError(method.name, `#${specs.length}`, `too many positional parameters: ${params.length} given, ${specs.length} accepted`);
    }
    given = {};
    for (let i = 0; i < params.length; i++) given[specs[i]!.name] = params[i];
  } else {
    given = (params as Record<string, unknown> | undefined) ?? EMPTY;
  }
  if (specs.length === 0) return given === EMPTY ? {} : given;

  // Unknown names pass through untouched, as in vdsm's non-strict mode.
  const args: Record<string, unknown> = given === EMPTY ? {} : { ...given };
  for (const spec of specs) {
    const raw = args[spec.name];
    if (raw === undefined || (raw === null && spec.nullable)) {
      if (spec.default !== undefined) args[spec.name] = copyDefault(spec.default);
      else if (spec.required !== false && !spec.nullable) {
        throw new InvalidParamsError(method.name, spec.name, 'required parameter is missing');
      }
      continue;
    }
    args[spec.name] = check(method.name, spec, raw);
  }
  return args;
}

function copyDefault(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === 'object') return { ...value };
  return value;
}

function check(method: string, spec: ParamSpec, raw: unknown): unknown {
  const value = coerce(spec.type, raw);
  if (value === undefined) {
    throw new InvalidParamsError(method, spec.name, `expected ${describe(spec.type)}, got ${typeName(raw)}`);
  }
  if (spec.enum && !spec.enum.includes(value)) {
    throw new InvalidParamsError(method, spec.name, `expected one of ${spec.enum.map((v) => JSON.stringify(v)).join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** The value as the type wants it, or undefined when it cannot be. */
function coerce(type: ParamType, v: unknown): unknown {
  switch (type) {
    case 'any':
      return v;
    case 'string':
      return typeof v === 'string' ? v : undefined;
    case 'number':
      if (typeof v === 'number' && Number.isFinite(v)) return v;
      return typeof v === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(v) ? Number(v) : undefined;
    case 'integer':
    case 'uint': {
      let n: number | undefined;
      if (typeof v === 'number') n = v;
      else if (typeof v === 'string' && /^\s*-?\d+\s*$/.test(v)) n = Number(v);
      if (n === undefined || !Number.isSafeInteger(n)) return undefined;
      return type === 'uint' && n < 0 ? undefined : n;
    }
    case 'boolean':
      if (typeof v === 'boolean') return v;
      if (typeof v === 'string') {
        const s = v.trim().toLowerCase();
        if (s === 'true') return true;
        if (s === 'false') return false;
      }
      return undefined;
    case 'object':
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined;
    case 'array':
      return Array.isArray(v) ? v : undefined;
  }
}

function describe(type: ParamType): string {
  switch (type) {
    case 'uint':
      return 'a non-negative integer';
    case 'integer':
      return 'an integer';
    case 'object':
      return 'an object';
    case 'array':
      return 'an array';
    default:
      return `a ${type}`;
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
