/**
 * systemd integration: the unit passes systemd-analyze, and the daemon speaks the notify
 * protocol (READY=1, WATCHDOG=1, STOPPING=1) on $NOTIFY_SOCKET, read here by a python3 listener.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../src/paths.js';
import { mainJs, startDaemon } from '../helpers/daemon.js';

describe('systemd', () => {
  it('ships units that systemd-analyze verifies: the daemon unprivileged, the helper and the boot restore as root', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostvisor-unit-'));
    const helperJs = join(repoRoot, 'dist', 'src', 'helper', 'main.js');
    const units = ['hostvisord.service', 'hostvisor-helper.service', 'hostvisor-network.service'];
    const text = new Map<string, string>();
    for (const name of units) {
      const unit = readFileSync(join(repoRoot, 'systemd', name), 'utf8').replace('/usr/bin/hostvisord', mainJs).replace('/usr/bin/hostvisor-helper', helperJs);
      writeFileSync(join(dir, name), unit);
      text.set(name, unit);
    }
    for (const js of [mainJs, helperJs]) chmodSync(js, 0o755);
    const out = execFileSync('systemd-analyze', ['verify', ...units.map((name) => join(dir, name))], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(out).toBe('');
    const daemon = text.get('hostvisord.service')!;
    expect(daemon).toMatch(/^Type=notify$/m);
    expect(daemon).toMatch(/^WatchdogSec=\d+$/m);
    expect(daemon).toMatch(/^Restart=on-failure$/m);
    expect(daemon).toMatch(/^User=hostvisor$/m);
    expect(daemon).toMatch(/^CapabilityBoundingSet=$/m);
    expect(text.get('hostvisor-helper.service')).toMatch(/^CapabilityBoundingSet=CAP_NET_ADMIN /m);
    expect(text.get('hostvisor-network.service')).toMatch(/--restore-nets$/m);
  });

  it('notifies READY=1 when serving, pings the watchdog from the event loop, and STOPPING=1 on stop', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostvisor-notify-'));
    const socketPath = join(dir, 'notify');
    const listener = spawn(
      'python3',
      [
        '-u',
        '-c',
        'import socket,sys\ns=socket.socket(socket.AF_UNIX,socket.SOCK_DGRAM)\ns.bind(sys.argv[1])\nprint("bound")\nwhile True:\n  print(repr(s.recv(4096).decode()))',
        socketPath,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const lines: string[] = [];
    listener.stdout!.setEncoding('utf8').on('data', (c: string) => lines.push(...c.split('\n').filter(Boolean)));
    try {
      await until(() => lines.includes('bound'));
      const daemon = startDaemon(['--listen', '127.0.0.1:0'], { NOTIFY_SOCKET: socketPath, WATCHDOG_USEC: '200000' });
      await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000);
      await until(() => lines.some((l) => l.includes('READY=1')));
      await until(() => lines.filter((l) => l.includes('WATCHDOG=1')).length >= 2);
      daemon.child.kill('SIGTERM');
      expect(await daemon.exited).toBe(0);
      await until(() => lines.some((l) => l.includes('STOPPING=1')));
      const ready = lines.find((l) => l.includes('READY=1'))!;
      expect(ready).toContain(`MAINPID=${daemon.child.pid}`);
      expect(lines.findIndex((l) => l.includes('READY=1'))).toBeLessThan(lines.findIndex((l) => l.includes('STOPPING=1')));
    } finally {
      listener.kill();
    }
  }, 40_000);
});

async function until(check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}
