// Worker-thread tasks for bench/executor.ts (piscina loads this file as it is).
import { closeSync, openSync } from 'node:fs';
import { threadId } from 'node:worker_threads';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Milliseconds since the epoch, sub-millisecond, comparable across threads. */
function now() {
  return performance.timeOrigin + performance.now();
}

export function noop() {
  return null;
}

/** Holds the thread for `ms` and reports when it started and ended, and on which thread. */
export function hold(ms) {
  const start = now();
  if (ms > 0) Atomics.wait(sleeper, 0, 0, ms);
  return { start, end: now(), thread: threadId };
}

/** Blocks in open(2) until the FIFO's other end is opened. */
export function readFifo(path) {
  closeSync(openSync(path, 'r'));
  return 'released';
}
