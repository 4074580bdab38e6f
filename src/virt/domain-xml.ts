/**
 * What hostvisor reads from a libvirt domain XML: identity, size, and the devices sampling and the
 * guest agents need (disk targets, NICs, unix channels). Pure, so workers and the main thread can
 * both use it. Parsed with saxes: the XML comes from libvirt, but VM.create hands us the client's.
 */
import { SaxesParser, type SaxesTagPlain } from 'saxes';

export interface DiskDevice {
  /** Target dev, e.g. `vda`: the name block stats and vdsm's `disks` use. */
  name: string;
  /** The image path or volume, when the disk has one. */
  source: string | undefined;
  readonly: boolean;
}

export interface NicDevice {
  /** Target dev, e.g. `vnet0`, when libvirt has assigned one. */
  name: string | undefined;
  mac: string | undefined;
  model: string | undefined;
}

export interface ChannelDevice {
  /** Target name, e.g. `ovirt-guest-agent.0`, `org.qemu.guest_agent.0`. */
  target: string;
  /** The unix socket path (source mode='bind'). */
  path: string;
}

export interface VmDevices {
  disks: DiskDevice[];
  nics: NicDevice[];
  channels: ChannelDevice[];
}

export interface DomainDescription {
  uuid: string;
  name: string;
  vcpus: number;
  memoryKiB: number;
  devices: VmDevices;
}

export class DomainXmlError extends Error {
  override name = 'DomainXmlError';
}

const MAX_DEPTH = 64;

const KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024 };

export function parseDomainXml(xml: string): DomainDescription {
  const parser = new SaxesParser({ xmlns: false });
  const path: string[] = [];
  const out: DomainDescription = { uuid: '', name: '', vcpus: 1, memoryKiB: 0, devices: { disks: [], nics: [], channels: [] } };
  let text = '';
  let memoryUnit = 'kib';
  let disk: DiskDevice | undefined;
  let nic: NicDevice | undefined;
  let channel: { type: string; target?: string; path?: string } | undefined;
  let failure: Error | undefined;

  parser.on('doctype', () => {
    failure ??= new DomainXmlError('a DOCTYPE is not allowed in a domain XML');
  });
  parser.on('opentag', (tag: SaxesTagPlain) => {
    path.push(tag.name);
    text = '';
    if (path.length > MAX_DEPTH) throw new DomainXmlError(`domain XML nested deeper than ${MAX_DEPTH}`);
    const a = tag.attributes as Record<string, string>;
    const where = path.join('/');
    switch (where) {
      case 'domain/memory':
        memoryUnit = (a['unit'] ?? 'KiB').toLowerCase();
        return;
      case 'domain/devices/disk':
        disk = { name: '', source: undefined, readonly: false };
        return;
      case 'domain/devices/disk/target':
        if (disk) disk.name = a['dev'] ?? '';
        return;
      case 'domain/devices/disk/source':
        if (disk) disk.source = a['file'] ?? a['dev'] ?? a['volume'] ?? a['name'];
        return;
      case 'domain/devices/disk/readonly':
        if (disk) disk.readonly = true;
        return;
      case 'domain/devices/interface':
        nic = { name: undefined, mac: undefined, model: undefined };
        return;
      case 'domain/devices/interface/mac':
        if (nic) nic.mac = a['address'];
        return;
      case 'domain/devices/interface/target':
        if (nic) nic.name = a['dev'];
        return;
      case 'domain/devices/interface/model':
        if (nic) nic.model = a['type'];
        return;
      case 'domain/devices/channel':
        channel = { type: a['type'] ?? '' };
        return;
      case 'domain/devices/channel/source':
        if (channel && (a['mode'] ?? 'bind') === 'bind' && a['path']) channel.path = a['path'];
        return;
      case 'domain/devices/channel/target':
        if (channel) channel.target = a['name'];
        return;
    }
  });
  parser.on('text', (t) => {
    text += t;
  });
  parser.on('closetag', () => {
    const where = path.join('/');
    path.pop();
    switch (where) {
      case 'domain/uuid':
        out.uuid = text.trim().toLowerCase();
        return;
      case 'domain/name':
        out.name = text.trim();
        return;
      case 'domain/vcpu':
        out.vcpus = Number(text.trim()) || 1;
        return;
      case 'domain/memory':
        out.memoryKiB = Math.round(Number(text.trim()) * (KIB[memoryUnit] ?? 1));
        return;
      case 'domain/devices/disk':
        if (disk?.name) out.devices.disks.push(disk);
        disk = undefined;
        return;
      case 'domain/devices/interface':
        if (nic) out.devices.nics.push(nic);
        nic = undefined;
        return;
      case 'domain/devices/channel':
        if (channel?.type === 'unix' && channel.target && channel.path) out.devices.channels.push({ target: channel.target, path: channel.path });
        channel = undefined;
        return;
    }
  });
  parser.on('error', (err) => {
    failure ??= new DomainXmlError(`malformed domain XML: ${err.message}`);
  });
  try {
    parser.write(xml).close();
  } catch (err) {
    throw err instanceof DomainXmlError ? err : new DomainXmlError(`malformed domain XML: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  if (out.name === '') throw new DomainXmlError('domain XML has no <name>');
  return out;
}
