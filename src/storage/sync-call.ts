/**
 * @module storage/sync-call
 * Adapters over synchronous drivers still honour the async port: a throw becomes a rejected
 * promise, never an exception out of a call that promised a promise.
 */
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
