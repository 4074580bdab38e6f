/**
 * The libvirt face against the test driver's default host (test:///default): host calls,
 * domain round trips with states, typed errors, both stats paths.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BlockingLibvirt } from '../../src/virt/libvirt/blocking.js';
import {
  DomainState,
  ErrorCode,
  JobStatsFlags,
  LibvirtError,
  MigrateFlags,
  StatsGroup,
  UndefineFlags,
  clientLibVersion,
  formatVersion,
  type MigrationParams,
} from '../../src/virt/libvirt/index.js';

const URI = 'test:///default';
const UNKNOWN = '00000000-0000-4000-8000-00000000dead';
const conn = new BlockingLibvirt(URI);
afterAll(() => conn.close());

function domainXml(name: string, uuid: string): string {
  return `<domain type='test'>
  <name>${name}</name><uuid>${uuid}</uuid>
  <memory unit='KiB'>524288</memory><vcpu>2</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices><disk type='file' device='disk'><source file='/tmp/${name}.img'/><target dev='vda' bus='virtio'/></disk></devices>
</domain>`;
}

function thrown(fn: () => unknown): LibvirtError {
  try {
    fn();
  } catch (err) {
    if (err instanceof LibvirtError) return err;
    throw err;
  }
  throw new Error('expected a LibvirtError');
}

describe('host', () => {
  it('describes the hypervisor and the node', () => {
    expect(conn.describe()).toEqual({ uri: URI, type: 'TEST', version: 2, libVersion: clientLibVersion(), hostname: conn.hostname() });
    expect(formatVersion(clientLibVersion())).toMatch(/^\d+\.\d+\.\d+$/);
    expect(conn.hypervisorType()).toBe('TEST');
    expect(conn.hypervisorVersion()).toBeGreaterThan(0);
    expect(conn.libVersion()).toBeGreaterThanOrEqual(9_000_000);
    expect(conn.connectedUri()).toBe(URI);
    expect(conn.nodeInfo()).toMatchObject({ cpus: 16, sockets: 2, cores: 2, threads: 2 });
    expect(Object.keys(conn.nodeCpuStats()).sort()).toEqual(['idle', 'iowait', 'kernel', 'user']);
    expect(conn.capabilities()).toContain('<capabilities>');
  });
});

describe('domains on test:///default', () => {
  it('defines, starts, suspends, resumes, destroys and undefines, with the state at each step', () => {
    const uuid = '11111111-2222-4333-8444-555555555555';
    const d = conn.defineXml(domainXml('roundtrip', uuid));
    expect(d).toEqual({ uuid, name: 'roundtrip', id: -1 });
    expect(conn.lookupByName('roundtrip').uuid).toBe(uuid);
    expect(conn.state(uuid).state).toBe(DomainState.SHUTOFF);
    expect(conn.isPersistent(uuid)).toBe(true);
    expect(conn.isActive(uuid)).toBe(false);

    conn.start(uuid);
    expect(conn.state(uuid).state).toBe(DomainState.RUNNING);
    expect(conn.identity(uuid).id).toBeGreaterThan(0);
    expect(conn.isActive(uuid)).toBe(true);

    conn.suspend(uuid);
    expect(conn.state(uuid).state).toBe(DomainState.PAUSED);
    conn.resume(uuid);
    expect(conn.info(uuid)).toMatchObject({ state: DomainState.RUNNING, vcpus: 2, maxMemKiB: 524288 });

    conn.setVcpus(uuid, 1);
    conn.setMemory(uuid, 262144);
    expect(conn.info(uuid)).toMatchObject({ vcpus: 1, memoryKiB: 262144 });
    expect(conn.xmlDesc(uuid)).toContain(`<uuid>${uuid}</uuid>`);

    conn.destroy(uuid);
    expect(conn.state(uuid).state).toBe(DomainState.SHUTOFF);
    conn.undefine(uuid, UndefineFlags.MANAGED_SAVE);
    expect(thrown(() => conn.state(uuid)).code).toBe(ErrorCode.NO_DOMAIN);
  });

  it('creates a transient domain that disappears when destroyed', () => {
    const uuid = '11111111-2222-4333-8444-666666666666';
    conn.createXml(domainXml('transient', uuid));
    expect(conn.isPersistent(uuid)).toBe(false);
    expect(conn.state(uuid).state).toBe(DomainState.RUNNING);
    conn.destroy(uuid);
    expect(thrown(() => conn.info(uuid)).code).toBe(ErrorCode.NO_DOMAIN);
  });

  it('lists domains with filters', () => {
    const all = conn.listDomains();
    expect(all.map((d) => d.name)).toContain('test');
    expect(conn.listDomains(1 /* ACTIVE */).every((d) => d.id > 0)).toBe(true);
  });
});

