/**
 * The destination's side: VM.migrationCreate's checks (exists, limit, admission, the XML), the VM
 * waiting as "Migration Destination" until libvirt's Resumed/Migrated, and one that never arrives
 * given up after the timeout with nothing left behind.
 */
import { describe, expect, it } from 'vitest';
import { getLogger } from '../../src/log.js';
import { parseDomainXml } from '../../src/virt/domain-xml.js';
import type { LifecycleEvent } from '../../src/virt/libvirt/events.js';
import { IncomingMigrations } from '../../src/virt/migration/incoming.js';
import { VmRegistry } from '../../src/virt/registry.js';

const uuid = (n: number): string => `0f5a1c2e-6b1d-4c2a-9d3e-00000000000${n}`;
const xml = (n: number, memoryMiB = 1024, vcpus = 2): string =>
  `<domain type='kvm'><name>vm-${n}</name><uuid>${uuid(n)}</uuid><memory unit='MiB'>${memoryMiB}</memory><vcpu>${vcpus}</vcpu></domain>`;
const lifecycle = (id: string, event: LifecycleEvent['event'], detail: string): LifecycleEvent => ({ kind: 'lifecycle', uuid: id, name: 'x', event, detail, eventCode: 0, detailCode: 0 });

function setup(timeoutSeconds = 60) {
  const statuses: Array<[string, string]> = [];
  const registry = new VmRegistry({ emit: (_ns, _ev, id, params) => statuses.push([id, (params[id] as { status: string }).status]) }, { eventTime: () => 1, monotonic: () => 1 });
  const removed: string[] = [];
  const described: string[] = [];
  let used = { memoryUsedMiB: 0, vcpusUsed: 0 };
  const incoming = new IncomingMigrations(
    {
      registry,
      capacity: () => ({ memoryMiB: 4096, vcpus: 2, ...used }),
      // What the resource view does: every VM registered and not Down is taken.
      refreshResources: () => {
        used = { memoryUsedMiB: 0, vcpusUsed: 0 };
        for (const vm of registry.all()) if (vm.running) used = { memoryUsedMiB: used.memoryUsedMiB + vm.memoryKiB / 1024, vcpusUsed: used.vcpusUsed + vm.vcpus };
      },
      removeDomain: async (id) => void removed.push(id),
      describe: async (id) => {
        described.push(id);
        return parseDomainXml(xml(Number(id.at(-1))));
      },
      log: getLogger('test'),
    },
    { maxIncoming: 2, timeoutSeconds, admission: { memoryAllocationRatio: 1, reservedMemoryMiB: 512, cpuAllocationRatio: 4 } },
  );
  return { registry, incoming, statuses, removed, described };
}

describe('an incoming migration', () => {
  it('is admitted, waits as Migration Destination through Started, and is Up on Resumed/Migrated', async () => {
    const t = setup();
    const vm = t.incoming.create(uuid(1), { _srcDomXML: xml(1) }, undefined);
    expect(vm.status).toBe('Migration Destination');
    expect(t.registry.counts()).toMatchObject({ incomingVmMigrations: 1, vmMigrating: 1 });
    t.registry.handleEvent(lifecycle(uuid(1), 'Started', 'Migrated'));
    expect(vm.status).toBe('Migration Destination');
    t.registry.handleEvent(lifecycle(uuid(1), 'Resumed', 'Migrated'));
    expect(vm.status).toBe('Up');
    expect(t.incoming.count).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.described).toEqual([uuid(1)]);
    expect(t.statuses).toEqual([[uuid(1), 'Up']]);
  });

  it('is refused with vdsm codes, changing nothing: exists, too many at once, no room, a bad XML', () => {
    const t = setup();
    t.incoming.create(uuid(1), { _srcDomXML: xml(1, 512, 1) }, undefined);
    expect(() => t.incoming.create(uuid(1), { _srcDomXML: xml(1) }, undefined)).toThrow(expect.objectContaining({ code: 4 }));
    // Admitted VMs are claims: 512 of 3584 MiB and 1 of 8 vCPUs are taken.
    expect(() => t.incoming.create(uuid(2), { _srcDomXML: xml(2, 3073, 1) }, undefined)).toThrow(expect.objectContaining({ code: 14, message: 'the VM needs 3073 MiB of memory, 3072 MiB are free for VMs' }));
    expect(() => t.incoming.create(uuid(2), { _srcDomXML: xml(2, 512, 8) }, undefined)).toThrow(expect.objectContaining({ code: 14, message: 'the VM needs 8 vCPUs, 7 are free' }));
    expect(() => t.incoming.create(uuid(2), { _srcDomXML: xml(3) }, undefined)).toThrow(expect.objectContaining({ code: 12 }));
    expect(() => t.incoming.create(uuid(2), { _srcDomXML: '<domain><name>x' }, undefined)).toThrow(expect.objectContaining({ code: 12 }));
    expect(() => t.incoming.create(uuid(2), {}, undefined)).toThrow(expect.objectContaining({ code: 12 }));
    expect(() => t.incoming.create(uuid(2), { _srcDomXML: xml(2, 512, 1) }, 1)).toThrow(expect.objectContaining({ code: 82 }));
    expect(t.registry.size).toBe(1);
    t.incoming.create(uuid(2), { _srcDomXML: xml(2, 512, 1) }, undefined);
    expect(() => t.incoming.create(uuid(3), { _srcDomXML: xml(3, 512, 1) }, undefined)).toThrow(expect.objectContaining({ code: 82 }));
  });

  it('that never arrives is given up after the timeout: its domain removed, the VM gone, its room free', async () => {
    const t = setup(0.05);
    t.incoming.create(uuid(1), { _srcDomXML: xml(1, 3072) }, undefined);
    expect(() => t.incoming.create(uuid(2), { _srcDomXML: xml(2, 1024) }, undefined)).toThrow(expect.objectContaining({ code: 14 }));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(t.removed).toEqual([uuid(1)]);
    expect(t.registry.get(uuid(1))).toBeUndefined();
    expect(t.incoming.count).toBe(0);
    expect(t.incoming.create(uuid(2), { _srcDomXML: xml(2, 1024) }, undefined).status).toBe('Migration Destination');
  });

  it('destroyed by the source after a failure ends its wait', () => {
    const t = setup();
    t.incoming.create(uuid(1), { _srcDomXML: xml(1) }, undefined);
    t.registry.remove(uuid(1));
    expect(t.incoming.count).toBe(0);
  });
});
