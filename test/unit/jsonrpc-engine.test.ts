import { Type } from '@sinclair/typebox';
import { RawJson } from '../../src/rpc/raw-json.js';
import { describe, expect, it } from 'vitest';
import { connectivityTable } from '../../src/api/host-connectivity.js';
import { MethodRegistry } from '../../src/api/method-registry.js';
import { JsonRpcEngine } from '../../src/rpc/engine.js';
import { GeneralException, NoSuchVmError, ResourceExhaustedError, VdsmError } from '../../src/rpc/errors.js';
import type { Method } from '../../src/rpc/method-table.js';
import { pyRepr } from '../../src/rpc/pyrepr.js';
import { captureLogger } from '../fixtures/concurrency.js';

const testMethods: Method[] = [
  { name: 'Test.echo', params: [{ name: 'text', schema: Type.String() }, { name: 'times', schema: Type.Integer({ minimum: 0 }), default: 1 }], handler: (a) => String(a['text']).repeat(a['times'] as number) },
  { name: 'Test.none', params: [], handler: () => null },
  { name: 'Test.async', params: [{ name: 'ms', schema: Type.Integer(), default: 5 }], handler: async (a) => new Promise((r) => setTimeout(() => r({ waited: a['ms'] }), a['ms'] as number)) },
  { name: 'Test.noVm', params: [{ name: 'vmID', schema: Type.String() }], handler: (a) => { throw new NoSuchVmError(a['vmID'] as string); } },
  { name: 'Test.boom', params: [], handler: () => { throw new Error("it's broken"); } },
  { name: 'Test.rejects', params: [], handler: async () => { throw new GeneralException('boom'); } },
  { name: 'Test.flags', params: [{ name: 'force', schema: Type.Boolean(), default: false }, { name: 'level', schema: Type.Union([Type.Literal('DEBUG'), Type.Literal('INFO')]), optional: true }], handler: (a) => a },
  { name: 'Test.log', params: [], handler: (_a, ctx) => { ctx.log.info('inside'); return ctx.flowId; } },
  { name: 'Test.raw', params: [], handler: async () => new RawJson(['[', '{"a":1}', ',', '"é"', ']']) },
];

function engine(opts: { ready?: boolean } = {}) {
  const { logger: log, lines } = captureLogger();
  const table = connectivityTable().register(...testMethods);
  return { e: new JsonRpcEngine(table, { log, isReady: () => opts.ready ?? true }), lines };
}

async function call(e: JsonRpcEngine, body: unknown) {
  const reply = await e.handle(typeof body === 'string' ? body : JSON.stringify(body), { flowId: 'flow-1' });
  return reply === undefined ? undefined : { ...reply, value: JSON.parse(reply.json) as unknown };
}

