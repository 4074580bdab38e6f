#!/usr/bin/env node
/**
 * hostvisord: flags, config, signals. Everything else is built in src/daemon/.
 * Exit codes: 0 clean stop, 1 a part failed to start or stop, 2 bad flags or config,
 * 70 an uncaught error (systemd restarts us: never run on in an unknown state).
 */
import { parseArgs } from 'node:util';
import { ConfigError, formatConfig, loadConfig, parseListen, type LoadedConfig } from './config/load.js';
import { initLogging, type Logger } from './log.js';
import { buildDaemon } from './daemon/build.js';
import { version } from './daemon/version.js';
import { exitNow } from './process/exit.js';
import { systemdNotifier } from './process/sd-notify.js';

const USAGE = `usage: hostvisord [options]

  --config FILE         INI config file (vdsm.conf sections and keys)
  --listen HOST:PORT    address to listen on ([addresses] management_ip and management_port)
  --libvirt-uri URI     hypervisor connection ([libvirt] uri), e.g. qemu:///system
  --log-level LEVEL     trace, debug, info, warn, error, fatal or silent
  --print-config        print the effective config and where each value came from, then exit
  --version             print the version and exit
  --help                print this help and exit

Environment: HOSTVISOR_<SECTION>_<KEY> sets any config key (precedence: defaults < file < env < flags).
`;

function fail(message: string, code: number): never {
  process.stderr.write(`hostvisord: ${message}\n`);
  process.exit(code);
}

function readFlags(argv: string[]): { loaded: LoadedConfig; print: boolean } {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        config: { type: 'string' },
        listen: { type: 'string' },
        'libvirt-uri': { type: 'string' },
        'log-level': { type: 'string' },
        'print-config': { type: 'boolean' },
        version: { type: 'boolean' },
        help: { type: 'boolean' },
      },
    }));
  } catch (err) {
    fail(`${(err as Error).message}\n\n${USAGE}`, 2);
  }
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (values.version) {
    process.stdout.write(`hostvisord ${version()}\n`);
    process.exit(0);
  }
  const flags: Record<string, string> = {};
  try {
    if (values.listen !== undefined) Object.assign(flags, parseListen(values.listen));
    if (values['libvirt-uri'] !== undefined) flags['libvirt.uri'] = values['libvirt-uri'];
    if (values['log-level'] !== undefined) flags['logging.level'] = values['log-level'];
    const loaded = loadConfig({ file: values.config, env: process.env, flags });
    return { loaded, print: values['print-config'] === true };
  } catch (err) {
    if (err instanceof ConfigError) fail(err.message, 2);
    throw err;
  }
}

function exitOnUncaught(log: Logger): void {
  const die = (kind: string) => (err: unknown) => {
    log.fatal({ err }, `${kind}: exiting, systemd restarts the daemon`);
    exitNow(70); // without waiting for worker threads, which may be stuck in calls
  };
  process.on('uncaughtException', die('uncaught exception'));
  process.on('unhandledRejection', die('unhandled rejection'));
}

async function main(): Promise<void> {
  const { loaded, print } = readFlags(process.argv.slice(2));
  if (print) {
    process.stdout.write(formatConfig(loaded));
    return;
  }
  const log = initLogging(loaded.config.logging.level);
  exitOnUncaught(log);
  for (const warning of loaded.warnings) log.warn(warning);
  log.info({ version: version(), config: loaded.config }, 'hostvisord starting');

  const daemon = buildDaemon(loaded.config, log);
  const systemd = systemdNotifier();
  const deadlineMs = loaded.config.daemon.stop_timeout * 1000;
  /**
   * Exits with `code` once the parts have stopped, without Node's own exit: that waits for every
   * worker thread (one stuck in a system call never finishes) and runs the native libraries' exit
   * handlers while a libvirt thread that missed its stop deadline may still be inside them (an
   * abort). Nothing is left to flush: logs are written synchronously and the parts closed their own.
   */
  const exit = (code: number): never => {
    if (daemon.stuckThreads() > 0) log.warn({ stuckThreads: daemon.stuckThreads() }, 'worker threads are stuck in calls: exiting without waiting for them');
    return exitNow(code);
  };
  // A daemon runs until told to stop, whether or not a part holds the event loop open.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  const stop = async (signal: string): Promise<void> => {
    log.info({ signal }, 'stopping');
    systemd.stopping();
    const result = await daemon.lifecycle.stop(deadlineMs);
    clearInterval(keepAlive);
    systemd.close();
    log.info({ clean: result.clean, failed: result.failed }, result.clean ? 'stopped cleanly' : 'stopped with failures');
    exit(result.clean ? 0 : 1);
  };
  let signalled = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (signalled) {
        log.warn({ signal }, 'second signal while stopping: exiting now');
        exitNow(1);
      }
      signalled = true;
      void stop(signal);
    });
  }

  try {
    await daemon.lifecycle.start();
    log.info({ port: daemon.port() }, 'hostvisord ready');
    systemd.ready(`serving on port ${daemon.port()}`);
  } catch (err) {
    if (signalled) return; // the stop in progress decides the exit code
    log.fatal({ err }, (err as Error).message);
    await daemon.lifecycle.stop(deadlineMs);
    exit(1);
  }
}

await main();
