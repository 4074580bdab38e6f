import { Type } from '@sinclair/typebox';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { MethodRegistry } from '../../src/api/method-registry.js';
import { LEGACY_VERBS, LegacyXmlRpc, SHAPES, shapeResult } from '../../src/api/xmlrpc-legacy.js';
import { JsonRpcEngine } from '../../src/rpc/engine.js';
import { VdsmError } from '../../src/rpc/errors.js';
import type { Method } from '../../src/rpc/method-table.js';

const log = pino({ level: 'silent' });
const ctx = { peer: '192.0.2.7:4000', remoteAddress: '192.0.2.7', flowId: 'flow-1' };
const seen: { method: string; args: Record<string, unknown>; flowId: string | undefined }[] = [];
const record = (name: string, params: Method['params'] = [], result: unknown = true): Method => ({
  name,
  params,
  handler: (args, call) => {
    seen.push({ method: name, args, flowId: call.flowId });
    return result;
  },
});

function backend(methods: Method[], ready = true): LegacyXmlRpc {
  return new LegacyXmlRpc(new JsonRpcEngine(new MethodRegistry().register(...methods), { log, isReady: () => ready }));
}

describe('legacy verb mapping', () => {
  it('names positional arguments, drops nils so defaults apply, and passes the flow id', async () => {
    seen.length = 0;
    const b = backend([record('VM.shutdown', [{ name: 'vmID', schema: Type.String() }, { name: 'delay', schema: Type.Integer(), default: 30 }, { name: 'message', schema: Type.String(), default: 'System going down' }, { name: 'reboot', schema: Type.Boolean(), default: false }])]);
    expect(await b.call('shutdown', ['vm-1', null, 'bye'], ctx)).toEqual({ status: { code: 0, message: 'Machine shutting down' } });
    expect(seen[0]).toEqual({ method: 'VM.shutdown', args: { vmID: 'vm-1', delay: 30, message: 'bye', reboot: false }, flowId: 'flow-1' });
  });

  it('struct verbs take the VM id from the struct (create, migrate, hotplug…)', async () => {
    seen.length = 0;
    const b = backend([record('VM.migrate', [{ name: 'vmID', schema: Type.String() }, { name: 'params', schema: Type.Object({}) }])]);
    expect(await b.call('migrate', [{ vmId: 'vm-2', dst: 'h2:54321' }], ctx)).toEqual({ status: { code: 0, message: 'Migration in progress' } });
    expect(seen[0]!.args).toEqual({ vmID: 'vm-2', params: { vmId: 'vm-2', dst: 'h2:54321' } });
  });

  it('list: fullStatus picks Host.getVMFullList', async () => {
    seen.length = 0;
    const b = backend([record('Host.getVMList', [], ['short']), record('Host.getVMFullList', [], ['full'])]);
    expect(await b.call('list', [], ctx)).toEqual({ status: { code: 0, message: 'Done' }, vmList: ['short'] });
    expect(await b.call('list', [true], ctx)).toEqual({ status: { code: 0, message: 'Done' }, vmList: ['full'] });
  });

  it('ping falls back to Host.ping2 when the table has no Host.ping', async () => {
    seen.length = 0;
    expect(await backend([record('Host.ping2')]).call('ping', [], ctx)).toEqual({ status: { code: 0, message: 'Done' } });
    expect(seen.map((s) => s.method)).toEqual(['Host.ping2']);
  });

  it('getHostJobs: an empty job type means any', async () => {
    seen.length = 0;
    const b = backend([record('Host.getJobs', [{ name: 'job_type', schema: Type.String(), optional: true }, { name: 'job_ids', schema: Type.Array(Type.Unknown()), default: [] }], {})]);
    expect(await b.call('getHostJobs', ['', []], ctx)).toEqual({ status: { code: 0, message: 'Done' }, jobs: {} });
    expect(seen[0]!.args['job_type']).toBeUndefined();
  });

  it('every legacy verb maps to a Host.* or VM.* method', () => {
    for (const [name, verb] of Object.entries(LEGACY_VERBS)) {
      const target = typeof verb.method === 'string' ? verb.method : verb.method({});
      expect(target, name).toMatch(/^(Host|VM)\.\w+$/);
    }
    for (const verb of ['getVdsCapabilities', 'getVdsStats', 'list', 'getVmStats', 'getAllVmStats', 'create', 'destroy', 'shutdown', 'pause', 'cont', 'ping', 'reset', 'migrate', 'migrateStatus', 'migrateCancel', 'migrationCreate', 'setLogLevel', 'fenceNode', 'setupNetworks', 'setSafeNetworkConfig', 'prepareForShutdown', 'setMOMPolicy', 'setKsmTune', 'hotplugDisk', 'setVmTicket', 'getHostJobs', 'getVdsHardwareInfo', 'getStorageDomainsList', 'repoStats']) {
      expect(LEGACY_VERBS, verb).toHaveProperty(verb);
    }
  });
});

