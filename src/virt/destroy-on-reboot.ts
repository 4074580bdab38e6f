/**
 * vdsm's destroy-on-reboot. Before a reboot that must bring up a new configuration, the engine
 * marks the VM (VM.setDestroyOnReboot); when the guest then reboots, the VM is powered off instead
 * and goes Down with exitReason 13 (its definition stays), and the engine starts it again as it is
 * now configured. The mark lives in the domain's metadata (vm-metadata.ts), so a daemon restart
 * keeps it, and it ends with the run.
 */
import type { Logger } from '../log.js';
import { ErrorCode, isLibvirtError, isNoDomain } from './libvirt/errors.js';
import type { RebootEvent } from './libvirt/events.js';
import type { Vm } from './vm.js';

export interface DestroyOnRebootOptions {
  vm(id: string): Vm | undefined;
  /** Subscribes to libvirt's reboot events. */
  onReboot(listener: (event: RebootEvent) => void): void;
  /** Powers the domain off (virDomainDestroy, off the main thread). */
  destroy(vmId: string): Promise<void>;
  log: Logger;
}

export function destroyOnReboot(options: DestroyOnRebootOptions): void {
  // A reset brings several reboot events (the reset, then the firmware's): one power-off each VM.
  const poweringOff = new Set<string>();
  options.onReboot((event) => {
    const vm = options.vm(event.uuid);
    if (vm === undefined || !vm.destroyOnReboot || !vm.running || poweringOff.has(vm.id)) return;
    options.log.info({ vmId: vm.id }, 'guest rebooted with destroy-on-reboot set: powering it off');
    // The Stopped event that follows carries the reason: Down with exitReason 13.
    vm.expect('destroy-on-reboot');
    poweringOff.add(vm.id);
    options
      .destroy(vm.id)
      .catch((err: unknown) => {
        // Stopped meanwhile (by the guest, or anyone): its Stopped event is still the reboot's.
        if (isNoDomain(err) || isLibvirtError(err, ErrorCode.OPERATION_INVALID)) return;
        vm.expect(undefined);
        options.log.error({ vmId: vm.id, err }, 'could not power off the rebooted VM; it runs on');
      })
      .finally(() => poweringOff.delete(vm.id));
  });
}
