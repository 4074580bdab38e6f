/**
 * Metrics benchmark: what one VM sampling cycle's metrics cost on a 1000-VM host (2 disks and
 * 1 NIC each, the figures of a bulk-stats sample), in the same run:
 *
 *   off       no metrics hook: the baseline (sending nothing)
 *   build     the hook with no statsd sink: VM stats elements, the batch, the Prometheus update
 *   statsd    the hook sending to a UDP collector: build + packing + the datagrams' send callbacks
 *
 * For each: main-thread milliseconds per cycle (the hook's own busy time, its slices summed; the
 * event loop's active time over the cycle and everything it left queued, from
 * eventLoopUtilization; the longest the loop was held at once, from monitorEventLoopDelay), lines and
 * datagrams per cycle (counted by the sink and by the receiver, which runs in a worker thread so
 * it costs the main thread nothing). Also a GET /metrics scrape of those 1000 VMs. Medians.
 *
 *   npm run bench:metrics   (env: BENCH_CYCLES=15, BENCH_VMS=1000, BENCH_DATAGRAM=1432)
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { pino } from 'pino';
import { MetricsHub } from '../src/metrics/hub.js';
import { PrometheusExport } from '../src/metrics/prometheus.js';
import { SamplingReporter } from '../src/metrics/sampling-reporter.js';
import { StatsdSink } from '../src/metrics/statsd.js';
import { VmRegistry } from '../src/virt/registry.js';
import { StatsCache } from '../src/virt/sampling/stats-cache.js';
import type { VmSample } from '../src/virt/sampling/vm-sample.js';
import { vmStats } from '../src/virt/vm-stats.js';
import type { Vm } from '../src/virt/vm.js';

const CYCLES = Number(process.env['BENCH_CYCLES'] ?? 15);
const VMS = Number(process.env['BENCH_VMS'] ?? 1000);
const DATAGRAM = Number(process.env['BENCH_DATAGRAM'] ?? 1432);
const log = pino({ level: 'warn' });

/** A UDP receiver in a worker thread: counts datagrams and lines until asked. */
const RECEIVER = `
const { parentPort } = require('node:worker_threads');
const dgram = require('node:dgram');
const socket = dgram.createSocket('udp4');
let datagrams = 0, lines = 0, bytes = 0;
socket.on('message', (m) => { datagrams++; bytes += m.length; for (const b of m) if (b === 10) lines++; lines++; });
socket.bind(0, '127.0.0.1', () => {
  socket.setRecvBufferSize(32 * 1024 * 1024);
  parentPort.postMessage({ port: socket.address().port });
});
parentPort.on('message', (cmd) => {
  if (cmd === 'count') { parentPort.postMessage({ datagrams, lines, bytes }); datagrams = lines = bytes = 0; }
  if (cmd === 'close') socket.close(() => process.exit(0));
});
`;

interface Counts {
  datagrams: number;
  lines: number;
  bytes: number;
}

function startReceiver(): Promise<{ worker: Worker; port: number; count(): Promise<Counts> }> {
  const worker = new Worker(RECEIVER, { eval: true });
  return new Promise((resolve) => {
    worker.once('message', ({ port }: { port: number }) => {
      resolve({
        worker,
        port,
        count: () =>
          new Promise<Counts>((r) => {
            worker.once('message', (c: Counts) => r(c));
            worker.postMessage('count');
          }),
      });
    });
  });
}

/** A sample as the bulk path gives it; `k` moves the counters between the two batches. */
function sample(i: number, k: number): VmSample {
  const disk = (d: number) => ({
    readOps: 1000 * k + i + d,
    readBytes: 4096 * (1000 * k + i),
    readTimeNs: 2e6 * k,
    writeOps: 500 * k + d,
    writeBytes: 8192 * 500 * k,
    writeTimeNs: 3e6 * k,
    flushOps: 10 * k,
    flushTimeNs: 1e5 * k,
    allocation: 1e9 + i,
    capacity: 1e10,
    physical: 1e10,
  });
  return {
    state: 1,
    cpu: { time: 1e10 * k + i * 1e6, user: 1e9 * k, system: 5e8 * k },
    balloon: { current: 1048576, maximum: 1048576, rss: 900000, unused: 300000 + i, available: 1000000, usable: 400000, swapIn: k, swapOut: 0, majorFault: 10 * k, minorFault: 100 * k },
    vcpu: { current: 2, maximum: 2 },
    nics: { [`vnet${i}`]: { rxBytes: 1e6 * k + i, rxPackets: 1000 * k, rxErrors: 0, rxDropped: 1, txBytes: 2e6 * k, txPackets: 900 * k, txErrors: 0, txDropped: 0 } },
    disks: { vda: disk(0), vdb: disk(1) },
  };
}