describe('results and failures', () => {
  it("shapes results by vdsm's payload keys, else by the xml_compat rule", () => {
    expect(shapeResult('Host.getStats', { a: '1' }, {})).toEqual({ status: { code: 0, message: 'Done' }, info: { a: '1' } });
    expect(shapeResult('VM.migrationCreate', { params: {}, migrationPort: 0 }, {})).toEqual({ status: { code: 0, message: 'Done' }, params: {}, migrationPort: 0 });
    expect(shapeResult('VM.pause', { vmList: {} }, {})).toEqual({ status: { code: 0, message: 'Done' } });
    expect(shapeResult('Test.true', true, {})).toEqual({ status: { code: 0, message: 'Done' } });
    expect(shapeResult('Test.list', [1], {})).toEqual({ status: { code: 0, message: 'Done' }, items: [1] });
    expect(shapeResult('Test.dict', { x: 1 }, {})).toEqual({ status: { code: 0, message: 'Done' }, x: 1 });
    expect(shapeResult('Test.text', 'Machine destroyed', {})).toEqual({ status: { code: 0, message: 'Machine destroyed' } });
    expect(Object.keys(SHAPES).every((m) => /^(Host|VM)\./.test(m))).toBe(true);
  });

  it('errors are statuses: vdsm codes, method not found, not ready, unexpected', async () => {
    const b = backend([
      { name: 'VM.destroy', params: [{ name: 'vmID', schema: Type.String() }], handler: () => { throw new VdsmError(42, 'Virtual machine destroy error'); } },
      { name: 'Host.getStats', params: [], handler: async () => { throw new TypeError('oops'); } },
    ]);
    expect(await b.call('destroy', ['v'], ctx)).toEqual({ status: { code: 42, message: 'Virtual machine destroy error' } });
    expect(await b.call('getVdsStats', [], ctx)).toEqual({ status: { code: 16, message: 'Unexpected exception' } });
    expect(await b.call('getVdsCapabilities', [], ctx)).toEqual({ status: { code: -32601, message: "The method does not exist or is not available: {'method': 'Host.getCapabilities'}" } });
    expect(await b.call('destroy', [], ctx)).toMatchObject({ status: { code: -32602 } });
    expect(await backend([], false).call('ping', [], ctx)).toEqual({ status: { code: 99, message: 'Recovering from crash or Initializing' } });
    expect(await b.call('__proto__', [], ctx)).toMatchObject({ status: { code: -32601 } });
  });

  it('getVdsCapabilities reports the client as lastClient', async () => {
    const b = backend([record('Host.getCapabilities', [], { cpuCores: '4' })]);
    expect(await b.call('getVdsCapabilities', [], ctx)).toEqual({ status: { code: 0, message: 'Done' }, info: { cpuCores: '4', lastClient: '192.0.2.7' } });
  });

  it('new-style names: a struct of parameter names is named params, anything else positional', async () => {
    seen.length = 0;
    const b = backend([record('VM.setupThing', [{ name: 'vmID', schema: Type.String() }, { name: 'conf', schema: Type.Object({}), default: {} }])]);
    await b.call('VM.setupThing', [{ vmID: 'a', conf: { k: 1 } }], ctx);
    await b.call('VM.setupThing', ['b', { vmID: 'not-a-name-map', other: 1 }], ctx);
    expect(seen.map((s) => s.args)).toEqual([{ vmID: 'a', conf: { k: 1 } }, { vmID: 'b', conf: { vmID: 'not-a-name-map', other: 1 } }]);
  });
});
