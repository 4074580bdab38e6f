/**
 * Worker tasks (contract: src/tasks/host-sample.ts): one host sample from /proc, /sys and statvfs. It runs in a worker because statvfs on
 * a dead NFS mount, or a read of a hung /proc entry, can block for minutes.
 */
import { readdirSync, readFileSync, statfsSync } from 'node:fs';
import { parseLoadavg, parseMeminfo, parseNetDev, parsePidStat, parseProcStat, selectedChoice } from '../src/virt/host/proc.js';
import type { HostSampleTasks } from '../src/tasks/host-sample.js';
import type { HostFacts, HostResourceSample, NicSample } from '../src/virt/host/sample.js';

const read = (path: string): string => readFileSync(path, 'utf8');

function readOr(path: string, fallback: string): string {
  try {
    return read(path);
  } catch {
    return fallback;
  }
}

function nics(): Record<string, NicSample> {
  const out: Record<string, NicSample> = {};
  const counters = parseNetDev(read('/proc/net/dev'));
  for (const name of readdirSync('/sys/class/net')) {
    const c = counters[name];
    if (!c || name === 'lo') continue;
    const speed = Number(readOr(`/sys/class/net/${name}/speed`, '0'));
    out[name] = {
      ...c,
      state: readOr(`/sys/class/net/${name}/operstate`, 'down').trim() === 'up' ? 'up' : 'down',
      speed: Number.isFinite(speed) && speed > 0 ? speed : 0,
      duplex: readOr(`/sys/class/net/${name}/duplex`, 'unknown').trim(),
    };
  }
  return out;
}

function diskSpace(paths: readonly string[]): HostResourceSample['disks'] {
  const out: HostResourceSample['disks'] = {};
  const MiB = 1024 * 1024;
  for (const path of paths) {
    try {
      const s = statfsSync(path);
      out[path] = { freeMiB: Math.floor((s.bavail * s.bsize) / MiB), totalMiB: Math.floor((s.blocks * s.bsize) / MiB) };
    } catch {
      // A missing path is simply not reported, as vdsm does.
    }
  }
  return out;
}

function self(): HostResourceSample['self'] {
  const { utime, stime } = parsePidStat(read('/proc/self/stat'));
  const status = parseMeminfo(read('/proc/self/status'));
  const threads = Number(/^Threads:\s+(\d+)/m.exec(read('/proc/self/status'))?.[1] ?? 0);
  return { utime, stime, threads, rssKiB: status['VmRSS'] ?? 0 };
}

export function hostSample(args: { statvfsPaths: string[] }): HostResourceSample {
  const stat = parseProcStat(read('/proc/stat'));
  return {
    time: Date.now() / 1000,
    cpu: stat.total,
    perCpu: stat.perCpu,
    bootTime: stat.bootTime,
    meminfo: parseMeminfo(read('/proc/meminfo')),
    loadavg: parseLoadavg(read('/proc/loadavg')),
    nics: nics(),
    disks: diskSpace(args.statvfsPaths),
    thpState: selectedChoice(readOr('/sys/kernel/mm/transparent_hugepage/enabled', 'never')),
    self: self(),
  };
}

/** Facts about the host that do not change while the daemon runs (Host.getCapabilities). */
export function hostFacts(): HostFacts {
  const osRelease: Record<string, string> = {};
  for (const line of readOr('/etc/os-release', '').split('\n')) {
    const m = /^([A-Z_]+)=(.*)$/.exec(line);
    if (m) osRelease[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const field = (name: string): string => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? '';
  const hostUuid = (readOr('/sys/class/dmi/id/product_uuid', '') || readOr('/etc/machine-id', '')).trim();
  return {
    osRelease,
    cpuModel: field('model name'),
    cpuFlags: field('flags').split(/\s+/).filter(Boolean),
    hostUuid,
    kernel: readOr('/proc/sys/kernel/osrelease', '').trim(),
  };
}

// The compiler checks these exports against the contract the main thread calls through.
({ hostSample, hostFacts }) satisfies HostSampleTasks;
