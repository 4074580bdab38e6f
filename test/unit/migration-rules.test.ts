/**
 * The rules of a live migration that need no hypervisor: vdsm's downtime steps and convergence
 * schedule, the progress rule, the destination's admission arithmetic, the engine's params as a
 * libvirt request, and the outgoing slots.
 */
import { describe, expect, it } from 'vitest';
import { recoveredStatus } from '../../src/daemon/vms.js';
import { DomainState, MigrateFlags } from '../../src/virt/libvirt/constants.js';
import { admit } from '../../src/virt/migration/admission.js';
import { ConvergenceTracker, downtimeSteps, stepSchedule } from '../../src/virt/migration/convergence.js';
import { MigrationProgress, percentOf } from '../../src/virt/migration/progress.js';
import { outgoingRequest, splitHostPort } from '../../src/virt/migration/request.js';
import { Slots } from '../../src/virt/migration/slots.js';

describe('downtime steps and the convergence schedule', () => {
  it("are vdsm's: 500 ms in 5 steps is 101, 104, 120, 189, 500", () => {
    expect(downtimeSteps(500, 5)).toEqual([101, 104, 120, 189, 500]);
    expect(downtimeSteps(300, 1)).toEqual([300]);
  });

  it('makes the default schedule: the first step at the start, one more per pass, the last after 42, then abort', () => {
    const schedule = stepSchedule(500, 5);
    expect(schedule.init).toEqual([{ name: 'setDowntime', params: ['101'] }]);
    expect(schedule.stalling.map((s) => [s.limit, s.action.name, ...s.action.params])).toEqual([
      [1, 'setDowntime', '104'],
      [2, 'setDowntime', '120'],
      [3, 'setDowntime', '189'],
      [4, 'setDowntime', '500'],
      [42, 'setDowntime', '500'],
      [-1, 'abort'],
    ]);
  });

  it('runs the head of the schedule once the passes since the first reading exceed its limit', () => {
    const tracker = new ConvergenceTracker(stepSchedule(500, 5));
    expect(tracker.start()).toEqual([{ name: 'setDowntime', params: ['101'] }]);
    // The counter starts where an earlier, cancelled migration left it.
    expect(tracker.observe(7)).toEqual([]);
    expect(tracker.observe(7)).toEqual([]);
    expect(tracker.observe(8)).toEqual([]); // 1 pass: not more than limit 1
    expect(tracker.observe(9)).toEqual([{ name: 'setDowntime', params: ['104'] }]); // 2 > 1
    expect(tracker.observe(10)).toEqual([{ name: 'setDowntime', params: ['120'] }]); // 3 > 2
    expect(tracker.observe(10)).toEqual([]); // no new pass
    expect(tracker.observe(11)).toEqual([{ name: 'setDowntime', params: ['189'] }]);
    expect(tracker.observe(12)).toEqual([{ name: 'setDowntime', params: ['500'] }]);
    for (let i = 13; i <= 49; i++) expect(tracker.observe(i)).toEqual([]);
    expect(tracker.observe(50)).toEqual([{ name: 'setDowntime', params: ['500'] }]); // 43 > 42
    expect(tracker.observe(51)).toEqual([{ name: 'abort', params: [] }]);
    expect(tracker.observe(52)).toEqual([]);
  });
});

describe('progress', () => {
  it("is vdsm's percentage of the data left", () => {
    expect(percentOf({ data_total: 1000, data_remaining: 250 })).toBe(75);
    expect(percentOf({ data_total: 1000, data_remaining: 1 })).toBe(99);
    expect(percentOf({ data_total: 1000, data_remaining: 0 })).toBe(100);
    expect(percentOf({})).toBe(0);
  });

  it('never goes back, and stays at 99 until the migration is done', () => {
    const progress = new MigrationProgress();
    expect(progress.update({ data_total: 1000, data_remaining: 400 })).toBe(60);
    // A new pass over memory: more data left than before.
    expect(progress.update({ data_total: 1200, data_remaining: 900 })).toBe(60);
    expect(progress.update({ data_total: 1000, data_remaining: 0 })).toBe(99);
    expect(progress.done()).toBe(100);
  });
});

describe("the destination's admission", () => {
  const policy = { memoryAllocationRatio: 1, reservedMemoryMiB: 512, cpuAllocationRatio: 4 };
  const capacity = { memoryMiB: 8192, memoryUsedMiB: 4096, vcpus: 4, vcpusUsed: 10 };

  it('admits what fits the memory left after use, reservation and over-commit, and the vCPUs', () => {
    expect(admit({ memoryMiB: 3584, vcpus: 6 }, capacity, policy)).toEqual({ admitted: true });
    expect(admit({ memoryMiB: 3585, vcpus: 1 }, capacity, policy)).toEqual({ admitted: false, reason: 'the VM needs 3585 MiB of memory, 3584 MiB are free for VMs' });
    expect(admit({ memoryMiB: 1024, vcpus: 7 }, capacity, policy)).toEqual({ admitted: false, reason: 'the VM needs 7 vCPUs, 6 are free' });
    expect(admit({ memoryMiB: 7680, vcpus: 1 }, capacity, { ...policy, memoryAllocationRatio: 1.5 })).toEqual({ admitted: true });
  });

  it('counts nothing as free when the host is already over its limit', () => {
    expect(admit({ memoryMiB: 1, vcpus: 1 }, { ...capacity, memoryUsedMiB: 9000 }, policy)).toEqual({ admitted: false, reason: 'the VM needs 1 MiB of memory, 0 MiB are free for VMs' });
  });
});

