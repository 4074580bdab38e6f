import { describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import { ExpiringCache } from '../../src/virt/sampling/expiring-cache.js';
import { SampleWindow } from '../../src/virt/sampling/sample-window.js';
import { StatsCache } from '../../src/virt/sampling/stats-cache.js';

/** vdsm's test clock: advances 1 on every read unless frozen. */
function fakeClock(): { clock: () => number; freeze(at: number): void } {
  let now = 0;
  let frozen = false;
  return {
    clock: () => (frozen ? now : ++now),
    freeze(at) {
      now = at;
      frozen = true;
    },
  };
}

const log = getLogger('test');
const batch = (entries: Record<string, string>): Map<string, string> => new Map(Object.entries(entries));

describe('SampleWindow', () => {
  it('SW1 refuses a size below 1', () => {
    expect(() => new SampleWindow(0)).toThrowError('window size must be not less than 1');
    expect(() => new SampleWindow(-1)).toThrowError(RangeError);
  });

  it('SW2 last() gives the newest, last(2) the one before, last(3) nothing on a size-2 window', () => {
    const w = new SampleWindow<string>(2);
    w.append('a');
    w.append('b');
    expect(w.last()?.value).toBe('b');
    expect(w.last(2)?.value).toBe('a');
    expect(w.last(3)).toBeUndefined();
  });

  it('SW3 stats() needs two samples and keeps the last two', () => {
    let t = 0;
    const w = new SampleWindow<number>(2, () => ++t);
    expect(w.stats()).toBeUndefined();
    w.append(1);
    expect(w.stats()).toBeUndefined();
    w.append(2);
    w.append(3);
    expect(w.stats()).toEqual({ first: 2, last: 3, interval: 1 });
  });
});

describe('StatsCache', () => {
  it('SC1/SC2 is empty with no batch or one batch', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    expect(cache.get('a').sample).toBeUndefined();
    cache.put(batch({ a: 'foo' }), 1);
    expect(cache.get('a').sample).toBeUndefined();
  });

  it('SC3 gives both values, the interval between appends and the age', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    cache.put(batch({ a: 'foo' }), 1);
    cache.put(batch({ a: 'bar' }), 2);
    c.freeze(3);
    expect(cache.get('a')).toEqual({ sample: { first: 'foo', last: 'bar', interval: 1 }, age: 1 });
  });

  it('SC5/SC6 excludes a VM missing from either batch', () => {
    const cache = new StatsCache<string>(log, fakeClock().clock);
    cache.put(batch({ a: 'x', b: 'y' }), 1);
    cache.put(batch({ a: 'z' }), 2);
    expect(cache.get('b').sample).toBeUndefined();
    expect(cache.get('a').sample?.last).toBe('z');
  });

  it('SC8 an unknown VM is empty with an age counted from zero', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    c.freeze(3);
    expect(cache.get('nope')).toEqual({ sample: undefined, age: 3 });
  });

  it('SC9 keeps the last two batches', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    cache.put(batch({ a: 'foo' }), 1);
    cache.put(batch({ a: 'bar' }), 2);
    cache.put(batch({ a: 'baz' }), 3);
    c.freeze(4);
    expect(cache.get('a')).toEqual({ sample: { first: 'bar', last: 'baz', interval: 1 }, age: 1 });
  });

  it('SC4/SC10 drops a batch older than the newest stored (a discarded worker\'s late result)', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    expect(cache.put(batch({ a: 'foo' }), 1)).toBe(true);
    expect(cache.put(batch({ a: 'bar' }), 0)).toBe(false);
    expect(cache.put(batch({ a: 'baz' }), 3)).toBe(true);
    c.freeze(3);
    expect(cache.get('a')).toEqual({ sample: { first: 'foo', last: 'baz', interval: 1 }, age: 0 });
  });

  it('D16 accepts a batch whose stamp equals the newest', () => {
    const cache = new StatsCache<string>(log, fakeClock().clock);
    expect(cache.put(batch({ a: 'foo' }), 5)).toBe(true);
    expect(cache.put(batch({ a: 'bar' }), 5)).toBe(true);
    expect(cache.get('a').sample?.last).toBe('bar');
  });

  it('SC11 a VM missing from the middle batch is empty until it is in both', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    cache.put(batch({ a: 'foo', b: 'foo' }), 1);
    cache.put(batch({ a: 'bar' }), 2);
    cache.put(batch({ a: 'baz', b: 'baz' }), 3);
    c.freeze(4);
    expect(cache.get('a')).toEqual({ sample: { first: 'bar', last: 'baz', interval: 1 }, age: 1 });
    expect(cache.get('b')).toEqual({ sample: undefined, age: 1 });
  });

  it('SC13 a VM seen long ago ages from when it was added', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    cache.add('a'); // clock 1
    cache.put(batch({ b: 'x' }), 2);
    cache.put(batch({ b: 'y' }), 3);
    c.freeze(101);
    expect(cache.get('a')).toEqual({ sample: undefined, age: 100 });
  });

  it('reports the age of the newest batch for health checks', () => {
    const c = fakeClock();
    const cache = new StatsCache<string>(log, c.clock);
    expect(cache.newestAge()).toBe(Infinity);
    cache.put(batch({}), 5);
    c.freeze(8);
    expect(cache.newestAge()).toBe(3);
  });
});

describe('ExpiringCache (X1)', () => {
  it('keeps an entry until ttl and expires it at exactly ttl', () => {
    let now = 0;
    const cache = new ExpiringCache<string, number>(10, () => now);
    cache.set('a', 1);
    now = 9.999;
    expect(cache.get('a')).toBe(1);
    expect(cache.isEmpty()).toBe(false);
    now = 10;
    expect(cache.get('a')).toBeUndefined();
    expect(cache.isEmpty()).toBe(true);
  });

  it('tracks partial expiry, delete and clear', () => {
    let now = 0;
    const cache = new ExpiringCache<string, number>(10, () => now);
    cache.set('a', 1);
    now = 5;
    cache.set('b', 2);
    now = 12;
    expect(cache.has('a')).toBe(false);
    expect(cache.get('b')).toBe(2);
    expect(cache.delete('b')).toBe(true);
    expect(cache.delete('b')).toBe(false);
    cache.set('c', 3);
    cache.clear();
    expect(cache.isEmpty()).toBe(true);
  });
});
