/**
 * The shadow model (models.shadow): a candidate that answers beside the live
 * model without ever being in the live path.
 *
 * The candidate runs in its own worker thread (WorkerAnalyzer, at a low CPU
 * priority: `models.shadow.nice`), so its model work never takes the agent's
 * event loop; the main thread only posts the text and receives the answer.
 * The inference worker hands over inputs only after their live result and its
 * messages are committed and the outbox publisher has been kicked. Inputs go
 * to the thread only once the live path has been quiet for `quietMs` (50 ms)
 * and has nothing in flight, at most `inFlight` at once; the rest wait in a bounded backlog
 * (`models.shadow.maxQueued`): when the shadow falls behind, later inputs are
 * skipped and counted (`dropped`), never queued without limit.
 * Predictions are written in batches (inputs.shadow_*) while the live path is
 * idle. A shadow analysis that fails is counted and logged; a thread that
 * crashes is logged and restarted (WorkerAnalyzer's policy), and after too many
 * crashes the shadow is disabled with an error in the log, the agent running
 * on; `reload_models` brings it back. Nothing of the shadow reaches MQTT.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import type { LoadedModels } from './agent.js';
import type { ModelSlot } from '../model/model-slot.js';
import type { Completion, PendingInput, ShadowResult } from '../store/log-store.js';
import type { TaskName } from '../model/types.js';
import { normalizeLang } from '../model/language-tags.js';
import { resolveFromPackage } from '../util/paths.js';
import { AnalyzerWorkerError, WorkerAnalyzer, type WorkerAnalyzerEvent } from '../model/worker-analyzer.js';

/** The language the shadow candidate stands beside: the one models.intent / models.sentiment serve. */
export const SHADOW_LANG = 'en';

export interface ShadowJob {
  readonly seq: number;
  readonly text: string;
  readonly tasks: readonly TaskName[];
}

export interface ShadowStats {
  /** Inputs handed to the shadow backlog. */
  queued: number;
  /** Shadow predictions stored. */
  done: number;
  /** Shadow analyses (or their writes) that failed, including those lost with a crashed thread. */
  failed: number;
  /** Inputs skipped because the shadow had fallen behind (the backlog was full), or left at stop. */
  dropped: number;
  /** Answered inputs the shadow does not apply to (another language, or no task it serves). */
  skipped: number;
  /** Times the shadow's thread was restarted after it crashed. */
  restarts: number;
  /** Whether the shadow gave up (its thread kept crashing); `reload_models` re-enables it. */
  disabled: boolean;
}

export interface ShadowOptions {
  /** Tasks the shadow models serve. */
  readonly tasks: readonly TaskName[];
  /** Most inputs waiting for the shadow (the bounded backlog); past it, inputs are skipped and counted. */
  readonly maxQueued: number;
  /** Most inputs with the shadow's thread at once. Default 2: one being analysed, one ready behind it. */
  readonly inFlight?: number;
  /** Whether the live path has inputs in flight (shadow predictions are written while it has none). */
  readonly busy: () => boolean;
  /** Resolves when the live path has nothing in flight. */
  readonly idle: () => Promise<void>;
  /** Most predictions written in one transaction. */
  readonly batchSize?: number;
  /**
   * How long the live path must have been quiet (no result committed) before shadow work is handed to the thread and
   * before partial batches of predictions are written, ms. Default 50: a burst or a back-to-back exchange is answered
   * whole first; a household's few inputs a minute get their shadow prediction 50 ms later. (A full batch of
   * predictions waits only for the live path to have nothing in flight.)
   */
  readonly quietMs?: number;
  /** How long `close()` waits for analyses with the thread, ms. Default 2000. */
  readonly closeTimeoutMs?: number;
}

export interface ShadowStore {
  recordShadow(results: readonly ShadowResult[]): void;
}

/** The shadow thread's heap: the models' tensors live in onnxruntime, outside it; this is for tokens and answers. */
const SHADOW_HEAP_MB = 256;

/**
 * Loads the shadow models named by models.shadow into a worker thread (WorkerAnalyzer), or null when none is
 * configured. `onEvent` hears the thread's crashes, restarts and give-up.
 */
export async function loadShadowModels(config: Config, onEvent?: (event: WorkerAnalyzerEvent) => void): Promise<LoadedModels | null> {
  const s = config.models.shadow;
  if (!s || (!s.intent && !s.sentiment)) return null;
  const tasks = shadowTasks(config);
  return WorkerAnalyzer.start({
    models: {
      kind: 'registry',
      options: {
        intentDir: s.intent ? resolveFromPackage(s.intent) : null,
        sentimentDir: s.sentiment ? resolveFromPackage(s.sentiment) : null,
        unknownThreshold: config.models.unknownThreshold,
      },
    },
    // The first run of an ONNX session allocates and plans: pay it at load, not on the first input.
    warmup: [{ text: 'turn on the light', tasks }],
    nice: s.nice,
    resourceLimits: { maxOldGenerationSizeMb: SHADOW_HEAP_MB },
    onEvent,
  });
}

