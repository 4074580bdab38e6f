/**
 * Writes a host for libvirt's test driver: a node XML file that `test:///<file>` loads, with N
 * domains, each with disks, NICs and the two guest-agent channels (oVirt and QEMU) whose unix
 * sockets sit under a given folder. Deterministic: the same options give the same UUIDs, names
 * and MACs, so tests and benchmarks can address domains without listing them.
 *
 * The test driver does not touch the disk images or the sockets; they only need to be paths.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export type TestDomainState = 'running' | 'paused' | 'shutoff';

export interface TestHostOptions {
  /** Folder for the node XML; channel sockets go to `channelsDir` (default: this folder). */
  dir: string;
  domains: number;
  channelsDir?: string;
  disksPerDomain?: number;
  nicsPerDomain?: number;
  namePrefix?: string;
  memoryKiB?: number;
  vcpus?: number;
  /** Initial state of domain `index` (default running: the test driver starts node domains). */
  stateOf?: (index: number) => TestDomainState;
  /**
   * Socket file names start with the domain's name (default) or its UUID (vdsm's convention on
   * real hosts: /var/lib/libvirt/qemu/channels/<uuid>.<channel>).
   */
  channelNaming?: 'name' | 'uuid';
  fileName?: string;
}

export interface TestHostDomain {
  uuid: string;
  name: string;
  state: TestDomainState;
  /** Disk target names (`vda`, `vdb`, ...): what blockStats takes. */
  disks: string[];
  /** MAC addresses: what interfaceStats takes (the test driver renames host-side devices). */
  nics: string[];
  channels: { ovirt: string; qemu: string };
}

export interface TestHost {
  /** `test:///<absolute path of the node XML>`. */
  uri: string;
  path: string;
  domains: TestHostDomain[];
}

const RUNSTATE: Record<TestDomainState, number> = { running: 1, paused: 3, shutoff: 5 };

/** A valid, deterministic UUID for domain `index`. */
export function testDomainUuid(index: number): string {
  return `6e0f1c2a-7b3d-4c5e-8f90-${index.toString(16).padStart(12, '0')}`;
}

function mac(n: number): string {
  const bytes = [(n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  return `52:54:00:${bytes.map((b) => b.toString(16).padStart(2, '0')).join(':')}`;
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;').replace(/"/g, '&quot;');
}

function diskName(k: number): string {
  return `vd${String.fromCharCode(97 + (k % 26))}`;
}

export function describeTestDomains(options: TestHostOptions): TestHostDomain[] {
  const channelsDir = resolve(options.channelsDir ?? options.dir);
  const disks = options.disksPerDomain ?? 2;
  const nics = options.nicsPerDomain ?? 1;
  const digits = Math.max(4, String(options.domains).length);
  const domains: TestHostDomain[] = [];
  for (let i = 0; i < options.domains; i++) {
    const uuid = testDomainUuid(i);
    const name = `${options.namePrefix ?? 'vm'}-${String(i).padStart(digits, '0')}`;
    const stem = join(channelsDir, options.channelNaming === 'uuid' ? uuid : name);
    domains.push({
      uuid,
      name,
      state: options.stateOf?.(i) ?? 'running',
      disks: Array.from({ length: disks }, (_, k) => diskName(k)),
      nics: Array.from({ length: nics }, (_, k) => mac(i * nics + k + 1)),
      channels: { ovirt: `${stem}.ovirt-guest-agent.0`, qemu: `${stem}.org.qemu.guest_agent.0` },
    });
  }
  return domains;
}

function domainXml(d: TestHostDomain, options: TestHostOptions, imagesDir: string): string {
  const memory = options.memoryKiB ?? 1048576;
  const disks = d.disks
    .map(
      (dev) => `      <disk type='file' device='disk'>
        <driver name='qemu' type='raw'/>
        <source file='${escapeXml(join(imagesDir, `${d.name}-${dev}.img`))}'/>
        <target dev='${dev}' bus='virtio'/>
      </disk>`,
    )
    .join('\n');
  const nics = d.nics
    .map(
      (address, k) => `      <interface type='network'>
        <mac address='${address}'/>
        <source network='default'/>
        <target dev='vnet${k}'/>
        <model type='virtio'/>
      </interface>`,
    )
    .join('\n');
  const channel = (path: string, target: string): string => `      <channel type='unix'>
        <source mode='bind' path='${escapeXml(path)}'/>
        <target type='virtio' name='${target}'/>
      </channel>`;
  return `  <domain type='test'>
    <name>${escapeXml(d.name)}</name>
    <uuid>${d.uuid}</uuid>
    <memory unit='KiB'>${memory}</memory>
    <currentMemory unit='KiB'>${memory}</currentMemory>
    <vcpu>${options.vcpus ?? 2}</vcpu>
    <os><type arch='x86_64'>hvm</type></os>
    <devices>
${disks}
${nics}
      <controller type='virtio-serial' index='0'/>
${channel(d.channels.ovirt, 'ovirt-guest-agent.0')}
${channel(d.channels.qemu, 'org.qemu.guest_agent.0')}
    </devices>
    <test:runstate>${RUNSTATE[d.state]}</test:runstate>
  </domain>`;
}

/** The node XML and the domains it describes, without writing anything. */
export function testHostXml(options: TestHostOptions): { xml: string; domains: TestHostDomain[] } {
  const domains = describeTestDomains(options);
  const imagesDir = join(resolve(options.dir), 'images');
  const body = domains.map((d) => domainXml(d, options, imagesDir)).join('\n');
  const xml = `<?xml version='1.0'?>
<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>
  <cpu>
    <mhz>2400</mhz>
    <model>x86_64</model>
    <nodes>1</nodes>
    <sockets>2</sockets>
    <cores>4</cores>
    <threads>2</threads>
    <active>16</active>
  </cpu>
  <memory>${Math.max(16 * 1048576, domains.length * (options.memoryKiB ?? 1048576))}</memory>
${body}
</node>
`;
  return { xml, domains };
}

/** Writes the node XML under `options.dir` and returns its URI and domains. */
export function writeTestHost(options: TestHostOptions): TestHost {
  const dir = resolve(options.dir);
  mkdirSync(dir, { recursive: true });
  if (options.channelsDir) mkdirSync(resolve(options.channelsDir), { recursive: true });
  const { xml, domains } = testHostXml(options);
  const path = join(dir, options.fileName ?? 'testnode.xml');
  writeFileSync(path, xml);
  return { uri: `test://${path}`, path, domains };
}
