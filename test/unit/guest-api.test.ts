import { describe, expect, it } from 'vitest';
import type { ApiContext } from '../../src/api/context.js';
import { guestHandlers, powerDown } from '../../src/api/guest.js';
import type { CallContext } from '../../src/rpc/method-table.js';
import type { TaskSpec } from '../../src/concurrency/index.js';
import { getLogger } from '../../src/log.js';
import type { GuestAgentsView } from '../../src/virt/guest/guests.js';
import { OvirtAgent } from '../../src/virt/guest/ovirt-agent.js';
import { VmRegistry } from '../../src/virt/registry.js';

function setup(options: { responsive: boolean; qemu?: boolean }) {
  const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => performance.now() / 1000 });
  const vm = registry.add('vm-1', 'one', 'Up');
  const sent: string[] = [];
  const agent = new OvirtAgent({ vmId: 'vm-1', send: (l) => (sent.push(l), true), onChange: () => undefined, onAnswer: () => undefined, log: getLogger('test') });
  if (options.responsive) agent.line('{"__name__":"heartbeat","free-ram":"1"}');
  const verbs: Array<{ verb: string; args: unknown[] }> = [];
  const rpc = {
    dispatch<R>(task: TaskSpec): Promise<R> {
      const { verb, args } = task.args as { verb: string; args: unknown[] };
      verbs.push({ verb, args });
      return Promise.resolve({ ok: true, value: undefined } as R);
    },
  };
  const ctx = { uri: 'test:///default', rpc, verbTimeout: 5, registry } as unknown as ApiContext;
  const guests: GuestAgentsView = { ovirt: () => agent, qemuActive: () => options.qemu ?? false };
  return { ctx, guests, vm, sent, verbs };
}

const call = { method: 'test', flowId: undefined, peer: undefined, log: getLogger('test') } satisfies CallContext;
const methodOf = (ctx: ApiContext, guests: GuestAgentsView, name: string) => ({
  handler: (args: Record<string, unknown>) => guestHandlers(ctx, guests)[name]!(args, call),
});

describe('guest verbs', () => {
  it('send desktop commands; a non-responsive agent is nonresp', async () => {
    const live = setup({ responsive: true });
    expect(await methodOf(live.ctx, live.guests, 'VM.desktopLock').handler({ vmID: 'vm-1' })).toBe(true);
    expect(await methodOf(live.ctx, live.guests, 'VM.desktopLogoff').handler({ vmID: 'vm-1', force: true })).toBe(true);
    expect(live.sent).toEqual(['{"__name__": "lock-screen"}\n', '{"__name__": "log-off"}\n']);
    const silent = setup({ responsive: false });
    expect(() => methodOf(silent.ctx, silent.guests, 'VM.desktopLock').handler({ vmID: 'vm-1' })).toThrow(expect.objectContaining({ code: 19 }));
    expect(silent.sent).toEqual(['{"__name__": "lock-screen"}\n']); // vdsm tries anyway
    expect(() => methodOf(silent.ctx, silent.guests, 'VM.desktopLock').handler({ vmID: 'nope' })).toThrow(expect.objectContaining({ code: 1 }));
  });
});

describe('power-down chain', () => {
  it('goes to ACPI at once without a responsive agent', async () => {
    const { ctx, guests, vm, sent, verbs } = setup({ responsive: false });
    expect(await powerDown(ctx, guests, vm, { reboot: false })).toBe(true);
    expect(sent).toEqual([]);
    expect(verbs).toEqual([{ verb: 'shutdown', args: ['vm-1'] }]);
    expect(vm.status).toBe('Powering down');
  });

  it('asks the oVirt agent first, then falls back to ACPI after delay + timeout', async () => {
    const { ctx, guests, vm, sent, verbs } = setup({ responsive: true });
    expect(await powerDown(ctx, guests, vm, { reboot: false, delay: 0.2, timeout: 0.2, message: 'bye' })).toBe(true);
    expect(sent).toEqual(['{"timeout": 0, "message": "bye", "reboot": "False", "__name__": "shutdown"}\n']);
    expect(verbs).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    expect(verbs).toEqual([]); // still within delay + timeout
    const deadline = Date.now() + 10_000;
    while (verbs.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(verbs).toEqual([{ verb: 'shutdown', args: ['vm-1'] }]);
  });

  it('stops the chain once the VM is down', async () => {
    const { ctx, guests, vm, verbs } = setup({ responsive: true, qemu: true });
    await powerDown(ctx, guests, vm, { reboot: false, delay: 1, timeout: 1 });
    expect(verbs).toEqual([{ verb: 'shutdown', args: ['vm-1', 2] }]); // libvirt's GUEST_AGENT flag
    vm.markDown({ exitCode: 0, exitReason: 6, exitMessage: '' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(verbs).toHaveLength(1);
  });

  it('a second shutdown while the chain runs starts no other chain', async () => {
    const { ctx, guests, vm, sent } = setup({ responsive: true });
    await powerDown(ctx, guests, vm, { reboot: false, delay: 1, timeout: 1 });
    await powerDown(ctx, guests, vm, { reboot: false, delay: 1, timeout: 1 });
    expect(sent).toHaveLength(1);
    vm.markDown({ exitCode: 0, exitReason: 6, exitMessage: '' });
  });

  it('reboots through the agent without a fallback', async () => {
    const { ctx, guests, vm, sent, verbs } = setup({ responsive: true });
    await powerDown(ctx, guests, vm, { reboot: true, delay: 0.1, timeout: 0.1 });
    expect(sent[0]).toContain('"reboot": "True"');
    await new Promise((r) => setTimeout(r, 500));
    expect(verbs).toEqual([]);
  });
});
