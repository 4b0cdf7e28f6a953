/**
 * Runs the models on committed inputs, off the MQTT packet loop.
 *
 * Inputs arrive already stored as `pending`; the worker takes them in order,
 * analyses each, and commits results in small batches together with their
 * outgoing messages (one transaction: a result is never stored without its
 * message, nor published without being stored). The queue is bounded: intake
 * waits for room (and so stops acknowledging) when it is full.
 */
import type { Logger } from '../util/logger.js';
import type { Analysis, AnalyzeOptions, TaskName } from '../model/types.js';
import type { ModelLease, ModelSlot } from '../model/model-slot.js';
import type { AnalysedInput, FailedInput } from '../extensions/extension.js';
import type { Completion, LogStore, OutgoingMessage, PendingInput } from '../store/log-store.js';
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
  /** Most results committed in one transaction. */
  readonly batchSize?: number;
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

export class InferenceWorker {
  private readonly queue: PendingInput[] = [];
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
    private readonly onCommitted: () => void,
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

  /** Queues a stored input; `reserved`: it takes the place waitForRoom() kept for it. */
  push(item: PendingInput, reserved = false): void {
    if (reserved) this.reserved = Math.max(0, this.reserved - 1);
    this.queue.push(item);
    if (!this.running && !this.stopped) void this.loop();
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
    await this.drain();
    this.stopped = true;
  }

  private async loop(): Promise<void> {
    this.running = true;
    const batchSize = this.opts.batchSize ?? 32;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, batchSize);
        this.active = batch.length;
        if (trace) for (const item of batch) trace.stamp(item.id, 'queued');
        const completions = await this.analyzeBatch(batch);
        if (trace) for (const item of batch) trace.stamp(item.id, 'analyzed');
        await retryUntilDone(() => this.store.completeMany(completions), {
          // Results are not dropped while running: keep trying until the disk takes them. Stopping, their inputs stay pending.
          shouldStop: () => Date.now() > this.giveUpAt,
          onError: (err, attempt) => {
            if (attempt === 1 || attempt % 20 === 0) this.log.error({ err: err.message, code: (err as { code?: string }).code, attempt }, 'cannot store results; retrying');
          },
          maxDelayMs: 1000,
        });
        if (trace) for (const item of batch) trace.stamp(item.id, 'stored');
        this.active = 0;
        this.onCommitted();
        this.releaseRoom();
        if (this.opts.afterCommit) {
          try {
            this.opts.afterCommit(batch, completions);
          } catch (err) {
            this.log.error({ err: (err as Error).message }, 'after-commit hook failed (results are stored)');
          }
        }
      }
    } catch (err) {
      // A database that cannot take the results (fatal, told to the agent by the store; or stopping): the inputs stay
      // pending in the database and are analysed again at the next start.
      this.log.error({ err: (err as Error).message, dropped: this.queue.length + this.active }, 'results not stored; their inputs stay pending');
      this.queue.length = 0;
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
      const filter = item.request.intentFilter;
      if (analysis.intent && Array.isArray(filter) && filter.length > 0) {
        analysis = { ...analysis, intent: applyIntentFilter(analysis.intent, filter as string[], lease.unknownThreshold) };
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
        unknownThreshold: lease.unknownThreshold,
      };
      const messages = this.opts.outputs(answered);
      const byTask = (task: TaskName) => analysis.models.find((m) => m.task === task);
      const ref = (task: TaskName) => {
        const m = byTask(task);
        return m ? `${m.name}@${m.version}` : undefined;
      };
      this.stats.processed++;
      this.opts.onResult?.(latencyMs);
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
      this.stats.failed++;
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
