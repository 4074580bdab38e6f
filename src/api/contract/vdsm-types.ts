/**
 * vdsm's schema types as typebox schemas. vdsm's rule: a property with no default is required;
 * an object carries no property its type does not name. Numbers vdsm sends as strings (most of
 * them) are `string` here, as in its schema; `int`, `uint` and `float` are JSON numbers.
 */
import { Type, type TLiteral, type TObject, type TProperties, type TSchema, type TUnion } from '@sinclair/typebox';

export const str = (): TSchema => Type.String();
export const int = (): TSchema => Type.Integer();
export const uint = (): TSchema => Type.Integer({ minimum: 0 });
export const float = (): TSchema => Type.Number();
export const bool = (): TSchema => Type.Boolean();
/** vdsm's UUID alias: a string, checked for the UUID form. */
export const uuid = (): TSchema => Type.String({ pattern: '^[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$' });
export const list = (items: TSchema): TSchema => Type.Array(items);
/** A map by string keys (vdsm's maps keyed by name, id or number all travel with string keys). */
export const map = (value: TSchema): TSchema => Type.Record(Type.String(), value);
/** Any JSON value: where vdsm's schema says `dict` or leaves the shape to the caller. */
export const any = (): TSchema => Type.Unknown();

export function oneOf<const V extends readonly (string | number)[]>(...values: V): TUnion<TLiteral<V[number]>[]> {
  return Type.Union(values.map((v) => Type.Literal(v)));
}

/**
 * An object of vdsm's schema: `required` properties must be there, `optional` ones may, and no
 * other may (`$id` names it in the API reference).
 */
export function record(name: string, required: TProperties, optional: TProperties = {}): TObject {
  const properties: TProperties = { ...required };
  for (const [key, schema] of Object.entries(optional)) properties[key] = Type.Optional(schema);
  return Type.Object(properties, { $id: name, additionalProperties: false });
}

/**
 * An object a request carries: like `record`, but properties it does not name are let through
 * (and ignored), as vdsm does: the engine sends keys its schema does not list (VM.migrate's
 * `src` and `downtime`, for one).
 */
export function request(name: string, required: TProperties, optional: TProperties = {}): TObject {
  const properties: TProperties = { ...required };
  for (const [key, schema] of Object.entries(optional)) properties[key] = Type.Optional(schema);
  return Type.Object(properties, { $id: name, additionalProperties: true });
}

/** A boolean a request may carry as a string, as the engine sends most of them. */
export const flag = (): TSchema => Type.Union([Type.Boolean(), oneOf('true', 'false', 'True', 'False')]);
/** A non-negative whole number a request may carry as a string of digits. */
export const count = (): TSchema => Type.Union([Type.Integer({ minimum: 0 }), Type.String({ pattern: '^[0-9]+$' })]);
