// The API contract: every served verb declared, parameters bound by the declaration, and the
// conformance check catching what vdsm's schema forbids.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { ApiContext } from '../../src/api/context.js';
import { contract } from '../../src/api/contract/index.js';
import { record, str } from '../../src/api/contract/vdsm-types.js';
import { MethodRegistry } from '../../src/api/method-registry.js';
import { buildMethodTable } from '../../src/api/table.js';
import { getLogger } from '../../src/log.js';
import type { Method } from '../../src/rpc/method-table.js';
import { bindParams } from '../../src/rpc/params.js';
import { applyKsm } from '../../src/virt/host/ksm.js';
import { MemoryPolicy } from '../../src/virt/host/memory-policy.js';
import { answerViolations } from '../helpers/contract.js';

describe('the API contract', () => {
  it('is what the method table serves: every declared verb has a handler, and nothing else is served', () => {
    const table = buildMethodTable({ guests: {} } as unknown as ApiContext);
    expect(table.names()).toEqual([...contract.keys()].sort());
  });

  it('refuses a handler for a verb it does not declare', () => {
    expect(() => new MethodRegistry().serve({ 'Host.fenceNode': () => true })).toThrow(/not declared/);
  });

  it('binds parameters by the declaration: engine strings converted, a bad one named', () => {
    const setCpus = buildMethodTable({} as ApiContext).get('VM.setNumberOfCpus')!;
    expect(bindParams(setCpus, { vmID: 'v', numberOfCpus: '2' })).toEqual({ vmID: 'v', numberOfCpus: 2 });
    expect(bindParams(setCpus, ['v', 3])).toEqual({ vmID: 'v', numberOfCpus: 3 });
    expect(() => bindParams(setCpus, { vmID: 'v', numberOfCpus: -1 })).toThrow(/numberOfCpus.*a non-negative integer/);
    expect(() => bindParams(setCpus, { vmID: 5, numberOfCpus: 1 })).toThrow(/'param': 'vmID'.*expected a string, got number 5/);
    const getJobs = buildMethodTable({} as ApiContext).get('Host.getJobs')!;
    expect(bindParams(getJobs, { job_type: null })).toEqual({ job_ids: [] });
    expect(() => bindParams(getJobs, { job_type: 'block' })).toThrow(/one of "storage", "v2v", "migration"/);
    const closed: Method = { name: 'X.y', params: [{ name: 'spec', schema: record('Spec', { a: str() }) }], handler: () => true };
    expect(() => bindParams(closed, { spec: { a: 'x', b: 1 } })).toThrow(/'param': 'spec'.*unknown property b/);
  });

  it("takes VM.updateVmPolicy's params as the engine sends them: its vmId inside, numbers as strings, an empty ioTune", () => {
    const update = buildMethodTable({} as ApiContext).get('VM.updateVmPolicy')!;
    const vmId = '51111111-2222-3333-4444-555555555555';
    const engine = { vmID: vmId, params: { vmId, vcpuLimit: '50', ioTune: [] } };
    expect(bindParams(update, engine)).toEqual(engine);
    expect(() => bindParams(update, { vmID: vmId, params: { vmId, vcpuLimit: '150' } })).toThrow(/'param': 'params'/);
  });

  it('finds a missing required property, an unknown one and a value of the wrong type in an answer', () => {
    const vm = { vmId: '6695eb01-f6a4-8304-79aa-97f2502e193f', status: 'Up' };
    expect(answerViolations('Host.getVMList', [vm])).toEqual([]);
    expect(answerViolations('Host.getVMList', [{ status: 'Up' }]).join()).toMatch(/vmId/);
    expect(answerViolations('Host.getVMList', [{ ...vm, extra: 1 }]).join()).toMatch(/extra/);
    expect(answerViolations('Host.getVMList', [{ ...vm, status: 'Running' }]).join()).toMatch(/status/);
    expect(answerViolations('Host.getHardwareInfo', { systemUUID: 7 }).join()).toMatch(/systemUUID/);
  });
});

describe('the memory policy', () => {
  it('keeps the parameters and applies their KSM part to the kernel\'s files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hostvisor-ksm-'));
    for (const file of ['run', 'merge_across_nodes']) writeFileSync(join(dir, file), '0');
    const policy = new MemoryPolicy(getLogger('test'), (settings) => applyKsm(settings, dir));
    await policy.update({ balloonEnabled: false, ksmEnabled: true });
    expect(readFileSync(join(dir, 'run'), 'utf8')).toBe('1');
    await policy.update({ ksmMergeAcrossNodes: 'true' });
    expect(readFileSync(join(dir, 'merge_across_nodes'), 'utf8')).toBe('1');
    expect(readFileSync(join(dir, 'run'), 'utf8')).toBe('1'); // merging again after the change
    await policy.update({ ksmEnabled: 'false' });
    expect(readFileSync(join(dir, 'run'), 'utf8')).toBe('0');
    expect(policy.parameters).toEqual({ balloonEnabled: false, ksmEnabled: 'false', ksmMergeAcrossNodes: 'true' });
  });

  it('keeps the policy when the host has no KSM to set', async () => {
    const policy = new MemoryPolicy(getLogger('test'), (settings) => applyKsm(settings, join(tmpdir(), 'hostvisor-no-ksm-here')));
    await expect(policy.update({ ksmEnabled: true })).resolves.toBeUndefined();
    expect(policy.parameters).toEqual({ ksmEnabled: true });
  });
});
