/**
 * A VM's devices follow libvirt's device events. When a device is plugged in or unplugged, or a
 * CD tray opens or closes (by a verb, by virsh, or by the guest ejecting a disc), the domain XML
 * is read again, so VM stats' `hash` changes and the engine, which compares it on every poll,
 * asks for the new devices (Host.dumpxmls).
 *
 * A burst of events (a NIC brings several) costs one read in flight per VM and at most one more
 * after it: an event during a read marks the VM for one more read, so the last state is read.
 */
import type { Logger } from '../log.js';
import type { DomainDescription } from './domain-xml.js';
import type { DeviceChangedEvent } from './libvirt/events.js';
import type { Vm } from './vm.js';

export interface DeviceChangesOptions {
  vm(id: string): Vm | undefined;
  /** Subscribes to libvirt's device events. */
  onDeviceChanged(listener: (event: DeviceChangedEvent) => void): void;
  /** The domain's description as libvirt has it now (its XML, read off the main thread). */
  describe(vmId: string): Promise<DomainDescription>;
  log: Logger;
}

export function followDeviceChanges(options: DeviceChangesOptions): void {
  /** VM id → whether another read is due once the one in flight ends. */
  const reading = new Map<string, boolean>();

  const read = (vmId: string): void => {
    reading.set(vmId, false);
    options
      .describe(vmId)
      .then(
        (description) => {
          const vm = options.vm(vmId);
          // Gone or stopped meanwhile: the next start describes it anew.
          if (vm?.running) vm.describe(description);
        },
        (err: unknown) => options.log.warn({ vmId, err }, 'could not read the devices of a VM after a device change'),
      )
      .finally(() => {
        if (reading.get(vmId) === true) read(vmId);
        else reading.delete(vmId);
      });
  };

  options.onDeviceChanged((event) => {
    if (options.vm(event.uuid)?.running !== true) return;
    options.log.debug({ vmId: event.uuid, change: event.change, device: event.devAlias }, 'device changed');
    if (reading.has(event.uuid)) reading.set(event.uuid, true);
    else read(event.uuid);
  });
}
