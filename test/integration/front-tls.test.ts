import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { json, ping, RawClient, sendFrame, startFront, type Running } from './front-harness.js';

let dir: string;
let srv: Running;
const f = (name: string) => join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A CA, and certificates it signs; EC keys so set-up is quick. */
function makeCa(name: string): void {
  openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.pem`);
}
function makeCert(name: string, ca: string, cn: string): void {
  openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-days', '2', '-out', `${name}.pem`);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'front-tls-'));
  makeCa('ca');
  makeCa('other-ca');
  makeCert('server', 'ca', '127.0.0.1');
  makeCert('client', 'ca', 'engine');
  makeCert('stranger', 'other-ca', 'engine');
  srv = await startFront({
    'vars.ssl': 'true',
    'tls.ca_file': f('ca.pem'),
    'tls.cert_file': f('server.pem'),
    'tls.key_file': f('server.key'),
    'tls.handshake_timeout': '0.5',
  });
});

afterAll(async () => {
  await srv?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const creds = (name: string) => ({ key: readFileSync(f(`${name}.key`)), cert: readFileSync(f(`${name}.pem`)), ca: readFileSync(f('ca.pem')) });

/** Connects and tries one ping; resolves to how it ended. */
async function attempt(options: tls.ConnectionOptions): Promise<'served' | 'refused'> {
  let c: RawClient;
  try {
    c = await RawClient.connectTls(srv.port, options);
  } catch {
    return 'refused';
  }
  try {
    c.send(sendFrame('SUBSCRIBE', { destination: 'r', id: 'r' }));
    c.send(sendFrame('SEND', { destination: 'jms.topic.vdsm_requests', 'reply-to': 'r' }, ping('t')));
    await c.until(() => c.frames.length > 0 || c.closed || c.error !== undefined, 3000);
    return c.frames.length > 0 && (json(c.frames[0]!) as { result: unknown }).result === true ? 'served' : 'refused';
  } finally {
    c.close();
  }
}

describe('TLS front', () => {
  it('serves a client with a certificate from our CA', async () => {
    expect(await attempt(creds('client'))).toBe('served');
  });

  it('serves TLS 1.2 too', async () => {
    expect(await attempt({ ...creds('client'), maxVersion: 'TLSv1.2' })).toBe('served');
  });

  it('refuses a client without a certificate', async () => {
    expect(await attempt({ ca: readFileSync(f('ca.pem')) })).toBe('refused');
  });

  it('refuses a certificate from another CA', async () => {
    expect(await attempt({ ...creds('stranger'), ca: readFileSync(f('ca.pem')) })).toBe('refused');
  });

  it('refuses TLS 1.1', async () => {
    expect(await attempt({ ...creds('client'), minVersion: 'TLSv1', maxVersion: 'TLSv1.1' })).toBe('refused');
  });

  it('closes plaintext STOMP sent to the TLS port', async () => {
    const c = await RawClient.connect(srv.port);
    c.send('CONNECT\naccept-version:1.2\n\n\0');
    await c.waitClosed();
    expect(c.frames).toHaveLength(0);
  });

  it('closes a client that never completes the handshake', async () => {
    const s = net.connect(srv.port, '127.0.0.1');
    const t0 = Date.now();
    await new Promise((resolve) => s.on('close', resolve).on('error', () => undefined));
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(3000);
  });
});
