import { afterAll, describe, expect, it } from 'vitest';
import { getLogger, initLogging, setLogLevel } from '../../src/log.js';

const lines: Array<{ msg: string; component?: string }> = [];
// Made at module load, before logging is set up, as a module-level logger is.
const early = getLogger('early');

afterAll(() => setLogLevel('silent'));

describe('run-time log level', () => {
  it('a logger obtained before initLogging and setLogLevel follows the level set later, and so do its children', () => {
    initLogging('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
    early.debug('hidden');
    expect(lines).toEqual([]);
    setLogLevel('debug');
    early.debug('shown');
    const child = early.child({ part: 'x' });
    setLogLevel('warn');
    child.info('hidden too');
    early.info('hidden three');
    setLogLevel('debug');
    child.debug('child shown');
    expect(lines.map((l) => l.msg)).toEqual(['shown', 'child shown']);
    expect(lines[0]).toMatchObject({ component: 'early' });
  });
});
