/**
 * Capped exponential backoff with jitter: `base`, 2×base, 4×base … up to `max`, each delay drawn from
 * [0.75, 1] of its step so that agents refused together do not come back in step. Never above `max`.
 */
export class Backoff {
  private failures = 0;

  constructor(
    private readonly baseMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  /** Failed attempts since the last reset. */
  get attempts(): number {
    return this.failures;
  }

  /** The delay before the next attempt, counting one more failure. */
  next(): number {
    this.failures++;
    const step = Math.min(this.maxMs, this.baseMs * 2 ** Math.min(this.failures - 1, 30));
    return Math.round(step * (0.75 + 0.25 * this.random()));
  }

  reset(): void {
    this.failures = 0;
  }
}
