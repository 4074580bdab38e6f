import { describe, expect, it } from 'vitest';
import { EventBus, eventTime, type HostEvent } from '../../src/rpc/events.js';

describe('events bus', () => {
  it('encodes |namespace|event|id with notify_time as the last key, once for every listener', () => {
    const bus = new EventBus({ clock: () => 2147732256 });
    const seen: HostEvent[] = [];
    bus.subscribe((e) => seen.push(e));
    bus.subscribe((e) => seen.push(e));
    const vm = '407cb255-34be-4ad5-9ba3-10d1e6b4d3d2';
    bus.emit('virt', 'VM_status', vm, { [vm]: { status: 'Paused', pauseCode: 'NOERR' }, notify_time: 1 });
    expect(seen).toHaveLength(2);
    expect(seen[0]).toBe(seen[1]);
    expect(seen[0]!.json).toBe(
      `{"jsonrpc":"2.0","method":"|virt|VM_status|${vm}","params":{"${vm}":{"status":"Paused","pauseCode":"NOERR"},"notify_time":2147732256}}`,
    );
    expect(seen[0]!.bytes.toString()).toBe(seen[0]!.json);
  });

  it('refuses names with bars, unsubscribes, survives a failing listener', () => {
    const bus = new EventBus();
    expect(() => bus.emit('virt', 'VM|status', 'x', {})).toThrow();
    let n = 0;
    const off = bus.subscribe(() => n++);
    bus.subscribe(() => {
      throw new Error('listener bug');
    });
    bus.emit('net', 'host_conn', 'no_id', {});
    off();
    bus.emit('net', 'host_conn', 'no_id', {});
    expect(n).toBe(1);
  });

  it('event time is above INT_MAX and monotonic', () => {
    const a = eventTime();
    const b = eventTime();
    expect(a).toBeGreaterThan(2 ** 31 - 1);
    expect(b).toBeGreaterThanOrEqual(a);
  });
});
