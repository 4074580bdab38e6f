/**
 * What hostvisor reads from a libvirt domain XML: identity, size, its clock's offset, the devices
 * sampling, the guest agents and the consoles need (disk targets, NICs, unix channels, graphics),
 * a digest of its devices section, its vCPU bandwidth and our metadata. Pure, so workers and the
 * main thread can both use it. Parsed with saxes: the XML comes from libvirt, but VM.create hands us the client's.
 */
import { createHash } from 'node:crypto';
import { SaxesParser, type SaxesTagPlain } from 'saxes';
import { METADATA_ELEMENT, METADATA_NAMESPACE, METADATA_PREFIX } from './vm-metadata.js';

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

/** A graphics console (VNC or SPICE); ports are '-1' until libvirt assigns them. */
export interface GraphicsDevice {
  type: string;
  port: string;
  tlsPort: string;
  /** The address it listens on ('' when libvirt's default). */
  listen: string;
}

export interface VmDevices {
  disks: DiskDevice[];
  nics: NicDevice[];
  channels: ChannelDevice[];
  graphics?: GraphicsDevice[];
}

export interface DomainDescription {
  uuid: string;
  name: string;
  vcpus: number;
  memoryKiB: number;
  devices: VmDevices;
  /** Seconds the guest's clock runs ahead of UTC (`<clock adjustment>`), as vdsm's timeOffset. */
  timeOffset: string;
  /** A digest of the `<devices>` section, as decimal digits: it changes when a device does, which
   * tells the engine to fetch the XML again. '' without a devices section. */
  devicesHash: string;
  /**
   * Our metadata's mark (VM.setDestroyOnReboot). Not `<on_reboot>destroy`: libvirt powers such a
   * domain off itself, and reports the reboot as a shutdown.
   */
  destroyOnReboot: boolean;
  /** The CFS bandwidth of each vCPU in µs (`<cputune>` quota and period), when it is limited. */
  vcpuBandwidth?: VcpuBandwidth;
}

export interface VcpuBandwidth {
  quota: number;
  period: number;
}

export class DomainXmlError extends Error {
  override name = 'DomainXmlError';
}

const MAX_DEPTH = 64;

const KIB: Record<string, number> = { b: 1 / 1024, bytes: 1 / 1024, k: 1, kib: 1, kb: 1000 / 1024, m: 1024, mib: 1024, mb: 1e6 / 1024, g: 1024 ** 2, gib: 1024 ** 2, gb: 1e9 / 1024 };

type Attributes = Record<string, string>;

/** The description being read from the parser's events; `path` is the open elements joined by '/'. */
class DomainReader {
  readonly out: DomainDescription = { uuid: '', name: '', vcpus: 1, memoryKiB: 0, devices: { disks: [], nics: [], channels: [], graphics: [] }, timeOffset: '0', devicesHash: '', destroyOnReboot: false };
  private readonly path: string[] = [];
  private text = '';
  private memoryUnit = 'kib';
  private disk: DiskDevice | undefined;
  private nic: NicDevice | undefined;
  private channel: { type: string; target?: string; path?: string } | undefined;

  open(tag: SaxesTagPlain): void {
    this.path.push(tag.name);
    this.text = '';
    if (this.path.length > MAX_DEPTH) throw new DomainXmlError(`domain XML nested deeper than ${MAX_DEPTH}`);
    const a = tag.attributes as Attributes;
    const where = this.path.join('/');
    if (where.startsWith('domain/devices/')) this.openDevice(where.slice('domain/devices/'.length), a);
    else if (where === 'domain/memory') this.memoryUnit = (a['unit'] ?? 'KiB').toLowerCase();
    else if (where === 'domain/clock' && a['adjustment'] !== undefined && /^-?\d+$/.test(a['adjustment'])) this.out.timeOffset = a['adjustment'];
    else if (where === `domain/metadata/${METADATA_ELEMENT}` && a[`xmlns:${METADATA_PREFIX}`] === METADATA_NAMESPACE) {
      if (a['destroyOnReboot'] === 'true') this.out.destroyOnReboot = true;
    }
  }

