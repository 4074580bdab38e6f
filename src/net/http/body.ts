/**
 * Reads a request body up to a size limit. Over the limit (declared or while streaming) it is
 * answered with 413 and the connection closed, without buffering the rest.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { refuse } from './respond.js';

/** The body, or undefined when the request was already answered (too large, aborted). */
export function readBody(req: IncomingMessage, res: ServerResponse, maxBytes: number): Promise<Buffer | undefined> {
  const declared = req.headers['content-length'];
  if (declared !== undefined && Number(declared) > maxBytes) {
    refuse(res, 413, `request body over ${maxBytes} bytes\n`);
    req.resume();
    return Promise.resolve(undefined);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (value: Buffer | undefined): void => {
      if (done) return;
      done = true;
      req.off('data', onData);
      resolve(value);
    };
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) {
        refuse(res, 413, `request body over ${maxBytes} bytes\n`);
        req.resume(); // discard until the close
        finish(undefined);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.once('end', () => finish(Buffer.concat(chunks, size)));
    req.once('error', () => finish(undefined));
    req.once('close', () => finish(undefined));
  });
}
