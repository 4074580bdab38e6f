/**
 * hostvisor's libvirt face: the N-API addon behind typed, synchronous calls (for worker
 * threads), domain events for the main thread, and a generator of test-driver hosts.
 */
export {
  LibvirtConnection,
  clientLibVersion,
  eventLoopRunning,
  exitNow,
  sdNotify,
  formatVersion,
  startEventLoop,
  stopEventLoop,
  type MigrateOptions,
} from './connection.js';
export * from './constants.js';
export { ErrorCode, ErrorLevel, LibvirtError, isLibvirtError, isNoDomain, type LibvirtErrorData } from './errors.js';
export * from './events.js';
export type * from './types.js';
export { unwrap, type Outcome } from './outcome.js';
