/**
 * README's config reference table, made from the schema so the two never disagree.
 * `npm run readme:config` rewrites the table between its markers in README.md;
 * test/unit/readme.test.ts fails when README holds anything else.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { schema } from '../src/config/schema.js';
import type { Setting } from '../src/config/settings.js';
import { repoRoot } from '../src/paths.js';

export const START = '<!-- config-table:start -->';
export const END = '<!-- config-table:end -->';

export function configTable(): string {
  const rows = ['| key | default | allowed | environment | what it does |', '|---|---|---|---|---|'];
  for (const [section, keys] of Object.entries(schema as unknown as Record<string, Record<string, Setting<unknown>>>)) {
    for (const [key, s] of Object.entries(keys)) {
      const env = `HOSTVISOR_${section}_${key}`.toUpperCase();
      rows.push(`| [${section}] ${key} | \`${s.format(s.default) || '""'}\` | ${s.allowed} | ${env} | ${s.doc} |`);
    }
  }
  return rows.join('\n');
}

/** The table currently in README, between the markers. */
export function readmeTable(readme: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${START} ... ${END} block`);
  return readme.slice(start + START.length, end).trim();
}

if (process.argv[1]?.endsWith('config-table.js')) {
  const file = join(repoRoot, 'README.md');
  const readme = readFileSync(file, 'utf8');
  readmeTable(readme); // throws when the markers are missing
  const head = readme.slice(0, readme.indexOf(START) + START.length);
  const tail = readme.slice(readme.indexOf(END));
  writeFileSync(file, `${head}\n${configTable()}\n${tail}`);
}
