/**
 * Ending the process at once. Node's exit waits for every worker thread, and one stuck in a system
 * call (a hung libvirtd, a dead NFS mount) never finishes: after a stop that left stuck threads,
 * this is how the daemon exits. The libvirt addon provides _exit(2), being the native module at hand.
 */
import { native } from '../virt/libvirt/native.js';

/** _exit(2) with `code`: no exit handlers, no joining of threads. */
export function exitNow(code: number): never {
  return native.exitNow(code);
}
