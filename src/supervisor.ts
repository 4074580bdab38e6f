/**
 * Builds every part of the daemon and hands them to a Lifecycle in start order (vdsm's clientIF):
 * hypervisor connection, first host sample, executors, periodic operations, guest channels,
 * acceptor. Stop runs in reverse. Parts are added here as they are built.
 */
import type { Config } from './config/schema.js';
import { Lifecycle, type Part } from './lifecycle.js';
import type { Logger } from './log.js';

export function buildDaemon(config: Config, log: Logger): Lifecycle {
  const parts: Part[] = [];
  void config;
  return new Lifecycle(parts, log);
}
