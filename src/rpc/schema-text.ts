/**
 * Schemas in words: the short type of a parameter or property (`uint`, `string[]`, `"a" | "b"`)
 * for method lists and the API reference, and what a bad parameter should have been, for errors.
 */
import { Kind, type TSchema } from '@sinclair/typebox';

/** vdsm's type names where it has them: int, uint, float, map. A named schema by its name. */
export function typeText(schema: TSchema): string {
  if (typeof schema.$id === 'string') return schema.$id;
  switch (schema[Kind]) {
    case 'String':
      return 'string';
    case 'Integer':
      return schema['minimum'] === 0 ? 'uint' : 'int';
    case 'Number':
      return 'float';
    case 'Boolean':
      return 'boolean';
    case 'Null':
      return 'null';
    case 'Literal':
      return JSON.stringify(schema['const']);
    case 'Union':
      return (schema['anyOf'] as TSchema[]).map(typeText).join(' | ');
    case 'Array': {
      const items = typeText(schema['items'] as TSchema);
      return items.includes(' ') ? `(${items})[]` : `${items}[]`;
    }
    case 'Record':
      return `map of ${typeText(Object.values(schema['patternProperties'] as Record<string, TSchema>)[0]!)}`;
    case 'Object':
      return 'object';
    default:
      return 'any';
  }
}

/** What a value should have been, as a phrase: "a non-negative integer", "one of "x", "y"". */
export function expectation(schema: TSchema): string {
  switch (schema[Kind]) {
    case 'Integer':
      return schema['minimum'] === 0 ? 'a non-negative integer' : 'an integer';
    case 'Object':
    case 'Record':
      return 'an object';
    case 'Array':
      return 'an array';
    case 'Union': {
      const options = schema['anyOf'] as TSchema[];
      if (options.every((o) => o[Kind] === 'Literal')) return `one of ${options.map((o) => JSON.stringify(o['const'])).join(', ')}`;
      return typeText(schema);
    }
    default: {
      const text = typeText(schema);
      return text === 'float' ? 'a number' : /^[aeiou]/.test(text) ? `an ${text}` : `a ${text}`;
    }
  }
}