describe('JSON-RPC engine', () => {
  it('Host.ping2 and Host.confirmConnectivity answer true, key order jsonrpc, id, result', async () => {
    const { e } = engine();
    const r = await e.handle('{"jsonrpc":"2.0","method":"Host.ping2","params":{},"id":"a"}');
    expect(r).toMatchObject({ json: '{"jsonrpc":"2.0","id":"a","result":true}', orphan: false });
    expect((await call(e, { jsonrpc: '2.0', method: 'Host.confirmConnectivity', id: 7 }))!.value).toEqual({ jsonrpc: '2.0', id: 7, result: true });
  });

  it('a one-element array (vdsm-client) gets a bare object, as from vdsm', async () => {
    const { e } = engine();
    const r = await call(e, [{ jsonrpc: '2.0', method: 'Host.ping2', params: {}, id: 'x' }]);
    expect(r!.value).toEqual({ jsonrpc: '2.0', id: 'x', result: true });
    expect(r!.orphan).toBe(false);
    const mixed = await call(e, [{ jsonrpc: '2.0', method: 'Host.ping2' }, { jsonrpc: '2.0', method: 'Test.async', params: { ms: 1 }, id: 'y' }]);
    expect(mixed!.value).toEqual({ jsonrpc: '2.0', id: 'y', result: { waited: 1 } });
    const invalid = await call(e, [{ method: 'Host.ping2', id: 'z' }]);
    expect(invalid!.orphan).toBe(true);
  });

  it('null result is true', async () => {
    const { e } = engine();
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.none', id: 1 }))!.value).toMatchObject({ result: true });
  });

  it('named and positional params, defaults', async () => {
    const { e } = engine();
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.echo', params: { text: 'ab' }, id: 1 }))!.value).toMatchObject({ result: 'ab' });
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.echo', params: ['ab', 3], id: 1 }))!.value).toMatchObject({ result: 'ababab' });
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.echo', params: { text: 'x', times: '2' }, id: 1 }))!.value).toMatchObject({ result: 'xx' });
  });

  it('string booleans, enums', async () => {
    const { e } = engine();
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.flags', params: { force: 'True' }, id: 1 }))!.value).toMatchObject({ result: { force: true } });
    const bad = await call(e, { jsonrpc: '2.0', method: 'Test.flags', params: { level: 'LOUD' }, id: 1 });
    expect(bad!.value).toMatchObject({ error: { code: -32602 } });
    expect((bad!.value as { error: { message: string } }).error.message).toContain("'param': 'level'");
  });

  it('-32602 names the parameter and why', async () => {
    const { e } = engine();
    const missing = await call(e, { jsonrpc: '2.0', method: 'Test.echo', params: {}, id: 'm' });
    expect(missing!.value).toEqual({
      jsonrpc: '2.0',
      id: 'm',
      error: { code: -32602, message: "Invalid method parameter(s): {'method': 'Test.echo', 'param': 'text', 'reason': 'required parameter is missing'}" },
    });
    const wrong = await call(e, { jsonrpc: '2.0', method: 'Test.echo', params: { text: 5 }, id: 'm' });
    expect((wrong!.value as { error: { message: string } }).error.message).toBe(
      "Invalid method parameter(s): {'method': 'Test.echo', 'param': 'text', 'reason': 'expected a string, got number 5'}",
    );
    const many = await call(e, { jsonrpc: '2.0', method: 'Test.echo', params: ['a', 1, 2], id: 'm' });
    expect(many!.value).toMatchObject({ error: { code: -32602 } });
  });

  it('unknown method: -32601 with vdsm text', async () => {
    const { e } = engine();
    expect((await call(e, { jsonrpc: '2.0', method: 'Host.nosuch', params: {}, id: 'n' }))!.value).toEqual({
      jsonrpc: '2.0',
      id: 'n',
      error: { code: -32601, message: "The method does not exist or is not available: {'method': 'Host.nosuch'}" },
    });
  });

  it('parse error: -32700, id null, orphan', async () => {
    const { e } = engine();
    const r = await call(e, '{not json');
    expect(r!.orphan).toBe(true);
    expect(r!.value).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32700, message: 'Invalid JSON was received by the server. An error occurred on the server while parsing the JSON text.' },
    });
  });

  it('invalid requests: vdsm texts, id null', async () => {
    const { e } = engine();
    expect((await call(e, []))!.value).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32600, message: "Invalid request: {'request': [], 'reason': 'request batch is empty'}" } });
    expect((await call(e, { method: 'Host.ping2', id: 'e' }))!.value).toEqual({
      jsonrpc: '2.0',
      id: null,
      error: { code: -32600, message: "Invalid request: {'request': {'method': 'Host.ping2', 'id': 'e'}, 'reason': 'Wrong protocol version'}" },
    });
    expect((await call(e, { jsonrpc: '2.0', id: 'e' }))!.value).toMatchObject({ error: { code: -32600, message: expect.stringContaining('missing method header in method') } });
    expect((await call(e, { jsonrpc: '2.0', method: 'Host.ping2', params: 3, id: 'e' }))!.value).toMatchObject({ error: { code: -32600, message: expect.stringContaining('wrong params type') } });
    const single = await call(e, { method: 'Host.ping2', id: 'e' });
    expect(single!.orphan).toBe(true);
  });

  it('notifications get nothing, also unknown methods and notification-only batches (vdsm dies here)', async () => {
    const { e } = engine();
    expect(await call(e, { jsonrpc: '2.0', method: 'Host.ping2' })).toBeUndefined();
    expect(await call(e, { jsonrpc: '2.0', method: 'Host.nosuch', params: {} })).toBeUndefined();
    expect(await call(e, { jsonrpc: '2.0', method: 'Host.ping2', id: null })).toBeUndefined();
    expect(await call(e, [{ jsonrpc: '2.0', method: 'Host.ping2' }, { jsonrpc: '2.0', method: 'Test.none' }])).toBeUndefined();
    // and the engine keeps serving
    expect((await call(e, { jsonrpc: '2.0', method: 'Host.ping2', id: 1 }))!.value).toMatchObject({ result: true });
  });

  it('batches get an array (vdsm answers nothing), order kept, notifications left out', async () => {
    const { e } = engine();
    const r = await call(e, [
      { jsonrpc: '2.0', method: 'Test.async', params: { ms: 20 }, id: 1 },
      { jsonrpc: '2.0', method: 'Host.ping2' },
      { jsonrpc: '2.0', method: 'Host.ping2', id: 2 },
      { bad: true },
      5,
    ]);
    expect(r!.orphan).toBe(false);
    expect(r!.value).toEqual([
      { jsonrpc: '2.0', id: 1, result: { waited: 20 } },
      { jsonrpc: '2.0', id: 2, result: true },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: "Invalid request: {'request': {'bad': True}, 'reason': 'Wrong protocol version'}" } },
      { jsonrpc: '2.0', id: null, error: { code: -32600, message: "Invalid request: {'request': 5, 'reason': 'request is not an object'}" } },
    ]);
  });

  it('vdsm errors keep code and message; unexpected errors are -32603 with the reason', async () => {
    const { e } = engine();
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.noVm', params: { vmID: '00000000-0000-0000-0000-000000000001' }, id: 1 }))!.value).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: 1, message: "Virtual machine does not exist: {'vmId': '00000000-0000-0000-0000-000000000001'}" },
    });
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.boom', id: 2 }))!.value).toEqual({
      jsonrpc: '2.0',
      id: 2,
      error: { code: -32603, message: 'Internal JSON-RPC error: {\'reason\': "it\'s broken"}' },
    });
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.rejects', id: 3 }))!.value).toEqual({
      jsonrpc: '2.0',
      id: 3,
      error: { code: 100, message: "General Exception: ('boom',)" },
    });
  });

  it('not ready: code 99', async () => {
    const { e } = engine({ ready: false });
    expect((await call(e, { jsonrpc: '2.0', method: 'Host.ping2', id: 1 }))!.value).toEqual({
      jsonrpc: '2.0',
      id: 1,
      error: { code: 99, message: 'Recovering from crash or Initializing' },
    });
  });

  it('the flow id is in every log line of the request', async () => {
    const { e, lines } = engine();
    expect((await call(e, { jsonrpc: '2.0', method: 'Test.log', id: 1 }))!.value).toMatchObject({ result: 'flow-1' });
    await call(e, { jsonrpc: '2.0', method: 'Test.boom', id: 2 });
    const mine = lines.filter((l) => l['method'] === 'Test.log' || l['method'] === 'Test.boom');
    expect(mine.length).toBeGreaterThanOrEqual(3);
    for (const l of mine) expect(l['flowId']).toBe('flow-1');
  });

  it('a RawJson result stays in its pieces, alone and in a batch, and reads back as its value', async () => {
    const { e } = engine();
    const single = await e.handle('{"jsonrpc":"2.0","method":"Test.raw","id":"r"}');
    expect(single!.pieces.length).toBeGreaterThan(1);
    expect(single!.pieces).toContain('{"a":1}');
    expect(JSON.parse(single!.json)).toEqual({ jsonrpc: '2.0', id: 'r', result: [{ a: 1 }, 'é'] });
    expect(single!.orphan).toBe(false);
    const batch = await e.handle('[{"jsonrpc":"2.0","method":"Test.raw","id":1},{"jsonrpc":"2.0","method":"Host.ping2","id":2},{"jsonrpc":"2.0","method":"Host.ping2"}]');
    expect(JSON.parse(batch!.json)).toEqual([
      { jsonrpc: '2.0', id: 1, result: [{ a: 1 }, 'é'] },
      { jsonrpc: '2.0', id: 2, result: true },
    ]);
  });

  it('a client-chosen method name or flow id of any length makes log lines of bounded size', async () => {
    const { e, lines } = engine();
    const huge = `X.${'m'.repeat(32 * 1024)}`;
    const reply = await e.handle(JSON.stringify({ jsonrpc: '2.0', method: huge, id: 1 }), { flowId: 'f'.repeat(8000) });
    // The answer still names the method in full: it goes back to the client that sent it.
    expect(JSON.parse(reply!.json).error.message).toContain(huge);
    const logged = lines.filter((l) => String(l['msg']) === 'no such method');
    expect(logged).toHaveLength(1);
    expect(JSON.stringify(logged[0]).length).toBeLessThan(1000);
    expect(logged[0]!['method']).toMatch(/^X\.m+… \(32770 characters\)$/);
  });
});

describe('error helpers', () => {
  it('python repr forms', () => {
    expect(pyRepr({ a: [1, true, null], b: "it's", c: 'x"y\'z', d: 1.5 })).toBe(`{'a': [1, True, None], 'b': "it's", 'c': 'x"y\\'z', 'd': 1.5}`);
    expect(new ResourceExhaustedError({ resource: 'jsonrpc', current_tasks: 80, reason: 'Too many tasks' }).message).toBe(
      "Not enough resources: {'resource': 'jsonrpc', 'current_tasks': 80, 'reason': 'Too many tasks'}",
    );
    expect(new VdsmError(44, 'Not implemented').toJSON()).toEqual({ code: 44, message: 'Not implemented' });
  });

  it('the registry refuses bad and duplicate names', () => {
    const r = new MethodRegistry();
    expect(() => r.register({ name: 'noDot', params: [], handler: () => 1 })).toThrow();
    r.register({ name: 'A.b', params: [], handler: () => 1 });
    expect(() => r.register({ name: 'A.b', params: [], handler: () => 1 })).toThrow(/twice/);
    expect(r.names()).toEqual(['A.b']);
  });
});
