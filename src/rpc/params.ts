/**
 * Binds a request's params (object or positional array) to a method's declared parameters:
 * defaults filled in, strings converted to numbers and booleans (vdsm's bridge does), and the first bad
 * parameter named with the reason (-32602). The check is typebox's compiled validator, built once
 * per method; conversion runs only for a call that fails it as given.
 */
import { Kind, Type, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { Value } from '@sinclair/typebox/value';
import { InvalidParamsError } from './errors.js';
import { isRequired, type Method, type Param } from './method-table.js';
import { expectation } from './schema-text.js';

/** Kinds a string converts to; a number is never taken for a string, nor anything for an object. */
const CONVERTED = new Set(['Integer', 'Number', 'Boolean']);

const EMPTY: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** The declared parameters as one object schema; unknown names pass, as in vdsm's non-strict mode. */
function paramsSchema(params: readonly Param[]): TSchema {
  const properties: Record<string, TSchema> = {};
  for (const param of params) properties[param.name] = isRequired(param) ? param.schema : Type.Optional(param.schema);
  return Type.Object(properties);
}

const checks = new WeakMap<readonly Param[], TypeCheck<TSchema>>();

function checkOf(params: readonly Param[]): TypeCheck<TSchema> {
  let check = checks.get(params);
  if (check === undefined) {
    check = TypeCompiler.Compile(paramsSchema(params));
    checks.set(params, check);
  }
  return check;
}

export function bindParams(method: Method, params: unknown): Record<string, unknown> {
  const declared = method.params;
  let given: Record<string, unknown>;
  if (Array.isArray(params)) {
    if (params.length > declared.length) {
      throw new InvalidParamsError(method.name, `#${declared.length}`, `too many positional parameters: ${params.length} given, ${declared.length} accepted`);
    }
    given = {};
    for (let i = 0; i < params.length; i++) given[declared[i]!.name] = params[i];
  } else {
    given = (params as Record<string, unknown> | undefined) ?? EMPTY;
  }
  if (declared.length === 0) return given === EMPTY ? {} : given;

  const args: Record<string, unknown> = given === EMPTY ? {} : { ...given };
  for (const param of declared) {
    const value = args[param.name];
    // null is "absent" for a parameter that may be absent (vdsm's schema marks many null-able).
    if (value === undefined || (value === null && !isRequired(param))) {
      if (param.default !== undefined) args[param.name] = copyDefault(param.default);
      else delete args[param.name];
    }
  }
  const check = checkOf(declared);
  // Through a plain boolean: Check is a type guard, and narrowing args by it serves nothing here.
  const valid = (): boolean => check.Check(args);
  if (valid()) return args;
  for (const { name, schema } of declared) {
    const value: unknown = args[name];
    if (value !== undefined && CONVERTED.has(schema[Kind] as string)) args[name] = Value.Convert(schema, value);
  }
  if (valid()) return args;
  throw invalid(method, check, args, given);
}

function invalid(method: Method, check: TypeCheck<TSchema>, args: Record<string, unknown>, given: Record<string, unknown>): InvalidParamsError {
  const error = check.Errors(args).First()!;
  const [name = '', ...inner] = error.path.split('/').slice(1);
  if (error.type === ValueErrorType.ObjectRequiredProperty && inner.length === 0) {
    return new InvalidParamsError(method.name, name, 'required parameter is missing');
  }
  if (error.type === ValueErrorType.ObjectAdditionalProperties) {
    return new InvalidParamsError(method.name, name, `unknown property ${inner.join('.')}`);
  }
  const where = inner.length > 0 ? ` at ${inner.join('.')}` : '';
  const raw = inner.length > 0 ? error.value : given[name];
  return new InvalidParamsError(method.name, name, `expected ${expectation(error.schema)}${where}, got ${typeName(raw)}`);
}

function copyDefault(value: unknown): unknown {
  if (Array.isArray(value)) return [...value];
  if (value !== null && typeof value === 'object') return { ...value };
  return value;
}

function typeName(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}
