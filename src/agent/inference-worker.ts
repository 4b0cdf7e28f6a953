/**
 * Runs the models on accepted inputs, off the MQTT packet loop.
 *
 * New inputs come from intake unacknowledged (`answer()`): the worker gathers
 * those that arrive in one event-loop turn, analyses them as a batch, and stores
 * each input with its result and outgoing messages in one transaction; only then
 * is intake told, and the input acknowledged. One write per batch instead of two
 * (issue 10: an input row, then its result), and the pending index is never
 * touched. Inputs a previous run stored as `pending` (`push()`) are answered the
 * same way, their rows updated. A result is never stored without its input and
 * its messages, nor published without being stored; an input the agent dies
 * before storing was never acknowledged, so the broker sends it again. The queue
 * is bounded: intake waits for room (and so stops acknowledging) when it is full.
 */
import type { Logger } from '../util/logger.js';
import type { Analysis, AnalyzeOptions, TaskName } from '../model/types.js';
import type { ModelLease, ModelSlot } from '../model/model-slot.js';
import type { AnalysedInput, FailedInput } from '../extensions/extension.js';
import type { Completion, LogStore, NewInput, OutboxRow, OutgoingMessage, PendingInput, RecordOutcome } from '../store/log-store.js';
import { retryUntilDone } from '../util/retry.js';
import { applyIntentFilter } from './intent-filter.js';
import { responseOf } from './response.js';
import { trace } from './latency-trace.js';

export interface WorkerOptions {
  readonly capacity: number;
  /** Every extension's messages for one answered input (the composition root joins the adapters). */
  readonly outputs: (result: AnalysedInput) => readonly OutgoingMessage[];
  /** Every extension's messages for an input the models failed on. */
  readonly failures: (failure: FailedInput) => readonly OutgoingMessage[];
  /** Called with each result's receipt-to-result latency (health reports). */
  readonly onResult?: (latencyMs: number) => void;
  /** Most inputs analysed together and stored in one transaction (default 32). */
  readonly batchSize?: number;
  /**
   * How long the first new input of a batch waits for more before the batch starts (input.commitWaitMs). 0: until the
   * end of the event-loop turn that brought it (every message of the same read from the socket); a lone input waits
   * for nothing.
   */
  readonly gatherMs?: number;
  /**
   * Asked before each batch's commit: a promise to wait for first (the WAL checkpoint thread is starting the WAL over,
   * store/checkpointer.ts), or undefined to commit at once. The event loop goes on meanwhile; only this batch waits.
   */
  readonly beforeCommit?: () => Promise<void> | undefined;
  /** The `lang` of the route an input topic matches (input.topics[].lang), if it sets one. */
  readonly routeLang?: (topic: string) => string | undefined;
  readonly now?: () => number;
  /**
   * Called after a batch of results is committed and the outbox kicked (the shadow model's queue): never on the way
   * to a result. Its errors are logged, not thrown.
   */
  readonly afterCommit?: (batch: readonly PendingInput[], completions: readonly Completion[]) => void;
}

export interface WorkerStats {
  processed: number;
  failed: number;
}

/** An input intake accepted and has not acknowledged: stored with its result, then `stored` is told. */
interface Unstored {
  readonly row: NewInput;
  readonly redelivered: boolean;
  readonly stored: (outcome: RecordOutcome) => void;
  readonly failed: (err: unknown) => void;
}

interface Queued {
  /** For an unstored input, `seq` is 0 until its transaction assigns one. */
  readonly item: PendingInput;
  readonly unstored?: Unstored;
}

export class InferenceWorker {
  private readonly queue: Queued[] = [];
  private gathering?: NodeJS.Immediate | NodeJS.Timeout;
  private active = 0;
  private running = false;
  private stopped = false;
  /** Set by stop(): a commit that keeps failing is given up after this time (ms since epoch); its inputs stay pending in the database. */
  private giveUpAt = Infinity;
  private roomWaiters: Array<() => void> = [];
  /** Places granted by waitForRoom() whose input is still being stored (group commit stores many at once). */
  private reserved = 0;
  private idleWaiters: Array<() => void> = [];
  readonly stats: WorkerStats = { processed: 0, failed: 0 };

