/**
 * hostvisor's libvirt face for the main thread: the handle that opens, closes and listens (never
 * blocking), libvirt's event loop, versions, constants, errors, events and the plain-data types.
 * The blocking calls (blocking.ts) are deliberately not here: only worker modules import them.
 */
export { LibvirtHandle, eventLoopRunning, startEventLoop, stopEventLoop } from './handle.js';
export { clientLibVersion, formatVersion } from './version.js';
export * from './constants.js';
export { ErrorCode, ErrorLevel, LibvirtError, isLibvirtError, isNoDomain, type LibvirtErrorData } from './errors.js';
export * from './events.js';
export type * from './types.js';
export { unwrap, type Outcome } from './outcome.js';
