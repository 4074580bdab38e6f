// A VM's devices re-read on libvirt's device events: the stats' hash follows them, a burst of
// events costs one read in flight and one after it, and VMs that do not run are left alone.
import { describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import { followDeviceChanges } from '../../src/virt/device-changes.js';
import { parseDomainXml, type DomainDescription } from '../../src/virt/domain-xml.js';
import { decodeEvent, type DeviceChangedEvent } from '../../src/virt/libvirt/events.js';
import { VmRegistry } from '../../src/virt/registry.js';
import { ExitCode, ExitReason, exitInfo } from '../../src/virt/vm.js';

const UUID = '0f5a1c2e-6b1d-4c2a-9d3e-1a2b3c4d5e6f';
const disk = (dev: string): string => `<disk type='file' device='disk'><source file='/var/tmp/${dev}.img'/><target dev='${dev}' bus='virtio'/></disk>`;
const domain = (devices: string): DomainDescription =>
  parseDomainXml(`<domain type='kvm'><name>a</name><uuid>${UUID}</uuid><memory>1048576</memory><vcpu>1</vcpu><devices>${devices}</devices></domain>`);

function setup() {
  const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => 1 });
  let changed: (event: DeviceChangedEvent) => void = () => undefined;
  let devices = disk('vda');
  const reads: Array<() => void> = [];
  followDeviceChanges({
    vm: (id) => registry.get(id),
    onDeviceChanged: (listener) => (changed = listener),
    // Each read waits for the test to let it finish, and reads the devices as they are then.
    describe: () => new Promise((resolve) => reads.push(() => resolve(domain(devices)))),
    log: getLogger('test'),
  });
  const vm = registry.add(UUID, 'a', 'Up');
  vm.describe(domain(devices));
  const event = (change: number): void => changed(decodeEvent({ kind: 'device-changed', uuid: UUID, name: 'a', change, devAlias: 'virtio-disk1' }) as DeviceChangedEvent);
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { registry, vm, event, reads, settle, setDevices: (d: string) => (devices = d) };
}

describe('device changes', () => {
  it('decodes libvirt device events: added, removed, tray', () => {
    expect([0, 1, 2, 7].map((change) => decodeEvent({ kind: 'device-changed', uuid: 'u', name: 'n', change, devAlias: 'ide0-1-0' }))).toEqual(
      ['added', 'removed', 'tray', 'unknown'].map((change) => ({ kind: 'device-changed', uuid: 'u', name: 'n', change, devAlias: 'ide0-1-0' })),
    );
  });

  it("re-reads the VM's devices after a device is plugged in: its hash changes", async () => {
    const { vm, event, reads, settle, setDevices } = setup();
    const before = vm.devicesHash;
    setDevices(disk('vda') + disk('vdb'));
    event(0);
    expect(reads).toHaveLength(1);
    reads[0]!();
    await settle();
    expect(vm.devicesHash).not.toBe(before);
    expect(vm.devicesHash).toBe(domain(disk('vda') + disk('vdb')).devicesHash);
  });

  it('reads once more after a burst, never two at a time, and ends with the last state', async () => {
    const { vm, event, reads, settle, setDevices } = setup();
    event(0);
    setDevices(disk('vda') + disk('vdb'));
    event(0);
    event(2);
    expect(reads).toHaveLength(1);
    reads[0]!();
    await settle();
    expect(reads).toHaveLength(2);
    setDevices(disk('vda'));
    reads[1]!();
    await settle();
    expect(reads).toHaveLength(2);
    expect(vm.devicesHash).toBe(domain(disk('vda')).devicesHash);
  });

  it('leaves a VM that is not running, or not ours, alone', async () => {
    const { registry, vm, event, reads, settle } = setup();
    vm.markDown(exitInfo(ExitCode.NORMAL, ExitReason.SUCCESS));
    event(1);
    expect(reads).toHaveLength(0);
    registry.add('11111111-2222-3333-4444-555555555555', 'b', 'Up');
    event(1);
    await settle();
    expect(reads).toHaveLength(0);
  });
});
