/**
 * Polls `probe` until it returns something other than undefined; a probe that throws is retried,
 * and its last error is part of the timeout's message, with what `context` adds.
 */
export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  ms: number,
  options: { every?: number; context?: () => string; fatal?: (err: unknown) => boolean } = {},
): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      if (options.fatal?.(err)) throw err;
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${ms} ms${last ? ` (last error: ${String(last)})` : ''}${options.context ? `; ${options.context()}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, options.every ?? 250));
  }
}
