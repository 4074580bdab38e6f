import { describe, expect, it } from 'vitest';
import { sharedWhileRunning } from '../../src/api/shared-while-running.js';

describe('sharedWhileRunning', () => {
  it('calls during a run share it; a call after it settles runs again, failures included', async () => {
    let builds = 0;
    let fail = false;
    const shared = sharedWhileRunning(async () => {
      const n = ++builds;
      await new Promise((r) => setTimeout(r, 20));
      if (fail) throw new Error(`build ${n} failed`);
      return { n };
    });
    const [a, b, c] = await Promise.all([shared(), shared(), shared()]);
    expect(builds).toBe(1);
    expect(a).toBe(b);
    expect(b).toBe(c);
    expect(await shared()).toEqual({ n: 2 });
    fail = true;
    const failed = await Promise.allSettled([shared(), shared()]);
    expect(builds).toBe(3);
    expect(failed.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await shared()).toEqual({ n: 4 });
  });
});
