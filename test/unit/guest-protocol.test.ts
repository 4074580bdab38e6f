import { describe, expect, it, vi } from 'vitest';
import { getLogger } from '../../src/log.js';
import { mergeGuestInfo, memUsagePercent } from '../../src/virt/guest/guest-info.js';
import { OvirtAgent, RESPONSIVE_WINDOW, UnsupportedMessage } from '../../src/virt/guest/ovirt-agent.js';
import { applyMessage, guestIPsOf, initialGuestInfo } from '../../src/virt/guest/ovirt-messages.js';
import { encodeHostMessage, parseGuestLine } from '../../src/virt/guest/ovirt-wire.js';
import { filterValue, filterXmlChars } from '../../src/virt/guest/xml-chars.js';

describe('XML character filter', () => {
  it('keeps allowed characters, valid surrogate pairs included', () => {
    const ok = 'a\tb\nc\r \u007e\u0085\u00a0\ud7ff\ue000\ufffd😀';
    expect(filterXmlChars(ok)).toBe(ok);
  });

  it('replaces each forbidden character', () => {
    for (const c of ['\u0000', '\u0008', '\u000b', '\u000c', '\u000e', '\u001f', '\u007f', '\u0084', '\u0086', '\u009f', '\ud800', '\udfff', '\ufffe', '\uffff']) {
      expect(filterXmlChars(`a${c}b`)).toBe('a\uFFFDb');
    }
  });

  it('filters keys and values recursively, leaves other types', () => {
    expect(filterValue({ 'k\u0001': ['v\u0002', { x: 'y\u0000' }], n: 1, b: true, z: null })).toEqual({ 'k\uFFFD': ['v\uFFFD', { x: 'y\uFFFD' }], n: 1, b: true, z: null });
  });
});

