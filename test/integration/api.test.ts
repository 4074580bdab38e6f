/**
 * The Host and VM API through the real path: the daemon as a process, a STOMP JSON-RPC client,
 * libvirt's test driver behind it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { parseDomainXml } from '../../src/virt/domain-xml.js';
import { writeTestHost } from '../doubles/testhost.js';
import { statusEventViolations } from '../helpers/contract.js';
import { callError } from '../helpers/call-error.js';
import { readyPort, startDaemon, stopDaemon, type RunningDaemon } from '../helpers/daemon.js';

const FAST = {
  HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '0.5',
  HOSTVISOR_VARS_HOST_SAMPLE_STATS_INTERVAL: '0.5',
  HOSTVISOR_VARS_GUEST_AGENT_TIMEOUT: '1',
  HOSTVISOR_DAEMON_STOP_TIMEOUT: '5',
};

async function daemonWithClient(args: string[] = [], env: Record<string, string> = {}): Promise<{ daemon: RunningDaemon; client: JsonRpcClient }> {
  const daemon = startDaemon(['--listen', '127.0.0.1:0', ...args], { ...FAST, ...env });
  const client = await JsonRpcClient.connect({ host: '127.0.0.1', port: await readyPort(daemon), timeoutMs: 15_000 });
  return { daemon, client };
}


const until = async <T>(check: () => T | undefined, ms = 10_000): Promise<T> => {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
};

const NEW_UUID = '11111111-2222-3333-4444-555555555555';
const newDomainXml = (uuid = NEW_UUID, name = 'created'): string => `<domain type='test'>
  <name>${name}</name><uuid>${uuid}</uuid><memory unit='MiB'>512</memory><vcpu>2</vcpu>
  <os><type arch='i686'>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/guest/${name}.img'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>`;

describe('Host and VM API on the embedded default', () => {
  let daemon: RunningDaemon;
  let client: JsonRpcClient;
  const events: Array<{ method: string; params: Record<string, unknown> }> = [];

  beforeAll(async () => {
    ({ daemon, client } = await daemonWithClient());
    await client.subscribe('jms.queue.events', (body) => events.push(body as (typeof events)[number]));
  }, 40_000);
  afterAll(async () => {
    expect(await stopDaemon(daemon, client)).toBe(0);
  });

  it('recovers the domains already on the host', async () => {
    const list = (await client.call('Host.getVMList')) as Array<{ vmId: string; status: string; statusTime: string }>;
    expect(list).toEqual([{ vmId: '6695eb01-f6a4-8304-79aa-97f2502e193f', status: 'Up', statusTime: expect.stringMatching(/^\d+$/) }]);
    expect(Number(list[0]!.statusTime)).toBeGreaterThan(2 ** 31 - 1);
  });

  it('answers Host.getCapabilities and Host.getStats in vdsm\'s shapes, and the resource view on its own verb', async () => {
    const caps = (await client.call('Host.getCapabilities')) as Record<string, unknown>;
    expect(caps).toMatchObject({ cpuThreads: '16', memSize: '3072', vmTypes: ['kvm'], software_version: expect.any(String) });
    expect(caps['hostResources']).toBeUndefined();
    const stats = (await client.call('Host.getStats')) as Record<string, unknown>;
    expect(stats).toMatchObject({ cpuUser: expect.stringMatching(/^\d+\.\d\d$/), vmCount: 1, vmActive: 1, memFree: expect.any(Number) });
    // One source for memory: the test driver's 3 GiB node, of which its running domain takes 8 GiB.
    expect(stats).toMatchObject({ memFree: 0, memUsed: '100' });
    expect(stats['hostResources']).toBeUndefined();
    const resources = (await client.call('Host.getResources')) as Record<string, unknown>;
    expect(resources).toMatchObject({ vcpus: 16, memory_mb: 3072, hypervisor_type: 'TEST', hypervisor_hostname: 'vm', vcpus_used: 2, memory_mb_used: 8192 });
  });

  it('answers the capabilities the engine requires of a host it brings Up, and the same again from memory', async () => {
    const caps = (await client.call('Host.getCapabilities')) as Record<string, any>;
    expect(caps['HBAInventory']).toEqual({ iSCSI: expect.any(Array), FC: expect.any(Array) });
    expect(caps['rngSources']).toContain('random');
    expect(caps['clusterLevels']).toContain('4.8');
    expect(caps['supportedENGINEs']).toContain('4.8');
    for (const name of ['vdsm', 'libvirt', 'kernel']) {
      expect(caps['packages2'][name], name).toEqual({ version: expect.stringMatching(/\S/), release: expect.stringMatching(/\S/) });
    }
    expect(caps['packages2']['vdsm'].version).toBe(caps['software_version']);
    // The test driver's node: 16 CPUs in 2 cells, 3 GiB, and the same in its NUMA nodes.
    expect(caps).toMatchObject({ cpuThreads: '16', onlineCpus: expect.stringMatching(/^0,1,2/), memSize: '3072' });
    expect(Object.values(caps['numaNodes'] as Record<string, { totalMemory: string }>).map((n) => Number(n.totalMemory))).toEqual([1536, 1536]);
    // Answered from the last gathering, not gathered again per call.
    expect(await client.call('Host.getCapabilities')).toEqual(caps);
    for (const key of ['hostResources', 'hypervisor', 'figureSource', 'bootTime']) expect(caps[key], key).toBeUndefined();
  });

  it('answers Host.ping, getJobs, getHardwareInfo and hostdevListByCaps; a bad job type changes nothing', async () => {
    expect(await client.call('Host.ping')).toBe(true);
    expect(await client.call('Host.getJobs')).toEqual({});
    const bad = await callError(client.call('Host.getJobs', { job_type: 'block' }));
    expect([bad.code, bad.message]).toEqual([-32602, expect.stringContaining('job_type')]);
    const hardware = (await client.call('Host.getHardwareInfo')) as Record<string, unknown>;
    for (const key of Object.keys(hardware)) expect(['systemManufacturer', 'systemProductName', 'systemVersion', 'systemSerialNumber', 'systemUUID', 'systemFamily']).toContain(key);
    const all = (await client.call('Host.hostdevListByCaps')) as Record<string, { params: { capability: string } }>;
    expect(Object.keys(all).length).toBeGreaterThan(0);
    const pci = (await client.call('Host.hostdevListByCaps', { caps: ['pci'] })) as typeof all;
    expect(Object.values(pci).every((d) => d.params.capability === 'pci')).toBe(true);
  });

  it('walks a VM through create, pause, cont, shutdown and destroy, each change an event', async () => {
    const from = events.length;
    const created = (await client.call('VM.create', { vmID: NEW_UUID, vmParams: { xml: newDomainXml() } })) as Record<string, unknown>;
    expect(created).toMatchObject({ vmId: NEW_UUID, status: 'WaitForLaunch', statusTime: expect.stringMatching(/^\d+$/) });
    const statusOf = (): string[] =>
      events
        .slice(from)
        .filter((e) => e.method === `|virt|VM_status|${NEW_UUID}`)
        .map((e) => (e.params[NEW_UUID] as { status: string }).status);
    await until(() => (statusOf().includes('Up') ? true : undefined));
    expect(statusOf().slice(0, 2)).toEqual(['Powering up', 'Up']);

    expect(await client.call('VM.pause', { vmID: NEW_UUID })).toEqual({ vmList: {} });
    await until(() => (statusOf().at(-1) === 'Paused' ? true : undefined));
    const cont = await callError(client.call('VM.pause', { vmID: NEW_UUID }));
    expect(cont.code).toBe(100); // libvirt refuses to pause a paused domain
    expect(await client.call('VM.cont', { vmID: NEW_UUID })).toEqual({ vmList: {} });
    await until(() => (statusOf().at(-1) === 'Up' ? true : undefined));

    expect(await client.call('VM.shutdown', { vmID: NEW_UUID })).toBe(true);
    await until(() => (statusOf().at(-1) === 'Down' ? true : undefined));
    const down = events.filter((e) => e.method === `|virt|VM_status|${NEW_UUID}`).at(-1)!.params[NEW_UUID];
    expect(down).toEqual({ status: 'Down', exitCode: 0, exitReason: 6, exitMessage: 'Admin shut down from the engine' });
    const stats = ((await client.call('VM.getStats', { vmID: NEW_UUID })) as Array<Record<string, unknown>>)[0]!;
    expect(stats).toMatchObject({ vmId: NEW_UUID, status: 'Down', exitCode: 0, exitReason: 6 });

    expect(await client.call('VM.destroy', { vmID: NEW_UUID })).toBe(true);
    const list = (await client.call('Host.getVMList')) as Array<{ vmId: string }>;
    expect(list.map((v) => v.vmId)).not.toContain(NEW_UUID);
    const methods = events.slice(from).map((e) => e.method);
    expect(methods.every((m) => m === `|virt|VM_status|${NEW_UUID}` || m === '|host|resources|no_id')).toBe(true);
    const statusEvents = events.slice(from).filter((e) => e.method.startsWith('|virt|VM_status|'));
    expect(statusEvents.flatMap((e) => statusEventViolations(e.params))).toEqual([]);
  });

  it('creates a VM from _srcDomXML, dumps its domain XML, and resets it', async () => {
    const uuid = '41111111-2222-3333-4444-555555555555';
    await client.call('VM.create', { vmParams: { _srcDomXML: newDomainXml(uuid, 'from-src') } });
    const dumped = (await client.call('Host.dumpxmls', { vmList: [uuid] })) as Record<string, string>;
    expect(Object.keys(dumped)).toEqual([uuid]);
    expect(dumped[uuid]).toContain(`<uuid>${uuid}</uuid>`);
    expect(dumped[uuid]).toContain('<name>from-src</name>');
    expect(await client.call('VM.reset', { vmID: uuid })).toBe(true);
    await client.call('VM.destroy', { vmID: uuid });
    const gone = await callError(client.call('VM.reset', { vmID: uuid }));
    expect(gone.code).toBe(1);
  });

  it('marks a VM destroy-on-reboot in its domain, and refuses a CPU limit the test driver cannot apply without changing anything', async () => {
    const uuid = '51111111-2222-3333-4444-555555555555';
    await client.call('VM.create', { vmParams: { xml: newDomainXml(uuid, 'policies') } });
    expect(await client.call('VM.setDestroyOnReboot', { vmID: uuid })).toBe(true);
    const dumped = (await client.call('Host.dumpxmls', { vmList: [uuid] })) as Record<string, string>;
    expect(parseDomainXml(dumped[uuid]!).destroyOnReboot).toBe(true);

    // libvirt's test driver keeps no CFS bandwidth: vdsm's code 63, and no limit reported.
    const refused = await callError(client.call('VM.updateVmPolicy', { vmID: uuid, params: { vmId: uuid, vcpuLimit: '50', ioTune: [] } }));
    expect(refused.code).toBe(63);
    expect(refused.message).toMatch(/^Failed to update VM SLA policy: \{'vmId': '51111111-2222-3333-4444-555555555555', 'reason': '.*testDomainSetSchedulerParametersFlags/);
    const empty = await callError(client.call('VM.updateVmPolicy', { vmID: uuid, params: {} }));
    expect([empty.code, empty.message]).toEqual([11, "Missing required parameter: {'reason': 'updateVmPolicy got an empty policy'}"]);
    const io = await callError(client.call('VM.updateVmPolicy', { vmID: uuid, params: { vcpuLimit: '20', ioTune: [{ name: 'vda', maximum: { total_bytes_sec: 1 } }] } }));
    expect(io.code).toBe(63);
    for (const vcpuLimit of [0, 101, 'half', 12.5]) {
      const bad = await callError(client.call('VM.updateVmPolicy', { vmID: uuid, params: { vcpuLimit } }));
      expect([vcpuLimit, bad.code, bad.message]).toEqual([vcpuLimit, -32602, expect.stringContaining("'param': 'params'")]);
    }
    const [stats] = (await client.call('VM.getStats', { vmID: uuid })) as Array<Record<string, unknown>>;
    expect(stats).not.toHaveProperty('vcpuQuota');
    // A driver without QEMU processes: the pid is unknown.
    expect(stats!['pid']).toBe('0');
    await client.call('VM.destroy', { vmID: uuid });
    for (const method of ['VM.setDestroyOnReboot', 'VM.updateVmPolicy']) {
      const gone = await callError(client.call(method, { vmID: uuid, params: { vcpuLimit: 10 } }));
      expect([method, gone.code]).toEqual([method, 1]);
    }
  });

  it('resizes a running VM and counts it in the resource view', async () => {
    const uuid = '21111111-2222-3333-4444-555555555555';
    await client.call('VM.create', { vmParams: { xml: newDomainXml(uuid, 'resized') } });
    expect(await client.call('VM.setNumberOfCpus', { vmID: uuid, numberOfCpus: 1 })).toMatchObject({ vmList: { vmId: uuid } });
    expect(await client.call('VM.setMemory', { vmID: uuid, memory: 256 })).toBe(true);
    const resources = (await client.call('Host.getResources')) as { vcpus_used: number; memory_mb_used: number };
    expect(resources.vcpus_used).toBe(2 + 1);
    expect(resources.memory_mb_used).toBe(8192 + 256);
    await client.call('VM.destroy', { vmID: uuid });
  });

  it('answers with vdsm\'s error codes and messages', async () => {
    const unknown = '99999999-9999-9999-9999-999999999999';
    for (const method of ['VM.getStats', 'VM.destroy', 'VM.pause', 'VM.cont', 'VM.shutdown', 'VM.reboot', 'VM.reset']) {
      const err = await callError(client.call(method, { vmID: unknown }));
      expect([method, err.code, err.message]).toEqual([method, 1, `Virtual machine does not exist: {'vmId': '${unknown}'}`]);
    }
    const exists = await callError(client.call('VM.create', { vmParams: { xml: newDomainXml('6695eb01-f6a4-8304-79aa-97f2502e193f', 'test') } }));
    expect(exists.code).toBe(4);
    expect(exists.message).toBe("Virtual machine already exists: {'vmId': '6695eb01-f6a4-8304-79aa-97f2502e193f'}");
    const badXml = await callError(client.call('VM.create', { vmParams: { xml: '<domain><name>x' } }));
    expect(badXml.code).toBe(9);
    expect(badXml.message).toMatch(/^Error creating the requested VM: \{'reason': 'malformed domain XML/);
    const noXml = await callError(client.call('VM.create', { vmParams: {} }));
    expect([noXml.code, noXml.message]).toEqual([9, "Error creating the requested VM: {'reason': 'vmParams.xml (or _srcDomXML), the libvirt domain XML, is required'}"]);
    const dumpUnknown = await callError(client.call('Host.dumpxmls', { vmList: [unknown] }));
    expect([dumpUnknown.code, dumpUnknown.message]).toEqual([1, `Virtual machine does not exist: {'vmId': '${unknown}'}`]);
    const rejected = await callError(client.call('VM.create', { vmParams: { xml: "<domain type='nonsense'><name>n</name></domain>" } }));
    expect(rejected.code).toBe(9);
    const notPaused = await callError(client.call('VM.cont', { vmID: '6695eb01-f6a4-8304-79aa-97f2502e193f' }));
    expect(notPaused.code).toBe(16);
    const badParam = await callError(client.call('VM.setNumberOfCpus', { vmID: '6695eb01-f6a4-8304-79aa-97f2502e193f', numberOfCpus: 'many' }));
    expect(badParam.code).toBe(-32602);
    expect(badParam.message).toContain("'param': 'numberOfCpus'");
    const missing = await callError(client.call('VM.getStats', {}));
    expect(missing.code).toBe(-32602);
    expect((await callError(client.call('Host.noSuchVerb'))).code).toBe(-32601);
    const badLevel = await callError(client.call('Host.setLogLevel', { level: 'LOUD' }));
    expect(badLevel.code).toBe(-32602);
    expect(await client.call('Host.setLogLevel', { level: 'WARNING' })).toBe(true);
  });
});

describe('a generated host', () => {
  it('serves every VM\'s stats with rates after two cycles, and recovers every VM after a restart', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostvisor-api-'));
    const host = writeTestHost({ dir, domains: 1000, stateOf: (i) => (i % 10 === 9 ? 'paused' : 'running') });
    // A 2 s period gives each sampling task 1 s: on a busy 2-core machine a slice of 250 VMs can
    // take longer than the 0.25 s a 0.5 s period allows, and a timed-out VM sits out 40 s.
    const slow = { HOSTVISOR_VARS_VM_SAMPLE_INTERVAL: '2' };
    let { daemon, client } = await daemonWithClient(['--libvirt-uri', host.uri], slow);
    try {
      let all: Array<Record<string, unknown>> = [];
      const deadline = Date.now() + 60_000;
      for (;;) {
        all = (await client.call('Host.getAllVmStats')) as Array<Record<string, unknown>>;
        // Sampled twice: the disk entries appear (before, CPU figures are 0 and there are none).
        const sampled = (s: Record<string, unknown>): boolean => Object.keys(s['disks'] as object).length > 0;
        const ready = all.filter((s) => s['status'] === 'Up' && sampled(s));
        if (ready.length === 900 || Date.now() > deadline) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(all).toHaveLength(1000);
      const up = all.filter((s) => s['status'] === 'Up');
      expect(up).toHaveLength(900);
      expect(all.filter((s) => s['status'] === 'Paused')).toHaveLength(100);
      expect(up.every((s) => typeof s['cpuUser'] === 'string' && s['monitorResponse'] === '0')).toBe(true);
      expect(up[0]!['disks']).toMatchObject({ vda: { readRate: expect.any(String) } });
      expect(await stopDaemon(daemon, client)).toBe(0);

      ({ daemon, client } = await daemonWithClient(['--libvirt-uri', host.uri], slow));
      const list = (await client.call('Host.getVMList')) as Array<{ vmId: string; status: string }>;
      expect(list).toHaveLength(1000);
      expect(new Set(list.map((v) => v.vmId))).toEqual(new Set(host.domains.map((d) => d.uuid)));
      expect(list.filter((v) => v.status === 'Paused')).toHaveLength(100);
    } finally {
      await stopDaemon(daemon, client);
    }
  }, 150_000);

  it('refuses to start with a vcpu_pin_set outside the host\'s CPUs, saying why', async () => {
    const daemon = startDaemon(['--listen', '127.0.0.1:0'], { HOSTVISOR_SAMPLING_VCPU_PIN_SET: '0-3,^2,40' });
    expect(await daemon.exited).toBe(1);
    const fatal = daemon.logs.find((l) => l.level === 60);
    expect(fatal?.msg).toBe('host failed to start: [sampling] vcpu_pin_set = "0-3,^2,40" names CPUs 40 the host does not have (it has 0-15)');
  });
});
