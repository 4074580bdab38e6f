/** Test helpers for the HTTP side: a front on loopback with a small method table, the legacy
 * XML-RPC backend, a metrics registry and a health source the test controls. */
import { execFile } from 'node:child_process';
import * as net from 'node:net';
import { Registry } from 'prom-client';
import { connectivityTable } from '../../src/api/host-connectivity.js';
import { LegacyXmlRpc } from '../../src/api/xmlrpc-legacy.js';
import { createFront, type Front } from '../../src/net/front.js';
import type { HealthSnapshot } from '../../src/net/http/health.js';
import type { Method } from '../../src/rpc/method-table.js';
import { frontConfig, silent } from './front-harness.js';

export interface HttpRunning {
  front: Front;
  port: number;
  registry: Registry;
  health: { snapshot: HealthSnapshot };
  ready: { value: boolean };
  stop(): Promise<void>;
}

export const healthySnapshot = (): HealthSnapshot => ({
  hypervisorConnected: true,
  executors: [],
  hostSampleAge: 1,
  vmSampleAge: 1,
});

export async function startHttpFront(flags: Record<string, string> = {}, methods: Method[] = []): Promise<HttpRunning> {
  const config = frontConfig(flags);
  const table = connectivityTable().register(...methods);
  const registry = new Registry();
  const health = { snapshot: healthySnapshot() };
  const ready = { value: true };
  const isReady = (): boolean => ready.value;
  const front = createFront(config, table, {
    log: silent,
    isReady,
    xmlrpc: (engine) => new LegacyXmlRpc(engine),
    health: { health: () => health.snapshot },
    metrics: registry,
  });
  await front.acceptor.start(new AbortController().signal);
  return {
    front,
    port: front.acceptor.port,
    registry,
    health,
    ready,
    stop: async () => {
      front.http?.close();
      await front.acceptor.stop();
    },
  };
}

/** Runs a Python script (asynchronously: the server shares this event loop). */
export function python(script: string, args: string[] = [], timeoutMs = 20_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', script, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3 failed: ${err.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A raw HTTP exchange on one socket: writes `request`, collects bytes until the socket closes
 * or `until` holds. */
export async function rawHttp(
  port: number,
  request: string | Buffer,
  until: (received: string) => boolean = () => false,
  ms = 5000,
): Promise<{ text: string; closed: boolean; socket: net.Socket }> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let text = '';
  let closed = false;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => resolve(), ms);
    socket.on('data', (d: Buffer) => {
      text += d.toString('latin1');
      if (until(text)) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', (err) => {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNRESET') reject(err);
    });
    socket.write(request);
  });
  return { text, closed, socket };
}
