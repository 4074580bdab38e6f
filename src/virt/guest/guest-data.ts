/**
 * Where both guest agents' data meet: the oVirt agent of each VM and the QEMU agent poller's
 * findings, merged into `vm.guest` (what VM.getStats shows) whenever either changes. Responsiveness
 * changes with time alone, so `refresh()` re-publishes the VMs whose oVirt agent crossed the
 * 120 s line since the last look.
 */
import type { Vm } from '../vm.js';
import { mergeGuestInfo, type QemuGuestInfo } from './guest-info.js';
import type { OvirtGuestInfo } from './ovirt-messages.js';

/** What the store reads of an oVirt agent. */
export interface OvirtSource {
  readonly info: OvirtGuestInfo;
  isResponsive(): boolean;
}

interface Entry {
  ovirt: OvirtSource | undefined;
  qemu: QemuGuestInfo | undefined;
  /** The responsiveness last published. */
  responsive: boolean;
}

export class GuestData {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly vms: { get(vmId: string): Vm | undefined }) {}

  setOvirt(vmId: string, source: OvirtSource | undefined): void {
    if (source === undefined && !this.entries.has(vmId)) return;
    this.entry(vmId).ovirt = source;
    this.publish(vmId);
  }

  setQemu(vmId: string, info: QemuGuestInfo | undefined): void {
    if (info === undefined && !this.entries.has(vmId)) return;
    this.entry(vmId).qemu = info;
    this.publish(vmId);
  }

  /** VMs with guest data held. */
  get size(): number {
    return this.entries.size;
  }

  qemu(vmId: string): QemuGuestInfo | undefined {
    return this.entries.get(vmId)?.qemu;
  }

  /** Forgets a VM; its `vm.guest` is left as it was (a Down VM reports no guest data anyway). */
  drop(vmId: string): void {
    this.entries.delete(vmId);
  }

  /** Re-publishes VMs whose oVirt agent's responsiveness changed with the passing of time. */
  refresh(): void {
    for (const [vmId, entry] of this.entries) {
      const responsive = entry.ovirt?.isResponsive() ?? false;
      if (responsive !== entry.responsive) this.publish(vmId);
    }
  }

  publish(vmId: string): void {
    const entry = this.entries.get(vmId);
    if (entry === undefined) return;
    const vm = this.vms.get(vmId);
    if (vm === undefined || (entry.ovirt === undefined && entry.qemu === undefined)) {
      // Nothing left to say about it (or no VM to say it to): forget it.
      this.entries.delete(vmId);
      if (vm !== undefined) vm.guest = {};
      return;
    }
    const responsive = entry.ovirt?.isResponsive() ?? false;
    entry.responsive = responsive;
    vm.guest = mergeGuestInfo(entry.ovirt && { info: entry.ovirt.info, responsive }, entry.qemu, vm.memoryKiB / 1024);
    if (vm.running) vm.guestResponsive = responsive || entry.qemu !== undefined;
  }

  private entry(vmId: string): Entry {
    let entry = this.entries.get(vmId);
    if (entry === undefined) {
      entry = { ovirt: undefined, qemu: undefined, responsive: false };
      this.entries.set(vmId, entry);
    }
    return entry;
  }
}
