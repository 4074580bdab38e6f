/**
 * One sample of the host's resources as the kernel reports them (/proc, statvfs): CPU, memory, NICs,
 * disks, load and the daemon's own use. Plain data, made in a worker, kept in the host window on the
 * main thread. Not the libvirt node facts (workers/libvirt.ts hostInfo).
 */
import type { CpuTimes, NetCounters } from './proc.js';

export interface NicSample extends NetCounters {
  state: 'up' | 'down';
  /** Mbit/s, 0 when unknown. */
  speed: number;
  duplex: string;
}

export interface HostResourceSample {
  /** Seconds since the epoch when the sample was taken. */
  time: number;
  cpu: CpuTimes;
  perCpu: Record<string, CpuTimes>;
  bootTime: number;
  /** /proc/meminfo, kB. */
  meminfo: Record<string, number>;
  loadavg: [number, number, number];
  nics: Record<string, NicSample>;
  /** Free and total MiB per configured path; a path that failed is left out. */
  disks: Record<string, { freeMiB: number; totalMiB: number }>;
  thpState: string;
  /** The daemon's own CPU use, in clock ticks, and its threads and RSS. */
  self: { utime: number; stime: number; threads: number; rssKiB: number };
}

/** Facts about the host that do not change while the daemon runs (Host.getCapabilities). */
export interface HostFacts {
  osRelease: Record<string, string>;
  cpuModel: string;
  cpuFlags: string[];
  hostUuid: string;
  kernel: string;
}
