/** Reader of the host's devices as libvirt lists them, for Host.hostdevListByCaps. */
import type { LibvirtCalls } from '../../libvirt/blocking.js';
import { parseNodeDevice, type HostDevice } from './node-device.js';

/** Every node device, parsed; one whose XML cannot be parsed is left out rather than failing the list. */
export function readHostDevices(connection: LibvirtCalls): HostDevice[] {
  const out: HostDevice[] = [];
  for (const { xml } of connection.nodeDevices()) {
    try {
      out.push(parseNodeDevice(xml));
    } catch {
      // libvirt's own XML; a device vanishing mid-listing is already left out by the addon.
    }
  }
  return out;
}