describe('errors', () => {
  it('an unknown UUID is a LibvirtError with VIR_ERR_NO_DOMAIN', () => {
    const err = thrown(() => conn.info(UNKNOWN));
    expect(err).toBeInstanceOf(LibvirtError);
    expect(err).toBeInstanceOf(Error);
    expect(err.code).toBe(ErrorCode.NO_DOMAIN);
    expect(err.codeName).toBe('VIR_ERR_NO_DOMAIN');
    expect(err.domainName).toBe('VIR_FROM_TEST');
    expect(err.level).toBe(2);
    expect(err.call).toBe('virDomainLookupByUUIDString');
    expect(err.message).toMatch(/not found/i);
  });

  it('bad input and unsupported calls fail as errors, never crashes', () => {
    expect(thrown(() => conn.info('not-a-uuid')).code).toBe(ErrorCode.INVALID_ARG);
    expect(thrown(() => conn.defineXml('<domain')).codeName).toBe('VIR_ERR_XML_DETAIL');
    const test = conn.lookupByName('test').uuid;
    expect(thrown(() => conn.qemuAgentCommand(test, { execute: 'guest-ping' }, 1)).code).toBe(ErrorCode.NO_SUPPORT);
    expect(thrown(() => conn.migrateToUri3(test, 'qemu+tcp://nowhere/system', {}, 0)).code).toBeGreaterThan(0);
    expect(thrown(() => conn.blockStats(test, 'sdz')).code).toBe(ErrorCode.INVALID_ARG);
    expect(() => conn.info(42 as unknown as string)).toThrow(TypeError);
  });

  it('a closed holder fails with VIR_ERR_INVALID_CONN while others keep working', () => {
    const other = new BlockingLibvirt(URI);
    other.close();
    expect(thrown(() => other.listDomains()).code).toBe(ErrorCode.INVALID_CONN);
    expect(conn.listDomains().length).toBeGreaterThan(0);
  });
});

describe('sharing', () => {
  it('holders of the same URI see the same domains (one process-wide connection)', () => {
    const uuid = '11111111-2222-4333-8444-777777777777';
    const other = new BlockingLibvirt(URI);
    try {
      other.defineXml(domainXml('shared', uuid));
      expect(conn.lookupByUuid(uuid).name).toBe('shared');
      conn.undefine(uuid);
      expect(thrown(() => other.info(uuid)).code).toBe(ErrorCode.NO_DOMAIN);
    } finally {
      other.close();
    }
  });
});

