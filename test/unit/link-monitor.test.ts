// The link monitor: bursts of kernel changes reported once, a long burst at least every
// maxDelayMs, the monitor started again when it ends, and a missing `ip` said once.
import { afterEach, describe, expect, it } from 'vitest';
import { LinkMonitor } from '../../src/virt/host/link-monitor.js';
import { captureLogger, delay, waitFor } from '../fixtures/concurrency.js';

const monitors: LinkMonitor[] = [];
afterEach(() => {
  for (const m of monitors.splice(0)) m.stop();
});

/** A monitor whose "ip" is a node script printing lines at the given delays (ms from start). */
function monitor(script: string, options: { quietMs?: number; maxDelayMs?: number } = {}) {
  const changes: number[] = [];
  const t0 = Date.now();
  const { logger, messages } = captureLogger();
  const m = new LinkMonitor({ onChange: () => changes.push(Date.now() - t0), log: logger, command: [process.execPath, '-e', script], ...options });
  monitors.push(m);
  m.start();
  return { changes, messages };
}

describe('LinkMonitor', () => {
  it('reports a burst of changes once, after the kernel has been quiet', async () => {
    const { changes } = monitor(`for (let i = 0; i < 5; i++) console.log('2: veth_a: <BROADCAST> mtu 1500'); setInterval(() => {}, 1000);`, { quietMs: 100 });
    await waitFor(() => changes.length > 0, 5000, 'one report');
    await delay(300);
    expect(changes).toHaveLength(1);
  });

  it('reports a burst that does not end at least every maxDelayMs', async () => {
    const { changes } = monitor(`setInterval(() => console.log('3: tap0: change'), 20);`, { quietMs: 100, maxDelayMs: 300 });
    await waitFor(() => changes.length >= 2, 5000, 'two reports');
    expect(changes[1]! - changes[0]!).toBeLessThan(1000);
  });

  it('starts the monitor again when it ends, and reports what the new one reads', async () => {
    const { changes, messages } = monitor(`console.log('4: veth_b: up'); setTimeout(() => process.exit(0), 100);`, { quietMs: 50 });
    await waitFor(() => changes.length >= 2, 10_000, 'a report after a restart');
    expect(messages().filter((m) => m === 'the link monitor ended; starting it again').length).toBeGreaterThanOrEqual(1);
  });

  it('takes a monitor that cannot find its program (exit 127) as missing: said once, not restarted', async () => {
    const { changes, messages } = monitor('process.exit(127)', { quietMs: 50 });
    await waitFor(() => messages().some((m) => m.startsWith('no iproute2')), 5000, 'the warning');
    await delay(1500);
    expect(messages().filter((m) => m.startsWith('no iproute2'))).toHaveLength(1);
    expect(messages()).not.toContain('the link monitor ended; starting it again');
    expect(changes).toEqual([]);
  });

  it('says once that there is no iproute2, and reports nothing', async () => {
    const changes: number[] = [];
    const { logger, messages } = captureLogger();
    const m = new LinkMonitor({ onChange: () => changes.push(1), log: logger, command: ['/nonexistent/ip', 'monitor'] });
    monitors.push(m);
    m.start();
    await waitFor(() => messages().some((m) => m.startsWith('no iproute2')), 5000, 'the warning');
    await delay(200);
    expect(messages().filter((m) => m.startsWith('no iproute2'))).toHaveLength(1);
    expect(changes).toEqual([]);
  });
});
