/**
 * The end-to-end tests' guest on real QEMU (built by scripts/e2e-env.sh): a direct kernel boot of
 * a tiny initramfs with the QEMU guest agent and a small oVirt agent, a raw disk and a NIC, that
 * writes what it does on its serial console (a file the tests read).
 */
import { join } from 'node:path';

/** What scripts/e2e-env.sh prints. */
export interface E2eEnv {
  uri: string;
  dir: string;
  kernel: string;
  initrd: string;
  channelsDir: string;
  emulator: string;
}

export interface Guest {
  uuid: string;
  name: string;
  ip: string;
  mac: string;
  /** The NIC's host device; libvirt names one (vnetN) when absent, as a guest that migrates needs. */
  tap?: string;
  qemuAgent: boolean;
  memoryMiB?: number;
  /**
   * A raw disk in the e2e folder (default). libvirt refuses to migrate a domain whose disk is on
   * a local file system (only shared storage is safe), so a guest that migrates has none.
   */
  disk?: boolean;
  /**
   * MiB of its memory the guest rewrites over and over, as fast as its vCPU copies (random data:
   * QEMU sends zero pages as flags): a guest whose memory changes faster than a slow migration sends it.
   */
  dirtyMiB?: number;
}

export const consoleOf = (env: E2eEnv, g: Guest): string => join(env.dir, `console-${g.name}.log`);
export const diskOf = (env: E2eEnv, g: Guest): string => join(env.dir, `disk-${g.name}.img`);

export function domainXml(env: E2eEnv, g: Guest): string {
  const qga = g.qemuAgent ? `<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>` : '';
  const tap = g.tap ? `<target dev='${g.tap}'/>` : '';
  const disk = g.disk === false ? '' : `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${diskOf(env, g)}'/><target dev='vda' bus='virtio'/></disk>`;
  return `<domain type='qemu'>
  <name>${g.name}</name>
  <uuid>${g.uuid}</uuid>
  <memory unit='MiB'>${g.memoryMiB ?? 128}</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64'>hvm</type>
    <kernel>${env.kernel}</kernel>
    <initrd>${env.initrd}</initrd>
    <cmdline>console=ttyS0 quiet panic=-1 hvname=${g.name} hvip=${g.ip}${g.dirtyMiB ? ` hvdirty=${g.dirtyMiB}` : ''}</cmdline>
  </os>
  <features><acpi/></features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>${env.emulator}</emulator>
    ${disk}
    <interface type='ethernet'><mac address='${g.mac}'/>${tap}<model type='virtio'/></interface>
    <controller type='virtio-serial' index='0'/>
    <channel type='unix'><source mode='bind' path='${env.channelsDir}/${g.uuid}.ovirt-guest-agent.0'/><target type='virtio' name='ovirt-guest-agent.0'/></channel>
    ${qga}
    <serial type='file'><source path='${consoleOf(env, g)}' append='on'/><target port='0'/></serial>
    <memballoon model='virtio'><stats period='1'/></memballoon>
  </devices>
</domain>`;
}
