/**
 * libvirt's node device XML (virNodeDeviceGetXMLDesc) -> Host.hostdevListByCaps' entry for the
 * device: `{ params: { capability, is_assignable, vendor, product, parent, address, ... } }`.
 */
import { find, parseXmlTree, textAt, type XmlElement } from './xml-tree.js';

export interface HostDeviceParams {
  capability: string;
  is_assignable: 'true' | 'false';
  vendor?: string;
  vendor_id?: string;
  product?: string;
  product_id?: string;
  interface?: string;
  interface_id?: string;
  parent?: string;
  driver?: string;
  iommu_group?: string;
  numa_node?: string;
  physfn?: string;
  udev_path?: string;
  address?: Record<string, string>;
}

export interface HostDevice {
  name: string;
  params: HostDeviceParams;
}

const ADDRESS_FIELDS: Record<string, readonly string[]> = {
  pci: ['domain', 'bus', 'slot', 'function'],
  scsi: ['host', 'bus', 'target', 'lun'],
  usb_device: ['bus', 'device'],
};

/** A PCI function's name as libvirt spells it: pci_0000_00_1f_2. */
export function pciAddressToName(address: Record<string, string | undefined>): string {
  const hex = (value: string | undefined, width: number) => Number.parseInt(value ?? '0', 16).toString(16).padStart(width, '0');
  return `pci_${hex(address['domain'], 4)}_${hex(address['bus'], 2)}_${hex(address['slot'], 2)}_${hex(address['function'], 1)}`;
}

function productInfo(capability: XmlElement): Partial<HostDeviceParams> {
  const out: Record<string, string> = {};
  for (const tag of ['vendor', 'product', 'interface']) {
    const element = find(capability, tag);
    if (!element) continue;
    if (element.attributes['id']) out[`${tag}_id`] = element.attributes['id'];
    if (element.text) out[tag] = element.text;
  }
  return out;
}

function address(capability: XmlElement, type: string): Record<string, string> | undefined {
  const fields = ADDRESS_FIELDS[type];
  if (!fields) return undefined;
  const out: Record<string, string> = {};
  for (const field of fields) {
    const value = textAt(capability, field);
    if (value !== undefined) out[field] = value;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** What only PCI devices carry: IOMMU group, NUMA node, the physical function of a VF, assignability. */
function pciParams(capability: XmlElement): Partial<HostDeviceParams> {
  const out: Partial<HostDeviceParams> = {};
  const group = find(capability, 'iommuGroup')?.attributes['number'];
  if (group !== undefined) out.iommu_group = group;
  const node = find(capability, 'numa')?.attributes['node'];
  if (node !== undefined) out.numa_node = node;
  const sub = find(capability, 'capability');
  const subType = sub?.attributes['type'];
  if (subType === 'phys_function') {
    const pf = find(sub, 'address');
    if (pf) out.physfn = pciAddressToName(pf.attributes);
  }
  // Bridges cannot be given to a guest: libvirt marks them by a sub-capability, or by their PCI
  // class (0x0604 PCI-to-PCI, 0x0607 CardBus).
  const pciClass = (textAt(capability, 'class') ?? '').toLowerCase().replace(/^0x/, '');
  const bridge = subType === 'pci-bridge' || subType === 'cardbus-bridge' || pciClass.startsWith('0604') || pciClass.startsWith('0607');
  out.is_assignable = bridge ? 'false' : 'true';
  return out;
}

export function parseNodeDevice(xml: string): HostDevice {
  const root = parseXmlTree(xml);
  const name = textAt(root, 'name') ?? '';
  const capability = find(root, 'capability');
  const type = capability?.attributes['type'] ?? '';
  const params: HostDeviceParams = { capability: type, is_assignable: 'true' };
  if (capability) {
    Object.assign(params, productInfo(capability));
    const where = address(capability, type);
    if (where) params.address = where;
    if (type === 'pci') Object.assign(params, pciParams(capability));
    if (type === 'scsi_generic') {
      const char = textAt(capability, 'char');
      if (char) params.udev_path = char;
    }
    if (type === 'storage') {
      const model = textAt(capability, 'model');
      if (model) params.product = model;
    }
  }
  const driver = textAt(root, 'driver/name');
  if (driver) params.driver = driver;
  const parent = textAt(root, 'parent');
  if (name !== 'computer' && parent) params.parent = parent;
  return { name, params };
}

/** Host.hostdevListByCaps: the devices, keyed by name, those of the given capabilities only when some are named. */
export function hostDevicesByCaps(devices: readonly HostDevice[], caps: readonly string[] = []): Record<string, { params: HostDeviceParams }> {
  const out: Record<string, { params: HostDeviceParams }> = {};
  for (const device of devices) {
    if (caps.length === 0 || caps.includes(device.params.capability)) out[device.name] = { params: device.params };
  }
  return out;
}