function buildHost(): { vms: Vm[]; cache: StatsCache<VmSample> } {
  const registry = new VmRegistry({ emit: () => undefined }, { eventTime: () => Date.now(), monotonic: () => performance.now() / 1000 });
  let clock = 100;
  const cache = new StatsCache<VmSample>(log, () => clock);
  for (let i = 0; i < VMS; i++) {
    const uuid = `6e0f1c2a-7b3d-4c5e-8f90-${i.toString(16).padStart(12, '0')}`;
    const vm = registry.add(uuid, `vm-${String(i).padStart(4, '0')}.example.com`, 'Up');
    vm.describe({
      uuid,
      name: vm.name,
      vcpus: 2,
      memoryKiB: 1048576,
      devices: {
        disks: [{ name: 'vda', source: undefined, readonly: false }, { name: 'vdb', source: undefined, readonly: false }],
        nics: [{ name: `vnet${i}`, mac: `52:54:00:00:${((i >> 8) & 0xff).toString(16).padStart(2, '0')}:${(i & 0xff).toString(16).padStart(2, '0')}`, model: 'virtio' }],
        channels: [],
      },
      timeOffset: '0',
      devicesHash: '',
      destroyOnReboot: false,
    });
    cache.add(uuid);
  }
  const vms = [...registry.all()];
  for (const k of [1, 2]) {
    cache.put(new Map(vms.map((vm, i) => [vm.id, sample(i, k)])), clock);
    clock += 15;
  }
  return { vms, cache };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const settle = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Row {
  name: string;
  hookMs: number;
  activeMs: number;
  blockMs: number;
  lines: number;
  datagrams: number;
  received: number;
  bytes: number;
}

async function run(name: string, reporter: SamplingReporter<Vm> | undefined, sink: StatsdSink | undefined, count: () => Promise<Counts>): Promise<Row> {
  const hook: number[] = [];
  const active: number[] = [];
  const block: number[] = [];
  const lines: number[] = [];
  const datagrams: number[] = [];
  const received: number[] = [];
  const bytes: number[] = [];
  for (let c = 0; c < CYCLES + 2; c++) {
    await settle(50);
    await count();
    const before = sink ? { ...sink.counters } : undefined;
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const elu0 = performance.eventLoopUtilization();
    await reporter?.afterVmCycle();
    // Everything the cycle queued (send callbacks) runs within this window.
    await settle(150);
    const elu = performance.eventLoopUtilization(elu0);
    delay.disable();
    const got = await count();
    if (c < 2) continue; // warm-up
    hook.push(reporter?.lastVms?.ms ?? 0);
    active.push(elu.active);
    block.push(Math.max(0, delay.max / 1e6 - 1));
    lines.push(sink && before ? sink.counters.lines - before.lines : 0);
    datagrams.push(sink && before ? sink.counters.datagrams - before.datagrams : 0);
    received.push(got.datagrams);
    bytes.push(got.bytes);
  }
  return { name, hookMs: median(hook), activeMs: median(active), blockMs: median(block), lines: median(lines), datagrams: median(datagrams), received: median(received), bytes: median(bytes) };
}

async function main(): Promise<void> {
  const { vms, cache } = buildHost();
  const receiver = await startReceiver();
  const statsOf = (vm: Vm) => vmStats(vm, cache.get(vm.id), { commandTimeout: 60 });
  const reporterFor = (hub: MetricsHub) => new SamplingReporter<Vm>({ hub, hostStats: () => ({}), vms: () => vms, vmStats: statsOf, log });

  const buildOnly = new MetricsHub({ prometheus: new PrometheusExport(), log });
  const sink = new StatsdSink({ address: `127.0.0.1:${receiver.port}`, maxDatagram: DATAGRAM, log });
  const prometheus = new PrometheusExport();
  const sending = new MetricsHub({ statsd: sink, prometheus, log });

  console.log(`metrics benchmark: ${VMS} VMs (2 disks, 1 NIC each), max_datagram ${DATAGRAM} bytes, ${CYCLES} cycles per case (medians)`);
  const rows: Row[] = [];
  rows.push(await run('off (no hook)', undefined, undefined, receiver.count));
  rows.push(await run('build (no statsd)', reporterFor(buildOnly), undefined, receiver.count));
  rows.push(await run('statsd', reporterFor(sending), sink, receiver.count));

  const base = rows[0]!;
  console.log('');
  console.log('case                 hook ms   main-thread ms   over baseline   longest block ms   lines   datagrams (sent/received)   bytes/datagram');
  for (const r of rows) {
    const perDatagram = r.received > 0 ? Math.round(r.bytes / r.received) : 0;
    console.log(
      `${r.name.padEnd(20)} ${r.hookMs.toFixed(2).padStart(7)}   ${r.activeMs.toFixed(2).padStart(14)}   ${(r.activeMs - base.activeMs).toFixed(2).padStart(13)}   ${r.blockMs.toFixed(1).padStart(16)}   ${String(r.lines).padStart(5)}   ${`${r.datagrams}/${r.received}`.padStart(25)}   ${String(perDatagram).padStart(14)}`,
    );
  }

  // A scrape of the same 1000 VMs from the registry GET /metrics serves.
  const scrape: number[] = [];
  let size = 0;
  for (let i = 0; i < 7; i++) {
    const t0 = performance.now();
    size = (await prometheus.registry.metrics()).length;
    scrape.push(performance.now() - t0);
  }
  console.log('');
  console.log(`GET /metrics body for ${VMS} VMs: ${(size / 1024).toFixed(0)} KiB in ${median(scrape).toFixed(1)} ms`);
  const s = rows[2]!;
  console.log(`statsd: ${s.lines} figures in ${s.datagrams} datagrams per cycle (${(s.lines / Math.max(1, s.datagrams)).toFixed(1)} per datagram); one per figure would be ${s.lines}.`);

  await sending.close();
  receiver.worker.postMessage('close');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
