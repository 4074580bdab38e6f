/**
 * Property-based fuzzing of the JSON-RPC engine: whatever text arrives, handle() never
 * throws, always settles, answers with well-formed JSON-RPC 2.0 (or nothing for notifications),
 * answers every request id exactly once, and gives each kind of bad input its documented code:
 * -32700 not JSON, -32600 not a request, -32601 no such method, -32602 bad parameters.
 */
import { Type } from '@sinclair/typebox';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JsonRpcEngine } from '../../src/rpc/engine.js';
import { RpcCode, VdsmError } from '../../src/rpc/errors.js';
import type { Method, MethodTable } from '../../src/rpc/method-table.js';

const methods: Method[] = [
  { name: 'Host.ping2', params: [], handler: () => true },
  { name: 'T.echo', params: [{ name: 'value', schema: Type.Unknown() }], handler: (a) => a['value'] },
  { name: 'T.add', params: [{ name: 'a', schema: Type.Integer() }, { name: 'b', schema: Type.Integer({ minimum: 0 }), default: 0 }], handler: (a) => (a['a'] as number) + (a['b'] as number) },
  { name: 'T.flag', params: [{ name: 'on', schema: Type.Boolean() }, { name: 'mode', schema: Type.Union([Type.Literal('x'), Type.Literal('y')]), default: 'x' }], handler: (a) => a },
  { name: 'T.async', params: [{ name: 'ms', schema: Type.Number(), default: 0 }], handler: async () => 'later' },
  { name: 'T.throws', params: [], handler: () => { throw new Error('boom'); } },
  { name: 'T.rejects', params: [], handler: async () => { throw new VdsmError(1, 'Virtual machine does not exist', { vmId: 'x' }); } },
  { name: 'T.bigint', params: [], handler: () => 10n },
  { name: 'T.obj', params: [{ name: 'o', schema: Type.Object({}), optional: true }, { name: 'l', schema: Type.Array(Type.Unknown()), optional: true }], handler: () => ({ ok: 1 }) },
];
const table: MethodTable = { get: (n) => methods.find((m) => m.name === n) };
const engine = new JsonRpcEngine(table);

interface Response {
  jsonrpc: '2.0';
  id: string | number | null;
  result?: unknown;
  error?: { code: number; message: string };
}

/** Runs one message to completion (bounded in time); returns the parsed responses, [] for none. */
async function run(body: string): Promise<{ responses: Response[]; orphan: boolean; batch: boolean }> {
  let reply: ReturnType<JsonRpcEngine['handle']>;
  try {
    reply = engine.handle(body, { peer: 'fuzz' });
  } catch (err) {
    throw new Error(`handle() threw on ${JSON.stringify(body.slice(0, 80))}: ${String(err)}`);
  }
  const settled = await Promise.race([
    Promise.resolve(reply),
    new Promise<'hung'>((r) => setTimeout(() => r('hung'), 2000)),
  ]);
  if (settled === 'hung') throw new Error(`handle() never settled on ${JSON.stringify(body.slice(0, 80))}`);
  if (settled === undefined) return { responses: [], orphan: false, batch: false };
  const parsed = JSON.parse(settled.json) as Response | Response[];
  const responses = Array.isArray(parsed) ? parsed : [parsed];
  for (const r of responses) {
    expect(r.jsonrpc).toBe('2.0');
    expect('id' in r).toBe(true);
    expect(('result' in r) !== ('error' in r)).toBe(true);
    if (r.error) {
      expect(Number.isInteger(r.error.code)).toBe(true);
      expect(typeof r.error.message).toBe('string');
    }
  }
  return { responses, orphan: settled.orphan, batch: Array.isArray(parsed) };
}

