/**
 * The oVirt agent channels end to end on real unix sockets: fake guests bind the sockets as QEMU
 * does and speak the agent's line protocol; the listener follows a VM registry.
 */
import { mkdtempSync, mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGuest } from '../doubles/fake-guest.js';
import { GuestData } from '../../src/virt/guest/guest-data.js';
import { GuestListener } from '../../src/virt/guest/listener.js';
import { VmRegistry } from '../../src/virt/registry.js';
import type { Vm } from '../../src/virt/vm.js';

const FAST_BACKOFF = { initial: 0.02, max: 0.2 };

const until = async (check: () => boolean, ms = 10_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('guest agent channels', () => {
  let dir: string;
  let registry: VmRegistry;
  let listener: GuestListener;
  let guests: FakeGuest[];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hv-guest-'));
    registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => performance.now() / 1000 });
    guests = [];
    listener = new GuestListener({ vms: registry, data: new GuestData(registry), channelsDir: dir, staleAfter: 30, backoff: FAST_BACKOFF, sweepInterval: 0.1 });
    await listener.start();
  });
  afterEach(async () => {
    listener.stop();
    await Promise.all(guests.map((g) => g.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  async function guestFor(id: string, path = join(dir, `${id}.ovirt-guest-agent.0`), listen = true): Promise<{ vm: Vm; guest: FakeGuest }> {
    const guest = new FakeGuest(path);
    guests.push(guest);
    if (listen) await guest.listen();
    const vm = registry.add(id, id, 'Powering up');
    vm.memoryKiB = 1024 * 1024;
    vm.devices = { disks: [], nics: [], channels: [{ target: 'ovirt-guest-agent.0', path }, { target: 'org.qemu.guest_agent.0', path: `${path}.qga` }] };
    return { vm, guest };
  }

  it('runs a normal session with every message into vm.guest', async () => {
    const { vm, guest } = await guestFor('vm-a');
    await guest.until(() => guest.received.length >= 1);
    expect(guest.received[0]).toEqual({ apiVersion: 3, __name__: 'refresh' });
    guest.heartbeat('256', 0);
    guest.heartbeat('256', 3);
    await guest.until(() => guest.received.some((m) => m['__name__'] === 'api-version'));
    expect(guest.received[1]).toEqual({ apiVersion: 3, __name__: 'api-version' });
    guest.send('host-name', { name: 'guest-a' });
    guest.send('os-version', { version: '3.10.0' });
    guest.send('os-info', { type: 'linux', arch: 'x86_64', kernel: '3.10', distribution: 'CentOS', version: '7', codename: 'Core' });
    guest.send('timezone', { zone: 'Europe/Prague', offset: 60 });
    guest.send('network-interfaces', { interfaces: [{ name: 'eth0', hw: '52:54:00:00:00:01', inet: ['10.0.0.5'], inet6: ['fe80::5'] }] });
    guest.send('applications', { applications: ['ovirt-guest-agent-common-1.0.16', 'kernel-3.10'] });
    guest.send('active-user', { name: 'alice' });
    guest.send('session-logon');
    guest.send('fqdn', { fqdn: 'guest-a.example' });
    guest.send('containers', { list: [{ id: 'c1', names: ['web'], image: 'nginx', status: 'running', command: 'nginx' }] });
    guest.send('disks-usage', { disks: [{ path: '/', fs: 'xfs', total: 10737418240, used: 1073741824 }], mapping: { SERIAL1: { name: '/dev/vda' } } });
    guest.send('number-of-cpus', { count: 2 });
    guest.send('session-startup');
    await until(() => vm.guest['guestCPUCount'] === 2);
    expect(vm.status).toBe('Up');
    expect(vm.guest).toMatchObject({
      memUsage: '75',
      memoryStats: { mem_total: '1048576', mem_unused: '524288', mem_free: '524288' },
      guestName: 'guest-a',
      guestOs: '3.10.0',
      guestOsInfo: { distribution: 'CentOS' },
      guestTimezone: { zone: 'Europe/Prague', offset: 60 },
      netIfaces: [{ name: 'eth0', hw: '52:54:00:00:00:01', inet: ['10.0.0.5'], inet6: ['fe80::5'] }],
      guestIPs: '10.0.0.5',
      appsList: ['ovirt-guest-agent-common-1.0.16', 'kernel-3.10'],
      username: 'alice',
      session: 'UserLoggedOn',
      guestFQDN: 'guest-a.example',
      guestContainers: [{ id: 'c1', names: ['web'] }],
      disksUsage: [{ path: '/', fs: 'xfs', total: '10737418240', used: '1073741824' }],
      guestDiskMapping: { SERIAL1: { name: '/dev/vda' } },
    });
    listener.agent('vm-a')!.desktopLock();
    await guest.until(() => guest.received.at(-1)?.['__name__'] === 'lock-screen');
  });

  it('reconnects when the guest side closes and comes back', async () => {
    const { vm, guest } = await guestFor('vm-b');
    await guest.until(() => guest.connections === 1 && guest.received.length === 1);
    guest.heartbeat();
    await until(() => vm.guest['memUsage'] === '50');
    await guest.close();
    await until(() => listener.channel('vm-b')!.state !== 'connected');
    await new Promise((r) => setTimeout(r, 300)); // several failed attempts while it is away
    await guest.listen();
    await guest.until(() => guest.connections === 2 && guest.received.length === 2);
    expect(guest.received[1]).toEqual({ apiVersion: 3, __name__: 'refresh' });
    guest.send('host-name', { name: 'back' });
    await until(() => vm.guest['guestName'] === 'back');
    // the data of before the drop is kept, as vdsm keeps it
    expect(vm.guest['memUsage']).toBe('50');
  });

  it('drops a 2 MiB line, survives garbage and partial lines split across reads', async () => {
    const { vm, guest } = await guestFor('vm-c');
    await guest.until(() => guest.received.length === 1);
    const big = `{"__name__":"host-name","name":"${'x'.repeat(2 * 1024 * 1024)}"}\n`;
    guest.sendRaw(big);
    guest.sendRaw('not json at all\n[1,2,3]\n"str"\n{"no":"name"}\n\n{"__name__":"applications","applications":"abc"}\n\u0000\u00ff\n');
    guest.sendRaw(Buffer.from([0xff, 0xfe, 0x0a]));
    const line = '{"__name__":"host-name","name":"after\\u0001garbage"}\n';
    guest.sendRaw(line.slice(0, 10));
    await new Promise((r) => setTimeout(r, 50));
    guest.sendRaw(line.slice(10, 30));
    await new Promise((r) => setTimeout(r, 50));
    guest.sendRaw(`${line.slice(30)}{"__name__":"fqdn","fq`);
    await new Promise((r) => setTimeout(r, 50));
    guest.sendRaw('dn":"ok.example"}\n');
    await until(() => vm.guest['guestFQDN'] === 'ok.example');
    expect(vm.guest['guestName']).toBe('after\uFFFDgarbage');
    expect(vm.guest['appsList']).toEqual([]);
    expect(listener.channel('vm-c')!.state).toBe('connected');
    expect(guest.connections).toBe(1);
  });

  it('serves 200 channels at once', async () => {
    const all = await Promise.all(Array.from({ length: 200 }, (_, i) => guestFor(`vm-${String(i).padStart(3, '0')}`)));
    await until(() => all.every(({ guest }) => guest.received.length >= 1), 20_000);
    for (const { guest } of all) guest.heartbeat('768', 3);
    await until(() => all.every(({ vm }) => vm.guest['memUsage'] === '25'), 20_000);
    await until(() => all.every(({ guest }) => guest.received.some((m) => m['__name__'] === 'api-version')), 20_000);
    expect(listener.size).toBe(200);
    expect(all.every(({ vm }) => vm.status === 'Up')).toBe(true);
  }, 60_000);

  it('refuses channel paths outside the folder: .. and a symlink out', async () => {
    const outside = mkdtempSync(join(tmpdir(), 'hv-outside-'));
    try {
      const escaped = await guestFor('vm-dots', join(dir, '..', `${outside.split('/').pop()}`, 'vm-dots.sock'), false);
      const target = new FakeGuest(join(outside, 'real.sock'));
      guests.push(target);
      await target.listen();
      symlinkSync(join(outside, 'real.sock'), join(dir, 'vm-link.ovirt-guest-agent.0'));
      const linked = await guestFor('vm-link', join(dir, 'vm-link.ovirt-guest-agent.0'), false);
      await until(() => listener.channel('vm-dots')?.state === 'refused' && listener.channel('vm-link')?.state === 'refused');
      await new Promise((r) => setTimeout(r, 200));
      expect(target.connections).toBe(0);
      expect(escaped.vm.guest['session']).toBe('Unknown');
      expect(linked.vm.status).toBe('Powering up');
      // a symlink that stays inside the folder is fine
      mkdirSync(join(dir, 'sub'));
      const inner = new FakeGuest(join(dir, 'sub', 'real.sock'));
      guests.push(inner);
      await inner.listen();
      symlinkSync(join(dir, 'sub', 'real.sock'), join(dir, 'vm-in.ovirt-guest-agent.0'));
      await guestFor('vm-in', join(dir, 'vm-in.ovirt-guest-agent.0'), false);
      await inner.until(() => inner.connections === 1);
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it('drops the channel when the VM goes down and picks it up when it comes back', async () => {
    const { vm, guest } = await guestFor('vm-d');
    await guest.until(() => guest.connections === 1);
    guest.send('host-name', { name: 'first-run' });
    await until(() => vm.guest['guestName'] === 'first-run');
    vm.markDown({ exitCode: 0, exitReason: 0, exitMessage: '' });
    listener.vmChanged(vm.id);
    await guest.until(() => !guest.connected);
    expect(listener.agent('vm-d')).toBeUndefined();
    expect(vm.guest).toEqual({});
    vm.setStatus('Powering up');
    // not forwarded: the sweep notices
    await guest.until(() => guest.connections === 2);
    guest.heartbeat();
    await until(() => vm.status === 'Up');
    expect(vm.guest['guestName']).toBeUndefined();
    registry.remove(vm.id);
    await guest.until(() => !guest.connected);
  });

  it('picks up the VMs already running when it starts', async () => {
    listener.stop();
    const { guest } = await guestFor('vm-e');
    const late = new GuestListener({ vms: registry, data: new GuestData(registry), channelsDir: dir, staleAfter: 30, backoff: FAST_BACKOFF });
    await late.start();
    try {
      await guest.until(() => guest.connections === 1);
    } finally {
      late.stop();
    }
  });
});

describe('a silent guest agent', () => {
  it('goes stale after guest_agent_timeout (memUsage 0) and unresponsive after 120 s', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hv-guest-'));
    const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => performance.now() / 1000 });
    const listener = new GuestListener({ vms: registry, data: new GuestData(registry), channelsDir: dir, staleAfter: 0.3, backoff: FAST_BACKOFF, sweepInterval: 0.1 });
    const guest = new FakeGuest(join(dir, 'vm.ovirt-guest-agent.0'));
    try {
      await guest.listen();
      await listener.start();
      const vm = registry.add('vm-s', 'vm-s', 'Up');
      vm.memoryKiB = 1024 * 1024;
      vm.devices = { disks: [], nics: [], channels: [{ target: 'ovirt-guest-agent.0', path: guest.path }] };
      await guest.until(() => guest.connections === 1);
      guest.heartbeat('256');
      await until(() => vm.guest['memUsage'] === '75');
      await until(() => vm.guest['memUsage'] === '0');
      expect(listener.agent('vm-s')!.isResponsive()).toBe(true);
      expect(listener.agent('vm-s')!.isResponsive(performance.now() / 1000 + 121)).toBe(false);
    } finally {
      listener.stop();
      await guest.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
