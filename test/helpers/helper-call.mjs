// Sends raw request lines to the privileged helper's socket and prints each answer line: the
// network tests run it as the daemon's user (and as others) to see what the helper lets through.
// Usage: node helper-call.mjs SOCKET 'JSON LINE' ['JSON LINE'...]
import { createConnection } from 'node:net';

const [socketPath, ...lines] = process.argv.slice(2);
const socket = createConnection(socketPath);
let answers = 0;
let buffer = '';
socket.on('connect', () => socket.write(lines.map((l) => `${l}\n`).join('')));
socket.on('data', (chunk) => {
  buffer += chunk;
  let nl;
  while ((nl = buffer.indexOf('\n')) >= 0) {
    process.stdout.write(`${buffer.slice(0, nl)}\n`);
    buffer = buffer.slice(nl + 1);
    if (++answers === lines.length) socket.end();
  }
});
socket.on('close', () => process.exit(0));
socket.on('error', (err) => {
  process.stdout.write(`${JSON.stringify({ socketError: err.code })}\n`);
  process.exit(0);
});
