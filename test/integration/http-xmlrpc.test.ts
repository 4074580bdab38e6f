/**
 * XML-RPC against a running front with Python's own xmlrpc.client (the client vdsm's vdscli was
 * built on): legacy verbs and new-style names, results compared field by field; faults for
 * malformed calls; XML bombs refused without expansion.
 */
import { Type } from '@sinclair/typebox';
import { writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NoSuchVmError } from '../../src/rpc/errors.js';
import type { Method } from '../../src/rpc/method-table.js';
import { python, rawHttp, startHttpFront, type HttpRunning } from './http-harness.js';

const VM = '407cb255-34be-432c-be45-4ad4ebd5ef4d';
const CAPS = { cpuCores: '4', cpuThreads: '8', kvmEnabled: 'true', vmTypes: ['kvm'], numaNodes: { '0': { cpus: [0, 1], totalMemory: '15934' } }, memSize: '15934' };
const STATS = { cpuUser: '0.54', cpuSys: '0.33', cpuIdle: '99.13', memFree: 13645, vmCount: 1, network: { eth0: { rx: '10', tx: '20', state: 'up' } } };
const SHORT = { vmId: VM, status: 'Up', statusTime: '2151234567' };
const VMSTATS = { vmId: VM, status: 'Up', statusTime: '2151234567', cpuUser: '1.00', memUsage: '12', elapsedTime: '60', disks: { vda: { readRate: '0.0' } } };
const calls: { method: string; args: Record<string, unknown> }[] = [];

function stand(name: string, params: Method['params'], result: (a: Record<string, unknown>) => unknown): Method {
  return {
    name,
    params,
    handler: (args) => {
      calls.push({ method: name, args });
      return result(args);
    },
  };
}
const vmID = { name: 'vmID', schema: Type.String() } as const;
const known = (a: Record<string, unknown>): void => {
  if (a['vmID'] !== VM) throw new NoSuchVmError(String(a['vmID']));
};

// Stand-ins for the API's methods: the front is protocol code, tested with a small table.
const methods: Method[] = [
  stand('Host.getCapabilities', [], () => CAPS),
  stand('Host.getStats', [], () => STATS),
  stand('Host.getVMList', [{ name: 'fullStatus', schema: Type.Boolean(), default: false }, { name: 'vmList', schema: Type.Array(Type.Unknown()), default: [] }, { name: 'onlyUUID', schema: Type.Boolean(), default: false }], () => [SHORT]),
  stand('Host.getVMFullList', [{ name: 'vmList', schema: Type.Array(Type.Unknown()), default: [] }], () => [{ ...SHORT, vmName: 'vm1' }]),
  stand('Host.getAllVmStats', [], () => [VMSTATS]),
  stand('Host.ping', [], () => true),
  stand('Host.setLogLevel', [{ name: 'level', schema: Type.Union([Type.Literal('DEBUG'), Type.Literal('INFO'), Type.Literal('WARNING'), Type.Literal('ERROR')]) }, { name: 'name', schema: Type.String(), default: '' }], () => true),
  stand('VM.getStats', [vmID], (a) => (known(a), [VMSTATS])),
  stand('VM.create', [vmID, { name: 'vmParams', schema: Type.Object({}) }], (a) => ({ vmId: a['vmID'], status: 'WaitForLaunch', statusTime: '2151234567', xml: (a['vmParams'] as { xml: string }).xml })),
  stand('VM.destroy', [vmID, { name: 'gracefulAttempts', schema: Type.Integer({ minimum: 0 }), default: 1 }], (a) => (known(a), true)),
  stand('VM.shutdown', [vmID, { name: 'delay', schema: Type.Integer(), optional: true }, { name: 'message', schema: Type.String(), optional: true }, { name: 'reboot', schema: Type.Boolean(), default: false }, { name: 'timeout', schema: Type.Integer(), optional: true }, { name: 'force', schema: Type.Boolean(), default: false }], (a) => (known(a), true)),
  stand('VM.pause', [vmID], (a) => (known(a), { vmList: {} })),
  stand('VM.cont', [vmID], (a) => (known(a), { vmList: {} })),
  stand('VM.getMigrationStatus', [vmID], () => ({ progress: 40 })),
  stand('Test.echo', [{ name: 'value', schema: Type.Unknown() }], (a) => a['value']),
  stand('Test.boom', [], () => {
    throw new Error('kaboom');
  }),
];

