/**
 * The nightly retrain (learning.retrain.schedule, util/cron.ts): retrains from
 * the log's labels (and learning.templates / learning.data), compares, stores
 * the candidate, promotes it only when learning.retrain.promote is
 * `if-better` and the checks pass (significantly better on the held-out
 * household labels, public dev set not down by more than learning.maxDevDrop),
 * and reports: one log line and one message on `<base>/bridge/event/retrain`.
 * Never two runs at once; training runs in a child process.
 */
import { scheduleCron, type CronTask } from '../util/cron.js';
import type { Config } from '../config/schema.js';
import type { Db } from '../store/database.js';
import type { Logger } from '../util/logger.js';
import type { LearnReport } from './learning-loop.js';
import type { ModelStore } from './model-store.js';

export interface RetrainEvent {
  readonly ok: boolean;
  readonly at: string;
  readonly version?: string;
  readonly base?: string;
  readonly promoted?: boolean;
  readonly heldOut?: { readonly n: number; readonly base: number; readonly candidate: number; readonly p: number; readonly significant: boolean } | null;
  readonly dev?: Readonly<Record<string, { readonly base: number; readonly candidate: number; readonly drop: number }>>;
  readonly reasons?: readonly string[];
  readonly warnings?: readonly string[];
  readonly error?: string;
}

export function retrainEvent(r: LearnReport): RetrainEvent {
  const h = r.outcome.heldOut;
  return {
    ok: true,
    at: new Date().toISOString(),
    version: r.stored.version,
    base: r.base,
    promoted: r.promoted,
    heldOut: h ? { n: h.n, base: h.base, candidate: h.candidate, p: h.comparison.mcnemar.p, significant: h.comparison.bBetter } : null,
    dev: Object.fromEntries(Object.entries(r.outcome.dev).map(([k, d]) => [k, { base: d.base, candidate: d.candidate, drop: d.drop }])),
    reasons: r.outcome.checks.reasons,
    warnings: r.warnings,
  };
}

export class RetrainSchedule {
  private task?: CronTask;
  private running?: Promise<RetrainEvent>;

  constructor(
    private readonly config: Config,
    private readonly store: ModelStore,
    private readonly db: Db,
    private readonly log: Logger,
    /** Told of every run's result (the agent publishes it and hot-swaps a promoted model). */
    private readonly report: (e: RetrainEvent) => Promise<void> | void,
  ) {}

  start(): void {
    const schedule = this.config.learning.retrain.schedule;
    if (!schedule) return;
    this.task = scheduleCron(schedule, () => void this.runOnce());
  }

  /** One run (also what a test or a future bridge request calls); a second call while one runs gets the same run. */
  runOnce(): Promise<RetrainEvent> {
    if (this.running) return this.running;
    this.log.info('retraining from the household\'s labels');
    // The learning loop (trainers, datasets) is loaded when a retrain runs, not at every agent start (issue 10's cold start).
    this.running = import('./learning-loop.js')
      .then(({ learn }) => learn({ config: this.config, store: this.store, db: this.db, promote: this.config.learning.retrain.promote, progress: (line) => this.log.debug({ line }, 'retrain') }))
      .then(
        (r) => {
          const e = retrainEvent(r);
          this.log.info(e, r.promoted ? `retrained: ${r.stored.version} promoted` : `retrained: ${r.stored.version} stored, not promoted${r.notPromoted ? ' (the live model changed while it trained)' : ''}`);
          return e;
        },
        (err: Error): RetrainEvent => {
          this.log.warn({ err: err.message }, 'retraining failed; the live model is unchanged');
          return { ok: false, at: new Date().toISOString(), error: err.message };
        },
      )
      .then(async (e) => {
        try {
          await this.report(e);
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'cannot report the retrain result');
        }
        return e;
      })
      .finally(() => {
        this.running = undefined;
      });
    return this.running;
  }

  async stop(): Promise<void> {
    this.task?.stop();
    this.task = undefined;
    // A run in progress is not waited for: its child process ends when this process does (IPC disconnect),
    // and what it staged is a hidden `.staging-*` directory that no listing shows.
  }
}
