/**
 * Group commit (issue 10): items added close together are committed in one
 * transaction, and each `add()` resolves with its own outcome only after that
 * transaction has committed, so a caller that acknowledges on resolve never
 * acknowledges an uncommitted item. With `synchronous: full` a batch costs one
 * fsync instead of one per item.
 *
 * A batch is committed when it reaches `maxBatch` items, else `maxWaitMs`
 * after its first item (0: at the end of the event-loop turn that added it,
 * i.e. after every message that arrived in the same read from the socket; a
 * lone message waits for nothing). Batches commit one at a time and in order:
 * while one is being retried (database locked, disk full) the next gathers.
 */
export interface GroupCommitOptions {
  readonly maxBatch: number;
  readonly maxWaitMs: number;
}

interface Waiting<T, R> {
  readonly item: T;
  readonly resolve: (outcome: R) => void;
  readonly reject: (err: unknown) => void;
}

export class GroupCommit<T, R> {
  private waiting: Waiting<T, R>[] = [];
  private timer?: NodeJS.Timeout;
  private immediate?: NodeJS.Immediate;
  private committing = false;

  /** `commit` writes every item in one transaction and resolves with their outcomes, in order, once it has committed. */
  constructor(
    private readonly commit: (items: readonly T[]) => Promise<readonly R[]>,
    private readonly opts: GroupCommitOptions,
  ) {}

  /** Items added and not yet committed. */
  get pending(): number {
    return this.waiting.length;
  }

  add(item: T): Promise<R> {
    return new Promise<R>((resolve, reject) => {
      this.waiting.push({ item, resolve, reject });
      if (this.waiting.length >= this.opts.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /** Commits what is waiting now (stop: before the database closes). */
  flush(): void {
    this.clearTimers();
    if (this.committing || this.waiting.length === 0) return;
    const batch = this.waiting.splice(0, this.opts.maxBatch);
    this.committing = true;
    let result: Promise<readonly R[]>;
    try {
      result = this.commit(batch.map((w) => w.item));
    } catch (err) {
      result = Promise.reject(err);
    }
    result
      .then(
        (outcomes) => batch.forEach((w, i) => w.resolve(outcomes[i])),
        (err: unknown) => batch.forEach((w) => w.reject(err)),
      )
      .finally(() => {
        this.committing = false;
        // What gathered meanwhile goes next, at once: it has waited for this commit already.
        if (this.waiting.length > 0) this.flush();
      });
  }

  private schedule(): void {
    if (this.timer || this.immediate || this.committing) return;
    if (this.opts.maxWaitMs > 0) this.timer = setTimeout(() => this.flush(), this.opts.maxWaitMs);
    else this.immediate = setImmediate(() => this.flush());
  }

  private clearTimers(): void {
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
  }
}
