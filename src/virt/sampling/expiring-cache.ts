/**
 * A map whose entries expire `ttl` seconds after they were set (vdsm's ExpiringCache); an entry is
 * already expired at exactly insert + ttl. Expired keys are purged when touched.
 */
export class ExpiringCache<K, V> {
  private readonly entries = new Map<K, { value: V; expires: number }>();

  constructor(
    readonly ttl: number,
    private readonly clock: () => number = () => performance.now() / 1000,
  ) {}

  set(key: K, value: V): void {
    this.entries.set(key, { value, expires: this.clock() + this.ttl });
  }

  get(key: K): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expires <= this.clock()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  has(key: K): boolean {
    return this.get(key) !== undefined;
  }

  delete(key: K): boolean {
    return this.entries.delete(key);
  }

  clear(): void {
    this.entries.clear();
  }

  /** Purges expired entries and says whether any is left (vdsm's bool(cache)). */
  isEmpty(): boolean {
    const now = this.clock();
    for (const [key, entry] of this.entries) if (entry.expires <= now) this.entries.delete(key);
    return this.entries.size === 0;
  }
}
