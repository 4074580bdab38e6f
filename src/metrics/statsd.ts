/**
 * The statsd sink: hot-shots over UDP to [metrics] collector_address, gauges only (vdsm's,
 * docs/protocol.md, "Metrics names"), with these differences from vdsm:
 * - One report goes out packed: lines joined with newlines into datagrams of at most [metrics]
 *   max_datagram bytes (UTF-8 bytes; hot-shots' own buffer counts UTF-16 units), each handed to
 *   hot-shots (maxBufferSize = max_datagram) as one message and flushed at once. A 1000-VM cycle
 *   is some hundreds of datagrams, not one per figure, and nothing waits for a flush timer. The
 *   lines are packed here rather than through hot-shots' gauge(): its per-figure path (argument
 *   juggling and debuglog calls) cost about 1.5 µs a figure, most of a 44k-figure cycle. The
 *   packing is statsd-report.ts; a report can be sent in slices while it is built.
 * - The host name is resolved here, off the send path: first IPv4 as vdsm, else IPv6; again every
 *   `resolveEverySeconds`, and after a failure at most every `retrySeconds`. hot-shots is given the
 *   address, so a dead resolver cannot turn each datagram into a lookup on libuv's thread pool.
 *   While the name does not resolve, reports are dropped and counted.
 * - Send errors (an unreachable collector, a refusing one) are logged at most once a minute; they
 *   never reach the caller. UDP to a collector that is down costs the same as to one that is up.
 * - A negative gauge goes as `name:0|g` then `name:-n|g`: statsd reads a leading sign as a delta.
 */
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { StatsD } from 'hot-shots';
import type { Logger } from '../log.js';
import type { MetricBatch } from './batch.js';
import { ThrottledLog } from '../log-throttle.js';
import { raw, StatsdReport, type RawClient, type StatsdCounters } from './statsd-report.js';

export const STATSD_PORT = 8125;

export interface CollectorAddress {
  host: string;
  port: number;
}

/** `host` (port 8125, as vdsm), `host:port`, `[v6]`, `[v6]:port`, or a bare IPv6 address. */
export function parseCollectorAddress(text: string): CollectorAddress {
  const value = text.trim();
  const bad = (): Error => new Error(`[metrics] collector_address ${JSON.stringify(text)}: expected host or host:port`);
  if (value === '') throw bad();
  let host = value;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(value);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
  } else if (value.indexOf(':') === value.lastIndexOf(':') && value.includes(':')) {
    [host, port] = value.split(':') as [string, string];
  }
  if (host === '' || /\s/.test(host)) throw bad();
  if (port === undefined) return { host, port: STATSD_PORT };
  const n = Number(port);
  if (!/^\d+$/.test(port) || n < 1 || n > 65535) throw bad();
  return { host, port: n };
}

export interface StatsdSinkOptions {
  /** [metrics] collector_address. */
  address: string;
  /** [metrics] prefix; a trailing dot is added when missing. */
  prefix?: string;
  /** [metrics] max_datagram, bytes. */
  maxDatagram: number;
  log: Logger;
  resolveEverySeconds?: number;
  retrySeconds?: number;
  /** Replaces DNS (tests): resolves a host name to an address and its family. */
  resolve?: (host: string) => Promise<{ address: string; family: 4 | 6 }>;
}

export type { StatsdCounters } from './statsd-report.js';

export class StatsdSink {
  private readonly target: CollectorAddress;
  private readonly prefix: string;
  private readonly maxDatagram: number;
  private readonly log: Logger;
  private readonly errorsLog: ThrottledLog;
  private readonly resolveEveryMs: number;
  private readonly retryMs: number;
  private readonly resolveHost: (host: string) => Promise<{ address: string; family: 4 | 6 }>;
  /** The hot-shots client, and its message path the packed datagrams go through. */
  private connection: { client: StatsD; raw: RawClient } | undefined;
  private address: string | undefined;
  private resolvedAt = -Infinity;
  private resolving: Promise<void> | undefined;
  private closed = false;
  readonly counters: StatsdCounters = { reports: 0, lines: 0, datagrams: 0, dropped: 0, errors: 0 };

