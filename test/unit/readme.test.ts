import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { repoRoot } from '../../src/paths.js';
import { configTable, readmeTable } from '../../scripts/config-table.js';
import { apiDoc, apiDocFile } from '../../scripts/api-doc.js';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');

describe('README', () => {
  it('documents every config key as the schema defines it (npm run readme:config)', () => {
    expect(readmeTable(readme)).toBe(configTable());
  });

  it('keeps docs/api.md as the contract declares the verbs (npm run docs:api)', () => {
    expect(readFileSync(apiDocFile, 'utf8')).toBe(apiDoc());
  });

  it('gives exactly two newcomer commands, the set-up+run and the test command CI runs', () => {
    const block = /## Quick start[\s\S]*?```sh\n([\s\S]*?)```/.exec(readme)![1]!;
    const commands = block.split('\n').filter((l) => l.trim() !== '').map((l) => l.replace(/#.*$/, '').trim());
    expect(commands).toEqual(['bash scripts/setup.sh && npm start', 'npm test']);
    const ci = readFileSync(join(repoRoot, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^bash scripts\/setup\.sh$/m);
    expect(ci).toMatch(/^npm test$/m);
  });

  it('ships a sample config that loads cleanly', () => {
    const { warnings, config } = loadConfig({ file: join(repoRoot, 'systemd', 'hostvisor.conf.sample') });
    expect(warnings).toEqual([]);
    expect(config.vars.ssl).toBe(true);
    expect(config.libvirt.uri).toBe('qemu:///system');
  });
});