const id = fc.oneof(fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null), fc.constant(undefined));
const methodName = fc.oneof(fc.constantFrom(...methods.map((m) => m.name), 'Host.nosuch', '', 'constructor', '__proto__', 'toString'), fc.string({ maxLength: 10 }));
const params = fc.oneof(
  fc.constant(undefined),
  fc.dictionary(fc.constantFrom('a', 'b', 'on', 'mode', 'value', 'o', 'l', 'ms', 'x'), fc.jsonValue({ maxDepth: 3 }), { maxKeys: 4 }),
  fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 1 }),
);
/** Mostly-plausible requests: every field sometimes right, sometimes wrong or missing. */
const request = fc.record(
  {
    jsonrpc: fc.oneof({ weight: 5, arbitrary: fc.constant('2.0') }, fc.constantFrom('1.0', 2, null, '')),
    method: fc.oneof({ weight: 5, arbitrary: methodName }, fc.jsonValue({ maxDepth: 1 })),
    params,
    id,
  },
  { requiredKeys: [] },
);

/** The code the engine must give a request, or undefined when it may succeed or fail in the method. */
function expectedCode(r: Record<string, unknown>): number | 'ok-or-method' | 'none' {
  if (r['jsonrpc'] !== '2.0' || typeof r['method'] !== 'string') return RpcCode.INVALID_REQUEST;
  const p = r['params'];
  if (p !== undefined && (p === null || typeof p !== 'object')) return RpcCode.INVALID_REQUEST;
  const i = r['id'];
  if (i !== undefined && i !== null && typeof i !== 'string' && typeof i !== 'number') return RpcCode.INVALID_REQUEST;
  if (i === undefined || i === null) return 'none';
  if (!methods.some((m) => m.name === r['method'])) return RpcCode.METHOD_NOT_FOUND;
  return 'ok-or-method';
}