describe('oVirt agent wire', () => {
  it('encodes host messages as vdsm does, byte for byte', () => {
    expect(encodeHostMessage('refresh', { apiVersion: 3 })).toBe('{"apiVersion": 3, "__name__": "refresh"}\n');
    expect(encodeHostMessage('lock-screen')).toBe('{"__name__": "lock-screen"}\n');
    expect(encodeHostMessage('shutdown', { timeout: 30, message: 'Bye é', reboot: 'False' })).toBe(
      '{"timeout": 30, "message": "Bye \\u00e9", "reboot": "False", "__name__": "shutdown"}\n',
    );
  });

  it('parses guest lines defensively', () => {
    expect(parseGuestLine('{"__name__":"heartbeat","free-ram":"1"}')).toEqual({ ok: true, name: 'heartbeat', args: { 'free-ram': '1' } });
    expect(parseGuestLine('{bad')).toMatchObject({ ok: false, reason: 'json' });
    expect(parseGuestLine('[1,2]')).toMatchObject({ ok: false, reason: 'not-object' });
    expect(parseGuestLine('"x"')).toMatchObject({ ok: false, reason: 'not-object' });
    expect(parseGuestLine('{"a":1}')).toMatchObject({ ok: false, reason: 'no-name' });
    expect(parseGuestLine(`${'['.repeat(100)}${']'.repeat(100)}`)).toMatchObject({ ok: false });
    expect(parseGuestLine(`{"__name__":"x","a":${'['.repeat(100)}${']'.repeat(100)}}`)).toMatchObject({ ok: false, reason: 'too-deep' });
    const proto = parseGuestLine('{"__name__":"os-info","__proto__":{"polluted":1},"k\\u0001":1}');
    expect(proto.ok && Object.getPrototypeOf(proto.args)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('oVirt agent messages', () => {
  it('maps every message to guest info as vdsm does', () => {
    const info = initialGuestInfo();
    const apply = (name: string, args: Record<string, unknown> = {}): unknown => applyMessage(info, name, args, 1000.5);
    expect(apply('heartbeat', { 'free-ram': '512', 'memory-stat': { mem_total: 100, mem_unused: 40, mem_free: 99, minflt: 3, swap_in: 1 } })).toEqual({ kind: 'heartbeat', apiVersion: undefined });
    expect(info.memUsage).toBe(512);
    expect(info.memoryStats).toEqual({ mem_total: '100', mem_unused: '40', mem_free: '40', swap_in: '1' });
    apply('host-name', { name: 'guest1' });
    apply('os-version', { version: '3.10' });
    apply('os-info', { type: 'linux', arch: 'x86_64' });
    apply('timezone', { zone: 'UTC', offset: 0 });
    apply('fqdn', { fqdn: 'guest1.example' });
    apply('network-interfaces', { interfaces: [{ name: 'eth0', hw: 'aa', inet: ['10.0.0.1', '10.0.0.2'] }, { name: 'eth1', hw: 'bb', inet: [], inet6: ['fe80::1'] }, { name: 'eth2', hw: 'cc', inet: ['10.0.0.3'] }] });
    apply('applications', { applications: ['kernel-1', 'ovirt-guest-agent-1.0.16'] });
    apply('active-user', { name: 'alice' });
    apply('session-lock');
    apply('disks-usage', { disks: [{ path: '/', fs: 'xfs', total: 10, used: 5 }], mapping: { s1: { name: '/dev/vda' } } });
    apply('number-of-cpus', { count: '4' });
    apply('containers', { list: [{ id: 'c1', names: ['web'], image: 'nginx', status: 'up', command: 'nginx' }] });
    expect(info).toMatchObject({
      guestName: 'guest1',
      guestOs: '3.10',
      guestOsInfo: { type: 'linux', arch: 'x86_64' },
      guestTimezone: { zone: 'UTC', offset: 0 },
      guestFQDN: 'guest1.example',
      guestIPs: '10.0.0.1 10.0.0.2  10.0.0.3',
      appsList: ['kernel-1', 'ovirt-guest-agent-1.0.16'],
      username: 'alice',
      lastLogin: 1000.5,
      session: 'Locked',
      disksUsage: [{ path: '/', fs: 'xfs', total: '10', used: '5' }],
      diskMapping: { s1: { name: '/dev/vda' } },
      guestCPUCount: 4,
      guestContainers: [{ id: 'c1' }],
    });
    expect(info.netIfaces[1]).toEqual({ name: 'eth1', hw: 'bb', inet: [], inet6: ['fe80::1'] });
    apply('uninstalled');
    expect(info.appsList).toEqual([]);
    for (const [name, session] of [['session-logon', 'UserLoggedOn'], ['session-unlock', 'Active'], ['session-logoff', 'LoggedOff']] as const) {
      apply(name);
      expect(info.session).toBe(session);
    }
  });

  it("keeps 'None' over 'Unknown' for the active user", () => {
    const info = initialGuestInfo();
    applyMessage(info, 'active-user', { name: 'None' }, 1);
    applyMessage(info, 'active-user', { name: 'Unknown' }, 2);
    expect(info.username).toBe('None');
    expect(info.lastLogin).toBe(1);
  });

  it('refuses wrong field types whole, leaving the info as it was', () => {
    const info = initialGuestInfo();
    expect(applyMessage(info, 'heartbeat', { 'free-ram': 'x' }, 0)).toEqual({ kind: 'invalid', field: 'free-ram' });
    expect(applyMessage(info, 'applications', { applications: 'abc' }, 0)).toEqual({ kind: 'invalid', field: 'applications' });
    expect(applyMessage(info, 'network-interfaces', { interfaces: [{ name: 1 }] }, 0)).toMatchObject({ kind: 'invalid' });
    expect(applyMessage(info, 'disks-usage', { disks: [{ path: '/' }] }, 0)).toMatchObject({ kind: 'invalid' });
    expect(applyMessage(info, 'host-name', { name: ['x'] }, 0)).toMatchObject({ kind: 'invalid' });
    expect(applyMessage(info, 'frobnicate', {}, 0)).toEqual({ kind: 'unknown' });
    expect(info).toEqual(initialGuestInfo());
    expect(guestIPsOf([])).toBe('');
  });
});

function agentWith(now: { t: number }, apiVersion = 0) {
  const sent: string[] = [];
  const onAnswer = vi.fn();
  const onChange = vi.fn();
  const agent = new OvirtAgent({ vmId: 'vm1', send: (l) => (sent.push(l), true), onAnswer, onChange, log: getLogger('test'), monotonic: () => now.t, initialApiVersion: apiVersion });
  return { agent, sent, onAnswer, onChange };
}

describe('OvirtAgent', () => {
  it('greets with refresh 3 and negotiates the API version as vdsm', () => {
    const now = { t: 0 };
    const { agent, sent, onAnswer } = agentWith(now);
    agent.connected();
    expect(sent).toEqual(['{"apiVersion": 3, "__name__": "refresh"}\n']);
    agent.line('{"__name__":"heartbeat","free-ram":"100","apiVersion":0}');
    expect(sent).toHaveLength(1);
    expect(onAnswer).toHaveBeenCalledTimes(1);
    agent.line('{"__name__":"heartbeat","free-ram":"100","apiVersion":3}');
    expect(agent.apiVersion).toBe(3);
    expect(sent[1]).toBe('{"apiVersion": 3, "__name__": "api-version"}\n');
    agent.line('{"__name__":"heartbeat","free-ram":"100","apiVersion":9}');
    expect(sent).toHaveLength(2);
    agent.line('{"__name__":"heartbeat","free-ram":"100"}');
    expect(agent.apiVersion).toBe(0);
    agent.line('{"__name__":"heartbeat","free-ram":"100","apiVersion":"x"}');
    expect(agent.apiVersion).toBe(0);
    expect(onAnswer).toHaveBeenCalledTimes(1);
  });

  it('is responsive for 120 s after any parsed message, unknown ones included', () => {
    const now = { t: 1000 };
    const { agent } = agentWith(now);
    expect(agent.isResponsive()).toBe(false);
    agent.line('not json');
    expect(agent.isResponsive()).toBe(false);
    agent.line('{"__name__":"echo"}');
    expect(agent.isResponsive()).toBe(true);
    now.t += RESPONSIVE_WINDOW - 0.1;
    expect(agent.isResponsive()).toBe(true);
    now.t += 0.2;
    expect(agent.isResponsive()).toBe(false);
  });

  it('never throws on hostile lines', () => {
    const now = { t: 0 };
    const { agent } = agentWith(now);
    for (const line of ['', '\u0000', 'null', '1', '[]', '{"__name__":5}', '{"__name__":"heartbeat"}', '{"__name__":"network-interfaces","interfaces":{"a":1}}', '{"__name__":"completion","reply_id":7}', '\uFFFD\uFFFD{']) {
      expect(() => agent.line(line)).not.toThrow();
    }
  });

  it('gates messages by API version and sends desktop commands as vdsm', () => {
    const now = { t: 0 };
    const { agent, sent } = agentWith(now);
    expect(() => agent.send('set-number-of-cpus', { count: 2 })).toThrow(UnsupportedMessage);
    agent.desktopLock();
    agent.desktopLogoff();
    agent.desktopLogin('bob', 'corp', 'pw');
    agent.desktopShutdown(30, 'bye', true);
    expect(sent).toEqual([
      '{"__name__": "lock-screen"}\n',
      '{"__name__": "log-off"}\n',
      '{"username": "bob@corp", "password": "pw", "__name__": "login"}\n',
      '{"timeout": 30, "message": "bye", "reboot": "True", "__name__": "shutdown"}\n',
    ]);
  });

  it('sends lifecycle events to API 3 agents and resolves on completion', async () => {
    const now = { t: 0 };
    const old = agentWith(now);
    expect(await old.agent.lifecycleEvent('before_migration', { waitSeconds: 1 })).toBe(false);
    expect(old.sent).toEqual([]);

    const { agent, sent } = agentWith(now, 3);
    agent.line('{"__name__":"heartbeat","free-ram":"1","apiVersion":3}');
    const done = agent.lifecycleEvent('before_hibernation', { waitSeconds: 5 });
    const msg = JSON.parse(sent.at(-1)!) as Record<string, unknown>;
    expect(msg).toMatchObject({ __name__: 'lifecycle-event', type: 'before_hibernation', reply_id: expect.any(String) });
    agent.line(JSON.stringify({ __name__: 'completion', reply_id: msg['reply_id'], done: true }));
    expect(await done).toBe(true);
    expect(await agent.lifecycleEvent('after_hibernation', { failure: true })).toBe(false);
    expect(JSON.parse(sent.at(-1)!)).toEqual({ type: 'after_hibernation', failure: true, __name__: 'lifecycle-event' });
    expect(await agent.lifecycleEvent('before_migration', { waitSeconds: 0.05 })).toBe(false);
  });

  it('zeroes memUsage when silent', () => {
    const now = { t: 0 };
    const { agent } = agentWith(now);
    agent.line('{"__name__":"heartbeat","free-ram":"100"}');
    agent.silent();
    expect(agent.info.memUsage).toBe(0);
  });
});

describe('mergeGuestInfo', () => {
  const info = (): ReturnType<typeof initialGuestInfo> => ({
    ...initialGuestInfo(),
    username: 'alice',
    memUsage: 256,
    appsList: ['kernel-5', 'qemu-guest-agent-1', 'vim'],
    guestIPs: '10.0.0.1',
    guestName: 'g',
    netIfaces: [{ name: 'eth0', hw: 'aa', inet: ['10.0.0.1'], inet6: [] }],
    diskMapping: { s1: { name: '/dev/vda' } },
  });

  it('reports defaults without agents, memUsage as percent used', () => {
    expect(mergeGuestInfo(undefined, undefined, 1024)).toEqual({ username: 'Unknown', session: 'Unknown', memUsage: '0', guestCPUCount: -1, appsList: [], guestIPs: '', guestFQDN: '' });
    expect(memUsagePercent(256, 1024)).toBe('75');
  });

  it('keeps only the lasting keys of a non-responsive agent', () => {
    const out = mergeGuestInfo({ info: info(), responsive: false }, undefined, 1024);
    expect(out).toMatchObject({ username: 'alice', guestIPs: '10.0.0.1', memUsage: '0' });
    expect(out['guestName']).toBeUndefined();
    const live = mergeGuestInfo({ info: info(), responsive: true }, undefined, 1024);
    expect(live).toMatchObject({ guestName: 'g', memUsage: '75', guestDiskMapping: { s1: { name: '/dev/vda' } } });
    expect(live['diskMapping']).toBeUndefined();
  });

  it('lets the QEMU agent override, its apps first', () => {
    const out = mergeGuestInfo({ info: info(), responsive: true }, { username: 'root', guestIPs: '', appsList: ['kernel-6', 'qemu-guest-agent-8'], diskMapping: { s2: { name: '/dev/vdb' } } }, 1024);
    expect(out).toMatchObject({ username: 'root', guestIPs: '', guestName: 'g', appsList: ['kernel-6', 'qemu-guest-agent-8', 'vim'] });
    expect(out['guestDiskMapping']).toEqual({ s1: { name: '/dev/vda' }, s2: { name: '/dev/vdb' } });
  });
});