  constructor(
    private readonly store: LogStore,
    private readonly models: ModelSlot,
    /** After each batch's commit, with the outbox rows it wrote (in order). */
    private readonly onCommitted: (queued: readonly OutboxRow[]) => void,
    private readonly log: Logger,
    private readonly opts: WorkerOptions,
  ) {}

  /** Inputs accepted and not yet committed with a result. */
  get inFlight(): number {
    return this.queue.length + this.active;
  }

  hasRoom(): boolean {
    return this.inFlight + this.reserved < this.opts.capacity;
  }

  /**
   * Resolves when the queue has room for one more input, and keeps that place for it: the caller then either
   * `push(item, true)`es it or calls `unreserve()` (a duplicate, a failed write). Inputs waiting for one group
   * commit so never take more places than there are.
   */
  waitForRoom(): Promise<void> {
    if (this.hasRoom()) {
      this.reserved++;
      return Promise.resolve();
    }
    return new Promise((resolve) =>
      this.roomWaiters.push(() => {
        this.reserved++;
        resolve();
      }),
    );
  }

  /** Gives back a place taken by waitForRoom() for an input that will not be pushed. */
  unreserve(): void {
    this.reserved = Math.max(0, this.reserved - 1);
    this.releaseRoom();
  }

  /** Queues an input stored as `pending` (by a previous run); `reserved`: it takes the place waitForRoom() kept for it. */
  push(item: PendingInput, reserved = false): void {
    if (reserved) this.reserved = Math.max(0, this.reserved - 1);
    this.queue.push({ item });
    if (!this.running && !this.stopped) void this.loop();
  }

  /**
   * Analyses a new input and stores it with its result in one transaction (a duplicate of a stored input: nothing
   * stored). Resolves with its row once that transaction has committed, so the caller may acknowledge it; rejects if
   * it cannot be stored (stopping, or a database that can take nothing more): then it must not be acknowledged. It
   * takes the place waitForRoom() kept for it. `arrivedAt`: `performance.now()` at receipt.
   */
  answer(row: NewInput, redelivered: boolean, arrivedAt?: number): Promise<RecordOutcome> {
    this.reserved = Math.max(0, this.reserved - 1);
    if (this.stopped) return Promise.reject(new Error('the inference worker has stopped'));
    const item: PendingInput = {
      seq: 0,
      id: row.id,
      receivedAt: row.receivedAt,
      topic: row.topic,
      siteId: row.siteId,
      sessionId: row.sessionId ?? null,
      lang: row.lang ?? null,
      text: row.text ?? '',
      tasks: [...row.tasks],
      resultTopic: row.resultTopic ?? '',
      request: row.request ?? {},
      arrivedAt,
    };
    return new Promise<RecordOutcome>((stored, failed) => {
      this.queue.push({ item, unstored: { row, redelivered, stored, failed } });
      if (this.running || this.gathering) return;
      // Gather what arrives with it (the rest of the socket read, or commitWaitMs), then run them as one batch.
      const wait = this.opts.gatherMs ?? 0;
      const start = () => {
        this.gathering = undefined;
        if (!this.running && !this.stopped) void this.loop();
      };
      this.gathering = wait > 0 ? setTimeout(start, wait) : setImmediate(start);
    });
  }