let srv: HttpRunning;
let dir: string;
beforeAll(async () => {
  srv = await startHttpFront({ 'http.max_body_size': '262144', 'http.xml_max_depth': '8', 'http.xml_max_values': '1000' }, methods);
  dir = mkdtempSync(join(tmpdir(), 'http-xmlrpc-'));
});
afterAll(async () => {
  await srv.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Python calls each [name, args] over one ServerProxy and prints the results as JSON. */
const CLIENT = `
import json, sys, xmlrpc.client
proxy = xmlrpc.client.ServerProxy('http://127.0.0.1:%s/RPC2' % sys.argv[1], allow_none=True)
def plain(v):
    if isinstance(v, xmlrpc.client.DateTime): return {'dateTime': v.value}
    if isinstance(v, xmlrpc.client.Binary): return {'base64': v.data.decode('latin1')}
    if isinstance(v, dict): return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list): return [plain(x) for x in v]
    return v
out = []
for name, args in json.loads(sys.argv[2]):
    try:
        out.append({'result': plain(getattr(proxy, name)(*args))})
    except xmlrpc.client.Fault as f:
        out.append({'fault': [f.faultCode, f.faultString]})
print(json.dumps(out))
`;

async function pyCalls(list: [string, unknown[]][]): Promise<{ result?: unknown; fault?: [number, string] }[]> {
  return JSON.parse(await python(CLIENT, [String(srv.port), JSON.stringify(list)]));
}

const done = { code: 0, message: 'Done' };

describe('XML-RPC: legacy verbs from python xmlrpc.client', () => {
  it('host verbs: getVdsCapabilities, getVdsStats, list, getAllVmStats, ping, setLogLevel', async () => {
    const [caps, stats, short, full, all, pong, level] = await pyCalls([
      ['getVdsCapabilities', []],
      ['getVdsStats', []],
      ['list', []],
      ['list', [true, [VM]]],
      ['getAllVmStats', []],
      ['ping', []],
      ['setLogLevel', ['INFO']],
    ]);
    expect(caps!.result).toEqual({ status: done, info: { ...CAPS, lastClient: '127.0.0.1' } });
    expect(stats!.result).toEqual({ status: done, info: STATS });
    expect(short!.result).toEqual({ status: done, vmList: [SHORT] });
    expect(full!.result).toEqual({ status: done, vmList: [{ ...SHORT, vmName: 'vm1' }] });
    expect(calls.find((c) => c.method === 'Host.getVMFullList')!.args['vmList']).toEqual([VM]);
    expect(all!.result).toEqual({ status: done, statsList: [VMSTATS] });
    expect(pong!.result).toEqual({ status: done });
    expect(level!.result).toEqual({ status: done });
  });

  it('VM verbs: create, getVmStats, pause, cont, shutdown, destroy, migrateStatus', async () => {
    const [created, vmStats, paused, resumed, shut, rebooting, destroyed, mig] = await pyCalls([
      ['create', [{ vmId: VM, xml: '<domain/>', memSize: 1024 }]],
      ['getVmStats', [VM]],
      ['pause', [VM]],
      ['cont', [VM]],
      ['shutdown', [VM, 30, 'bye']],
      ['shutdown', [VM, 30, 'bye', true]],
      ['destroy', [VM]],
      ['migrateStatus', [VM]],
    ]);
    expect(created!.result).toEqual({ status: done, vmList: { vmId: VM, status: 'WaitForLaunch', statusTime: '2151234567', xml: '<domain/>' } });
    const create = calls.find((c) => c.method === 'VM.create')!;
    expect(create.args).toEqual({ vmID: VM, vmParams: { vmId: VM, xml: '<domain/>', memSize: 1024 } });
    expect(vmStats!.result).toEqual({ status: done, statsList: [VMSTATS] });
    expect(paused!.result).toEqual({ status: done });
    expect(resumed!.result).toEqual({ status: done });
    expect(shut!.result).toEqual({ status: { code: 0, message: 'Machine shutting down' } });
    expect(rebooting!.result).toEqual({ status: { code: 0, message: 'Machine rebooting' } });
    const shutdown = calls.filter((c) => c.method === 'VM.shutdown')[0]!;
    expect(shutdown.args).toMatchObject({ vmID: VM, delay: 30, message: 'bye', reboot: false, force: false });
    expect(destroyed!.result).toEqual({ status: { code: 0, message: 'Machine destroyed' } });
    expect(mig!.result).toEqual({ status: done, migrationStats: { progress: 40 } });
  });

  it("errors are statuses with vdsm's codes, not faults", async () => {
    const [noVm, missing, unknown, boom, badParam] = await pyCalls([
      ['destroy', ['00000000-0000-0000-0000-000000000001']],
      ['getVdsHardwareInfo', []], // Host.getHardwareInfo is not in this table
      ['noSuchVerb', []],
      ['Test.boom', []],
      ['setLogLevel', ['LOUD']],
    ]);
    expect(noVm!.result).toEqual({ status: { code: 1, message: "Virtual machine does not exist: {'vmId': '00000000-0000-0000-0000-000000000001'}" } });
    expect(missing!.result).toEqual({ status: { code: -32601, message: "The method does not exist or is not available: {'method': 'Host.getHardwareInfo'}" } });
    expect(unknown!.result).toEqual({ status: { code: -32601, message: "The method does not exist or is not available: {'method': 'noSuchVerb'}" } });
    expect(boom!.result).toEqual({ status: { code: 16, message: 'Unexpected exception' } });
    expect((badParam!.result as { status: { code: number } }).status.code).toBe(-32602);
  });

  it('code 99 while the daemon is not ready', async () => {
    srv.ready.value = false;
    try {
      const [r] = await pyCalls([['getVdsStats', []]]);
      expect(r!.result).toEqual({ status: { code: 99, message: 'Recovering from crash or Initializing' } });
    } finally {
      srv.ready.value = true;
    }
  });

  it('new-style names: positional or one struct of named params', async () => {
    const [stats, byName, positional] = await pyCalls([
      ['Host.getStats', []],
      ['VM.getStats', [{ vmID: VM }]],
      ['VM.getStats', [VM]],
    ]);
    expect(stats!.result).toEqual({ status: done, info: STATS });
    expect(byName!.result).toEqual({ status: done, statsList: [VMSTATS] });
    expect(positional!.result).toEqual({ status: done, statsList: [VMSTATS] });
  });

  it('every XML-RPC type survives a round trip (int, boolean, string, double, dateTime, base64, struct, array, nil)', async () => {
    const script = `
import json, sys, xmlrpc.client
p = xmlrpc.client.ServerProxy('http://127.0.0.1:%s/' % sys.argv[1], allow_none=True)
v = [7, -2147483648, True, False, 'h\\u00e9llo <&>', 2.5, xmlrpc.client.DateTime('20240102T03:04:05'),
     xmlrpc.client.Binary(b'\\x00\\x01\\xff'), {'a': [1, {'b': None}]}, [], None]
r = p.__getattr__('Test.echo')(v)
items = r['items']
assert items[0:6] == v[0:6], items
assert items[6].value == '20240102T03:04:05', items[6]
assert items[7].data == b'\\x00\\x01\\xff'
assert items[8] == {'a': [1, {'b': None}]} and items[9] == [] and items[10] is None
print(json.dumps(r['status']))
`;
    expect(JSON.parse(await python(script, [String(srv.port)]))).toEqual(done);
  });

  it('keeps the connection alive between calls (one ServerProxy, HTTP/1.1)', async () => {
    const script = `
import sys, xmlrpc.client, http.client
conns = []
class T(xmlrpc.client.Transport):
    def make_connection(self, host):
        c = super().make_connection(host)
        if not conns or conns[-1] is not c: conns.append(c)
        return c
p = xmlrpc.client.ServerProxy('http://127.0.0.1:%s/RPC2' % sys.argv[1], transport=T())
for _ in range(5): p.ping()
print(len(conns))
`;
    expect((await python(script, [String(srv.port)])).trim()).toBe('1');
  });
});

function post(body: string | Buffer, path = '/RPC2', extra = ''): string {
  const b = typeof body === 'string' ? Buffer.from(body) : body;
  return `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: text/xml\r\nContent-Length: ${b.length}\r\nConnection: close\r\n${extra}\r\n${b.toString('latin1')}`;
}

describe('XML-RPC: hostile and malformed input', () => {
  it('malformed calls are faults (HTTP 200), never a crash', async () => {
    for (const body of ['<methodCall><methodName>ping', 'not xml at all', '<methodCall><params/></methodCall>', '<methodCall><methodName>x</methodName><params><param><value><int>12x</int></value></param></params></methodCall>']) {
      const { text } = await rawHttp(srv.port, post(body));
      expect(text).toMatch(/^HTTP\/1\.1 200 OK/);
      expect(text).toContain('<fault>');
      expect(text).toContain('<name>faultCode</name>');
    }
    const [r] = await pyCalls([['ping', []]]);
    expect(r!.result).toEqual({ status: done });
  });

  it('billion laughs and external entities are refused without expansion or memory growth', async () => {
    const secret = join(dir, 'secret.txt');
    writeFileSync(secret, 'TOP-SECRET-CONTENT');
    let lol = '<!ENTITY lol0 "lolololololololololol">';
    for (let i = 1; i < 10; i++) lol += `<!ENTITY lol${i} "${`&lol${i - 1};`.repeat(10)}">`;
    const bomb = `<?xml version="1.0"?><!DOCTYPE methodCall [${lol}]><methodCall><methodName>Test.echo</methodName><params><param><value><string>&lol9;</string></value></param></params></methodCall>`;
    const xxe = `<?xml version="1.0"?><!DOCTYPE methodCall [<!ENTITY x SYSTEM "file://${secret}">]><methodCall><methodName>Test.echo</methodName><params><param><value><string>&x;</string></value></param></params></methodCall>`;
    const undeclared = '<methodCall><methodName>Test.echo</methodName><params><param><value><string>&lol9;</string></value></param></params></methodCall>';

    const before = process.memoryUsage().rss;
    for (let i = 0; i < 30; i++) {
      for (const body of [bomb, xxe, undeclared]) {
        const { text } = await rawHttp(srv.port, post(body));
        expect(text).toContain('<fault>');
        expect(text).not.toContain('TOP-SECRET');
        expect(text).not.toContain('lolol');
        expect(text.length).toBeLessThan(2000);
      }
    }
    const grown = process.memoryUsage().rss - before;
    // One expansion of &lol9; is 10^9 × 21 bytes; nothing near that may have been built.
    expect(grown).toBeLessThan(64 * 1024 * 1024);
    // Python's client sees a fault too.
    const script = `
import sys, xmlrpc.client, http.client
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))
c.request('POST', '/RPC2', sys.argv[2].encode(), {'Content-Type': 'text/xml'})
try:
    xmlrpc.client.loads(c.getresponse().read())
except xmlrpc.client.Fault as f:
    print(f.faultCode, f.faultString)
`;
    expect(await python(script, [String(srv.port), xxe])).toMatch(/^1 .*DOCTYPE/);
  });

  it('nesting and value limits are faults', async () => {
    const deep = `<methodCall><methodName>Test.echo</methodName><params><param>${'<value><array><data>'.repeat(20)}${'</data></array></value>'.repeat(20)}</param></params></methodCall>`;
    const wide = `<methodCall><methodName>Test.echo</methodName><params><param><value><array><data>${'<value><int>1</int></value>'.repeat(2000)}</data></array></value></param></params></methodCall>`;
    expect((await rawHttp(srv.port, post(deep))).text).toMatch(/<fault>[^]*deeper than 8/);
    expect((await rawHttp(srv.port, post(wide))).text).toMatch(/<fault>[^]*more than 1000 values/);
  });

  it('an oversized body is refused with 413 and the connection closed', async () => {
    const big = `<methodCall><methodName>Test.echo</methodName><params><param><value><string>${'x'.repeat(300_000)}</string></value></param></params></methodCall>`;
    const declared = await rawHttp(srv.port, post(big).replace('Connection: close\r\n', ''));
    expect(declared.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(declared.closed).toBe(true);
    // Chunked: no length up front, refused once the limit is crossed.
    const chunk = Buffer.from(big);
    const chunked = `POST /RPC2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n${chunk.length.toString(16)}\r\n${big}\r\n0\r\n\r\n`;
    const streamed = await rawHttp(srv.port, chunked);
    expect(streamed.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(streamed.closed).toBe(true);
  });
});
