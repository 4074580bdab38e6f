import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { repoRoot } from '../../src/paths.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';

const dir = mkdtempSync(join(tmpdir(), 'hostvisor-daemon-'));
const running: RunningDaemon[] = [];
function daemon(args: string[], env?: Record<string, string>, nodeArgs?: string[]): RunningDaemon {
  const d = startDaemon(args, env, nodeArgs);
  running.push(d);
  return d;
}
afterEach(() => {
  for (const d of running.splice(0)) if (d.child.exitCode === null) d.child.kill('SIGKILL');
});

describe('hostvisord as a process', () => {
  it('comes up on the embedded default and ends with exit 0 on SIGTERM within the deadline', async () => {
    const d = daemon(['--listen', '127.0.0.1:0'], { HOSTVISOR_DAEMON_STOP_TIMEOUT: '5' });
    const starting = await d.waitForLog((l) => l.msg === 'hostvisord starting');
    expect((starting['config'] as { libvirt: { uri: string } }).libvirt.uri).toBe('test:///default');
    await d.waitForLog((l) => l.msg === 'hostvisord ready');
    const t0 = performance.now();
    d.child.kill('SIGTERM');
    expect(await d.exited).toBe(0);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(d.logs.some((l) => l.msg === 'stopped cleanly')).toBe(true);
  });

  it("serves with the flags `npm start` gives node (V8's, which a worker thread's own flags may not carry)", async () => {
    const start = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { scripts: { start: string } }).scripts.start;
    const nodeArgs = start.split(' ').filter((word) => word.startsWith('--'));
    expect(nodeArgs).not.toEqual([]);
    const d = daemon(['--listen', '127.0.0.1:0'], {}, nodeArgs);
    const port = Number((await d.waitForLog((l) => l.msg === 'hostvisord ready'))['port']);
    // A verb that runs in a worker thread: the pools started.
    const client = await JsonRpcClient.connect({ host: '127.0.0.1', port });
    try {
      expect(await client.call('Host.hostdevListByCaps')).toHaveProperty('computer');
    } finally {
      await client.close();
    }
  });

  it('ends with exit 0 on SIGINT too', async () => {
    const d = daemon(['--listen', '127.0.0.1:0']);
    await d.waitForLog((l) => l.msg === 'hostvisord ready');
    d.child.kill('SIGINT');
    expect(await d.exited).toBe(0);
  });

  it('refuses a bad config value with one clear line and a non-zero exit', async () => {
    const file = join(dir, 'bad.conf');
    writeFileSync(file, '[vars]\nvm_sample_interval = often\n');
    const d = daemon(['--config', file]);
    expect(await d.exited).toBe(2);
    expect(d.stderr.join('')).toBe(
      `hostvisord: bad config value in ${file}: [vars] vm_sample_interval = "often": expected seconds, a number from 0.1 to 86400\n`,
    );
  });

  it('refuses to listen in plaintext on a non-loopback address', async () => {
    const d = daemon(['--listen', '0.0.0.0:0']);
    expect(await d.exited).toBe(2);
    expect(d.stderr.join('')).toMatch(/refusing to listen on 0\.0\.0\.0 .* without TLS/);
  });

  it('refuses an unknown flag with the usage', async () => {
    const d = daemon(['--frobnicate']);
    expect(await d.exited).toBe(2);
    expect(d.stderr.join('')).toMatch(/Unknown option '--frobnicate'[\s\S]*usage: hostvisord/);
  });

  for (const [kind, code] of [
    ['uncaught exception', "process.on('SIGUSR2', () => setImmediate(() => { throw new Error('planted fault') }))"],
    ['unhandled rejection', "process.on('SIGUSR2', () => setImmediate(() => { Promise.reject(new Error('planted fault')) }))"],
  ]) {
    it(`logs an ${kind} and exits non-zero instead of running on`, async () => {
      // A preloaded module plants the fault on SIGUSR2, sent once the daemon is up.
      const d = daemon(['--listen', '127.0.0.1:0'], {}, ['--import', `data:text/javascript,${encodeURIComponent(code!)}`]);
      await d.waitForLog((l) => l.msg === 'hostvisord ready');
      d.child.kill('SIGUSR2');
      expect(await d.exited).toBe(70);
      const fatal = d.logs.find((l) => l.level === 60);
      expect(fatal?.msg).toBe(`${kind}: exiting, systemd restarts the daemon`);
      expect(JSON.stringify(fatal?.['err'])).toContain('planted fault');
    });
  }

  it('prints the effective config with sources and exits', async () => {
    const d = daemon(['--print-config', '--log-level', 'debug'], { HOSTVISOR_RPC_WORKER_THREADS: '3' });
    let out = '';
    d.child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    expect(await d.exited).toBe(0);
    expect(out).toContain('worker_threads = 3  ; env:HOSTVISOR_RPC_WORKER_THREADS');
    expect(out).toContain('level = debug  ; flag:--log-level');
  });
});
