/**
 * A build whose concurrent callers share one run: a call made while a run is in progress gets
 * that run's promise; the next call after it settles (fulfilled or not) starts a new one.
 */
export function sharedWhileRunning<T>(build: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | undefined;
  return () => {
    running ??= build().finally(() => {
      running = undefined;
    });
    return running;
  };
}
