/**
 * A local RabbitMQ with its STOMP plugin, for the broker-mode tests and benchmark: started when its
 * STOMP port does not answer, and stopped by whoever started it.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as net from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const STOMP_PORT = 61613;

/** Debian's rabbitmq-server package is there (scripts/setup.sh installs it). */
export function rabbitInstalled(): boolean {
  return existsSync('/usr/sbin/rabbitmq-server') || existsSync('/usr/lib/rabbitmq/bin/rabbitmq-server');
}

export function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
  });
}

async function waitPort(open: boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if ((await portOpen(STOMP_PORT)) === open) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`STOMP port ${STOMP_PORT} still ${open ? 'closed' : 'open'} after ${ms} ms`);
}

/** Starts RabbitMQ (as root, without systemd) unless its STOMP port already answers; true when this
 * call started it, and the caller should stop it. */
export async function ensureRabbit(): Promise<boolean> {
  if (await portOpen(STOMP_PORT)) return false;
  await run('rabbitmq-plugins', ['enable', '--offline', 'rabbitmq_stomp']).catch(() => undefined);
  await run('rabbitmq-server', ['-detached']).catch(() => undefined);
  await run('rabbitmqctl', ['await_startup', '--timeout', '60']).catch(() => undefined);
  await waitPort(true, 60_000);
  return true;
}

export async function stopRabbit(): Promise<void> {
  await run('rabbitmqctl', ['stop']).catch(() => undefined);
}

/** Restarts the RabbitMQ application (every connection dropped, listeners down then up). */
export async function restartRabbit(): Promise<void> {
  await run('rabbitmqctl', ['stop_app']);
  await waitPort(false, 20_000);
  await run('rabbitmqctl', ['start_app']);
  await waitPort(true, 60_000);
}
