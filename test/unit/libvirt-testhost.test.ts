import { describe, expect, it } from 'vitest';
import { describeTestDomains, testDomainUuid, testHostXml } from '../doubles/testhost.js';
import { decodeEvent, lifecycleDetailName, lifecycleEventName } from '../../src/virt/libvirt/events.js';
import { LibvirtError, ErrorCode } from '../../src/virt/libvirt/errors.js';

describe('test host generator', () => {
  it('describes N domains deterministically, with disks, NICs and both agent channels', () => {
    const a = describeTestDomains({ dir: '/tmp/h', domains: 3, disksPerDomain: 2, nicsPerDomain: 2 });
    const b = describeTestDomains({ dir: '/tmp/h', domains: 3, disksPerDomain: 2, nicsPerDomain: 2 });
    expect(a).toEqual(b);
    expect(a.map((d) => d.name)).toEqual(['vm-0000', 'vm-0001', 'vm-0002']);
    expect(new Set(a.map((d) => d.uuid)).size).toBe(3);
    expect(a[1]!.uuid).toBe(testDomainUuid(1));
    expect(a[1]!.uuid).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(a[0]!.disks).toEqual(['vda', 'vdb']);
    expect(new Set(a.flatMap((d) => d.nics)).size).toBe(6);
    expect(a[2]!.channels).toEqual({
      ovirt: '/tmp/h/vm-0002.ovirt-guest-agent.0',
      qemu: '/tmp/h/vm-0002.org.qemu.guest_agent.0',
    });
  });

  it('names channel sockets by UUID when asked, under channelsDir', () => {
    const [d] = describeTestDomains({ dir: '/tmp/h', domains: 1, channelsDir: '/tmp/ch', channelNaming: 'uuid' });
    expect(d!.channels.ovirt).toBe(`/tmp/ch/${d!.uuid}.ovirt-guest-agent.0`);
  });

  it('writes node XML with the channels, run states and escaped names', () => {
    const { xml, domains } = testHostXml({
      dir: '/tmp/h',
      domains: 2,
      namePrefix: 'a&b',
      stateOf: (i) => (i === 1 ? 'shutoff' : 'running'),
    });
    expect(domains).toHaveLength(2);
    expect(xml).toContain("<source mode='bind' path='/tmp/h/a&amp;b-0000.ovirt-guest-agent.0'/>");
    expect(xml).toContain("<target type='virtio' name='ovirt-guest-agent.0'/>");
    expect(xml).toContain("<target type='virtio' name='org.qemu.guest_agent.0'/>");
    expect(xml).toContain('<name>a&amp;b-0000</name>');
    expect(xml.match(/<test:runstate>5<\/test:runstate>/g)).toHaveLength(1);
    expect(xml.match(/<domain type='test'>/g)).toHaveLength(2);
  });
});

describe('event decoding', () => {
  it('names lifecycle events and details vdsm-style', () => {
    expect(lifecycleEventName(3)).toBe('Suspended');
    expect(lifecycleDetailName(3, 2)).toBe('IOError');
    expect(lifecycleDetailName(5, 1)).toBe('Destroyed');
    expect(lifecycleEventName(99)).toBe('Unknown');
    expect(decodeEvent({ kind: 'lifecycle', uuid: 'u', name: 'n', event: 2, detail: 0 })).toEqual({
      kind: 'lifecycle', uuid: 'u', name: 'n', event: 'Started', detail: 'Booted', eventCode: 2, detailCode: 0,
    });
    expect(decodeEvent({ kind: 'agent-lifecycle', uuid: 'u', name: 'n', state: 1, reason: 2 })).toMatchObject({
      state: 'connected', reason: 'channel',
    });
    expect(decodeEvent({ kind: 'io-error', uuid: 'u', name: 'n', action: 1, reason: 'enospc', srcPath: '/a', devAlias: 'virtio-disk0' }))
      .toMatchObject({ action: 'pause', reason: 'enospc', srcPath: '/a' });
    expect(decodeEvent({ kind: 'connection-closed', reason: 2 })).toEqual({ kind: 'connection-closed', reason: 'keepalive' });
  });
});

describe('LibvirtError', () => {
  it('names its code and domain and survives a trip through plain data', () => {
    const err = new LibvirtError('Domain not found', ErrorCode.NO_DOMAIN, 12, 2, 'virDomainLookupByUUIDString');
    expect(err.codeName).toBe('VIR_ERR_NO_DOMAIN');
    expect(err.domainName).toBe('VIR_FROM_TEST');
    const back = LibvirtError.fromData(structuredClone(err.toData()));
    expect(back).toBeInstanceOf(LibvirtError);
    expect(back.code).toBe(42);
    expect(back.message).toBe('Domain not found');
    expect(new LibvirtError('x', 999, 999, 2, 'f').codeName).toBe('VIR_ERR_999');
  });
});
