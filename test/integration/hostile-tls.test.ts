/**
 * Hostile TLS clients and the connection cap against the running daemon: no client
 * certificate, a certificate from another CA, plaintext to the TLS port, a stalled handshake;
 * and more connections than [acceptor] max_connections. The daemon refuses each, logs it, and
 * keeps serving a proper client.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { repoRoot } from '../../src/paths.js';
import { startDaemon, type RunningDaemon } from '../helpers/daemon.js';

const run = promisify(execFile);
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const FAST = { HOSTVISOR_METRICS_ENABLED: 'false', HOSTVISOR_DAEMON_STOP_TIMEOUT: '5' };

async function stop(daemon: RunningDaemon): Promise<void> {
  daemon.child.kill('SIGTERM');
  expect(await daemon.exited).toBe(0);
}

/** Opens a TLS connection and reports how it ended: 'served' if CONNECTED came back. */
async function tryTls(port: number, options: tls.ConnectionOptions): Promise<'served' | 'refused'> {
  return new Promise((resolve) => {
    let data = '';
    const s = tls.connect({ host: '127.0.0.1', port, checkServerIdentity: () => undefined, ...options }, () => {
      s.write('CONNECT\naccept-version:1.2\nheart-beat:0,0\n\n\0');
    });
    s.on('data', (c: Buffer) => {
      data += c.toString();
      if (data.startsWith('CONNECTED')) {
        s.destroy();
        resolve('served');
      }
    });
    s.on('error', () => resolve('refused'));
    s.on('close', () => resolve(data.startsWith('CONNECTED') ? 'served' : 'refused'));
    setTimeout(() => {
      s.destroy();
      resolve('refused');
    }, 8000);
  });
}

describe('TLS against hostile clients', () => {
  let certs: string;
  let other: string;
  let daemon: RunningDaemon;
  let port: number;

  beforeAll(async () => {
    certs = mkdtempSync(join(tmpdir(), 'hv-tls-'));
    other = mkdtempSync(join(tmpdir(), 'hv-tls-other-'));
    await Promise.all([certs, other].map((d) => run('bash', [join(repoRoot, 'scripts', 'gen-certs.sh'), d])));
    daemon = startDaemon(['--listen', '127.0.0.1:0'], {
      ...FAST,
      HOSTVISOR_VARS_SSL: 'true',
      HOSTVISOR_TLS_CA_FILE: join(certs, 'ca.pem'),
      HOSTVISOR_TLS_CERT_FILE: join(certs, 'server.pem'),
      HOSTVISOR_TLS_KEY_FILE: join(certs, 'server-key.pem'),
      HOSTVISOR_TLS_HANDSHAKE_TIMEOUT: '1',
    });
    port = (await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000))['port'] as number;
  }, 40_000);
  afterAll(async () => {
    if (daemon) await stop(daemon);
  });

  const file = (d: string, name: string): Buffer => readFileSync(join(d, name));

  it('serves a client with a certificate from the configured CA', async () => {
    expect(await tryTls(port, { ca: file(certs, 'ca.pem'), cert: file(certs, 'client.pem'), key: file(certs, 'client-key.pem') })).toBe('served');
  });

  it('refuses a client without a certificate', async () => {
    expect(await tryTls(port, { ca: file(certs, 'ca.pem') })).toBe('refused');
    await daemon.waitForLog((l) => l.msg === 'TLS handshake failed: closing');
  });

  it('refuses a client whose certificate comes from another CA', async () => {
    const before = daemon.logs.filter((l) => l.msg === 'TLS handshake failed: closing').length;
    expect(await tryTls(port, { ca: file(certs, 'ca.pem'), cert: file(other, 'client.pem'), key: file(other, 'client-key.pem') })).toBe('refused');
    await daemon.waitForLog(() => daemon.logs.filter((l) => l.msg === 'TLS handshake failed: closing').length > before);
  });

  it('refuses plaintext STOMP and HTTP to the TLS port, and a handshake that stalls', async () => {
    for (const text of ['CONNECT\naccept-version:1.2\n\n\0', 'POST /RPC2 HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n', '']) {
      const s = net.connect({ host: '127.0.0.1', port });
      s.on('error', () => undefined);
      let got = '';
      s.on('data', (c: Buffer) => (got += c.toString('latin1')));
      if (text) s.write(text);
      const closed = await Promise.race([new Promise<boolean>((r) => s.once('close', () => r(true))), sleep(6000).then(() => false)]);
      expect(closed, JSON.stringify(text)).toBe(true);
      expect(got).not.toContain('CONNECTED');
      expect(got).not.toContain('methodResponse');
    }
    expect(await tryTls(port, { ca: file(certs, 'ca.pem'), cert: file(certs, 'client.pem'), key: file(certs, 'client-key.pem') })).toBe('served');
    expect(daemon.child.exitCode).toBeNull();
  });
});

describe('the connection cap', () => {
  it('closes connections over [acceptor] max_connections at accept, and takes new ones once others leave', async () => {
    const daemon = startDaemon(['--listen', '127.0.0.1:0'], { ...FAST, HOSTVISOR_ACCEPTOR_MAX_CONNECTIONS: '20', HOSTVISOR_ACCEPTOR_DETECTION_TIMEOUT: '30' });
    try {
      const port = (await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000))['port'] as number;
      const sockets: net.Socket[] = [];
      const closed = new Set<net.Socket>();
      for (let i = 0; i < 30; i++) {
        const s = net.connect({ host: '127.0.0.1', port });
        s.on('error', () => undefined);
        s.on('close', () => closed.add(s));
        sockets.push(s);
        await new Promise<void>((r) => s.once('connect', () => r()).once('close', () => r()));
      }
      const deadline = Date.now() + 5000;
      while (closed.size < 10 && Date.now() < deadline) await sleep(50);
      await sleep(300);
      expect(closed.size).toBe(10);
      // The first 20 were kept, the last 10 refused.
      expect(sockets.slice(0, 20).some((s) => closed.has(s))).toBe(false);
      await daemon.waitForLog((l) => l.msg === 'connection refused: too many connections' && l['max'] === 20);
      for (const s of sockets) s.destroy();
      await sleep(300);
      const client = await JsonRpcClient.connect({ host: '127.0.0.1', port, timeoutMs: 10_000 });
      expect(await client.call('Host.ping2')).toBe(true);
      await client.close();
    } finally {
      await stop(daemon);
    }
  }, 30_000);
});
