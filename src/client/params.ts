/** hostvisor-client's reading of its arguments, and the method list it prints. */
import { contract } from '../api/contract/index.js';
import { isRequired } from '../rpc/method-table.js';
import { typeText } from '../rpc/schema-text.js';

export class UsageError extends Error {}

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

/** Every verb of the API contract with its parameters (optional ones in brackets) and its answer. */
export function listMethods(): string {
  const lines: string[] = [];
  for (const name of [...contract.keys()].sort()) {
    const declared = contract.get(name)!;
    const params = declared.params.map((p) => {
      const text = `${p.name}: ${typeText(p.schema)}${p.default !== undefined ? ` = ${JSON.stringify(p.default)}` : ''}`;
      return isRequired(p) ? text : `[${text}]`;
    });
    lines.push(`${name}(${params.join(', ')}) -> ${typeText(declared.result)}`);
  }
  return lines.join('\n') + '\n';
}
