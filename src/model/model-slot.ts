/**
 * The live models, swappable while inputs flow (issue 8 `reload_models`; issue 9's
 * learning loop reuses it).
 *
 * Each analysis leases the models current when it starts and gives them back when
 * it ends. `swap()` makes new models current at once: an analysis already running
 * finishes on the old ones, every later one uses the new ones, and the old ones
 * are closed when their last lease ends. The unknown threshold belongs to the
 * models (it was chosen for them), so it travels with them.
 */
import type { Analysis, AnalyzeOptions, Analyzer, ModelRef, TaskName } from './types.js';

/** A loaded set of models as the slot holds it (ModelRegistry satisfies this). */
export interface SlotModels extends Analyzer {
  close(): Promise<void>;
}

export interface ModelLease {
  readonly models: SlotModels;
  /** The threshold that goes with these models. */
  readonly unknownThreshold: number;
  /** Which swap generation these models are (1 for the models loaded at start). */
  readonly generation: number;
  release(): void;
}

interface Entry {
  readonly models: SlotModels;
  readonly generation: number;
  leases: number;
  retired: boolean;
  closed?: Promise<void>;
}

export class ModelSlot implements Analyzer {
  private current: Entry;
  private readonly retiring = new Set<Entry>();

  /** `fallbackThreshold` applies to models that do not name their own (`models.unknownThreshold` absent and no manifest value). */
  constructor(models: SlotModels, private readonly fallbackThreshold = 0.5) {
    this.current = { models, generation: 1, leases: 0, retired: false };
  }

  get generation(): number {
    return this.current.generation;
  }

  get unknownThreshold(): number {
    return this.current.models.unknownThreshold ?? this.fallbackThreshold;
  }

  /** Takes the current models for one unit of work; call `release()` exactly once. */
  acquire(): ModelLease {
    const entry = this.current;
    entry.leases++;
    let released = false;
    return {
      models: entry.models,
      unknownThreshold: entry.models.unknownThreshold ?? this.fallbackThreshold,
      generation: entry.generation,
      release: () => {
        if (released) return;
        released = true;
        entry.leases--;
        if (entry.retired && entry.leases === 0) this.dispose(entry);
      },
    };
  }

  /** Analyses on the current models, holding them until the answer is back. */
  async analyze(text: string, tasks: readonly TaskName[], options?: AnalyzeOptions): Promise<Analysis> {
    const lease = this.acquire();
    try {
      return await lease.models.analyze(text, tasks, options);
    } finally {
      lease.release();
    }
  }

  loadedModels(): readonly ModelRef[] {
    return this.current.models.loadedModels();
  }

  labels(task: TaskName): readonly string[] {
    return this.current.models.labels(task);
  }

  /**
   * Makes `models` current. Resolves once the replaced models are closed, i.e.
   * after the work that held them has finished (new work does not wait for that).
   */
  swap(models: SlotModels): Promise<void> {
    const old = this.current;
    this.current = { models, generation: old.generation + 1, leases: 0, retired: false };
    old.retired = true;
    this.retiring.add(old);
    if (old.leases === 0) this.dispose(old);
    return this.closedPromise(old);
  }

  /** Closes the current models and any still retiring (waits for their leases). */
  async close(): Promise<void> {
    const entries = [...this.retiring];
    if (!this.current.retired) {
      this.current.retired = true;
      entries.push(this.current);
      if (this.current.leases === 0) this.dispose(this.current);
    }
    await Promise.all(entries.map((e) => this.closedPromise(e)));
  }

  private dispose(entry: Entry): void {
    entry.closed ??= entry.models.close().catch(() => undefined).finally(() => {
      this.retiring.delete(entry);
      const waiters = this.waiters.get(entry) ?? [];
      this.waiters.delete(entry);
      waiters.forEach((w) => w());
    });
  }

  private readonly waiters = new Map<Entry, Array<() => void>>();

  private closedPromise(entry: Entry): Promise<void> {
    if (entry.closed) return entry.closed.then(
      () => undefined,
      () => undefined,
    );
    return new Promise((resolve) => {
      const list = this.waiters.get(entry) ?? [];
      list.push(resolve);
      this.waiters.set(entry, list);
    });
  }
}