  /** Resolves when every queued input has a committed result. */
  drain(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Finishes what is queued, then refuses more. A commit still failing after `graceMs` (database locked, disk full)
   * is given up: those inputs stay `pending` in the database and are analysed again at the next start.
   */
  async stop(graceMs = 3000): Promise<void> {
    this.giveUpAt = Date.now() + graceMs;
    // What is gathering goes now: stopping does not wait out commitWaitMs.
    if (this.gathering && !this.running) {
      clearTimeout(this.gathering as NodeJS.Timeout);
      clearImmediate(this.gathering as NodeJS.Immediate);
      this.gathering = undefined;
      void this.loop();
    }
    await this.drain();
    this.stopped = true;
  }

  private async loop(): Promise<void> {
    this.running = true;
    const batchSize = this.opts.batchSize ?? 32;
    let batch: Queued[] = [];
    try {
      while (this.queue.length > 0) {
        batch = this.queue.splice(0, batchSize);
        this.active = batch.length;
        const items = batch.map((q) => q.item);
        if (trace) for (const item of items) trace.stamp(item.id, 'queued');
        const completions = await this.analyzeBatch(items);
        if (trace) for (const item of items) trace.stamp(item.id, 'analyzed');
        const writes = completions.map((c, i): Completion => {
          const u = batch[i].unstored;
          return u ? { ...c, input: { row: u.row, redelivered: u.redelivered } } : c;
        });
        const holding = batch.some((q) => q.unstored);
        const pause = this.opts.beforeCommit?.();
        if (pause) await pause;
        let queued: OutboxRow[] = [];
        const outcomes = await retryUntilDone(() => this.store.completeMany(writes, (queued = [])), {
          // Results are not dropped while running: keep trying until the disk takes them. Stopping, their inputs stay
          // with the broker (not acknowledged) or pending in the database.
          shouldStop: () => Date.now() > this.giveUpAt,
          onError: (err, attempt) => {
            if (attempt === 1 || attempt % 20 === 0) {
              const fields = { err: err.message, code: (err as { code?: string }).code, attempt };
              if (holding) this.log.error(fields, 'cannot store inputs with their results; not acknowledging, retrying');
              else this.log.error(fields, 'cannot store results; retrying');
            }
          },
          maxDelayMs: 1000,
        });
        if (trace) for (const item of items) trace.stamp(item.id, 'stored');
        this.active = 0;
        const stored: PendingInput[] = [];
        const storedCompletions: Completion[] = [];
        batch.forEach((q, i) => {
          const outcome = outcomes[i];
          q.unstored?.stored(outcome);
          if (outcome.duplicate) return; // analysed for nothing: the broker's copy of an input stored before
          const c = completions[i];
          if (c.status === 'done') {
            this.stats.processed++;
            this.opts.onResult?.(c.latencyMs);
          } else this.stats.failed++;
          stored.push(q.unstored ? { ...q.item, seq: outcome.seq } : q.item);
          storedCompletions.push(q.unstored ? { ...c, seq: outcome.seq } : c);
        });
        batch = [];
        this.onCommitted(queued);
        this.releaseRoom();
        if (this.opts.afterCommit) {
          try {
            this.opts.afterCommit(stored, storedCompletions);
          } catch (err) {
            this.log.error({ err: (err as Error).message }, 'after-commit hook failed (results are stored)');
          }
        }
      }
    } catch (err) {
      // A database that cannot take the results (fatal, told to the agent by the store; or stopping): new inputs are
      // not acknowledged (the broker keeps them), stored ones stay pending; both are answered at the next start.
      const lost = [...batch, ...this.queue.splice(0)];
      this.log.error({ err: (err as Error).message, dropped: lost.length }, 'results not stored; their inputs stay with the broker or pending');
      for (const q of lost) q.unstored?.failed(err);
      this.stopped = true;
    } finally {
      this.running = false;
      this.active = 0;
      this.releaseRoom();
      if (this.inFlight === 0) {
        const waiters = this.idleWaiters;
        this.idleWaiters = [];
        waiters.forEach((w) => w());
      }
    }
  }

  private releaseRoom(): void {
    while (this.roomWaiters.length > 0 && this.hasRoom()) this.roomWaiters.shift()!();
  }

  /**
   * The results of a batch of inputs. With more than one waiting and an analyzer that batches, the models run once
   * for the batch (issue 10: one ONNX call per model instead of one per input); if that fails, each input is
   * analysed alone, so one bad input fails only itself.
   */
  private async analyzeBatch(batch: readonly PendingInput[]): Promise<Completion[]> {
    // The lease pins the models for this batch: a swap during the analysis does not change them under it.
    const lease = this.models.acquire();
    try {
      const many = lease.models.analyzeMany?.bind(lease.models);
      if (batch.length > 1 && many) {
        const started = performance.now();
        let analyses: Analysis[] | undefined;
        try {
          analyses = await many(batch.map((item) => ({ text: item.text, tasks: item.tasks as TaskName[], options: this.langHint(item) })));
        } catch (err) {
          this.log.warn({ err: (err as Error).message, inputs: batch.length }, 'batched inference failed; analysing the inputs one by one');
        }
        if (analyses) {
          const done = analyses;
          // Each input's share of the batch's model time.
          const inferenceMs = (performance.now() - started) / batch.length;
          return await Promise.all(batch.map((item, i) => this.complete(item, lease, () => Promise.resolve(done[i]), inferenceMs)));
        }
      }
      const completions: Completion[] = [];
      for (const item of batch) completions.push(await this.complete(item, lease, () => lease.models.analyze(item.text, item.tasks as TaskName[], this.langHint(item))));
      return completions;
    } finally {
      lease.release();
    }
  }

  /** The payload's language wins over the route's; with neither, the analyzer detects it. */
  private langHint(item: PendingInput): AnalyzeOptions | undefined {
    if (item.lang) return { lang: item.lang, langSource: 'payload' };
    const routeLang = this.opts.routeLang?.(item.topic);
    return routeLang ? { lang: routeLang, langSource: 'route' } : undefined;
  }

  /** One input's completion: its result and messages, or its error. `inferenceMs`: measured around `analysis` when absent. */
  private async complete(item: PendingInput, lease: ModelLease, analyze: () => Promise<Analysis>, batchedMs?: number): Promise<Completion> {
    const now = this.opts.now ?? Date.now;
    const started = performance.now();
    const response = responseOf(item.request);
    try {
      let analysis = await analyze();
      // The threshold of the model that answered (a German input: the German model's), not the default language's.
      const { unknownThreshold = lease.unknownThreshold, ...analysed } = analysis;
      analysis = analysed;
      const filter = item.request.intentFilter;
      if (analysis.intent && Array.isArray(filter) && filter.length > 0) {
        analysis = { ...analysis, intent: applyIntentFilter(analysis.intent, filter as string[], unknownThreshold) };
      }
      const inferenceMs = batchedMs ?? performance.now() - started;
      const completedAt = now();
      const latencyMs = item.arrivedAt !== undefined ? performance.now() - item.arrivedAt : Math.max(0, completedAt - item.receivedAt);
      const answered: AnalysedInput = {
        input: {
          id: item.id,
          siteId: item.siteId,
          sessionId: item.sessionId,
          lang: item.lang,
          text: item.text,
          topic: item.topic,
          receivedAt: item.receivedAt,
          request: item.request,
          resultTopic: item.resultTopic,
          response,
        },
        analysis,
        latencyMs,
        unknownThreshold,
      };
      const messages = this.opts.outputs(answered);
      const byTask = (task: TaskName) => analysis.models.find((m) => m.task === task);
      const ref = (task: TaskName) => {
        const m = byTask(task);
        return m ? `${m.name}@${m.version}` : undefined;
      };
      return {
        seq: item.seq,
        status: 'done',
        completedAt,
        intent: analysis.intent?.name,
        confidence: analysis.intent?.confidence,
        alternatives: analysis.intent?.alternatives,
        slots: analysis.intent?.slots,
        sentiment: analysis.sentiment?.label,
        sentimentScore: analysis.sentiment?.score,
        sentimentScores: analysis.sentiment?.scores,
        intentModel: ref('intent'),
        sentimentModel: ref('sentiment'),
        latencyMs,
        inferenceMs,
        lang: analysis.lang,
        messages,
      };
    } catch (err) {
      const completedAt = now();
      const message = (err as Error).message ?? String(err);
      this.log.error({ err: message, id: item.id, seq: item.seq }, 'inference failed');
      const error = { code: 'inference_failed', message: `the model could not process this input: ${message}` };
      const failure: FailedInput = {
        input: {
          id: item.id,
          siteId: item.siteId,
          sessionId: item.sessionId,
          topic: item.topic,
          receivedAt: item.receivedAt,
          excerpt: Array.from(item.text.slice(0, 240)).slice(0, 120).join(''), // whole code points: no half of a surrogate pair
          request: item.request,
          response,
        },
        stage: 'inference',
        ...error,
      };
      return {
        seq: item.seq,
        status: 'error',
        completedAt,
        latencyMs: Math.max(0, completedAt - item.receivedAt),
        error,
        messages: this.opts.failures(failure),
      };
    }
  }
}
