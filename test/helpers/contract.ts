/**
 * Checks answers and events against the API contract: each mismatch as "path: what was expected"
 * (a missing required property, one the declaration does not name, a value of the wrong type).
 */
import { Kind, type TSchema } from '@sinclair/typebox';
import { TypeCompiler, type TypeCheck } from '@sinclair/typebox/compiler';
import { ValueErrorType } from '@sinclair/typebox/errors';
import { contract } from '../../src/api/contract/index.js';
import { MigrationStatus } from '../../src/api/contract/migration-verbs.js';
import { StatusDetails } from '../../src/api/contract/vm-types.js';

const compiled = new Map<TSchema, TypeCheck<TSchema>>();

function violationsOf(schema: TSchema, value: unknown, at = ''): string[] {
  let check = compiled.get(schema);
  if (check === undefined) {
    check = TypeCompiler.Compile(schema);
    compiled.set(schema, check);
  }
  return [...check.Errors(value)].flatMap((e) => {
    // A union says only "no branch matched": show why the closest branch does not.
    if (e.type === ValueErrorType.Union && e.schema[Kind] === 'Union') {
      const branches = (e.schema['anyOf'] as TSchema[]).map((b) => violationsOf(b, e.value, at + e.path));
      return branches.reduce((a, b) => (b.length < a.length ? b : a));
    }
    return [`${at}${e.path || '/'}: ${e.message}${e.value === undefined ? '' : ` (got ${JSON.stringify(e.value)?.slice(0, 60)})`}`];
  });
}

/** What is wrong with `answer` as the answer of `verb`; empty when it conforms. */
export function answerViolations(verb: string, answer: unknown): string[] {
  const declared = contract.get(verb);
  if (declared === undefined) return [`${verb} is not declared`];
  return violationsOf(declared.result, answer);
}

/** What is wrong with the params of an event whose values by VM id are `schema`s. */
function eventViolations(schema: TSchema, params: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (!Number.isInteger(params['notify_time']) || (params['notify_time'] as number) < 0) out.push('/notify_time: Expected a non-negative integer');
  for (const [key, details] of Object.entries(params)) {
    if (key !== 'notify_time') out.push(...violationsOf(schema, details).map((v) => `/${key}${v}`));
  }
  return out;
}

/** What is wrong with a `|virt|VM_status|<vmId>` event's params. */
export const statusEventViolations = (params: Record<string, unknown>): string[] => eventViolations(StatusDetails, params);

/** What is wrong with a `|virt|VM_migration_status|<vmId>` event's params. */
export const migrationEventViolations = (params: Record<string, unknown>): string[] => eventViolations(MigrationStatus, params);
