import { describe, expect, it } from 'vitest';
import type { DispatchOptions, TaskSpec } from '../../src/concurrency/index.js';
import { GuestData } from '../../src/virt/guest/guest-data.js';
import { BOOT_PHASE, QemuAgentPoller } from '../../src/virt/guest/qemu-agent.js';
import { translateDevices, translateFsInfo, translateNetwork, translateOsInfo, translateTimezone, translateUsers, translateVcpus } from '../../src/virt/guest/qga-translate.js';
import { VmRegistry } from '../../src/virt/registry.js';
import type { AgentCommandsTask, AgentReply } from '../../src/tasks/qga.js';
import { agentRequest, parseAgentReply } from '../../workers/qga.js';

const GUEST_INFO = {
  version: '1.2.3',
  supported_commands: [
    'guest-get-vcpus', 'guest-get-devices', 'guest-network-get-interfaces', 'guest-get-host-name', 'guest-get-osinfo',
    'guest-get-timezone', 'guest-get-users', 'guest-get-fsinfo', 'guest-get-disks',
  ].map((name) => ({ name, enabled: true, 'success-response': true })).concat([{ name: 'guest-exec', enabled: false, 'success-response': true }]),
};

const REPLIES: Record<string, unknown> = {
  'guest-info': GUEST_INFO,
  'guest-get-vcpus': [{ 'logical-id': 0, online: true }, { 'logical-id': 1, online: true }, { 'logical-id': 2, online: false }],
  'guest-get-devices': [
    { 'driver-name': 'netkvm', 'driver-date': 1546300800000000000, 'driver-version': '1.0', id: { type: 'pci', 'vendor-id': 6900, 'device-id': 4096 } },
    { 'driver-name': 'netkvm', 'driver-date': 1546300800000000000, 'driver-version': '1.0', id: { type: 'pci', 'vendor-id': 6900, 'device-id': 4096 } },
  ],
  'guest-network-get-interfaces': [
    { name: 'lo', 'hardware-address': '00:00:00:00:00:00', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '127.0.0.1', prefix: 8 }] },
    { name: 'eth0', 'hardware-address': '52:54:00:00:00:01', 'ip-addresses': [{ 'ip-address-type': 'ipv4', 'ip-address': '10.1.1.5', prefix: 24 }, { 'ip-address-type': 'ipv6', 'ip-address': 'fe80::1', prefix: 64 }] },
  ],
  'guest-get-host-name': { 'host-name': 'qga-host' },
  'guest-get-osinfo': { id: 'fedora', 'kernel-release': '6.1.0', machine: 'x86_64', name: 'Fedora', 'version-id': '38', variant: 'Cloud' },
  'guest-get-timezone': { zone: 'EDT', offset: -14400 },
  'guest-get-users': [{ user: 'root', 'login-time': 1 }, { user: 'frodo', domain: 'hobbits', 'login-time': 2 }],
  'guest-get-fsinfo': [{ name: 'vda1', mountpoint: '/', type: 'xfs', 'total-bytes': 1000, 'used-bytes': 400, disk: [{ serial: 'S1', dev: '/dev/vda1' }] }, { name: 'sr', mountpoint: '/boot', type: 'vfat' }],
  'guest-get-disks': [{ name: '/dev/vda', partition: false, address: { serial: 'S1' } }, { name: '/dev/dm-0', partition: false }],
};

/** The worker boundary: answers agentCommands tasks from a table, or fails like libvirt. */
class FakeQga {
  readonly tasks: AgentCommandsTask[] = [];
  failing = false;
  /** The hypervisor has no agent support at all (libvirt's test driver, LXC). */
  unsupported = false;
  dispatch<R>(task: TaskSpec, _options?: DispatchOptions<R>): Promise<R> {
    expect(task.name).toBe('agentCommands');
    const args = task.args as AgentCommandsTask;
    this.tasks.push(args);
    const replies: AgentReply[] = [];
    for (const command of args.commands) {
      if (this.unsupported) {
        replies.push({ command, ok: false, kind: 'libvirt', message: 'this function is not supported by the connection driver: virDomainQemuAgentCommand', code: 'VIR_ERR_NO_SUPPORT' });
        break;
      }
      if (this.failing) {
        replies.push({ command, ok: false, kind: 'libvirt', message: 'Guest agent is not responding', code: 'VIR_ERR_AGENT_UNRESPONSIVE' });
        break;
      }
      replies.push(parseAgentReply(command, JSON.stringify({ return: REPLIES[command] })));
    }
    return Promise.resolve(replies as R);
  }
}