  private openDevice(where: string, a: Attributes): void {
    const { disk, nic, channel } = this;
    switch (where) {
      case 'disk':
        this.disk = { name: '', source: undefined, readonly: false };
        return;
      case 'disk/target':
        if (disk) disk.name = a['dev'] ?? '';
        return;
      case 'disk/source':
        if (disk) disk.source = a['file'] ?? a['dev'] ?? a['volume'] ?? a['name'];
        return;
      case 'disk/readonly':
        if (disk) disk.readonly = true;
        return;
      case 'interface':
        this.nic = { name: undefined, mac: undefined, model: undefined };
        return;
      case 'interface/mac':
        if (nic) nic.mac = a['address'];
        return;
      case 'interface/target':
        if (nic) nic.name = a['dev'];
        return;
      case 'interface/model':
        if (nic) nic.model = a['type'];
        return;
      case 'channel':
        this.channel = { type: a['type'] ?? '' };
        return;
      case 'channel/source':
        if (channel && (a['mode'] ?? 'bind') === 'bind' && a['path']) channel.path = a['path'];
        return;
      case 'channel/target':
        if (channel) channel.target = a['name'];
        return;
      case 'graphics':
        this.out.devices.graphics!.push({ type: a['type'] ?? '', port: a['port'] ?? '-1', tlsPort: a['tlsPort'] ?? '-1', listen: a['listen'] ?? '' });
    }
  }

  addText(text: string): void {
    this.text += text;
  }

  close(): void {
    const where = this.path.join('/');
    this.path.pop();
    const text = this.text.trim();
    const { out } = this;
    switch (where) {
      case 'domain/uuid':
        out.uuid = text.toLowerCase();
        return;
      case 'domain/name':
        out.name = text;
        return;
      case 'domain/vcpu':
        out.vcpus = Number(text) || 1;
        return;
      case 'domain/memory':
        out.memoryKiB = Math.round(Number(text) * (KIB[this.memoryUnit] ?? 1));
        return;
      case 'domain/cputune/quota':
      case 'domain/cputune/period': {
        const value = Number(text);
        if (!Number.isInteger(value)) return;
        out.vcpuBandwidth ??= { quota: -1, period: 0 };
        out.vcpuBandwidth[where === 'domain/cputune/quota' ? 'quota' : 'period'] = value;
        return;
      }
      case 'domain/devices/disk':
        if (this.disk?.name) out.devices.disks.push(this.disk);
        this.disk = undefined;
        return;
      case 'domain/devices/interface':
        if (this.nic) out.devices.nics.push(this.nic);
        this.nic = undefined;
        return;
      case 'domain/devices/channel': {
        const channel = this.channel;
        if (channel?.type === 'unix' && channel.target && channel.path) out.devices.channels.push({ target: channel.target, path: channel.path });
        this.channel = undefined;
      }
    }
  }
}

/** The devices section's digest: the first 48 bits of its SHA-1, in decimal. */
function devicesHash(xml: string): string {
  const start = xml.indexOf('<devices');
  const end = xml.indexOf('</devices>', start);
  if (start < 0 || end < 0) return '';
  return String(parseInt(createHash('sha1').update(xml.slice(start, end)).digest('hex').slice(0, 12), 16));
}

export function parseDomainXml(xml: string): DomainDescription {
  const parser = new SaxesParser({ xmlns: false });
  const reader = new DomainReader();
  let failure: Error | undefined;
  parser.on('doctype', () => {
    failure ??= new DomainXmlError('a DOCTYPE is not allowed in a domain XML');
  });
  parser.on('opentag', (tag: SaxesTagPlain) => reader.open(tag));
  parser.on('text', (t) => reader.addText(t));
  parser.on('closetag', () => reader.close());
  parser.on('error', (err) => {
    failure ??= new DomainXmlError(`malformed domain XML: ${err.message}`);
  });
  try {
    parser.write(xml).close();
  } catch (err) {
    throw err instanceof DomainXmlError ? err : new DomainXmlError(`malformed domain XML: ${(err as Error).message}`);
  }
  if (failure) throw failure;
  const out = reader.out;
  if (out.name === '') throw new DomainXmlError('domain XML has no <name>');
  out.devicesHash = devicesHash(xml);
  // A period alone (libvirt writes one without a quota) limits nothing.
  if (out.vcpuBandwidth !== undefined && (out.vcpuBandwidth.quota <= 0 || out.vcpuBandwidth.period <= 0)) delete out.vcpuBandwidth;
  return out;
}
