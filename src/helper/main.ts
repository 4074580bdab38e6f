#!/usr/bin/env node
/**
 * hostvisor-helper: the small root process that does for the unprivileged daemon what needs root
 * (vdsm's supervdsm). It serves the operations of src/helper/protocol.ts on a unix socket, to the
 * daemon's user only. Started, it first rolls back a network setup a previous run left unfinished.
 *
 * `--restore-nets` instead applies the safe network configuration once per boot (a marker in the
 * run directory, a tmpfs, says it was done) and exits: the oneshot step before the daemon starts.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { LOG_LEVELS, type LogLevel } from '../config/schema.js';
import { getLogger, initLogging } from '../log.js';
import { DhcpClients } from '../network/dhcp.js';
import { kernelHost, NetworkSetups } from '../network/setup.js';
import { NetConfigStore } from '../network/store.js';
import { parseNameservers } from '../virt/host/caps/resolv-conf.js';
import { helperHandlers } from './operations.js';
import { HelperServer } from './server.js';

const USAGE = `usage: hostvisor-helper --socket PATH --allow-user NAME [options]
       hostvisor-helper --restore-nets [options]

  --socket PATH       unix socket to serve on (the daemon's [helper] socket)
  --allow-user NAME   the only user allowed to call (the daemon's)
  --state-dir DIR     network configuration (default /var/lib/hostvisor/netconf; the daemon's
                      [network] config_dir)
  --run-dir DIR       per-boot state: DHCP clients, the restore marker (default /run/hostvisor)
  --restore-nets      apply the safe network configuration, once per boot, and exit
  --log-level LEVEL   ${LOG_LEVELS.join(', ')}
`;

function fail(message: string): never {
  process.stderr.write(`hostvisor-helper: ${message}\n\n${USAGE}`);
  process.exit(2);
}

/** uid and primary gid of a user, from the system's user database. */
function lookupUser(name: string): { uid: number; gid: number } {
  if (!/^[a-z_][a-z0-9_-]{0,31}\$?$/i.test(name)) fail(`not a user name: ${name}`);
  try {
    const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
    return { uid, gid };
  } catch {
    fail(`no such user: ${name}`);
  }
}

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        socket: { type: 'string' },
        'allow-user': { type: 'string' },
        'state-dir': { type: 'string', default: '/var/lib/hostvisor/netconf' },
        'run-dir': { type: 'string', default: '/run/hostvisor' },
        'restore-nets': { type: 'boolean' },
        'log-level': { type: 'string', default: 'info' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    fail((err as Error).message);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const level = values['log-level'] as LogLevel;
  if (!LOG_LEVELS.includes(level)) fail(`bad log level: ${level}`);
  initLogging(level);
  const log = getLogger('helper');
  const runDir = values['run-dir'];
  mkdirSync(runDir, { recursive: true, mode: 0o755 });
  const store = new NetConfigStore(values['state-dir']);
  const host = kernelHost(new DhcpClients(runDir, store.dir), () => parseNameservers(readText('/etc/resolv.conf')));
  const setups = new NetworkSetups(store, host, getLogger('network'));
  await setups.recover();

  if (values['restore-nets']) {
    const marker = join(runDir, 'nets_restored');
    if (existsSync(marker)) {
      log.info('the safe network configuration was already restored since boot');
      return;
    }
    await setups.restoreSafe();
    writeFileSync(marker, '');
    log.info('restored the safe network configuration');
    return;
  }

  if (values.socket === undefined || values['allow-user'] === undefined) fail('--socket and --allow-user are required');
  const user = lookupUser(values['allow-user']);
  const server = new HelperServer({ socketPath: values.socket, allowUid: user.uid, socketGid: user.gid, handlers: helperHandlers(setups), log });
  await server.listen();
  log.info({ socket: values.socket, allowUser: values['allow-user'], uid: user.uid }, 'hostvisor-helper ready');
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      log.info({ signal }, 'stopping');
      void server.close().then(() => process.exit(0));
    });
  }
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

await main();