function setup() {
  const clock = { t: 1000 };
  const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => clock.t });
  const vm = registry.add('vm-1', 'one', 'Powering up');
  vm.memoryKiB = 1024 * 1024;
  vm.devices = { disks: [], nics: [], channels: [{ target: 'org.qemu.guest_agent.0', path: '/ch/vm-1.org.qemu.guest_agent.0' }] };
  const data = new GuestData(registry);
  const fake = new FakeQga();
  const poller = new QemuAgentPoller({ uri: 'test:///default', vms: registry, data, commandTimeout: 1, tick: 5, monotonic: () => clock.t });
  const ctx = { dispatch: <R>(task: TaskSpec) => fake.dispatch<R>(task) };
  return { clock, registry, vm, data, fake, poller, tick: () => poller.poll(ctx) };
}

describe('QEMU agent replies', () => {
  it('translate as vdsm reports them', () => {
    expect(agentRequest('guest-info')).toBe('{"execute": "guest-info"}');
    expect(parseAgentReply('x', '{"error":{"class":"CommandNotFound"}}')).toMatchObject({ ok: false, kind: 'agent' });
    expect(parseAgentReply('x', '{"foo":1}')).toMatchObject({ ok: false, kind: 'agent' });
    expect(translateVcpus(REPLIES['guest-get-vcpus'])).toEqual({ guestCPUCount: 2 });
    expect(translateNetwork(REPLIES['guest-network-get-interfaces'])).toEqual({
      guestIPs: '',
      netIfaces: [
        { name: 'lo', hw: '00:00:00:00:00:00', inet: ['127.0.0.1'], inet6: [] },
        { name: 'eth0', hw: '52:54:00:00:00:01', inet: ['10.1.1.5'], inet6: ['fe80::1'] },
      ],
    });
    expect(translateTimezone(REPLIES['guest-get-timezone'])).toEqual({ guestTimezone: { offset: -240, zone: 'EDT' } });
    expect(translateUsers(REPLIES['guest-get-users'])).toEqual({ username: 'root, frodo@hobbits' });
    expect(translateOsInfo(REPLIES['guest-get-osinfo'])).toEqual({
      guestOs: '6.1.0',
      guestOsInfo: { type: 'linux', arch: 'x86_64', kernel: '6.1.0', distribution: 'Fedora', version: '38', codename: 'Cloud' },
    });
    expect(translateOsInfo({ id: 'mswindows', 'pretty-name': 'Windows 10 Pro', 'kernel-version': '10.0', machine: 'i686' })).toMatchObject({ guestOs: 'Windows 10 Pro', guestOsInfo: { type: 'windows', arch: 'x86', version: '10.0' } });
    expect(translateFsInfo(REPLIES['guest-get-fsinfo'], true)).toEqual({ disksUsage: [{ path: '/', total: '1000', used: '400', fs: 'xfs' }], diskMapping: { S1: { name: '/dev/vda' } } });
    expect(translateDevices(REPLIES['guest-get-devices'])).toEqual({ pci_devices: [{ device_id: 4096, driver_date: '2019-01-01', driver_name: 'netkvm', driver_version: '1.0', vendor_id: 6900 }] });
    expect(translateDevices([{ address: { type: 'pci', data: { 'vendor-id': 1, 'device-id': 2 } }, 'driver-date': '2020-05-06T00:00:00' }])).toMatchObject({ pci_devices: [{ driver_date: '2020-05-06' }] });
    expect(translateVcpus('nonsense')).toBeUndefined();
  });
});

