#!/usr/bin/env node
/**
 * hostvisor-client: calls one verb of a hostvisor (or vdsm) host over STOMP, like vdsm-client.
 *
 *   hostvisor-client [--host H] [--port P] [--insecure | --cert F --key F --ca F] [--timeout S]
 *                    Namespace method [name=value ...] [-f params.json]
 *   hostvisor-client --subscribe [destination]
 *   hostvisor-client --list-methods
 *
 * A value that parses as JSON is sent typed (`numberOfCpus=2`, `reboot=true`), anything else as a
 * string. Results print as indented JSON; a server error prints its code and message and exits 1.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CallError, JsonRpcClient, type ClientOptions } from './jsonrpc-client.js';
import { listMethods, parseParams, UsageError } from './params.js';

const USAGE = `usage: hostvisor-client [options] Namespace method [name=value ...] [-f params.json]
       hostvisor-client [options] --subscribe [destination]
       hostvisor-client --list-methods

  --host HOST        the host to call (default localhost)
  --port PORT        its management port (default 54321)
  --insecure         plain TCP, no TLS (the embedded default); otherwise TLS with:
  --cert FILE        client certificate
  --key FILE         client key
  --ca FILE          CA that signed the host's certificate
  --timeout SECONDS  how long to wait for an answer (default 60)
  -f FILE            named parameters from a JSON object ('-' reads standard input)
  --subscribe [DEST] print events as they come (default jms.queue.events) until interrupted
  --list-methods     print every method with its parameters
`;

function readFileParams(file: string): Record<string, unknown> {
  const text = readFileSync(file === '-' ? 0 : file, 'utf8');
  const parsed: unknown = JSON.parse(text);
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new UsageError(`${file} must hold a JSON object of named parameters`);
  return parsed as Record<string, unknown>;
}

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      host: { type: 'string', default: 'localhost' },
      port: { type: 'string', default: '54321' },
      insecure: { type: 'boolean' },
      cert: { type: 'string' },
      key: { type: 'string' },
      ca: { type: 'string' },
      timeout: { type: 'string', default: '60' },
      f: { type: 'string', short: 'f' },
      subscribe: { type: 'boolean' },
      'list-methods': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values['list-methods']) {
    process.stdout.write(listMethods());
    return 0;
  }
  const options = clientOptions(values);

  if (values.subscribe) return subscribe(options, positionals[0] ?? 'jms.queue.events');

  const [namespace, method, ...pairs] = positionals;
  if (!namespace || !method) throw new UsageError('give a namespace and a method, e.g. Host getStats');
  const params = { ...(values.f ? readFileParams(values.f) : {}), ...parseParams(pairs) };
  const client = await JsonRpcClient.connect(options);
  try {
    const result = await client.call(`${namespace}.${method}`, params);
    process.stdout.write(`${JSON.stringify(result, null, 4)}\n`);
    return 0;
  } catch (err) {
    if (!(err instanceof CallError)) throw err;
    process.stderr.write(`${JSON.stringify({ code: err.code, message: err.message }, null, 4)}\n`);
    return 1;
  } finally {
    await client.close();
  }
}

interface ConnectionFlags {
  host?: string;
  port?: string;
  timeout?: string;
  insecure?: boolean;
  cert?: string;
  key?: string;
  ca?: string;
}

function clientOptions(values: ConnectionFlags): ClientOptions {
  const port = Number(values.port);
  const timeout = Number(values.timeout);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) throw new UsageError(`--port ${values.port} is not a port`);
  if (!(timeout > 0)) throw new UsageError(`--timeout ${values.timeout} is not a number of seconds`);
  const options: ClientOptions = { host: values.host ?? 'localhost', port, timeoutMs: timeout * 1000 };
  if (!values.insecure) {
    if (!values.cert || !values.key) throw new UsageError('TLS needs --cert and --key (and usually --ca); --insecure for plain TCP');
    options.tls = {
      cert: readFileSync(values.cert),
      key: readFileSync(values.key),
      ...(values.ca ? { ca: readFileSync(values.ca) } : { insecure: true }),
    };
  }
  return options;
}

/** Prints the events of `destination` until interrupted. */
async function subscribe(options: ClientOptions, destination: string): Promise<number> {
  const client = await JsonRpcClient.connect(options);
  await client.subscribe(destination, (body) => process.stdout.write(`${JSON.stringify(body, null, 4)}\n`));
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await client.close();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    const usage = err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    process.stderr.write(`hostvisor-client: ${(err as Error).message}\n${usage ? `\n${USAGE}` : ''}`);
    process.exit(2);
  },
);
