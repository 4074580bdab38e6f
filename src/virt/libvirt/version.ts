/** libvirt versions: the library loaded in this process, and the encoding libvirt uses. */
import { native } from './native.js';

/** Version of the libvirt library loaded in this process (no connection needed, no blocking). */
export function clientLibVersion(): number {
  return native.clientLibVersion();
}

/** 9000000 → "9.0.0". */
export function formatVersion(encoded: number): string {
  return `${Math.floor(encoded / 1_000_000)}.${Math.floor(encoded / 1000) % 1000}.${encoded % 1000}`;
}
