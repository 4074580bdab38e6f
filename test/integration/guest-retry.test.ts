/**
 * A guest socket that disappears is retried, against the running daemon: a fake
 * guest (QEMU's end of the oVirt agent channel) is bound at a VM's channel path in a temporary
 * channels folder; the socket goes away (connection dropped, file removed), the daemon keeps
 * trying with a growing delay, and once the socket is bound again it reconnects and data flows
 * both ways again.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { FakeGuest } from '../doubles/fake-guest.js';
import { QUICK_DAEMON, readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'hv-guest-retry-'));
const channelsDir = join(dir, 'channels');
mkdirSync(channelsDir);
const VM_ID = 'bbbbbbbb-0000-0000-0000-000000000011';
const ABSENT_MS = 2000;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

const domain = (path: string): string => `<domain type='test'>
  <name>guest-retry</name><uuid>${VM_ID}</uuid><memory unit='MiB'>256</memory><vcpu>1</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices><channel type='unix'><source mode='bind' path='${path}'/><target type='virtio' name='ovirt-guest-agent.0'/></channel></devices>
</domain>`;

describe('a guest socket that disappears', () => {
  let daemon: RunningDaemon;
  let client: JsonRpcClient;

  beforeAll(async () => {
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...QUICK_DAEMON,
      HOSTVISOR_LOGGING_LEVEL: 'debug', // the channel's retries are logged at debug
      HOSTVISOR_GUEST_AGENT_CHANNELS_DIR: channelsDir,
    });
    client = await JsonRpcClient.connect({ host: '127.0.0.1', port: await readyPort(daemon), timeoutMs: 15_000 });
  }, 40_000);

  afterAll(async () => {
    expect(await stopDaemon(daemon, client)).toBe(0);
    rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  /** The VM's stats as the API gives them, once `check` holds (polled). */
  async function statsWhen(check: (s: Record<string, unknown>) => boolean, ms = 10_000): Promise<Record<string, unknown>> {
    const deadline = Date.now() + ms;
    for (;;) {
      const [stats] = (await client.call('VM.getStats', { vmID: VM_ID })) as Array<Record<string, unknown>>;
      if (stats && check(stats)) return stats;
      if (Date.now() > deadline) throw new Error(`VM stats never matched; last: ${JSON.stringify(stats)}`);
      await sleep(50);
    }
  }

  const retries = (): Array<Record<string, unknown>> =>
    daemon.logs.filter((l) => l.msg === 'guest agent channel: retrying' && l['vmId'] === VM_ID);

  it('is retried with a growing delay, and data flows again once it is back', async () => {
    const path = join(channelsDir, 'guest-retry.ovirt-guest-agent.0');
    const guest = new FakeGuest(path);
    await guest.listen();
    try {
      await client.call('VM.create', { vmParams: { xml: domain(path) } });
      // First session: the host says hello, the guest's data reaches the API.
      await guest.until(() => guest.connections === 1 && guest.received.some((m) => m['__name__'] === 'refresh'), 15_000);
      guest.heartbeat('256', 3);
      guest.send('host-name', { name: 'before' });
      await statsWhen((s) => s['guestName'] === 'before');
      expect(retries()).toEqual([]);

      // The socket disappears: the connection drops and the file is removed (QEMU gone).
      await guest.close();
      const goneAt = Date.now();
      await sleep(ABSENT_MS);
      const during = retries();
      // Retried while away, not given up on, and not spinning either.
      expect(during.length).toBeGreaterThanOrEqual(2);
      expect(during.length).toBeLessThanOrEqual(8);
      expect(during[0]!['why']).toBe('closed');
      for (const l of during.slice(1)) expect(l['why']).toBe('ENOENT'); // the socket file is gone
      const delays = during.map((l) => l['delay'] as number);
      for (let i = 1; i < delays.length; i++) expect(delays[i]!).toBeGreaterThanOrEqual(delays[i - 1]!);
      expect(delays.at(-1)!).toBeGreaterThan(delays[0]!);
      expect(guest.connections).toBe(1);
      const stillUp = await statsWhen(() => true);
      expect(stillUp['status']).toBe('Up');

      // Bound again: the daemon reconnects on its own and the session starts over.
      await guest.listen();
      await guest.until(() => guest.connections === 2 && guest.received.filter((m) => m['__name__'] === 'refresh').length === 2, 15_000);
      expect(Date.now() - goneAt).toBeLessThan(ABSENT_MS + 10_000);
      guest.heartbeat('128', 3);
      guest.send('host-name', { name: 'after' });
      const after = await statsWhen((s) => s['guestName'] === 'after');
      expect(after['status']).toBe('Up');
      // And host to guest: a command reaches the new connection.
      const before = guest.received.length;
      await client.call('VM.desktopLock', { vmID: VM_ID });
      await guest.until(() => guest.received.slice(before).some((m) => m['__name__'] === 'lock-screen'), 5000);
    } finally {
      await guest.close();
      await client.call('VM.destroy', { vmID: VM_ID }).catch((e: unknown) => e);
    }
    expect(daemon.logs.filter((l) => l.level >= 60 || /uncaught/i.test(l.msg))).toEqual([]);
  });
});
