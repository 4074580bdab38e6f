// Run inside a network namespace: accepts on a unix socket (reachable from any namespace, being a
// file) and relays each connection to HOST:PORT over the namespace's own network, so a test's
// client talks to a daemon from "another machine". Usage: node netns-relay.mjs SOCKET HOST PORT
import { createConnection, createServer } from 'node:net';
import { rmSync } from 'node:fs';

const [socketPath, host, port] = process.argv.slice(2);
rmSync(socketPath, { force: true });
const server = createServer((client) => {
  const upstream = createConnection({ host, port: Number(port) });
  client.pipe(upstream).pipe(client);
  const end = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', end).on('close', end);
  upstream.on('error', end).on('close', end);
});
server.listen(socketPath, () => process.stdout.write('relay ready\n'));
process.on('SIGTERM', () => process.exit(0));