describe("the engine's VM.migrate params", () => {
  it('become a live peer-to-peer migration, persistent on the destination, with the flags asked as strings', () => {
    const request = outgoingRequest(
      { vmId: 'x', dst: '192.0.2.5:54321', dstqemu: '198.51.100.5', method: 'online', tunneled: 'false', abortOnError: 'true', autoConverge: 'true', compressed: 'false', maxBandwidth: '64', incomingLimit: '3', outgoingLimit: 1, src: 'ignored', downtime: '500' },
      54321,
    );
    expect(request.dst).toBe('192.0.2.5:54321');
    expect(request.dstHost).toBe('192.0.2.5');
    expect(request.flags).toBe(MigrateFlags.LIVE | MigrateFlags.PEER2PEER | MigrateFlags.PERSIST_DEST | MigrateFlags.ABORT_ON_ERROR | MigrateFlags.AUTO_CONVERGE);
    expect(request.libvirtParams).toEqual({ uri: 'tcp://198.51.100.5', bandwidth: 64 });
    expect([request.incomingLimit, request.outgoingLimit]).toEqual([3, 1]);
    expect(request.convergenceSchedule).toBeUndefined();
  });

  it('sends the stream through libvirt when tunnelled, to the destination address otherwise', () => {
    expect(outgoingRequest({ dst: 'host-b', tunneled: true }, 54321)).toMatchObject({ dst: 'host-b:54321', libvirtParams: {} });
    expect(outgoingRequest({ dst: '[2001:db8::5]:4000' }, 54321)).toMatchObject({ dst: '[2001:db8::5]:4000', dstHost: '[2001:db8::5]', libvirtParams: { uri: 'tcp://[2001:db8::5]' } });
  });

  it("takes the engine's convergence schedule, limits as numbers", () => {
    const schedule = { init: [{ name: 'setDowntime', params: ['100'] }], stalling: [{ limit: '1', action: { name: 'abort', params: [] } }] };
    expect(outgoingRequest({ dst: 'b', convergenceSchedule: schedule }, 1).convergenceSchedule).toEqual({
      init: [{ name: 'setDowntime', params: ['100'] }],
      stalling: [{ limit: 1, action: { name: 'abort', params: [] } }],
    });
  });

  it('refuses what is not a live migration to an address', () => {
    expect(() => outgoingRequest({ dst: 'b', method: 'offline' }, 1)).toThrow(/only "online"/);
    expect(() => splitHostPort('a b', 1)).toThrow(/not "host:port"/);
  });
});

describe('recovery', () => {
  it('reports a domain libvirt is migrating as migrating, either way, and the others by their state', () => {
    expect(recoveredStatus(DomainState.RUNNING, 'out')).toBe('Migration Source');
    expect(recoveredStatus(DomainState.PAUSED, 'in')).toBe('Migration Destination');
    expect(recoveredStatus(DomainState.RUNNING)).toBe('Up');
    expect(recoveredStatus(DomainState.PAUSED)).toBe('Paused');
  });
});

describe('outgoing slots', () => {
  it('let as many migrations run as the bound, the next in arrival order, and a cancelled one stops waiting', async () => {
    const slots = new Slots(1);
    const first = await slots.acquire(new AbortController().signal);
    const order: string[] = [];
    const cancelled = new AbortController();
    const second = slots.acquire(new AbortController().signal).then((release) => (order.push('second'), release));
    const third = slots.acquire(cancelled.signal).catch(() => order.push('third cancelled'));
    const fourth = slots.acquire(new AbortController().signal).then((release) => (order.push('fourth'), release));
    cancelled.abort();
    await third;
    first();
    (await second)();
    (await fourth)();
    expect(order).toEqual(['third cancelled', 'second', 'fourth']);
    expect(slots.inUse).toBe(0);
  });

  it('grants waiting migrations when the bound grows', async () => {
    const slots = new Slots(1);
    await slots.acquire(new AbortController().signal);
    let granted = false;
    const waiting = slots.acquire(new AbortController().signal).then(() => (granted = true));
    await Promise.resolve();
    expect(granted).toBe(false);
    slots.setBound(2);
    await waiting;
    expect(slots.inUse).toBe(2);
  });
});
