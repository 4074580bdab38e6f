/**
 * The contract of workers/vm.ts: VM lifecycle work that takes more than one libvirt call
 * (discovering the host's domains at start, creating and destroying a VM).
 */
import type { DomainDescription } from '../virt/domain-xml.js';
import type { LibvirtErrorData } from '../virt/libvirt/errors.js';
import { workerTasks } from './contract.js';

export interface DiscoveredDomain extends DomainDescription {
  /** virDomainState */
  state: number;
  persistent: boolean;
  /** QEMU's process id; 0 when unknown (not running, or a driver without processes). */
  pid: number;
  /** A migration libvirt is running for it: away from this host, or arriving here. */
  migration?: 'out' | 'in';
}

export type CreateOutcome = { ok: true; domain: DiscoveredDomain } | { ok: false; stage: 'define' | 'start'; error: LibvirtErrorData };

export type DestroyOutcome = { ok: true } | { ok: false; error: LibvirtErrorData };

export interface VmTasks {
  /** Every domain on the host with its state and devices; one that vanishes meanwhile is skipped. */
  discover(task: { uri: string }): DiscoveredDomain[];
  /** Defines and starts a domain; a domain that fails to start is undefined again. */
  create(task: { uri: string; xml: string }): CreateOutcome;
  /** Destroys a running domain (if it runs) and removes its definition. */
  destroy(task: { uri: string; uuid: string }): DestroyOutcome;
}

export const vmTasks = workerTasks<VmTasks>('vm', { discover: true, create: true, destroy: true });
