/**
 * Retries `fn` until it succeeds or `shouldStop()` says so, backing off from 50 ms to `maxDelayMs`.
 * An error marked `fatal: true` (store/failure.ts: a corrupt, read-only or deleted database) cannot
 * succeed on retry and is thrown at once.
 */
export async function retryUntilDone<T>(
  fn: () => T,
  opts: { shouldStop: () => boolean; onError: (err: Error, attempt: number) => void; maxDelayMs?: number },
): Promise<T> {
  let delay = 50;
  for (let attempt = 1; ; attempt++) {
    try {
      return fn();
    } catch (err) {
      if ((err as { fatal?: unknown }).fatal === true) throw err;
      opts.onError(err as Error, attempt);
      if (opts.shouldStop()) throw err;
      await new Promise((resolve) => setTimeout(resolve, delay));
      delay = Math.min(delay * 2, opts.maxDelayMs ?? 2000);
    }
  }
}
