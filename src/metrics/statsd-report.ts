/**
 * Packing one report into statsd datagrams: `name:value|g` lines joined with newlines, each
 * datagram at most max_datagram bytes of UTF-8 (lines are ASCII but for the names' non-ASCII
 * characters, which statsdName counts). A report may be packed in slices as its batch grows; the
 * datagram being filled waits across slices, so slicing adds no datagrams.
 */
import type { StatsD } from 'hot-shots';
import type { MetricBatch } from './batch.js';
import type { Family } from './family.js';
import { statsdName } from './family.js';

export interface StatsdCounters {
  /** Reports that sent something. */
  reports: number;
  /** Lines (gauges) sent. */
  lines: number;
  /** Datagrams the packing produced. */
  datagrams: number;
  /** Reports dropped because the collector's address was not known. */
  dropped: number;
  /** Send and resolution errors. */
  errors: number;
}

/** hot-shots' message path (send: tags, then its buffer; flushQueue: the datagram out), untyped. */
export interface RawClient {
  send(message: string): void;
  flushQueue(): void;
}

export function raw(client: StatsD): RawClient {
  const c = client as unknown as Partial<RawClient>;
  if (typeof c.send !== 'function' || typeof c.flushQueue !== 'function') {
    throw new Error('hot-shots has no send/flushQueue: the statsd sink needs updating for this hot-shots version');
  }
  return c as RawClient;
}

export class StatsdReport {
  private datagram = '';
  private bytes = 0;
  private lines = 0;
  private datagrams = 0;
  /** Samples of each family already packed. */
  private readonly packed = new Map<Family, number>();
  private readonly prefixExtra: number;
  private readonly name = { extra: 0 };

  constructor(
    private readonly client: RawClient,
    private readonly prefix: string,
    private readonly max: number,
    private readonly counters: StatsdCounters,
  ) {
    this.prefixExtra = Buffer.byteLength(prefix) - prefix.length;
  }

  /** Packs the samples of `batch` not packed yet; full datagrams go out now. */
  pack(batch: MetricBatch): void {
    const name = this.name;
    for (const [f, samples] of batch.families) {
      const { labels, values } = samples;
      for (let i = this.packed.get(f) ?? 0; i < values.length; i++) {
        name.extra = this.prefixExtra;
        const key = this.prefix + statsdName(f, labels[i]!, name);
        const value = values[i]!;
        // statsd reads a leading sign as a delta: a negative gauge is a reset, then the delta.
        if (value < 0) this.put(key + ':0|g', name.extra);
        this.put(key + ':' + value + '|g', name.extra);
      }
      this.packed.set(f, values.length);
    }
  }

  /** Sends the last datagram and counts the report. */
  end(): void {
    if (this.bytes > 0) this.transmit();
    if (this.lines > 0) this.counters.reports++;
    this.counters.lines += this.lines;
    this.counters.datagrams += this.datagrams;
    this.lines = 0;
    this.datagrams = 0;
  }

  private put(line: string, extra: number): void {
    const n = line.length + extra;
    if (this.bytes > 0 && this.bytes + 1 + n > this.max) this.transmit();
    if (this.bytes === 0) {
      this.datagram = line;
      this.bytes = n;
    } else {
      this.datagram += '\n' + line;
      this.bytes += 1 + n;
    }
    this.lines++;
  }

  /** One datagram through hot-shots: into its (empty) buffer, then out at once. */
  private transmit(): void {
    this.client.send(this.datagram);
    this.client.flushQueue();
    this.datagrams++;
    this.datagram = '';
    this.bytes = 0;
  }
}
