/**
 * Host.setupNetworks as the engine drives it at install, on a real kernel: a host and an engine in
 * two network namespaces joined by a veth pair (test/helpers/netns.ts), the privileged helper as
 * root and the daemon as the unprivileged `hostvisor` user in the host namespace, the client in
 * the engine namespace. The engine's own install request moves the host's address onto an
 * `ovirtmgmt` bridge while the client keeps talking; a request that cuts the engine off is rolled
 * back; the safe configuration comes back at boot and only then.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CallError, type JsonRpcClient } from '../../src/client/jsonrpc-client.js';
import { repoRoot } from '../../src/paths.js';
import { daemonUserIdentity, identityOf, type RunningDaemon } from '../helpers/daemon.js';
import { createWorld, DAEMON_USER, ENGINE_ADDRESS, engineClient, HOST_ADDRESS, restoreNets, startDhcpServer, startHelper, startUnprivilegedDaemon, type NetnsWorld } from '../helpers/netns.js';

const run = promisify(execFile);

/** How a call failed (its code and message), or undefined when it did not. */
async function failure(call: Promise<unknown>): Promise<{ code: number; message: string } | undefined> {
  return call.then(
    () => undefined,
    (err: unknown) => {
      if (!(err instanceof CallError)) throw err;
      return { code: err.code, message: err.message };
    },
  );
}

/** The engine's request for the management network (HostSetupNetworksVDSCommand, static IPv4). */
function installRequest(world: NetnsWorld, overrides: Record<string, unknown> = {}, options: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    networks: {
      ovirtmgmt: {
        nic: world.hostNic, mtu: 1500, bridged: 'true', STP: 'no',
        ipaddr: HOST_ADDRESS, netmask: '255.255.255.0', gateway: ENGINE_ADDRESS,
        dhcpv6: false, ipv6autoconf: false, defaultRoute: true, switch: 'legacy',
        ...overrides,
      },
    },
    bondings: {},
    options: { connectivityCheck: 'true', commitOnSuccess: true, connectivityTimeout: 10, ...options },
  };
}

interface IpAddrJson {
  ifname: string;
  master?: string;
  addr_info: Array<{ family: string; local: string; prefixlen: number; scope: string }>;
}

