/**
 * docs/api.md, printed from the contract (src/api/contract) so the reference and the verbs served
 * never disagree. `npm run docs:api` rewrites the file; test/unit/readme.test.ts fails when the
 * file holds anything else.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, OptionalKind, type TSchema } from '@sinclair/typebox';
import { contract } from '../src/api/contract/index.js';
import { isRequired } from '../src/rpc/method-table.js';
import { typeText } from '../src/rpc/schema-text.js';
import { repoRoot } from '../src/paths.js';

export const apiDocFile = join(repoRoot, 'docs', 'api.md');

const HEADER = `# API reference

Every verb hostvisor serves, with its parameters in call order and the shape of its answer. The
names, types and required properties follow vdsm's API schema (vdsm-api.yml), so the engine and
vdsm's own client read the answers unchanged. A parameter with a default may be left out; a
property marked *optional* may be absent from an answer; no answer carries a property its type
does not list.

Types: \`string\`, \`int\`, \`uint\` (non-negative), \`float\`, \`boolean\`; \`T[]\` is a list;
\`map of T\` an object keyed by name or id; \`any\` a value whose shape the caller chooses.

Generated from \`src/api/contract\` by \`npm run docs:api\`; a test keeps it in step.

Where vdsm's answers and its schema disagree, we answer as vdsm does, since the engine parses
vdsm's answers: Host.getStats' \`v2vJobs\` is one map by job id (the schema says a list), and its
\`hugepages\` (the counts of huge pages by page size) is not in the schema; a running VM's stats carry
the guest facts \`guestName\`, \`guestOs\`, \`guestOsInfo\`, \`guestTimezone\` and \`lastLogin\`,
which the schema names only in the VM definition or not at all. Requests may carry properties
their type does not list (the engine sends some, e.g. VM.migrate's \`src\`, VM.updateVmPolicy's
\`vmId\`): they are let through and ignored.
`;

/** Every named type a schema mentions, in the order first met, each once. */
function namedTypes(schema: TSchema, found: Map<string, TSchema>): void {
  if (typeof schema.$id === 'string') {
    if (found.has(schema.$id)) return;
    found.set(schema.$id, schema);
  }
  const children: TSchema[] = [];
  if (schema[Kind] === 'Object') children.push(...Object.values(schema['properties'] as Record<string, TSchema>));
  if (schema[Kind] === 'Array') children.push(schema['items'] as TSchema);
  if (schema[Kind] === 'Record') children.push(...Object.values(schema['patternProperties'] as Record<string, TSchema>));
  if (schema[Kind] === 'Union') children.push(...(schema['anyOf'] as TSchema[]));
  for (const child of children) namedTypes(child, found);
}

/** A type in a table cell; named types link to their section. */
function typeCell(schema: TSchema, named: ReadonlyMap<string, TSchema>): string {
  return typeText(schema)
    .replaceAll('|', '\\|')
    .replace(/\b[A-Z]\w*\b/g, (name) => (named.has(name) ? `[${name}](#${name.toLowerCase()})` : name));
}

function typeSection(name: string, schema: TSchema, named: ReadonlyMap<string, TSchema>): string[] {
  const lines = [`### ${name}`, ''];
  if (schema[Kind] !== 'Object') {
    lines.push(typeCell({ ...schema, $id: undefined }, named), '');
    return lines;
  }
  lines.push('| property | type | |', '|---|---|---|');
  for (const [key, property] of Object.entries(schema['properties'] as Record<string, TSchema>)) {
    lines.push(`| ${key} | ${typeCell(property, named)} | ${property[OptionalKind] === 'Optional' ? 'optional' : ''} |`);
  }
  lines.push('');
  return lines;
}

export function apiDoc(): string {
  const named = new Map<string, TSchema>();
  for (const declaration of contract.values()) {
    for (const param of declaration.params) namedTypes(param.schema, named);
    namedTypes(declaration.result, named);
  }
  const lines = [HEADER, '## Verbs', ''];
  for (const declaration of [...contract.values()].sort((a, b) => a.name.localeCompare(b.name))) {
    lines.push(`### ${declaration.name}`, '', declaration.summary, '');
    if (declaration.params.length > 0) {
      lines.push('| parameter | type | |', '|---|---|---|');
      for (const param of declaration.params) {
        const note = isRequired(param) ? 'required' : param.default === undefined ? 'optional' : `default \`${JSON.stringify(param.default)}\``;
        lines.push(`| ${param.name} | ${typeCell(param.schema, named)} | ${note} |`);
      }
      lines.push('');
    }
    lines.push(`Answers ${typeCell(declaration.result, named)}.`, '');
  }
  lines.push('## Types', '');
  for (const [name, schema] of [...named].sort(([a], [b]) => a.localeCompare(b))) lines.push(...typeSection(name, schema, named));
  return `${lines.join('\n').trimEnd()}\n`;
}

if (process.argv[1]?.endsWith('api-doc.js')) writeFileSync(apiDocFile, apiDoc());
