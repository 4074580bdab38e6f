/** The HTTP side's plain routes and limits: /health, /metrics, 404/405 with keep-alive as HTTP
 * says, slow and oversized heads, and HTTPS through the acceptor's TLS. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Counter, Gauge } from 'prom-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { ExecutorState } from '../../src/concurrency/executor.js';
import { healthySnapshot, rawHttp, startHttpFront, type HttpRunning } from './http-harness.js';

let srv: HttpRunning;
beforeAll(async () => {
  srv = await startHttpFront({ 'http.header_timeout': '0.4', 'http.max_header_size': '2048', 'http.idle_timeout': '5' });
});
afterAll(async () => {
  await srv.stop();
});

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function get(path: string, agent?: http.Agent, method = 'GET'): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: srv.port, path, method, agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const executor = (over: Partial<ExecutorState> = {}): ExecutorState => ({
  name: 'rpc',
  running: true,
  workersCount: 2,
  maxWorkers: 4,
  maxTasks: 10,
  active: 2,
  discarded: 0,
  total: 2,
  idle: 1,
  queued: 0,
  starting: 0,
  threads: 2,
  workers: [
    { name: 'rpc/0', discarded: false, task: 'VM.getStats', runningFor: 0.1, tasksDone: 3 },
    { name: 'rpc/1', discarded: false, task: null, runningFor: null, tasksDone: 1 },
  ],
  counters: {} as ExecutorState['counters'],
  ...over,
});

describe('GET /health', () => {
  it('200 with the figures when healthy', async () => {
    srv.health.snapshot = { ...healthySnapshot(), executors: [executor()], hostSampleAge: 2.5, vmSampleAge: 3 };
    const r = await get('/health');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const report = JSON.parse(r.body);
    expect(report).toMatchObject({
      healthy: true,
      problems: [],
      hypervisor: { connected: true },
      executors: [{ name: 'rpc', running: true, workers: 2, busy: 1, discarded: 0, queued: 0, maxTasks: 10 }],
      samples: { hostAge: 2.5, vmAge: 3, maxHostAge: 45, maxVmAge: 45 },
    });
  });

  it('503 with the reasons when not', async () => {
    srv.health.snapshot = { hypervisorConnected: false, executors: [executor({ running: false }), executor({ name: 'periodic', queued: 10 })], hostSampleAge: 100, vmSampleAge: null };
    const r = await get('/health');
    expect(r.status).toBe(503);
    expect(JSON.parse(r.body).problems).toEqual([
      'hypervisor not connected',
      'executor rpc not running',
      'executor periodic queue full',
      'last host sample 100.0 s old (limit 45 s)',
      'no VM sample yet',
    ]);
    srv.health.snapshot = healthySnapshot();
  });
});

describe('GET /metrics', () => {
  it('the registry in Prometheus text format', async () => {
    const counter = new Counter({ name: 'hostvisor_test_requests_total', help: 'test requests', labelNames: ['verb'], registers: [srv.registry] });
    const gauge = new Gauge({ name: 'hostvisor_test_vms', help: 'test VMs', registers: [srv.registry] });
    counter.inc({ verb: 'ping' }, 3);
    gauge.set(7);
    const r = await get('/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.body).toContain('# TYPE hostvisor_test_requests_total counter');
    expect(r.body).toContain('hostvisor_test_requests_total{verb="ping"} 3');
    expect(r.body).toContain('hostvisor_test_vms 7');
  });
});

describe('other paths and methods', () => {
  it('404 keeps the connection; the next request on it is served', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    agent.on('free', (s) => sockets.add(s));
    const a = await get('/nowhere', agent);
    const b = await get('/health', agent);
    expect(a.status).toBe(404);
    expect(a.headers['connection']).toBe('keep-alive');
    expect(b.status).toBe(200);
    expect(sockets.size).toBe(1);
    agent.destroy();
  });

  it('405 with Allow for a known path and another method; HEAD /health works', async () => {
    const r = await get('/RPC2');
    expect(r.status).toBe(405);
    expect(r.headers['allow']).toBe('POST, GET');
    const m = await get('/metrics', undefined, 'DELETE');
    expect(m.status).toBe(405);
    expect((await get('/health', undefined, 'HEAD')).status).toBe(200);
  });

  it('a 404 with an unread body closes the connection', async () => {
    const { text, closed } = await rawHttp(srv.port, 'POST /elsewhere HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello');
    expect(text).toMatch(/^HTTP\/1\.1 404 /);
    expect(text).toMatch(/Connection: close/i);
    expect(closed).toBe(true);
  });
});

describe('limits on the request head', () => {
  it('slow headers: 408 and closed after the header timeout', async () => {
    const t0 = Date.now();
    const { text, closed } = await rawHttp(srv.port, 'GET /health HTTP/1.1\r\nHost: x\r\n');
    const took = Date.now() - t0;
    expect(closed).toBe(true);
    expect(text).toMatch(/^HTTP\/1\.1 408 /);
    expect(took).toBeGreaterThanOrEqual(350);
    expect(took).toBeLessThan(4000);
  });

  it('an oversized head: 431 and closed', async () => {
    const { text, closed } = await rawHttp(srv.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(4000)}\r\n\r\n`);
    expect(text).toMatch(/^HTTP\/1\.1 431 /);
    expect(closed).toBe(true);
  });
});

describe('over TLS (the acceptor does TLS first, then detection)', () => {
  let dir: string;
  let tlsSrv: HttpRunning;
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'http-tls-'));
    openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', '/CN=ca', '-keyout', 'ca.key', '-out', 'ca.pem');
    for (const [name, cn] of [['server', '127.0.0.1'], ['client', 'engine']] as const) {
      openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${cn}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
      openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.pem`);
    }
    tlsSrv = await startHttpFront({ 'vars.ssl': 'true', 'tls.ca_file': f('ca.pem'), 'tls.cert_file': f('server.pem'), 'tls.key_file': f('server.key') });
  });
  afterAll(async () => {
    await tlsSrv?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const creds = (): https.RequestOptions => ({ key: readFileSync(f('client.key')), cert: readFileSync(f('client.pem')), ca: readFileSync(f('ca.pem')), rejectUnauthorized: false });

  it('XML-RPC over HTTPS, two calls on one connection', async () => {
    const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ...creds() });
    const call = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const req = https.request({ host: '127.0.0.1', port: tlsSrv.port, path: '/RPC2', method: 'POST', agent, headers: { 'Content-Type': 'text/xml' } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve(body));
        });
        req.on('error', reject);
        req.end('<?xml version="1.0"?><methodCall><methodName>Host.ping2</methodName><params></params></methodCall>');
      });
    for (let i = 0; i < 2; i++) expect(await call()).toContain('<name>code</name><value><int>0</int></value>');
    agent.destroy();
  });

  it('JSON-RPC over wss', async () => {
    const ws = new WebSocket(`wss://127.0.0.1:${tlsSrv.port}/jsonrpc`, 'jsonrpc', creds());
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 't', method: 'Host.ping2' }));
    const reply = await new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString())));
    expect(JSON.parse(reply)).toEqual({ jsonrpc: '2.0', id: 't', result: true });
    ws.close();
  });
});
