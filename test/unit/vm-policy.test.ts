/**
 * The per-VM policies the engine sets on a running VM: destroy-on-reboot (the mark in the domain
 * XML, the reboot that ends the run with exitReason 13) and the vCPU limit as CFS bandwidth; and
 * QEMU's process found in the process table.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import { destroyOnReboot } from '../../src/virt/destroy-on-reboot.js';
import { parseDomainXml } from '../../src/virt/domain-xml.js';
import { ErrorCode, LibvirtError } from '../../src/virt/libvirt/errors.js';
import type { RebootEvent } from '../../src/virt/libvirt/events.js';
import { qemuProcesses, runsQemuProcesses } from '../../src/virt/qemu-processes.js';
import { VmRegistry } from '../../src/virt/registry.js';
import { vcpuBandwidth } from '../../src/virt/vcpu-limit.js';
import { METADATA_NAMESPACE, METADATA_PREFIX, metadataXml } from '../../src/virt/vm-metadata.js';

const UUID = '0f5a1c2e-6b1d-4c2a-9d3e-1a2b3c4d5e6f';
const domain = (inner: string): string => `<domain type='kvm'><name>a</name><uuid>${UUID}</uuid>${inner}</domain>`;

describe('the domain XML as the policies read it', () => {
  it('reads the destroy-on-reboot mark from our metadata element only', () => {
    // What libvirt returns after virDomainSetMetadata(metadataXml(...), prefix, namespace).
    const marked = metadataXml({ destroyOnReboot: true }).replace('<vm ', `<${METADATA_PREFIX}:vm xmlns:${METADATA_PREFIX}="${METADATA_NAMESPACE}" `);
    expect(parseDomainXml(domain(`<metadata>${marked}</metadata>`)).destroyOnReboot).toBe(true);
    // libvirt acts on <on_reboot> itself: such a reboot arrives as a shutdown, not a reboot event.
    expect(parseDomainXml(domain('<on_reboot>destroy</on_reboot>')).destroyOnReboot).toBe(false);
    // The same element name in another namespace is not ours.
    const foreign = `<metadata><${METADATA_PREFIX}:vm xmlns:${METADATA_PREFIX}="urn:other" destroyOnReboot="true"/></metadata>`;
    expect(parseDomainXml(domain(foreign)).destroyOnReboot).toBe(false);
  });

  it('reads the vCPU bandwidth from <cputune>, and none from a period alone', () => {
    expect(parseDomainXml(domain('<cputune><period>100000</period><quota>50000</quota></cputune>')).vcpuBandwidth).toEqual({ quota: 50000, period: 100000 });
    expect(parseDomainXml(domain('<cputune><period>100000</period></cputune>')).vcpuBandwidth).toBeUndefined();
    expect(parseDomainXml(domain('<cputune><period>100000</period><quota>-1</quota></cputune>')).vcpuBandwidth).toBeUndefined();
    expect(parseDomainXml(domain('')).vcpuBandwidth).toBeUndefined();
  });
});

describe('vcpuLimit as CFS bandwidth', () => {
  it('gives the VM its percent of the host, shared by its vCPUs, per 100 ms', () => {
    expect(vcpuBandwidth(50, 8, 2)).toEqual({ quota: 200_000, period: 100_000 });
    expect(vcpuBandwidth(25, 4, 4)).toEqual({ quota: 25_000, period: 100_000 });
    expect(vcpuBandwidth(100, 1, 1)).toEqual({ quota: 100_000, period: 100_000 });
  });

  it("keeps the quota within libvirt's bounds", () => {
    expect(vcpuBandwidth(1, 1, 64).quota).toBe(1000);
    expect(vcpuBandwidth(50, 4, 0)).toEqual({ quota: 200_000, period: 100_000 });
  });
});

describe('destroy-on-reboot', () => {
  function setup() {
    const emitted: Array<Record<string, unknown>> = [];
    const registry = new VmRegistry({ emit: (_ns, _ev, id, params) => emitted.push(params[id] as Record<string, unknown>) }, { eventTime: () => 1, monotonic: () => 1 });
    let reboot: (event: RebootEvent) => void = () => undefined;
    const destroyed: string[] = [];
    let failure: Error | undefined;
    destroyOnReboot({
      vm: (id) => registry.get(id),
      onReboot: (listener) => (reboot = listener),
      destroy: async (id) => {
        destroyed.push(id);
        if (failure) throw failure;
      },
      log: getLogger('test'),
    });
    const vm = registry.add(UUID, 'a', 'Up');
    const rebooted = () => reboot({ kind: 'reboot', uuid: UUID, name: 'a' });
    const stopped = () => registry.handleEvent({ kind: 'lifecycle', uuid: UUID, name: 'a', event: 'Stopped', detail: 'Destroyed', eventCode: 5, detailCode: 1 });
    return { vm, emitted, destroyed, rebooted, stopped, failWith: (err: Error) => (failure = err) };
  }

  it('powers a marked VM off once on its reboot events, and it goes Down with exitReason 13', () => {
    const { vm, emitted, destroyed, rebooted, stopped } = setup();
    vm.destroyOnReboot = true;
    // A reset brings the reset's reboot event and the firmware's.
    rebooted();
    rebooted();
    expect(destroyed).toEqual([UUID]);
    stopped();
    expect(emitted.at(-1)).toEqual({ status: 'Down', exitCode: 0, exitReason: 13, exitMessage: 'Down as a part of the reboot process' });
    // The mark was for that run.
    expect(vm.destroyOnReboot).toBe(false);
  });

  it('leaves an unmarked VM to reboot', () => {
    const { destroyed, rebooted } = setup();
    rebooted();
    expect(destroyed).toEqual([]);
  });

  it('keeps the reason when the power-off finds the domain already stopped', async () => {
    const { vm, emitted, rebooted, stopped, failWith } = setup();
    vm.destroyOnReboot = true;
    failWith(new LibvirtError('Requested operation is not valid: domain is not running', ErrorCode.OPERATION_INVALID, 10, 2, 'virDomainDestroyFlags'));
    rebooted();
    await new Promise((resolve) => setImmediate(resolve));
    stopped();
    expect(emitted.at(-1)).toMatchObject({ status: 'Down', exitReason: 13 });
  });

  it('lets the VM run on when the power-off fails, and a later stop is not taken for the reboot', async () => {
    const { vm, emitted, rebooted, stopped, failWith } = setup();
    vm.destroyOnReboot = true;
    failWith(new Error('libvirtd went away'));
    rebooted();
    await new Promise((resolve) => setImmediate(resolve));
    expect(vm.status).toBe('Up');
    stopped();
    expect(emitted.at(-1)).toMatchObject({ status: 'Down', exitReason: 2 });
  });
});

describe("QEMU's process", () => {
  it('is found by the -uuid of its command line, other processes ignored', () => {
    const proc = mkdtempSync(join(tmpdir(), 'proc-'));
    const write = (pid: string, argv: string[]) => {
      mkdirSync(join(proc, pid));
      writeFileSync(join(proc, pid, 'cmdline'), `${argv.join('\0')}\0`);
    };
    write('4242', ['/usr/bin/qemu-system-x86_64', '-name', 'guest=a', '-uuid', UUID.toUpperCase(), '-smp', '1']);
    write('17', ['/usr/bin/python3', '-uuid', 'b0b0b0b0-0000-0000-0000-000000000000']);
    write('99', ['/usr/sbin/libvirtd']);
    mkdirSync(join(proc, 'self'));
    expect(qemuProcesses(proc)).toEqual(new Map([[UUID, 4242]]));
  });

  it('is looked for only where the driver runs QEMU on this host', () => {
    expect(runsQemuProcesses('qemu:///system')).toBe(true);
    expect(runsQemuProcesses('qemu:///session')).toBe(true);
    expect(runsQemuProcesses('test:///default')).toBe(false);
    expect(runsQemuProcesses('qemu+tls://other/system')).toBe(false);
  });
});