describe('JSON-RPC engine fuzzing', () => {
  it('any text: never throws, always settles, well-formed replies; non-JSON gets -32700 under a null id', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 4 })), async (text) => {
        const { responses, orphan } = await run(text);
        let isJson = true;
        try {
          JSON.parse(text);
        } catch {
          isJson = false;
        }
        if (!isJson) {
          expect(responses).toHaveLength(1);
          expect(responses[0]!.error!.code).toBe(RpcCode.PARSE_ERROR);
          expect(responses[0]!.id).toBeNull();
          expect(orphan).toBe(true);
        }
      }),
      { seed: 0x150e1, numRuns: 400 },
    );
  });

  it('any JSON value that is not an object or array of them: -32600', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.constant(null), fc.boolean(), fc.integer(), fc.string({ maxLength: 20 }), fc.array(fc.oneof(fc.integer(), fc.constant(null), fc.string()), { minLength: 1, maxLength: 5 })), async (value) => {
        const { responses } = await run(JSON.stringify(value));
        const count = Array.isArray(value) ? value.length : 1;
        expect(responses).toHaveLength(count);
        for (const r of responses) {
          expect(r.error!.code).toBe(RpcCode.INVALID_REQUEST);
          expect(r.id).toBeNull();
        }
      }),
      { seed: 0x150e2, numRuns: 200 },
    );
  });

  it('plausible requests get the documented code, and their id back', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (req) => {
        const r = req as Record<string, unknown>;
        const { responses } = await run(JSON.stringify(r));
        const want = expectedCode(JSON.parse(JSON.stringify(r)) as Record<string, unknown>);
        if (want === 'none') {
          expect(responses).toEqual([]);
          return;
        }
        expect(responses).toHaveLength(1);
        const res = responses[0]!;
        if (typeof want === 'number') {
          expect(res.error?.code).toBe(want);
          if (want === RpcCode.INVALID_REQUEST) expect(res.id).toBeNull();
          else expect(res.id).toEqual(r['id']);
          return;
        }
        expect(res.id).toEqual(r['id']);
        // A known method either answers or fails with a code from the documented set.
        if (res.error) expect([RpcCode.INVALID_PARAMS, RpcCode.INTERNAL_ERROR, 1]).toContain(res.error.code);
      }),
      { seed: 0x150e3, numRuns: 600 },
    );
  });

  it('batches: one answer per request that has an id, none for notifications, in order', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 8 }), async (reqs) => {
        const sent = JSON.parse(JSON.stringify(reqs)) as Record<string, unknown>[];
        const { responses, batch } = await run(JSON.stringify(sent));
        const answered = sent.filter((r) => expectedCode(r) !== 'none');
        expect(responses).toHaveLength(answered.length);
        if (answered.length > 1) expect(batch).toBe(true);
        answered.forEach((req, i) => {
          const want = expectedCode(req);
          const res = responses[i]!;
          if (want === RpcCode.INVALID_REQUEST) expect(res.id).toBeNull();
          else expect(res.id).toEqual(req['id']);
          if (typeof want === 'number') expect(res.error?.code).toBe(want);
        });
      }),
      { seed: 0x150e4, numRuns: 300 },
    );
  });

  it('mutated valid requests: never throws, always settles', async () => {
    const valid = fc.constantFrom(
      '{"jsonrpc":"2.0","method":"T.add","params":{"a":1,"b":2},"id":7}',
      '[{"jsonrpc":"2.0","method":"Host.ping2","id":"x"},{"jsonrpc":"2.0","method":"T.async","id":2}]',
      '{"jsonrpc":"2.0","method":"T.echo","params":["\\u00e9\\ud83d\\ude00"],"id":1}',
    );
    await fc.assert(
      fc.asyncProperty(valid, fc.array(fc.tuple(fc.nat(), fc.string({ unit: 'binary', maxLength: 3 }), fc.nat({ max: 4 })), { minLength: 1, maxLength: 5 }), async (text, edits) => {
        let s = text;
        for (const [at, ins, del] of edits) {
          const p = at % (s.length + 1);
          s = s.slice(0, p) + ins + s.slice(p + del);
        }
        await run(s);
      }),
      { seed: 0x150e5, numRuns: 500 },
    );
  });

  it('JSON nested 100k deep is answered with -32600 or -32602, not left unanswered', async () => {
    const n = 100_000;
    const deepArray = '['.repeat(n) + ']'.repeat(n);
    const deepObject = '{"a":'.repeat(n) + '1' + '}'.repeat(n);
    const cases: [string, number | 'ok'][] = [
      [deepArray, RpcCode.INVALID_REQUEST],
      [deepObject, RpcCode.INVALID_REQUEST],
      [`[${deepArray}]`, RpcCode.INVALID_REQUEST],
      [`{"jsonrpc":"1.0","id":1,"method":"T.echo","params":${deepObject}}`, RpcCode.INVALID_REQUEST],
      [`{"jsonrpc":"2.0","id":1,"method":"T.add","params":{"a":${deepArray}}}`, RpcCode.INVALID_PARAMS],
      [`{"jsonrpc":"2.0","id":1,"method":"T.flag","params":{"on":true,"mode":${deepArray}}}`, RpcCode.INVALID_PARAMS],
      [`{"jsonrpc":"2.0","id":1,"method":"Host.ping2","params":{"x":${deepArray}}}`, 'ok'],
      // The result cannot be encoded that deep: an internal error, not silence.
      [`{"jsonrpc":"2.0","id":1,"method":"T.echo","params":[${deepArray}]}`, RpcCode.INTERNAL_ERROR],
    ];
    for (const [body, want] of cases) {
      const { responses } = await run(body);
      expect(responses, body.slice(0, 60)).toHaveLength(1);
      if (want === 'ok') expect(responses[0]!.result).toBe(true);
      else expect(responses[0]!.error?.code, body.slice(0, 60)).toBe(want);
      // The quoted request is cut short, so the error text stays small.
      expect(JSON.stringify(responses[0]).length).toBeLessThan(2000);
    }
  });

  it('any string id comes back exactly as sent, quoting shortcut or not', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.uuid(), fc.constantFrom('"', '\\', '\u0000', '\ud800', 'a\udc00b', '\u2028')), (id) => {
        const reply = engine.handle(JSON.stringify({ jsonrpc: '2.0', method: 'Host.ping2', id }));
        expect(reply).not.toBeInstanceOf(Promise);
        const text = (reply as { json: string }).json;
        expect(text).toBe(`{"jsonrpc":"2.0","id":${JSON.stringify(id)},"result":true}`);
        expect(JSON.parse(text).id).toBe(id);
      }),
      { numRuns: 2000 },
    );
  });
});
