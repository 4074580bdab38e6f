/** hostvisor-client's reading of its arguments, and the method list it prints. */
import type { ApiContext } from '../api/context.js';
import { buildMethodTable } from '../api/table.js';

export class UsageError extends Error {}

/** Every property is itself, and calling it throws: a context for building the table offline. */
const unusable: unknown = new Proxy(function unusable() {}, {
  get: () => unusable,
  apply: () => {
    throw new Error('not connected to a host');
  },
});

/** `name=value` pairs: JSON where the value parses as JSON, the raw string otherwise. */
export function parseParams(pairs: readonly string[]): Record<string, unknown> {
  const params: Record<string, unknown> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`parameter "${pair}" is not name=value`);
    const raw = pair.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // not JSON: a string
    }
    params[pair.slice(0, eq)] = value;
  }
  return params;
}

export function listMethods(): string {
  // The table's parameter specs are static; handlers are never called here, so the context is a
  // stand-in any use of which fails.
  const table = buildMethodTable(unusable as ApiContext);
  const lines: string[] = [];
  for (const name of table.names()) {
    const params = table.get(name)!.params.map((p) => {
      const optional = p.default !== undefined || p.required === false || p.nullable;
      const text = `${p.name}: ${p.type}${p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : ''}`;
      return optional ? `[${text}]` : text;
    });
    lines.push(`${name}(${params.join(', ')})`);
  }
  return lines.join('\n') + '\n';
}

