/**
 * How a worker task hands back a libvirt result: as data, because structured cloning drops a
 * LibvirtError's fields. The main thread unwraps it into the value or a real LibvirtError.
 */
import { LibvirtError, type LibvirtErrorData } from './errors.js';

export type Outcome<T> = { ok: true; value: T } | { ok: false; error: LibvirtErrorData };

export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value;
  throw LibvirtError.fromData(outcome.error);
}