describe('Host.setupNetworks through the privileged helper, the daemon unprivileged', () => {
  let world: NetnsWorld;
  let helper: RunningDaemon;
  let daemon: RunningDaemon;
  let client: JsonRpcClient;
  const relays: Array<{ kill(): boolean }> = [];

  const hostLinks = async (): Promise<IpAddrJson[]> => JSON.parse(await world.exec(world.hostNs, ['ip', '-j', 'addr', 'show'])) as IpAddrJson[];
  const addressesOf = async (name: string): Promise<string[]> =>
    ((await hostLinks()).find((l) => l.ifname === name)?.addr_info ?? []).filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`);
  const defaultRoute = async (): Promise<string> => (await world.exec(world.hostNs, ['ip', 'route', 'show', 'default'])).trim();

  async function connect(): Promise<JsonRpcClient> {
    const { client: c, relay } = await engineClient(world);
    relays.push(relay);
    return c;
  }

  async function startDaemon(): Promise<void> {
    daemon = startUnprivilegedDaemon(world);
    await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000);
    client = await connect();
  }

  async function stopDaemon(): Promise<void> {
    await client.close().catch(() => undefined);
    daemon.child.kill('SIGTERM');
    expect(await daemon.exited).toBe(0);
  }

  /** setupNetworks, with the engine's confirmConnectivity polls (every 500 ms) while it runs. */
  async function setupWithPolls(request: Record<string, unknown>, c = client): Promise<{ answer: unknown; error?: { code: number; message: string }; polls: number }> {
    let done = false;
    let polls = 0;
    const polling = (async () => {
      while (!done) {
        await c.call('Host.confirmConnectivity', {}, 2000).then(() => polls++, () => undefined);
        await new Promise((r) => setTimeout(r, 500));
      }
    })();
    try {
      const call = c.call('Host.setupNetworks', request, 180_000);
      const error = await failure(call);
      return { answer: error === undefined ? await call : undefined, ...(error ? { error } : {}), polls };
    } finally {
      done = true;
      await polling;
    }
  }

  beforeAll(async () => {
    world = await createWorld();
    // The host's boot, as the units order it: the restore step, then the helper, then the daemon.
    expect(await restoreNets(world)).toBe(0);
    helper = startHelper(world);
    await helper.waitForLog((l) => l.msg === 'hostvisor-helper ready', 30_000);
    await startDaemon();
  }, 120_000);

  afterAll(async () => {
    await client?.close().catch(() => undefined);
    daemon?.child.kill('SIGKILL');
    helper?.child.kill('SIGKILL');
    for (const relay of relays) relay.kill();
    await world?.destroy();
  });

  it('runs the daemon as its unprivileged user, without capabilities: it cannot change the network itself', async () => {
    expect(identityOf(daemon.child.pid!)).toEqual(daemonUserIdentity());
    await expect(world.exec(world.hostNs, ['setpriv', `--reuid=${DAEMON_USER}`, `--regid=${DAEMON_USER}`, '--init-groups', 'ip', 'link', 'add', 'hvtry0', 'type', 'bridge'])).rejects.toThrow(/Operation not permitted/);
  });

  it("applies the engine's install request: the address moves onto ovirtmgmt while the client keeps talking, and it is saved as safe", async () => {
    const before = (await client.call('Host.getCapabilities')) as { nics: Record<string, unknown>; networks: Record<string, unknown> };
    expect(Object.keys(before.nics)).toContain(world.hostNic);
    expect(before.networks).toEqual({});

    const { answer, polls } = await setupWithPolls(installRequest(world));
    expect(answer).toEqual({ code: 0, message: 'Done' });
    expect(polls).toBeGreaterThan(0);

    expect(await addressesOf('ovirtmgmt')).toEqual([`${HOST_ADDRESS}/24`]);
    expect(await addressesOf(world.hostNic)).toEqual([]);
    expect((await hostLinks()).find((l) => l.ifname === world.hostNic)?.master).toBe('ovirtmgmt');
    expect(await defaultRoute()).toMatch(new RegExp(`^default via ${ENGINE_ADDRESS} dev ovirtmgmt`));

    const caps = (await client.call('Host.getCapabilities')) as { networks: Record<string, Record<string, unknown>>; bridges: Record<string, Record<string, unknown>>; netConfigDirty: string };
    expect(caps.networks['ovirtmgmt']).toMatchObject({ bridged: true, iface: 'ovirtmgmt', ports: [world.hostNic], southbound: world.hostNic, switch: 'legacy', addr: HOST_ADDRESS, gateway: ENGINE_ADDRESS, mtu: '1500' });
    expect(caps.bridges['ovirtmgmt']).toMatchObject({ addr: HOST_ADDRESS, netmask: '255.255.255.0', stp: 'off' });
    expect(caps.netConfigDirty).toBe('False');
    const safe = JSON.parse(readFileSync(join(world.stateDir, 'safe.json'), 'utf8')) as { networks: Record<string, unknown> };
    expect(safe.networks['ovirtmgmt']).toEqual({
      nic: world.hostNic, mtu: 1500, bridged: true, stp: false, bootproto: 'none', ipaddr: HOST_ADDRESS, netmask: '255.255.255.0',
      gateway: ENGINE_ADDRESS, defaultRoute: true, dhcpv6: false, ipv6autoconf: false, nameservers: ['198.51.100.53'], switch: 'legacy',
    });
  }, 60_000);

  it('rolls back a change that cuts the engine off after connectivityTimeout, answers 10, and the engine reaches the host again', async () => {
    const started = Date.now();
    // Nobody can confirm: the host no longer has the address the engine talks to.
    const { error } = await setupWithPolls(installRequest(world, { ipaddr: '198.51.100.99' }, { connectivityTimeout: 3, commitOnSuccess: false }));
    expect(error).toEqual({ code: 10, message: 'connectivity check failed' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(3000);
    expect(await addressesOf('ovirtmgmt')).toEqual([`${HOST_ADDRESS}/24`]);
    expect(await defaultRoute()).toMatch(new RegExp(`^default via ${ENGINE_ADDRESS} dev ovirtmgmt`));
    expect(await client.call('Host.ping2')).toBe(true);
    const fresh = await connect();
    expect(await fresh.call('Host.ping2')).toBe(true);
    await fresh.close();
    const running = JSON.parse(readFileSync(join(world.stateDir, 'running.json'), 'utf8')) as { networks: Record<string, { ipaddr: string }> };
    expect(running.networks['ovirtmgmt']?.ipaddr).toBe(HOST_ADDRESS);
  }, 60_000);

  it('refuses each invalid request with its vdsm code, touching nothing', async () => {
    const before = JSON.stringify(await hostLinks());
    const cases: Array<[Record<string, unknown>, number]> = [
      [installRequest(world, { nic: 'nosuchnic0' }), 23],
      [installRequest(world, { vlan: '5000' }), 26],
      [installRequest(world, { prefix: '24' }), 21],
      [installRequest(world, { ipaddr: '198.51.100.300' }), 22],
      [installRequest(world, { bootproto: 'dhcp' }), 22],
      [{ networks: { 'bad:name': { bridged: 'true' } }, bondings: {}, options: {} }, 27],
      [{ networks: { gone: { remove: 'true' } }, bondings: {}, options: {} }, 27],
      [{ networks: {}, bondings: { notabond: { nics: [world.hostNic] } }, options: {} }, 25],
    ];
    for (const [request, code] of cases) {
      const err = await failure(client.call('Host.setupNetworks', request));
      expect({ request: JSON.stringify(request).slice(0, 80), code: err?.code }).toEqual({ request: JSON.stringify(request).slice(0, 80), code });
    }
    expect(JSON.stringify(await hostLinks())).toBe(before);
  }, 60_000);

  it('answers 40 to a second setup while one runs, and keeps serving meanwhile', async () => {
    const lab = { networks: { lab: { bridged: 'true', STP: 'no' } }, bondings: {}, options: { connectivityCheck: 'true', connectivityTimeout: 20 } };
    const first = client.call('Host.setupNetworks', lab, 60_000);
    await new Promise((r) => setTimeout(r, 1000));
    const second = await failure(client.call('Host.setupNetworks', lab));
    expect(second?.code).toBe(40);
    expect((await failure(client.call('Host.setSafeNetworkConfig')))?.code).toBe(40);
    expect(await client.call('Host.ping2')).toBe(true);
    expect(await client.call('Host.confirmConnectivity')).toBe(true);
    expect(await first).toEqual({ code: 0, message: 'Done' });
    const caps = (await client.call('Host.getCapabilities')) as { networks: Record<string, unknown>; netConfigDirty: string };
    expect(Object.keys(caps.networks).sort()).toEqual(['lab', 'ovirtmgmt']);
    expect(caps.netConfigDirty).toBe('True');
    expect(((await client.call('Host.getStats')) as { netConfigDirty: string }).netConfigDirty).toBe('True');
  }, 60_000);

  it('keeps the running configuration across a daemon restart; a boot restores the safe one, once', async () => {
    await stopDaemon();
    await startDaemon();
    expect((await hostLinks()).some((l) => l.ifname === 'lab')).toBe(true);
    expect(((await client.call('Host.getCapabilities')) as { netConfigDirty: string }).netConfigDirty).toBe('True');

    // A boot: the oneshot step runs before the daemon starts; the marker in the (tmpfs) run folder
    // says whether it already ran this boot.
    await stopDaemon();
    expect(await restoreNets(world)).toBe(0);
    expect((await hostLinks()).some((l) => l.ifname === 'lab')).toBe(true); // already done this boot
    rmSync(join(world.runDir, 'nets_restored'));
    expect(await restoreNets(world)).toBe(0);
    expect((await hostLinks()).some((l) => l.ifname === 'lab')).toBe(false);
    expect(await addressesOf('ovirtmgmt')).toEqual([`${HOST_ADDRESS}/24`]);
    expect(existsSync(join(world.runDir, 'nets_restored'))).toBe(true);
    await startDaemon();
    const caps = (await client.call('Host.getCapabilities')) as { networks: Record<string, unknown>; netConfigDirty: string };
    expect(Object.keys(caps.networks)).toEqual(['ovirtmgmt']);
    expect(caps.netConfigDirty).toBe('False');
  }, 90_000);

  it("takes the management network's address from the engine side's DHCP server (dnsmasq), and back to static", async () => {
    const dnsmasq = await startDhcpServer(world);
    try {
      const dhcp = installRequest(world, { ipaddr: undefined, netmask: undefined, gateway: undefined, bootproto: 'dhcp' }, { commitOnSuccess: false, connectivityTimeout: 30 });
      const { answer, error } = await setupWithPolls(JSON.parse(JSON.stringify(dhcp)) as Record<string, unknown>);
      expect(error).toBeUndefined();
      expect(answer).toEqual({ code: 0, message: 'Done' });
      const lease = (await hostLinks()).find((l) => l.ifname === 'ovirtmgmt')!.addr_info.find((a) => a.family === 'inet') as { local: string; dynamic?: boolean; valid_life_time: number };
      expect(lease.local).toBe(HOST_ADDRESS);
      expect(lease.dynamic).toBe(true); // a lease, not the static address from before
      expect(lease.valid_life_time).toBeLessThanOrEqual(3600);
      const caps = (await client.call('Host.getCapabilities')) as { networks: Record<string, Record<string, unknown>> };
      expect(caps.networks['ovirtmgmt']).toMatchObject({ addr: HOST_ADDRESS, dhcpv4: true });
      const { answer: back } = await setupWithPolls(installRequest(world, {}, { commitOnSuccess: true }));
      expect(back).toEqual({ code: 0, message: 'Done' });
      const address = (await hostLinks()).find((l) => l.ifname === 'ovirtmgmt')!.addr_info.find((a) => a.family === 'inet') as { dynamic?: boolean };
      expect(address.dynamic).toBeUndefined();
    } finally {
      dnsmasq.kill();
    }
  }, 120_000);

  it('rolls back a setup whose daemon dies before the engine confirms, and one whose helper dies, when it starts again', async () => {
    const lab = (name: string, timeout: number): Record<string, unknown> => ({ networks: { [name]: { bridged: 'true', STP: 'no' } }, bondings: {}, options: { connectivityCheck: 'true', connectivityTimeout: timeout } });
    const exists = async (name: string): Promise<boolean> => (await hostLinks()).some((l) => l.ifname === name);
    const until = async (what: string, probe: () => Promise<boolean>): Promise<void> => {
      for (const end = Date.now() + 20_000; !(await probe()); ) {
        if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
        await new Promise((r) => setTimeout(r, 200));
      }
    };

    void client.call('Host.setupNetworks', lab('lab2', 3), 30_000).catch(() => undefined);
    await until('lab2 applied', () => exists('lab2'));
    daemon.child.kill('SIGKILL');
    await daemon.exited;
    await until('lab2 rolled back', async () => !(await exists('lab2')));

    await startDaemon();
    void client.call('Host.setupNetworks', lab('lab3', 60), 90_000).catch(() => undefined);
    await until('lab3 applied', () => exists('lab3'));
    helper.child.kill('SIGKILL');
    await helper.exited;
    expect(existsSync(join(world.stateDir, 'transaction.json'))).toBe(true);
    helper = startHelper(world);
    await helper.waitForLog((l) => l.msg === 'hostvisor-helper ready', 30_000);
    expect(await exists('lab3')).toBe(false);
    expect(existsSync(join(world.stateDir, 'transaction.json'))).toBe(false);
    const running = JSON.parse(readFileSync(join(world.stateDir, 'running.json'), 'utf8')) as { networks: Record<string, unknown> };
    expect(Object.keys(running.networks)).toEqual(['ovirtmgmt']);
    expect(await addressesOf('ovirtmgmt')).toEqual([`${HOST_ADDRESS}/24`]);
    expect(await client.call('Host.ping2')).toBe(true);
  }, 90_000);

  it('the helper serves only the daemon user, only its operations, only safe names', async () => {
    const callAs = async (user: string | undefined, ...lines: string[]): Promise<string[]> => {
      const script = join(repoRoot, 'test', 'helpers', 'helper-call.mjs');
      const as = user === undefined ? [] : ['setpriv', `--reuid=${user}`, `--regid=${user}`, '--init-groups'];
      const { stdout } = await run(as[0] ?? process.execPath, [...as.slice(1), ...(user === undefined ? [] : [process.execPath]), script, world.helperSocket, ...lines]);
      return stdout.trim().split('\n');
    };
    // root is not the daemon's user either: the kernel's credentials decide, not the file mode.
    expect((await callAs(undefined, JSON.stringify({ id: 1, op: 'network.confirm', args: {} })))[0]).toMatch(/may not use the helper/);
    // One request at a time: setups sent together would meet the one-setup-at-a-time rule (40).
    const answers: Array<{ id: number }> = [];
    for (const request of [
      { id: 1, op: 'system.exec', args: { command: 'id' } },
      { id: 2, op: 'network.setup', args: { networks: { 'x;reboot': { bridged: 'true' } }, bondings: {}, options: { connectivityCheck: 'false' } } },
      { id: 3, op: 'network.setup', args: { networks: { lab2: { nic: '../../etc' } }, bondings: {}, options: { connectivityCheck: 'false' } } },
      { id: 4, op: 'network.setup', args: { networks: { averyveryverylongname: { bridged: 'true' } }, bondings: {}, options: { connectivityCheck: 'false' } } },
      { id: 5, op: 'network.confirm', args: {} },
    ]) {
      answers.push(JSON.parse((await callAs(DAEMON_USER, JSON.stringify(request)))[0]!) as { id: number });
    }
    const [unknown, shell, slash, long, ok] = answers;
    expect(unknown).toMatchObject({ id: 1, error: { code: -32601 } });
    expect(shell).toMatchObject({ id: 2, error: { code: 27 } });
    expect(slash).toMatchObject({ id: 3, error: { code: 23 } });
    expect(long).toMatchObject({ id: 4, error: { code: 27 } });
    expect(ok).toEqual({ id: 5, result: true });
    expect(helper.logs.some((l) => l.msg === 'refused an operation outside the allowlist')).toBe(true);
    expect(helper.logs.some((l) => l.msg === 'refused a connection from a user other than the daemon')).toBe(true);
  }, 60_000);

  it('without the helper, the network verbs answer an error naming it and the rest works; once it is back it is used again', async () => {
    helper.child.kill('SIGTERM');
    await helper.exited;
    const err = await failure(client.call('Host.setupNetworks', installRequest(world)));
    expect(err?.code).toBe(16);
    expect(err?.message).toMatch(/hostvisor-helper.*not reachable at .*helper\.sock/);
    expect(await client.call('Host.ping2')).toBe(true);
    expect(await client.call('Host.confirmConnectivity')).toBe(true);
    expect(((await client.call('Host.getCapabilities')) as { networks: Record<string, unknown> }).networks).toHaveProperty('ovirtmgmt');
    helper = startHelper(world);
    await helper.waitForLog((l) => l.msg === 'hostvisor-helper ready', 30_000);
    expect(await client.call('Host.setSafeNetworkConfig')).toBe(true);
  }, 60_000);
});
