/**
 * pino loggers: JSON lines on stdout (journald keeps them), one child per component.
 * Every logger follows the run-time level (Host.setLogLevel), including those made at module load
 * before initLogging and their own children: pino children copy their level at creation, so the
 * root tracks each descendant as it is made (pino's onChild) and setLogLevel sets them all.
 * The root is made once; initLogging changes its level and where its lines go.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.js';

export type { Logger } from 'pino';

/**
 * Writes are synchronous: the daemon logs little at info level, and a line written before a crash
 * or a hard exit must not be lost in a buffer.
 */
let output: DestinationStream = pino.destination({ dest: 1, sync: true });
/** Descendants of the root, held weakly: a logger nobody uses any more may go. */
const descendants = new Set<WeakRef<Logger>>();
const forget = new FinalizationRegistry<WeakRef<Logger>>((ref) => descendants.delete(ref));

function track(child: Logger): void {
  const ref = new WeakRef(child);
  descendants.add(ref);
  forget.register(child, ref);
}

const root: Logger = pino(
  { level: 'info', base: { pid: process.pid }, onChild: track },
  { write: (line: string) => output.write(line) },
);

/** Sets the level and, when given, where lines go (stdout by default); call once at start. */
export function initLogging(level: LogLevel, destination?: DestinationStream): Logger {
  if (destination !== undefined) output = destination;
  setLogLevel(level);
  return root;
}

export function rootLogger(): Logger {
  return root;
}

/** A component's logger, e.g. `getLogger('executor', { executor: 'rpc' })`. */
export function getLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return root.child({ component, ...bindings });
}

export function setLogLevel(level: LogLevel): void {
  root.level = level;
  for (const ref of descendants) {
    const child = ref.deref();
    if (child !== undefined) child.level = level;
  }
}

export function getLogLevel(): string {
  return root.level;
}
