/**
 * Faults against an in-process daemon built with buildDaemon, so the test reaches its
 * parts: the hypervisor connection drops (through Hypervisor.simulateDrop(), the connection
 * layer's fault hook; nothing env-gated in production), and a statsd collector that is gone.
 *
 * Elsewhere: a libvirt call really stuck (libvirtd stops answering mid-call) is in
 * test/e2e/stuck-libvirtd.test.ts, on a real libvirtd behind a proxy that can freeze; the
 * Executor's handling of a task stuck in open(2), and of a worker thread that exits or crashes, is
 * in test/unit/executor.test.ts (E9-E13, D3 and the exitThread/throwLater cases).
 */
import * as dgram from 'node:dgram';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { loadConfig } from '../../src/config/load.js';
import { initLogging, setLogLevel } from '../../src/log.js';
import { buildDaemon, type Daemon } from '../../src/daemon/build.js';

interface Line {
  level: number;
  msg: string;
  component?: string;
  [k: string]: unknown;
}

const VM = '6695eb01-f6a4-8304-79aa-97f2502e193f';
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
async function until<T>(check: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/** Builds and starts a daemon in this process, its log lines captured. */
async function inProcess(env: Record<string, string> = {}): Promise<{ daemon: Daemon; port: number; lines: Line[]; stop(): Promise<void> }> {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString('utf8').split('\n')) if (text.trim()) lines.push(JSON.parse(text) as Line);
      done();
    },
  });
  const { config } = loadConfig({
    env: {
      HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '0.5',
      HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '0.5',
      HOSTVISOR_METRICS_ENABLED: 'false',
      HOSTVISOR_RPC_WORKER_THREADS: '2',
      HOSTVISOR_SAMPLING_PERIODIC_WORKERS: '2',
      HOSTVISOR_GUEST_AGENT_PERIODIC_WORKERS: '1',
      ...env,
    },
    flags: { 'addresses.management_ip': '127.0.0.1', 'addresses.management_port': '0' },
  });
  const log = initLogging('info', sink);
  const daemon = buildDaemon(config, log);
  await daemon.lifecycle.start();
  return {
    daemon,
    port: daemon.port()!,
    lines,
    async stop() {
      await daemon.lifecycle.stop(10_000);
      setLogLevel('silent');
    },
  };
}

async function health(port: number): Promise<{ status: number; body: { healthy: boolean; problems?: string[]; hypervisor?: { connected: boolean } } }> {
  const res = await fetch(`http://127.0.0.1:${port}/health`);
  return { status: res.status, body: (await res.json()) as never };
}

describe('faults', () => {
  let running: Awaited<ReturnType<typeof inProcess>> | undefined;
  afterEach(async () => {
    await running?.stop();
    running = undefined;
  });

  it('the hypervisor connection drops: /health and the log say so, libvirt verbs fail fast with a clear error, the reopen restores service', async () => {
    running = await inProcess();
    const { daemon, port, lines } = running;
    const client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 });
    try {
      for (let i = 0; i < 100 && (await health(port)).status !== 200; i++) await sleep(100);
      expect((await health(port)).status).toBe(200);
      expect(daemon.hypervisor.connected).toBe(true);

      daemon.hypervisor.simulateDrop();
      await until(() => lines.find((l) => l.msg === 'hypervisor connection closed; reopening' && l.level === 40), 5000, 'the drop in the log');
      // Between the drop and the reopen (500 ms later) the daemon reports it.
      expect(daemon.hypervisor.connected).toBe(false);
      const during = await health(port);
      expect(during.status).toBe(503);
      expect(during.body.hypervisor).toEqual({ connected: false });
      expect(during.body.problems).toContain('hypervisor not connected');
      const t0 = Date.now();
      expect(await client.call('Host.ping2')).toBe(true);
      // Answers from the registry and caches go on; a verb that needs libvirt fails fast and says why.
      expect(await client.call('Host.getVMList')).toHaveLength(1);
      const err = await client.call('VM.pause', { vmID: VM }).then(() => undefined, (e: Error & { code?: number }) => e);
      expect(err?.code).toBe(100);
      expect(err?.message).toMatch(/connection to test:\/\/\/default was closed and is not reopened yet/);
      expect(Date.now() - t0).toBeLessThan(5000);

      await until(() => lines.find((l) => l.msg === 'hypervisor connection reopened'), 10_000, 'the reopen');
      await until(() => daemon.hypervisor.connected, 5000, 'connected');
      expect((await health(port)).status).toBe(200);
      // Service is back: the verb that failed now works.
      await client.call('VM.pause', { vmID: VM });
      for (let i = 0; i < 100; i++) {
        const [vm] = (await client.call('Host.getVMList')) as Array<{ status: string }>;
        if (vm?.status === 'Paused') break;
        await sleep(50);
      }
      await client.call('VM.cont', { vmID: VM });

      // A second drop right after is handled the same way (the reopen schedule starts over).
      daemon.hypervisor.simulateDrop();
      await until(() => lines.filter((l) => l.msg === 'hypervisor connection reopened').length >= 2, 10_000, 'the second reopen');
      expect((await health(port)).status).toBe(200);
      // Errors logged are only the sampling cycles that met the closed connection.
      const errors = lines.filter((l) => l.level >= 50);
      for (const e of errors) expect(JSON.stringify(e)).toMatch(/closed and is not reopened yet/);
    } finally {
      await client.close();
    }
  }, 30_000);

  it('a statsd collector that is gone changes nothing: calls answer, no error is logged', async () => {
    // A port that was just bound and closed: UDP sends get ICMP port-unreachable.
    const gone = dgram.createSocket('udp4');
    await new Promise<void>((r) => gone.bind(0, '127.0.0.1', () => r()));
    const deadPort = gone.address().port;
    await new Promise<void>((r) => gone.close(() => r()));
    running = await inProcess({ HOSTVISOR_METRICS_ENABLED: 'true', HOSTVISOR_METRICS_COLLECTOR_ADDRESS: `127.0.0.1:${deadPort}` });
    const { port, lines } = running;
    const client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 });
    try {
      // Several sampling cycles send metrics to nobody.
      await sleep(2000);
      for (let i = 0; i < 20; i++) expect(await client.call('Host.ping2')).toBe(true);
      await client.call('Host.getStats');
      expect(lines.filter((l) => l.level >= 50)).toEqual([]);
      expect((await health(port)).status).toBe(200);
    } finally {
      await client.close();
    }
  }, 30_000);
});
