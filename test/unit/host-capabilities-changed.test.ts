/**
 * After a change to the host (a network setup), capabilities are gathered again and getCapabilities
 * waits for that gathering instead of answering what is no longer true; a gathering that started
 * before the change and ends after it does not replace the newer answer.
 */
import { describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import type { Dispatcher } from '../../src/tasks/contract.js';
import type { CapabilityFacts } from '../../src/tasks/host-caps.js';
import { HostCapabilities } from '../../src/virt/host/capabilities.js';

/** A dispatcher whose gatherings end when the test says; each answers its own number. */
function gatherings(): { dispatcher: Dispatcher; finish(n: number): void; started(): number } {
  const pending = new Map<number, () => void>();
  let count = 0;
  return {
    dispatcher: {
      dispatch: <R>() =>
        new Promise<R>((resolve) => {
          const n = ++count;
          pending.set(n, () => resolve({ missingNetworks: [], n } as unknown as R));
        }),
    } as Dispatcher,
    finish: (n) => pending.get(n)!(),
    started: () => count,
  };
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 0));
const numberOf = (facts: CapabilityFacts | undefined): number | undefined => (facts as unknown as { n: number } | undefined)?.n;

describe('capabilities after a change', () => {
  it('answers from the gathering the last change started, whatever order gatherings end in', async () => {
    const caps = new HostCapabilities({ uri: 'test:///default', agent: { version: '1', release: '1' }, log: getLogger('test') } as never);
    const g = gatherings();
    void caps.refresh(g.dispatcher);
    g.finish(1);
    await settle();
    expect(numberOf(await caps.upToDate())).toBe(1);

    void caps.refresh(g.dispatcher); // a periodic gathering, started before the change
    caps.changed(g.dispatcher);
    let answered: CapabilityFacts | undefined;
    void caps.upToDate().then((facts) => (answered = facts));
    caps.changed(g.dispatcher); // a second change: the answer waits for its gathering too
    expect(g.started()).toBe(4);
    g.finish(3);
    await settle();
    expect(answered).toBeUndefined();
    g.finish(4);
    await settle();
    expect(numberOf(answered)).toBe(4);
    g.finish(2); // the periodic one, ending last, is older: dropped
    await settle();
    expect(numberOf(caps.facts)).toBe(4);
  });
});