describe('live migration calls on the test driver', () => {
  // The test driver implements none of the job and tuning calls: each one fails as a LibvirtError
  // naming the call (the default `test` domain is running).
  it('job stats, abort and the speed and downtime limits answer VIR_ERR_NO_SUPPORT', () => {
    const test = conn.lookupByName('test').uuid;
    expect(conn.state(test).state).toBe(DomainState.RUNNING);
    const calls: [string, () => unknown][] = [
      ['virDomainGetJobStats', () => conn.jobStats(test)],
      ['virDomainGetJobStats', () => conn.jobStats(test, JobStatsFlags.COMPLETED)],
      ['virDomainAbortJob', () => conn.abortJob(test)],
      ['virDomainMigrateSetMaxSpeed', () => conn.migrateSetMaxSpeed(test, 100)],
      ['virDomainMigrateGetMaxSpeed', () => conn.migrateGetMaxSpeed(test)],
      ['virDomainMigrateSetMaxDowntime', () => conn.migrateSetMaxDowntime(test, 300)],
    ];
    for (const [call, fn] of calls) {
      const err = thrown(fn);
      expect({ call: err.call, code: err.code }).toEqual({ call, code: ErrorCode.NO_SUPPORT });
    }
    expect(thrown(() => conn.jobStats(UNKNOWN)).code).toBe(ErrorCode.NO_DOMAIN);
  });

  it('migrateToUri3 builds every parameter; the test driver refuses peer-to-peer migration', () => {
    const test = conn.lookupByName('test').uuid;
    const params: MigrationParams = {
      uri: 'tcp://192.0.2.5',
      destXml: conn.xmlDesc(test),
      persistXml: conn.xmlDesc(test),
      bandwidth: 64,
      parallelConnections: 2,
      compression: ['xbzrle', 'zlib'],
      autoConvergeInitial: 20,
      autoConvergeIncrement: 10,
    };
    const flags = MigrateFlags.LIVE | MigrateFlags.PEER2PEER | MigrateFlags.COMPRESSED | MigrateFlags.AUTO_CONVERGE | MigrateFlags.PARALLEL;
    const err = thrown(() => conn.migrateToUri3(test, 'qemu+tcp://192.0.2.5/system', params, flags));
    expect({ call: err.call, codeName: err.codeName }).toEqual({ call: 'virDomainMigrateToURI3', codeName: 'VIR_ERR_ARGUMENT_UNSUPPORTED' });
  });

  it('refuses numbers libvirt would wrap and values of the wrong type before calling it', () => {
    const test = conn.lookupByName('test').uuid;
    const migrate = (params: unknown) => () => conn.migrateToUri3(test, 'qemu+tcp://192.0.2.5/system', params as MigrationParams, 0);
    expect(migrate({ bandwidth: -1 })).toThrow(RangeError);
    expect(migrate({ parallelConnections: 1.5 })).toThrow(RangeError);
    expect(migrate({ autoConvergeInitial: 2 ** 31 })).toThrow(RangeError);
    expect(migrate({ bandwidth: '64' })).toThrow(TypeError);
    expect(migrate({ uri: 42 })).toThrow(TypeError);
    expect(migrate({ compression: ['xbzrle', 1] })).toThrow(TypeError);
    expect(migrate(null)).toThrow(TypeError);
    // An optional property set to undefined is absent, as in TS: the call reaches libvirt.
    expect(thrown(migrate({ uri: undefined, bandwidth: undefined, compression: undefined })).call).toBe('virDomainMigrateToURI3');
    expect(() => conn.migrateSetMaxSpeed(test, -5)).toThrow(RangeError);
    expect(() => conn.migrateSetMaxDowntime(test, Number.NaN)).toThrow(RangeError);
  });
});

describe('stats', () => {
  it('bulk stats: the test driver fills the state group only', () => {
    const records = conn.allDomainStats();
    const test = records.find((r) => r.name === 'test')!;
    expect(test.params).toEqual({ 'state.state': DomainState.RUNNING, 'state.reason': expect.any(Number) });
    expect(conn.allDomainStats(StatsGroup.BLOCK)[0]!.params).toEqual({});
    const listed = conn.domainListStats([test.uuid, UNKNOWN], StatsGroup.STATE);
    expect(listed.map((r) => r.uuid)).toEqual([test.uuid]);
  });

  it('per-domain stats: info, block, interface and memory', () => {
    const uuid = conn.lookupByName('test').uuid;
    const xml = conn.xmlDesc(uuid);
    const mac = /<mac address='([^']+)'/.exec(xml)![1]!;
    expect(conn.blockStats(uuid, 'vda').rdReq).toBeGreaterThan(0);
    expect(conn.interfaceStats(uuid, mac).rxBytes).toBeGreaterThan(0);
    expect(conn.memoryStats(uuid).actual).toBeGreaterThan(0);
    const sample = conn.sampleDomain(uuid, { disks: ['vda'], nics: [mac] });
    expect(sample.active).toBe(true);
    expect(sample.info.state).toBe(DomainState.RUNNING);
    expect(Object.keys(sample.block)).toEqual(['vda']);
    expect(Object.keys(sample.interfaces)).toEqual([mac]);
    expect(sample.memory?.rss).toBeGreaterThan(0);
  });
});
