import { describe, expect, it } from 'vitest';
import type { LifecycleEvent } from '../../src/virt/libvirt/events.js';
import { VmRegistry } from '../../src/virt/registry.js';

function setup() {
  const emitted: Array<{ id: string; params: Record<string, unknown> }> = [];
  let now = 100;
  let event = 3_000_000_000;
  const clock = { eventTime: () => ++event, monotonic: () => now };
  const registry = new VmRegistry({ emit: (_ns, _ev, id, params) => emitted.push({ id, params }) }, clock);
  return { registry, emitted, advance: (s: number) => (now += s) };
}

const lifecycle = (uuid: string, event: LifecycleEvent['event'], detail: string): LifecycleEvent => ({
  kind: 'lifecycle',
  uuid,
  name: `vm-${uuid}`,
  event,
  detail,
  eventCode: 0,
  detailCode: 0,
});

const statuses = (emitted: Array<{ id: string; params: Record<string, unknown> }>, id: string): unknown[] =>
  emitted.map((e) => e.params[id]);

describe('VM status machine', () => {
  it('walks a launch, pause, resume and admin destroy, emitting each change', () => {
    const { registry, emitted } = setup();
    const vm = registry.add('a', 'vm-a', 'WaitForLaunch');
    registry.handleEvent(lifecycle('a', 'Started', 'Booted'));
    expect(vm.status).toBe('Powering up');
    vm.guestAnswered();
    registry.handleEvent(lifecycle('a', 'Suspended', 'Paused'));
    registry.handleEvent(lifecycle('a', 'Resumed', 'Unpaused'));
    vm.expect('destroy');
    registry.handleEvent(lifecycle('a', 'Stopped', 'Destroyed'));
    expect(statuses(emitted, 'a')).toEqual([
      { status: 'Powering up' },
      { status: 'Up' },
      { status: 'Paused', pauseCode: 'NOERR' },
      { status: 'Up' },
      { status: 'Down', exitCode: 0, exitReason: 6, exitMessage: 'Admin shut down from the engine' },
    ]);
  });

  it('tells a guest shutdown from an admin one and a lost QEMU from a destroy', () => {
    const { registry } = setup();
    const guest = registry.add('g', 'g', 'Up');
    registry.handleEvent(lifecycle('g', 'Shutdown', 'Guest'));
    expect(guest.status).toBe('Powering down');
    registry.handleEvent(lifecycle('g', 'Stopped', 'Shutdown'));
    expect(guest.exit).toEqual({ exitCode: 0, exitReason: 7, exitMessage: 'User shut down from within the guest' });

    const killed = registry.add('k', 'k', 'Up');
    registry.handleEvent(lifecycle('k', 'Stopped', 'Destroyed'));
    expect(killed.exit).toEqual({ exitCode: 1, exitReason: 2, exitMessage: 'Lost connection with qemu process' });

    const crashed = registry.add('c', 'c', 'Up');
    registry.handleEvent(lifecycle('c', 'Stopped', 'Crashed'));
    expect(crashed.exit?.exitCode).toBe(1);
  });

  it('carries the I/O error reason into the pause code', () => {
    const { registry, emitted } = setup();
    registry.add('io', 'io', 'Up');
    registry.handleEvent({ kind: 'io-error', uuid: 'io', name: 'io', srcPath: '/d', devAlias: 'vda', action: 'pause', reason: 'enospc' });
    registry.handleEvent(lifecycle('io', 'Suspended', 'IOError'));
    expect(statuses(emitted, 'io')).toEqual([{ status: 'Paused', pauseCode: 'ENOSPC' }]);
  });

  it('puts an agent-less VM up after the grace time, not before', () => {
    const { registry, advance } = setup();
    const vm = registry.add('p', 'p', 'WaitForLaunch');
    registry.handleEvent(lifecycle('p', 'Started', 'Booted'));
    advance(5);
    vm.checkPowerUp(30);
    expect(vm.status).toBe('Powering up');
    advance(30);
    vm.checkPowerUp(30);
    expect(vm.status).toBe('Up');
    expect(vm.elapsedSeconds()).toBe(35);
  });

  it('adopts a domain started outside hostvisor and ignores mere definitions', () => {
    const { registry } = setup();
    registry.handleEvent(lifecycle('x', 'Defined', 'Added'));
    expect(registry.get('x')).toBeUndefined();
    registry.handleEvent(lifecycle('x', 'Started', 'Booted'));
    expect(registry.get('x')?.status).toBe('Powering up');
    expect(registry.get('x')?.name).toBe('vm-x');
  });

  it('counts VMs and notifies additions and removals', () => {
    const { registry } = setup();
    const seen: string[] = [];
    registry.onAdded((vm) => seen.push(`+${vm.id}`));
    registry.onRemoved((vm) => seen.push(`-${vm.id}`));
    registry.add('a', 'a', 'Up');
    registry.add('b', 'b', 'Down');
    registry.add('a', 'a', 'Up');
    expect(registry.counts()).toEqual({ vmCount: 2, vmActive: 1, vmMigrating: 0, incomingVmMigrations: 0, outgoingVmMigrations: 0 });
    registry.remove('b');
    registry.remove('b');
    expect(seen).toEqual(['+a', '+b', '-b']);
  });

  it('takes Resumed before Started at a launch (qemu:///system\'s order) as the boot', () => {
    const { registry, emitted } = setup();
    const vm = registry.add('q', 'vm-q', 'WaitForLaunch');
    registry.handleEvent(lifecycle('q', 'Resumed', 'Unpaused'));
    registry.handleEvent(lifecycle('q', 'Started', 'Booted'));
    expect(vm.status).toBe('Powering up');
    vm.guestAnswered();
    expect(statuses(emitted, 'q')).toEqual([{ status: 'Powering up' }, { status: 'Up' }]);
  });

  it("leaves a migration's end to the migration that runs it; without one, libvirt's event ends it", () => {
    const { registry, emitted } = setup();
    const vm = registry.add('m', 'vm-m', 'Up');
    vm.setStatus('Migration Source');
    vm.migrationReportsEnd = true;
    registry.handleEvent(lifecycle('m', 'Suspended', 'Migrated'));
    registry.handleEvent(lifecycle('m', 'Stopped', 'Migrated'));
    expect(vm.status).toBe('Migration Source');
    // Found migrating after a restart, or started behind our back: libvirt's event is all there is.
    const other = registry.add('o', 'vm-o', 'Migration Source');
    registry.handleEvent(lifecycle('o', 'Stopped', 'Migrated'));
    expect(other.status).toBe('Down');
    expect(statuses(emitted, 'o').at(-1)).toMatchObject({ status: 'Down', exitReason: 4 });
  });

  it('tells when a VM that was Down runs again', () => {
    const { registry } = setup();
    const started: string[] = [];
    registry.onStarted((vm) => started.push(vm.id));
    registry.add('r', 'r', 'Up');
    registry.handleEvent(lifecycle('r', 'Stopped', 'Shutdown'));
    registry.handleEvent(lifecycle('r', 'Started', 'Booted'));
    registry.handleEvent(lifecycle('r', 'Suspended', 'Paused'));
    registry.handleEvent(lifecycle('r', 'Resumed', 'Unpaused'));
    expect(started).toEqual(['r']);
  });

  it('gives the short status of Host.getVMList with a statusTime above INT_MAX', () => {
    const { registry } = setup();
    const short = registry.add('s', 's', 'Up').shortStatus();
    expect(short.vmId).toBe('s');
    expect(short.status).toBe('Up');
    expect(Number(short.statusTime)).toBeGreaterThan(2 ** 31 - 1);
  });
});
