/**
 * Hot swap on promotion: the running agent watches the model store's
 * `current.json` (fs.watchFile, polled once a second: it works across
 * processes, needs no extra request, and sees `hubnlu models promote` and
 * `rollback` from any shell). When the live version named there changes, the
 * agent reloads its models through the model slot: inputs already being
 * analysed finish on the old model, every later input uses the new one.
 * Reloads never overlap; a failed load keeps the old models and is logged.
 */
import { unwatchFile, watchFile } from 'node:fs';
import type { Logger } from '../util/logger.js';
import type { ModelStore } from './model-store.js';
import type { TaskName } from '../model/tasks.js';

export class ModelPointerWatch {
  private loaded: string | undefined;
  private chain: Promise<void> = Promise.resolve();
  private watching = false;

  constructor(
    private readonly store: ModelStore,
    private readonly task: TaskName,
    /** Reloads the live models (the agent's `reload_models`). */
    private readonly reload: () => Promise<unknown>,
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** Remembers the version loaded now and starts watching. */
  start(): void {
    this.loaded = this.version();
    this.watching = true;
    watchFile(this.store.pointerFile(this.task), { interval: this.intervalMs, persistent: false }, () => void this.check());
  }

  private version(): string | undefined {
    try {
      return this.store.pointer(this.task).version;
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'cannot read the model pointer');
      return undefined;
    }
  }

  /** Reloads when the pointer names another version than the one loaded; resolves when done. */
  check(): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (!this.watching) return;
      const v = this.version();
      if (v === undefined || v === this.loaded) return;
      try {
        await this.reload();
        this.log.info({ task: this.task, from: this.loaded, to: v }, 'promoted model is live');
        this.loaded = v;
      } catch (err) {
        this.log.error({ task: this.task, version: v, err: (err as Error).message }, 'cannot load the promoted model; the previous one stays live');
        this.loaded = v; // do not retry a broken version every second; the next promote or rollback is tried again
      }
    });
    return this.chain;
  }

  stop(): void {
    this.watching = false;
    unwatchFile(this.store.pointerFile(this.task));
  }
}
