/**
 * Host networking on a real kernel, as the engine's install drives it (test/helpers/netns.ts: a host
 * and an engine network namespace, the helper as root, the daemon as its unprivileged user):
 * - the engine's install request (the address moves onto ovirtmgmt), from the request to its
 *   answer, with the engine's confirmConnectivity polls every 500 ms, and without the check (the
 *   apply alone);
 * - a request that cuts the engine off: its answer after connectivityTimeout, and how much of that
 *   is the rollback;
 * - Host.ping2 latency while setups run, against its latency without one, side by side in this run
 *   (goal: within 2x).
 *
 *   npm run bench:network [-- --rounds 5]
 */
import { parseArgs } from 'node:util';
import type { JsonRpcClient } from '../src/client/jsonrpc-client.js';
import { createWorld, ENGINE_ADDRESS, engineClient, HOST_ADDRESS, restoreNets, startHelper, startUnprivilegedDaemon, type NetnsWorld } from '../test/helpers/netns.js';

const { values } = parseArgs({ options: { rounds: { type: 'string', default: '5' } } });
const rounds = Number(values.rounds);

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const percentile = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const ms = (x: number): string => `${x.toFixed(1)} ms`;

function install(world: NetnsWorld, options: Record<string, unknown>, ipaddr = HOST_ADDRESS): Record<string, unknown> {
  return {
    networks: {
      ovirtmgmt: {
        nic: world.hostNic, mtu: 1500, bridged: 'true', STP: 'no', ipaddr, netmask: '255.255.255.0', gateway: ENGINE_ADDRESS,
        dhcpv6: false, ipv6autoconf: false, defaultRoute: true, switch: 'legacy',
      },
    },
    bondings: {},
    options,
  };
}

/** setupNetworks with the engine's polls; resolves with the time to the answer and whether it failed. */
async function timedSetup(client: JsonRpcClient, request: Record<string, unknown>): Promise<{ ms: number; code: number }> {
  let done = false;
  const polls = (async () => {
    while (!done) {
      await client.call('Host.confirmConnectivity', {}, 2000).catch(() => undefined);
      await sleep(500);
    }
  })();
  const start = performance.now();
  const code = await client.call('Host.setupNetworks', request, 180_000).then(
    () => 0,
    (err: { code?: number }) => err.code ?? -1,
  );
  const elapsed = performance.now() - start;
  done = true;
  await polls;
  return { ms: elapsed, code };
}

/** Back to the host before the install: no managed network, the address on the NIC. */
async function uninstall(world: NetnsWorld, client: JsonRpcClient): Promise<void> {
  const removal = client.call('Host.setupNetworks', { networks: { ovirtmgmt: { remove: 'true' } }, bondings: {}, options: { connectivityCheck: 'false' } }, 30_000);
  // The removal takes the address with the bridge: put it back on the NIC, as the host had it.
  await sleep(300);
  await world.exec(world.hostNs, ['ip', 'addr', 'replace', `${HOST_ADDRESS}/24`, 'dev', world.hostNic]);
  await world.exec(world.hostNs, ['ip', 'route', 'replace', 'default', 'via', ENGINE_ADDRESS, 'dev', world.hostNic]);
  await removal;
}

async function pingLatencies(client: JsonRpcClient, count: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await client.call('Host.ping2');
    out.push(performance.now() - start);
  }
  return out;
}

async function main(): Promise<void> {
  const world = await createWorld();
  const relays: Array<{ kill(): boolean }> = [];
  const helper = startHelper(world);
  const daemon = startUnprivilegedDaemon(world);
  try {
    await restoreNets(world);
    await helper.waitForLog((l) => l.msg === 'hostvisor-helper ready', 30_000);
    await daemon.waitForLog((l) => l.msg === 'hostvisord ready', 30_000);
    const { client, relay } = await engineClient(world);
    relays.push(relay);
    await pingLatencies(client, 500); // warm-up

    const withCheck: number[] = [];
    const applyOnly: number[] = [];
    const cutOff: number[] = [];
    const timeout = 2;
    for (let round = 0; round < rounds; round++) {
      const checked = await timedSetup(client, install(world, { connectivityCheck: 'true', connectivityTimeout: 120, commitOnSuccess: true }));
      if (checked.code !== 0) throw new Error(`install failed: ${checked.code}`);
      withCheck.push(checked.ms);
      const lost = await timedSetup(client, install(world, { connectivityCheck: 'true', connectivityTimeout: timeout }, '198.51.100.99'));
      if (lost.code !== 10) throw new Error(`cut-off setup answered ${lost.code}, not 10`);
      cutOff.push(lost.ms);
      await uninstall(world, client);
      const unchecked = await timedSetup(client, install(world, { connectivityCheck: 'false' }));
      if (unchecked.code !== 0) throw new Error(`install without check failed: ${unchecked.code}`);
      applyOnly.push(unchecked.ms);
      await uninstall(world, client);
    }

    // ping2 alone, then while setups of a NIC-less bridge run back to back (each waits for the
    // engine's confirmation, polled as the engine does), alternating to share the machine's noise.
    const quiet: number[] = [];
    const busy: number[] = [];
    for (let round = 0; round < rounds; round++) {
      quiet.push(...(await pingLatencies(client, 400)));
      let running = true;
      const setups = (async () => {
        while (running) await timedSetup(client, { networks: { lab: { bridged: 'true' } }, bondings: {}, options: { connectivityCheck: 'true', connectivityTimeout: 10 } }).then(() =>
          client.call('Host.setupNetworks', { networks: { lab: { remove: 'true' } }, bondings: {}, options: { connectivityCheck: 'false' } }));
      })();
      await sleep(100);
      busy.push(...(await pingLatencies(client, 400)));
      running = false;
      await setups;
    }

    const lines = [
      `network setup bench (${rounds} rounds; host and engine namespaces over a veth pair)`,
      `install request, engine polls every 500 ms: median ${ms(median(withCheck))} (all: ${withCheck.map((x) => x.toFixed(0)).join(', ')})`,
      `install request, no connectivity check (apply only): median ${ms(median(applyOnly))}`,
      `engine cut off, connectivityTimeout ${timeout} s: answer (10) after median ${ms(median(cutOff))}, rollback ${ms(median(cutOff) - timeout * 1000)} past the timeout`,
      `Host.ping2 without a setup: p50 ${ms(median(quiet))}, p99 ${ms(percentile(quiet, 0.99))}`,
      `Host.ping2 during setups:   p50 ${ms(median(busy))}, p99 ${ms(percentile(busy, 0.99))}`,
      `ratio p50 during/without: ${(median(busy) / median(quiet)).toFixed(2)}x (goal <= 2x)`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
    await client.close();
  } finally {
    daemon.child.kill('SIGKILL');
    helper.child.kill('SIGKILL');
    for (const relay of relays) relay.kill();
    await world.destroy();
  }
}

await main();