/** The tasks models.shadow names. */
export function shadowTasks(config: Config): TaskName[] {
  const s = config.models.shadow;
  const tasks: TaskName[] = [];
  if (s?.intent) tasks.push('intent');
  if (s?.sentiment) tasks.push('sentiment');
  return tasks;
}

export class ShadowRunner {
  readonly stats: ShadowStats = { queued: 0, done: 0, failed: 0, dropped: 0, skipped: 0, restarts: 0, disabled: false };
  private readonly queue: ShadowJob[] = [];
  private readonly unwritten: ShadowResult[] = [];
  private readonly inThread = new Set<Promise<void>>();
  private closed = false;
  private warnedAt = 0;
  private lastLiveAt = 0;
  private flushTimer?: NodeJS.Timeout;
  private flushOnIdle = false;
  private pumpOnIdle = false;
  private pumpTimer?: NodeJS.Timeout;

  constructor(
    private readonly store: ShadowStore,
    private readonly models: ModelSlot,
    private readonly log: Logger,
    private readonly opts: ShadowOptions,
  ) {}

  /** Inputs waiting for the shadow model (not yet with its thread). */
  get queued(): number {
    return this.queue.length;
  }

  /** Called by the worker after a batch of live results is committed: queues the answered inputs it applies to. */
  offer(batch: readonly PendingInput[], completions: readonly Completion[]): void {
    if (this.closed || this.stats.disabled) return;
    this.lastLiveAt = performance.now();
    const bySeq = new Map(completions.map((c) => [c.seq, c]));
    for (const item of batch) {
      const c = bySeq.get(item.seq);
      if (!c || c.status !== 'done') continue;
      const tasks = this.opts.tasks.filter((t) => item.tasks.includes(t));
      const lang = c.lang ?? item.lang ?? SHADOW_LANG;
      if (tasks.length === 0 || normalizeLang(lang) !== SHADOW_LANG) {
        this.stats.skipped++;
        continue;
      }
      if (this.queue.length >= this.opts.maxQueued) {
        this.stats.dropped++;
        continue;
      }
      this.queue.push({ seq: item.seq, text: item.text, tasks });
      this.stats.queued++;
    }
    this.pump();
  }

  /** Resolves when every queued input has a stored shadow prediction (tests, benches). */
  async drain(): Promise<void> {
    for (;;) {
      if (this.inThread.size > 0) await Promise.allSettled([...this.inThread]);
      else if (this.queue.length > 0 && !this.closed && !this.stats.disabled) {
        await this.opts.idle();
        this.pump();
        // Not handed over yet (the quiet period runs): wait for it rather than spin.
        const wait = this.inThread.size > 0 ? 0 : Math.max(1, this.lastLiveAt + (this.opts.quietMs ?? 50) - performance.now());
        await new Promise((resolve) => setTimeout(resolve, wait));
      } else {
        if (this.opts.busy()) await this.opts.idle();
        this.flush();
        if (this.inThread.size === 0 && (this.queue.length === 0 || this.closed || this.stats.disabled)) return;
      }
    }
  }

  /** Called once the shadow's thread gave up, or after reload_models brought fresh shadow models. */
  setDisabled(disabled: boolean, reason?: string): void {
    if (disabled === this.stats.disabled) return;
    this.stats.disabled = disabled;
    if (disabled) {
      this.stats.dropped += this.queue.length;
      this.queue.length = 0;
      this.log.error(
        { err: reason, shadow: { ...this.stats } },
        'shadow model disabled: its thread kept crashing. The live path is not affected. Fix models.shadow, then send reload_models or restart the agent',
      );
    } else {
      this.log.info('shadow model enabled again');
      this.pump();
    }
  }

  /** What the shadow's WorkerAnalyzer reports (the agent passes it on). */
  threadEvent(event: WorkerAnalyzerEvent): void {
    if (event.type === 'exit') {
      this.log.error(
        { err: event.error.message, restarting: event.restarting, shadow: { ...this.stats } },
        event.restarting ? 'shadow model thread crashed; restarting it (the live path is not affected)' : 'shadow model thread crashed again',
      );
    } else if (event.type === 'restarted') {
      this.stats.restarts = event.restarts;
      this.log.warn({ restarts: event.restarts }, 'shadow model thread restarted');
      this.pump();
    } else {
      this.setDisabled(true, event.error.message);
    }
  }

