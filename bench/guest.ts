/**
 * Guest channel benchmark: 1000 fake guests, each sending a heartbeat every 5 s and, every 120 s,
 * what OGA 1.0.16 sends then (applications, network interfaces, host name, OS version, FQDN),
 * with time accelerated. Three processes: this one drives; `guests` binds the 1000 sockets and
 * plays the agents; `listener` holds a VM registry of 1000 running VMs and the GuestListener.
 * The listener process is measured idle (registry loaded, no listener) for a baseline, then with
 * every channel connected under load. Reported: its CPU share of one core (as measured under
 * acceleration, and scaled back to real rates) and its RSS growth over the idle baseline.
 * Goal: under 5 % of one core at real rates, RSS growth under 50 MB.
 *
 *   npm run bench:guest   (env: BENCH_GUESTS=1000, BENCH_SPEEDUP=10, BENCH_SECONDS=20)
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setLogLevel } from '../src/log.js';
import { FakeGuest } from '../test/doubles/fake-guest.js';
import { GuestData } from '../src/virt/guest/guest-data.js';
import { GuestListener } from '../src/virt/guest/listener.js';
import { VmRegistry } from '../src/virt/registry.js';

const GUESTS = Number(process.env['BENCH_GUESTS'] ?? 1000);
const SPEEDUP = Number(process.env['BENCH_SPEEDUP'] ?? 10);
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 20);
const IDLE_SECONDS = 5;
const HEARTBEAT = 5;
const INFO = 120;

type Msg = { type: string; [key: string]: unknown };

const socketPath = (dir: string, i: number): string => join(dir, `${i}.ovirt-guest-agent.0`);
const uuid = (i: number): string => `6e0f1c2a-7b3d-4c5e-8f90-${i.toString(16).padStart(12, '0')}`;

function send(msg: Msg): void {
  process.send!(msg);
}

function onMessage(child: ChildProcess | NodeJS.Process, type: string): Promise<Msg> {
  return new Promise((resolve) => {
    const handler = (msg: Msg): void => {
      if (msg.type !== type) return;
      child.off('message', handler);
      resolve(msg);
    };
    child.on('message', handler);
  });
}

// --- the guests' process ---------------------------------------------------------------------

const APPS = Array.from({ length: 120 }, (_, i) => `package-${i}-1.${i}.${i % 7}-3.el7.x86_64`);

async function runGuests(dir: string): Promise<void> {
  const guests = Array.from({ length: GUESTS }, (_, i) => new FakeGuest(socketPath(dir, i)));
  await Promise.all(guests.map((g) => g.listen()));
  send({ type: 'listening' });
  await onMessage(process, 'load');
  // One timer; each guest's turn comes round once per (accelerated) heartbeat period, spread out.
  const heartbeatMs = (HEARTBEAT * 1000) / SPEEDUP;
  const infoEvery = INFO / HEARTBEAT;
  const slot = 20;
  const perSlot = Math.ceil(GUESTS / (heartbeatMs / slot));
  let next = 0;
  let round = 0;
  const timer = setInterval(() => {
    for (let k = 0; k < perSlot; k++) {
      const i = next;
      const g = guests[i]!;
      g.heartbeat(String(256 + (i % 512)), 3);
      if ((round + i) % infoEvery === 0) {
        g.send('applications', { applications: APPS });
        g.send('network-interfaces', { interfaces: [{ name: 'eth0', hw: '52:54:00:00:00:01', inet: [`10.0.${i >> 8}.${i & 255}`], inet6: ['fe80::1'] }] });
        g.send('host-name', { name: `guest-${i}` });
        g.send('os-version', { version: '3.10.0-1160.el7.x86_64' });
        g.send('fqdn', { fqdn: `guest-${i}.example.com` });
      }
      next = (next + 1) % GUESTS;
      if (next === 0) round++;
    }
  }, slot);
  await onMessage(process, 'stop');
  clearInterval(timer);
  await Promise.all(guests.map((g) => g.close()));
  process.exit(0);
}

// --- the listener's process ------------------------------------------------------------------

function usage(): { cpuMs: number; rss: number; heap: number } {
  const cpu = process.cpuUsage();
  const mem = process.memoryUsage();
  return { cpuMs: (cpu.user + cpu.system) / 1000, rss: mem.rss, heap: mem.heapUsed };
}

async function runListener(dir: string): Promise<void> {
  setLogLevel('warn');
  const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => 1, monotonic: () => performance.now() / 1000 });
  for (let i = 0; i < GUESTS; i++) {
    const vm = registry.add(uuid(i), `vm-${i}`, 'Powering up');
    vm.memoryKiB = 1024 * 1024;
    vm.devices = { disks: [], nics: [], channels: [{ target: 'ovirt-guest-agent.0', path: socketPath(dir, i) }, { target: 'org.qemu.guest_agent.0', path: `${socketPath(dir, i)}.qga` }] };
  }
  const listener = new GuestListener({ vms: registry, data: new GuestData(registry), channelsDir: dir, staleAfter: 30 });
  process.on('message', (msg: Msg) => {
    switch (msg.type) {
      case 'usage':
        send({ type: 'usage', ...usage() });
        break;
      case 'start':
        void listener.start().then(async () => {
          const connected = (): number => [...registry.all()].filter((vm) => listener.channel(vm.id)?.state === 'connected').length;
          while (connected() < GUESTS) await new Promise((r) => setTimeout(r, 100));
          send({ type: 'connected' });
        });
        break;
      case 'check': {
        const vms = [...registry.all()];
        send({ type: 'check', up: vms.filter((vm) => vm.status === 'Up').length, withApps: vms.filter((vm) => (vm.guest['appsList'] as unknown[] | undefined)?.length).length });
        break;
      }
      case 'stop':
        listener.stop();
        process.exit(0);
    }
  });
  send({ type: 'ready' });
}

// --- the driver ------------------------------------------------------------------------------

async function measure(child: ChildProcess, seconds: number): Promise<{ share: number; rss: number; heap: number }> {
  child.send({ type: 'usage' });
  const a = (await onMessage(child, 'usage')) as unknown as ReturnType<typeof usage>;
  const t0 = performance.now();
  await new Promise((r) => setTimeout(r, seconds * 1000));
  child.send({ type: 'usage' });
  const b = (await onMessage(child, 'usage')) as unknown as ReturnType<typeof usage>;
  const wall = performance.now() - t0;
  return { share: (b.cpuMs - a.cpuMs) / wall, rss: b.rss, heap: b.heap };
}

async function drive(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hv-bench-guest-'));
  const self = fileURLToPath(import.meta.url);
  const guests = fork(self, ['guests', dir], { stdio: 'inherit' });
  const listener = fork(self, ['listener', dir], { stdio: 'inherit', execArgv: ['--expose-gc'] });
  try {
    await Promise.all([onMessage(guests, 'listening'), onMessage(listener, 'ready')]);
    console.log(`${GUESTS} fake guests listening; measuring the idle listener process for ${IDLE_SECONDS} s`);
    await new Promise((r) => setTimeout(r, 1000));
    const idle = await measure(listener, IDLE_SECONDS);
    const t0 = performance.now();
    listener.send({ type: 'start' });
    await onMessage(listener, 'connected');
    console.log(`all ${GUESTS} channels connected in ${((performance.now() - t0) / 1000).toFixed(2)} s; load at ${SPEEDUP}x for ${SECONDS} s`);
    guests.send({ type: 'load' });
    await new Promise((r) => setTimeout(r, ((INFO / SPEEDUP) * 1000) / 4)); // warm up: a quarter of the info period
    const load = await measure(listener, SECONDS);
    listener.send({ type: 'check' });
    const check = await onMessage(listener, 'check');
    const heartbeatsPerSecond = (GUESTS / HEARTBEAT) * SPEEDUP;
    const extra = Math.max(0, load.share - idle.share);
    const result = {
      guests: GUESTS,
      speedup: SPEEDUP,
      heartbeatsPerSecond,
      idleCpuPercent: +(idle.share * 100).toFixed(2),
      loadCpuPercent: +(load.share * 100).toFixed(2),
      realRateCpuPercent: +((idle.share + extra / SPEEDUP) * 100).toFixed(2),
      idleRssMB: +(idle.rss / 2 ** 20).toFixed(1),
      loadRssMB: +(load.rss / 2 ** 20).toFixed(1),
      rssGrowthMB: +((load.rss - idle.rss) / 2 ** 20).toFixed(1),
      heapGrowthMB: +((load.heap - idle.heap) / 2 ** 20).toFixed(1),
      vmsUp: check['up'],
      vmsWithApps: check['withApps'],
    };
    console.log(JSON.stringify(result, null, 2));
    const cpuOk = result.realRateCpuPercent < 5;
    const rssOk = result.rssGrowthMB < 50;
    console.log(`goal: CPU < 5 % of one core at real rates: ${cpuOk ? 'met' : 'MISSED'}; RSS growth < 50 MB: ${rssOk ? 'met' : 'MISSED'}`);
  } finally {
    guests.send({ type: 'stop' });
    listener.send({ type: 'stop' });
    await new Promise((r) => setTimeout(r, 500));
    rmSync(dir, { recursive: true, force: true });
  }
}

const [role, dir] = process.argv.slice(2);
if (role === 'guests') await runGuests(dir!);
else if (role === 'listener') await runListener(dir!);
else await drive();
