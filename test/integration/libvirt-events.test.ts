/**
 * The hypervisor Part: the info line at start, lifecycle events in order on the main thread,
 * a dropped connection reported and reopened, and a process that exits after stop (or even
 * without it) instead of hanging on the event-loop thread.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/paths.js';
import { Hypervisor, type HypervisorEvent } from '../../src/virt/hypervisor.js';
import { BlockingLibvirt } from '../../src/virt/libvirt/blocking.js';
import { ErrorCode, LibvirtError, eventLoopRunning, type LifecycleEvent } from '../../src/virt/libvirt/index.js';

const URI = 'test:///default';
const lines: Record<string, unknown>[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line) as Record<string, unknown>);
    done();
  },
});
const log = pino({ level: 'info' }, sink);
const hypervisor = new Hypervisor(URI, { log, reopenBackoff: { initial: 20, max: 50 } });
const conn = new BlockingLibvirt(URI);
const events: HypervisorEvent[] = [];

function waitFor<T>(probe: () => T | undefined, ms = 3000): Promise<T> {
  const deadline = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const tick = (): void => {
      const value = probe();
      if (value !== undefined) return resolve(value);
      if (Date.now() > deadline) return reject(new Error('timed out waiting'));
      setTimeout(tick, 5);
    };
    tick();
  });
}

beforeAll(async () => {
  await hypervisor.start(new AbortController().signal);
  hypervisor.onAny((e) => events.push(e));
});
afterAll(async () => {
  await hypervisor.stop();
  conn.close();
});

describe('hypervisor part', () => {
  it('logs one info line naming the hypervisor it reached', () => {
    const info = lines.filter((l) => l['msg'] === 'connected to hypervisor');
    expect(info).toHaveLength(1);
    expect(info[0]).toMatchObject({ level: 30, uri: URI, type: 'TEST', libvirtVersion: expect.stringMatching(/^\d+\.\d+\.\d+$/), hostname: expect.any(String) });
    expect(hypervisor.connected).toBe(true);
    expect(hypervisor.host?.type).toBe('TEST');
    expect(eventLoopRunning()).toBe(true);
  });

  it('delivers lifecycle events in order, with vdsm-style names', async () => {
    const uuid = '21111111-2222-4333-8444-555555555555';
    const seen: LifecycleEvent[] = [];
    const off = hypervisor.on('lifecycle', (e) => {
      if (e.uuid === uuid) seen.push(e);
    });
    conn.defineXml(`<domain type='test'><name>evented</name><uuid>${uuid}</uuid><memory>65536</memory>
      <os><type>hvm</type></os></domain>`);
    conn.start(uuid);
    conn.suspend(uuid);
    conn.resume(uuid);
    conn.shutdown(uuid);
    conn.start(uuid);
    conn.destroy(uuid);
    conn.undefine(uuid);
    await waitFor(() => (seen.length >= 8 ? true : undefined));
    off();
    expect(seen.map((e) => `${e.event}/${e.detail}`)).toEqual([
      'Defined/Added',
      'Started/Booted',
      'Suspended/Paused',
      'Resumed/Unpaused',
      'Stopped/Shutdown',
      'Started/Booted',
      'Stopped/Destroyed',
      'Undefined/Removed',
    ]);
    expect(seen.every((e) => e.name === 'evented')).toBe(true);
  });

  it('reports a dropped connection, fails calls meanwhile, reopens and keeps delivering', async () => {
    const from = events.length;
    hypervisor.simulateDrop();
    expect(hypervisor.connected).toBe(false);
    let meanwhile: unknown;
    try {
      conn.listDomains();
    } catch (err) {
      meanwhile = err;
    }
    expect(meanwhile).toBeInstanceOf(LibvirtError);
    expect((meanwhile as LibvirtError).code).toBe(ErrorCode.NO_CONNECT);

    await waitFor(() => (events.slice(from).some((e) => e.kind === 'connection-reopened') ? true : undefined));
    expect(events.slice(from).map((e) => e.kind)).toEqual(['connection-closed', 'connection-reopened']);
    expect(events[from]).toEqual({ kind: 'connection-closed', reason: 'error' });
    expect(hypervisor.connected).toBe(true);
    expect(lines.some((l) => l['msg'] === 'hypervisor connection closed; reopening')).toBe(true);

    // Events registered before the drop are registered again on the new connection.
    const test = conn.lookupByName('test').uuid;
    conn.suspend(test);
    conn.resume(test);
    const after = await waitFor(() => {
      const got = events.slice(from).filter((e): e is LifecycleEvent => e.kind === 'lifecycle');
      return got.length >= 2 ? got : undefined;
    });
    expect(after.map((e) => e.event)).toEqual(['Suspended', 'Resumed']);
  });
});

describe('hypervisor part failures', () => {
  it('a start that cannot reach the hypervisor fails with a LibvirtError and undoes itself', async () => {
    const bad = new Hypervisor('test:///nonexistent/node.xml', { log });
    const err = await bad.start(new AbortController().signal).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LibvirtError);
    expect(bad.connected).toBe(false);
    bad.stop();
    // The healthy part's hold on the event loop is untouched.
    expect(eventLoopRunning()).toBe(true);
  });
});

describe('process exit', () => {
  const compiled = join(repoRoot, 'dist', 'src', 'virt', 'hypervisor.js');
  const script = (stop: boolean): string => `
    import { Hypervisor } from ${JSON.stringify(compiled)};
    import { BlockingLibvirt } from ${JSON.stringify(join(repoRoot, 'dist', 'src', 'virt', 'libvirt', 'blocking.js'))};
    const h = new Hypervisor('test:///default', { log: (await import('pino')).pino({ level: 'silent' }) });
    await h.start(new AbortController().signal);
    let n = 0;
    h.on('lifecycle', () => n++);
    const c = new BlockingLibvirt('test:///default');
    const u = c.lookupByName('test').uuid;
    c.suspend(u); c.resume(u);
    while (n < 2) await new Promise((r) => setTimeout(r, 5));
    ${stop ? 'await h.stop();' : ''}
    console.log('events', n);
  `;

  for (const stop of [true, false]) {
    it(`exits promptly ${stop ? 'after stop()' : 'even without stop()'}`, () => {
      expect(existsSync(compiled), 'build first: npx tsc -p tsconfig.json').toBe(true);
      const t0 = Date.now();
      const child = spawnSync(process.execPath, ['--input-type=module', '-e', script(stop)], {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 10_000,
      });
      expect(child.stderr).toBe('');
      expect(child.status).toBe(0);
      expect(child.stdout.trim()).toBe('events 2');
      expect(Date.now() - t0).toBeLessThan(5000);
    });
  }
});
