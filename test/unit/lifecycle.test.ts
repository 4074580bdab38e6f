import { describe, expect, it } from 'vitest';
import { Lifecycle, PartFailed, StartAborted, type Part } from '../../src/lifecycle.js';
import { getLogger } from '../../src/log.js';

const log = getLogger('test');

interface Recorder {
  events: string[];
  part(name: string, behaviour?: { start?: (signal: AbortSignal) => Promise<void>; stop?: () => Promise<void> }): Part;
}

function recorder(): Recorder {
  const events: string[] = [];
  return {
    events,
    part: (name, behaviour = {}) => ({
      name,
      async start(signal) {
        events.push(`start ${name}`);
        await behaviour.start?.(signal);
        events.push(`started ${name}`);
      },
      async stop() {
        events.push(`stop ${name}`);
        await behaviour.stop?.();
      },
    }),
  };
}

const never = (): Promise<void> => new Promise(() => undefined);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('Lifecycle', () => {
  it('starts parts in order and stops them in reverse', async () => {
    const r = recorder();
    const lc = new Lifecycle([r.part('a'), r.part('b'), r.part('c')], log);
    await lc.start();
    const result = await lc.stop(1000);
    expect(result).toEqual({ clean: true, failed: [] });
    expect(r.events).toEqual(['start a', 'started a', 'start b', 'started b', 'start c', 'started c', 'stop c', 'stop b', 'stop a']);
  });

  it('waits for each start before the next (a part may need the one before it)', async () => {
    const r = recorder();
    const lc = new Lifecycle([r.part('slow', { start: () => sleep(50) }), r.part('next')], log);
    await lc.start();
    expect(r.events.indexOf('started slow')).toBeLessThan(r.events.indexOf('start next'));
    await lc.stop(1000);
  });

  it('stops the parts already started when one fails, and names the failed part', async () => {
    const r = recorder();
    const lc = new Lifecycle(
      [r.part('a'), r.part('broken', { start: () => Promise.reject(new Error('no hypervisor')) }), r.part('never')],
      log,
    );
    const err = await lc.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PartFailed);
    expect((err as PartFailed).part).toBe('broken');
    expect((err as Error).message).toBe('broken failed to start: no hypervisor');
    await lc.stop(1000);
    expect(r.events).toEqual(['start a', 'started a', 'start broken', 'stop a']);
  });

  it('aborts a start in progress when a stop arrives, then stops what started', async () => {
    const r = recorder();
    let sawAbort = false;
    const waitForever = (signal: AbortSignal): Promise<void> => {
      signal.addEventListener('abort', () => (sawAbort = true));
      return never();
    };
    const lc = new Lifecycle([r.part('a'), r.part('hangs', { start: waitForever }), r.part('never')], log);
    const starting = lc.start();
    await sleep(20);
    const result = await lc.stop(1000);
    await expect(starting).rejects.toBeInstanceOf(StartAborted);
    expect(sawAbort).toBe(true);
    expect(result.clean).toBe(true);
    expect(r.events).toEqual(['start a', 'started a', 'start hangs', 'stop hangs', 'stop a']);
  });

  it('gives up on a part that does not stop within the deadline and still stops the rest', async () => {
    const r = recorder();
    const lc = new Lifecycle([r.part('a'), r.part('stuck', { stop: never }), r.part('c')], log);
    await lc.start();
    const t0 = performance.now();
    const result = await lc.stop(200);
    const elapsed = performance.now() - t0;
    expect(result).toEqual({ clean: false, failed: ['stuck'] });
    expect(r.events.slice(-3)).toEqual(['stop c', 'stop stuck', 'stop a']);
    expect(elapsed).toBeGreaterThanOrEqual(150);
    expect(elapsed).toBeLessThan(5000);
  });

  it('reports a part whose stop throws, and is idempotent', async () => {
    const r = recorder();
    const lc = new Lifecycle([r.part('a'), r.part('b', { stop: () => Promise.reject(new Error('boom')) })], log);
    await lc.start();
    const first = lc.stop(1000);
    expect(lc.stop(1000)).toBe(first);
    expect(await first).toEqual({ clean: false, failed: ['b'] });
    expect(r.events.filter((e) => e.startsWith('stop'))).toEqual(['stop b', 'stop a']);
  });

  it('refuses to start after a stop', async () => {
    const r = recorder();
    const lc = new Lifecycle([r.part('a')], log);
    await lc.stop(100);
    await expect(lc.start()).rejects.toBeInstanceOf(StartAborted);
    expect(r.events).toEqual([]);
  });
});