describe('QemuAgentPoller', () => {
  it('checks capabilities first, then runs the commands the agent has; its data lands in vm.guest', async () => {
    const { vm, fake, poller, tick, clock } = setup();
    await tick();
    expect(fake.tasks[0]!.commands).toEqual(['guest-info']);
    expect(poller.caps('vm-1')?.version).toBe('1.2.3');
    expect(poller.caps('vm-1')?.commands.has('guest-exec')).toBe(false);
    expect(vm.status).toBe('Up'); // the QEMU agent answered
    expect(poller.isActive('vm-1')).toBe(true);
    clock.t += 5;
    await tick();
    expect(fake.tasks[1]!.commands).toEqual([
      'guest-get-vcpus', 'guest-get-devices', 'guest-network-get-interfaces', 'guest-get-host-name', 'guest-get-osinfo',
      'guest-get-timezone', 'guest-get-users', 'guest-get-disks', 'guest-get-fsinfo',
    ]);
    expect(vm.guest).toMatchObject({
      guestCPUCount: 2,
      guestName: 'qga-host',
      guestFQDN: 'qga-host',
      username: 'root, frodo@hobbits',
      guestOs: '6.1.0',
      guestTimezone: { offset: -240, zone: 'EDT' },
      disksUsage: [{ path: '/', total: '1000', used: '400', fs: 'xfs' }],
      guestDiskMapping: { S1: { name: '/dev/vda' } },
      appsList: ['kernel-6.1.0', 'qemu-guest-agent-1.2.3'],
      pci_devices: [expect.objectContaining({ vendor_id: 6900 })],
      guestIPs: '',
    });
  });

  it("runs each command on its own period", async () => {
    const { fake, tick, clock } = setup();
    await tick();
    clock.t += 5;
    await tick();
    const before = fake.tasks.length;
    clock.t += 5;
    await tick();
    clock.t += 5;
    await tick();
    // 10 s after: only the users (10 s) are due.
    expect(fake.tasks.slice(before).map((t) => t.commands)).toEqual([['guest-get-users']]);
    clock.t += 50;
    await tick();
    expect(fake.tasks.at(-1)!.commands).toEqual(['guest-get-vcpus', 'guest-get-users']);
  });

  it('leaves a VM alone for 60 s after a failure', async () => {
    const { fake, tick, clock, poller, vm } = setup();
    clock.t += BOOT_PHASE + 1; // past boot: the capability check does not repeat every tick
    vm.startedAt = 0;
    fake.failing = true;
    await tick();
    expect(fake.tasks).toHaveLength(1);
    expect(poller.isActive('vm-1')).toBe(false);
    fake.failing = false;
    for (let i = 0; i < 11; i++) {
      clock.t += 5;
      await tick();
    }
    expect(fake.tasks).toHaveLength(1);
    clock.t += 5;
    await tick();
    expect(fake.tasks).toHaveLength(2);
    expect(fake.tasks[1]!.commands).toEqual(['guest-info']);
  });

  it('repeats the capability check every tick at boot, and forgets VMs that went down', async () => {
    const { fake, tick, clock, vm, data } = setup();
    fake.failing = true;
    await tick();
    clock.t += 5;
    await tick();
    expect(fake.tasks.map((t) => t.commands)).toEqual([['guest-info'], ['guest-info']]);
    fake.failing = false;
    clock.t += 5;
    await tick();
    expect(vm.guest['appsList']).toEqual(['qemu-guest-agent-1.2.3']);
    vm.markDown({ exitCode: 0, exitReason: 0, exitMessage: '' });
    await tick();
    expect(data.qemu('vm-1')).toBeUndefined();
    expect(data.size).toBe(0);
  });
});

describe('a hypervisor without agent support', () => {
  it('ends the polling at its first VIR_ERR_NO_SUPPORT, said once, even while VMs boot', async () => {
    const { fake, tick, clock, registry } = setup();
    const other = registry.add('vm-2', 'two', 'Powering up');
    other.devices = { disks: [], nics: [], channels: [{ target: 'org.qemu.guest_agent.0', path: '/ch/vm-2.org.qemu.guest_agent.0' }] };
    fake.unsupported = true;
    await tick();
    // Both were asked in the first round (tasks already out); none after.
    expect(fake.tasks).toHaveLength(2);
    for (let i = 0; i < 30; i++) {
      clock.t += 5;
      await tick();
    }
    expect(fake.tasks).toHaveLength(2);
  });
});

describe('QEMU agent poller under a full executor', () => {
  it('stops a round at a full queue and starts the next one there, so every VM gets its turn', async () => {
    const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => 1000 });
    for (let i = 0; i < 10; i++) {
      const vm = registry.add(`vm-${i}`, `vm-${i}`, 'Up');
      vm.devices = { disks: [], nics: [], channels: [{ target: 'org.qemu.guest_agent.0', path: `/ch/vm-${i}` }] };
    }
    const poller = new QemuAgentPoller({
      uri: 'test:///default',
      vms: registry,
      data: new GuestData(registry),
      commandTimeout: 1,
      tick: 5,
      monotonic: () => 1000,
    });
    // Room for 4 tasks a round; the agents never answer (the tasks stay in flight).
    const dispatched: string[][] = [];
    let room = 0;
    const ctx = {
      dispatch: <R>(task: TaskSpec): Promise<R> => {
        if (room === 0) throw new Error('Not enough resources');
        room--;
        dispatched.at(-1)!.push((task.args as AgentCommandsTask).uuid);
        return new Promise<R>(() => undefined);
      },
    };
    for (let round = 0; round < 3; round++) {
      dispatched.push([]);
      room = 4;
      void poller.poll(ctx);
      await Promise.resolve();
    }
    expect(dispatched).toEqual([
      ['vm-0', 'vm-1', 'vm-2', 'vm-3'],
      ['vm-4', 'vm-5', 'vm-6', 'vm-7'],
      ['vm-8', 'vm-9'],
    ]);
  });
});