  constructor(options: StatsdSinkOptions) {
    this.target = parseCollectorAddress(options.address);
    const prefix = options.prefix ?? '';
    this.prefix = prefix === '' || prefix.endsWith('.') ? prefix : `${prefix}.`;
    this.maxDatagram = options.maxDatagram;
    this.log = options.log;
    this.errorsLog = new ThrottledLog(options.log, { period: 60, keyField: null });
    this.resolveEveryMs = (options.resolveEverySeconds ?? 300) * 1000;
    this.retryMs = (options.retrySeconds ?? 30) * 1000;
    this.resolveHost = options.resolve ?? resolveFirst;
    if (isIP(this.target.host) !== 0) this.connect(this.target.host, isIP(this.target.host) === 6 ? 6 : 4);
  }

  get collector(): string {
    return `${this.target.host}:${this.target.port}`;
  }

  /** Resolves the collector's name now (the first time); later resolutions ride on sends. */
  start(): Promise<void> {
    return this.refreshAddress() ?? Promise.resolve();
  }

  /** Sends one report, packed into datagrams. Never throws for network reasons. */
  send(batch: MetricBatch): void {
    if (batch.size === 0) return;
    const report = this.begin();
    report?.pack(batch);
    report?.end();
  }

  /**
   * A report sent while it is built: pack() the batch as it grows (only samples not packed yet
   * go), then end(). Undefined, and the report counted as dropped, while the collector's address
   * is not known.
   */
  begin(): StatsdReport | undefined {
    if (this.closed) return undefined;
    void this.refreshAddress();
    const client = this.connection?.raw;
    if (client === undefined) {
      this.counters.dropped++;
      this.errorsLog.log('errors', 'warn', { collector: this.collector }, 'statsd collector address not known: metrics dropped');
      return undefined;
    }
    return new StatsdReport(client, this.prefix, this.maxDatagram, this.counters);
  }

  /** Flushes what is buffered and closes the socket; bounded, never throws. */
  async close(timeoutMs = 1000): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined) return;
    await closeClient(connection.client, timeoutMs, (err) => this.onError(err));
  }

  private refreshAddress(): Promise<void> | undefined {
    if (this.closed || isIP(this.target.host) !== 0 || this.resolving) return this.resolving;
    const age = performance.now() - this.resolvedAt;
    if (age < (this.address === undefined ? this.retryMs : this.resolveEveryMs)) return undefined;
    this.resolvedAt = performance.now();
    this.resolving = this.resolveHost(this.target.host)
      .then(
        ({ address, family }) => {
          if (this.closed || address === this.address) return;
          if (this.address !== undefined) this.log.info({ collector: this.collector, address }, 'statsd collector address changed');
          const old = this.connection;
          this.connect(address, family);
          if (old) void closeClient(old.client, 1000, (err) => this.onError(err));
        },
        (err: unknown) => this.onError(err),
      )
      .finally(() => {
        this.resolving = undefined;
      });
    return this.resolving;
  }

  private connect(address: string, family: 4 | 6): void {
    this.address = address;
    const client = new StatsD({
      host: address,
      port: this.target.port,
      protocol: 'udp',
      udpSocketOptions: { type: family === 6 ? 'udp6' : 'udp4' },
      // Each packed datagram goes into the buffer alone and out at once; the timer is a fallback.
      maxBufferSize: this.maxDatagram,
      bufferFlushInterval: 1000,
      errorHandler: (err: Error) => this.onError(err),
    });
    this.connection = { client, raw: raw(client) };
  }

  private onError(err: unknown): void {
    this.counters.errors++;
    this.errorsLog.log('errors', 'warn', { collector: this.collector, err }, 'statsd: cannot reach the collector');
  }
}

function closeClient(client: StatsD, timeoutMs: number, onError: (err: unknown) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    try {
      client.close((err) => {
        if (err) onError(err);
        clearTimeout(timer);
        resolve();
      });
    } catch (err) {
      onError(err);
      clearTimeout(timer);
      resolve();
    }
  });
}

/** vdsm resolves for IPv4 only; an IPv6-only name still works here. */
async function resolveFirst(host: string): Promise<{ address: string; family: 4 | 6 }> {
  try {
    const { address } = await lookup(host, { family: 4 });
    return { address, family: 4 };
  } catch {
    const { address } = await lookup(host, { family: 6 });
    return { address, family: 6 };
  }
}
