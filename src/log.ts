/**
 * pino loggers: JSON lines on stdout (journald keeps them), one child per component.
 * pino children copy their level at creation, so the level is changed on every logger we made:
 * Host.setLogLevel must reach components created long before the call.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config/schema.js';

export type { Logger } from 'pino';

let root: Logger = pino({ level: 'info', base: { pid: process.pid } });
const children = new Set<Logger>();

/**
 * Replaces the root logger; call once at start, before components are built. Writes are
 * synchronous: the daemon logs little at info level, and a line written before a crash or a hard
 * exit must not be lost in a buffer.
 */
export function initLogging(level: LogLevel, destination?: DestinationStream): Logger {
  root = pino({ level, base: { pid: process.pid } }, destination ?? pino.destination({ dest: 1, sync: true }));
  children.clear();
  return root;
}

export function rootLogger(): Logger {
  return root;
}

/** A component's logger, e.g. `getLogger('executor', { executor: 'rpc' })`. */
export function getLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  const child = root.child({ component, ...bindings });
  children.add(child);
  return child;
}

export function setLogLevel(level: LogLevel): void {
  root.level = level;
  for (const child of children) child.level = level;
}

export function getLogLevel(): string {
  return root.level;
}