  /** Stops taking work, waits (up to closeTimeoutMs) for analyses with the thread, writes what is done; the rest is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.flushTimer);
    clearTimeout(this.pumpTimer);
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inThread]), new Promise((resolve) => (timer = setTimeout(resolve, this.opts.closeTimeoutMs ?? 2000)))]);
    clearTimeout(timer);
    this.stats.dropped += this.inThread.size;
    this.flush();
  }

  /**
   * Hands queued inputs to the thread, keeping at most `inFlight` with it, and only once the live path has been quiet
   * for quietMs and has nothing in flight: while live traffic flows the shadow takes no CPU at all (its backlog fills
   * and later inputs are skipped), since on a small hub its analyses would compete with the live path's for the same
   * cores, and a thread's CPU time counts against the agent's own share where the scheduler groups processes
   * (autogroup, cgroups), whatever its nice value.
   */
  private pump(): void {
    if (this.closed || this.stats.disabled || this.queue.length === 0) return;
    const quiet = this.lastLiveAt + (this.opts.quietMs ?? 50) - performance.now();
    if (quiet > 0) {
      if (!this.pumpTimer) {
        this.pumpTimer = setTimeout(() => {
          this.pumpTimer = undefined;
          this.pump();
        }, quiet);
        this.pumpTimer.unref();
      }
      return;
    }
    if (this.opts.busy()) {
      if (this.pumpOnIdle) return;
      this.pumpOnIdle = true;
      void this.opts.idle().then(() =>
        // One more turn of the event loop for intake first.
        setImmediate(() => {
          this.pumpOnIdle = false;
          this.pump();
        }),
      );
      return;
    }
    const limit = this.opts.inFlight ?? 2;
    while (!this.closed && !this.stats.disabled && this.inThread.size < limit && this.queue.length > 0) {
      const job = this.queue.shift()!;
      const p: Promise<void> = this.analyze(job).finally(() => {
        this.inThread.delete(p);
        this.pump();
        this.scheduleFlush();
      });
      this.inThread.add(p);
    }
  }

  private async analyze(job: ShadowJob): Promise<void> {
    try {
      const a = await this.models.analyze(job.text, job.tasks, { lang: SHADOW_LANG, langSource: 'route' });
      const model = a.models
        .filter((m) => (job.tasks as readonly string[]).includes(m.task))
        .map((m) => `${m.name}@${m.version}`)
        .join('+');
      this.unwritten.push({ seq: job.seq, intent: a.intent?.name, confidence: a.intent?.confidence, sentiment: a.sentiment?.label, model });
    } catch (err) {
      this.stats.failed++;
      if (err instanceof AnalyzerWorkerError && err.code === 'WORKER_DISABLED') this.setDisabled(true, err.message);
      else this.warn({ err: (err as Error).message, seq: job.seq }, 'shadow model failed on an input (the live result is not affected)');
    }
  }

  /**
   * Writes predictions when the live path has nothing in flight: a full batch at once, a partial one after the live
   * path has been quiet for quietMs (a burst is answered whole before the shadow writes).
   */
  private scheduleFlush(): void {
    if (this.unwritten.length === 0 || this.closed) return;
    const full = this.unwritten.length >= (this.opts.batchSize ?? 64);
    const quiet = this.lastLiveAt + (this.opts.quietMs ?? 50) - performance.now();
    if (!full && quiet > 0) {
      if (!this.flushTimer) {
        this.flushTimer = setTimeout(() => {
          this.flushTimer = undefined;
          this.scheduleFlush();
        }, quiet);
        this.flushTimer.unref();
      }
      return;
    }
    if (!this.opts.busy()) return this.flush();
    // Held so long that memory would grow: write anyway (a few hundred rows take a millisecond or two).
    if (this.unwritten.length >= 8 * (this.opts.batchSize ?? 64)) return this.flush();
    if (this.flushOnIdle) return;
    this.flushOnIdle = true;
    void this.opts.idle().then(() => {
      this.flushOnIdle = false;
      this.scheduleFlush();
    });
  }

  private flush(): void {
    if (this.unwritten.length === 0) return;
    const results = this.unwritten.splice(0);
    try {
      this.store.recordShadow(results);
      this.stats.done += results.length;
    } catch (err) {
      this.stats.failed += results.length;
      this.warn({ err: (err as Error).message, dropped: results.length }, 'shadow predictions not stored');
    }
  }

  /** At most one warning a minute: a broken shadow model must not flood the log. */
  private warn(fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    if (now - this.warnedAt < 60_000) return;
    this.warnedAt = now;
    this.log.warn({ ...fields, shadow: { ...this.stats } }, message);
  }
}
