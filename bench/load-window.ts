/**
 * The timing part of a load generator: a warm-up, the measured window (latencies count only
 * inside it), then the load is asked to stop and every connection gets up to 10 s to finish.
 */
function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

export interface WindowResult {
  /** Requests answered inside the window. */
  requests: number;
  seconds: number;
  p50: number;
  p99: number;
}

export class LoadWindow {
  /** Inside the measured window. */
  measuring = false;
  /** The window is over: connections send no more and close once answered. */
  stopping = false;
  private readonly latencies: number[] = [];

  /** One answered request's latency, in ms; kept only inside the window. */
  record(ms: number): void {
    if (this.measuring) this.latencies.push(ms);
  }

  /** Runs the warm-up and the window, then stops the load and waits for `connections` to end. */
  async run(warmupSeconds: number, seconds: number, connections: Promise<unknown>[]): Promise<WindowResult> {
    await sleep(warmupSeconds * 1000);
    this.measuring = true;
    const t0 = performance.now();
    await sleep(seconds * 1000);
    this.measuring = false;
    const elapsed = (performance.now() - t0) / 1000;
    this.stopping = true;
    // What is still outstanding after 10 s is the caller's to count as failed.
    await Promise.race([Promise.all(connections), sleep(10_000)]);
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      requests: sorted.length,
      seconds: elapsed,
      p50: sorted[Math.floor(sorted.length * 0.5)] ?? NaN,
      p99: sorted[Math.floor(sorted.length * 0.99)] ?? NaN,
    };
  }
}
