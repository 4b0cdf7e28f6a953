/**
 * The shadow model (models.shadow): a candidate that answers beside the live
 * model without ever being in the live path.
 *
 * The worker hands over inputs only after their live result and its messages
 * are committed and the outbox publisher has been kicked. Shadow work waits
 * while the live path has anything in flight, and until it has been quiet for
 * `quietMs` (a burst is answered whole first), runs one input at a time, and
 * writes its predictions in batches (inputs.shadow_*), again only while the
 * live path is idle. The queue is bounded: under sustained load shadow work is
 * dropped and counted, never the live path slowed. A shadow model that fails
 * is counted and logged; nothing of it reaches MQTT.
 */
import type { Config } from '../config/schema.js';
import type { Logger } from '../util/logger.js';
import type { LoadedModels } from './agent.js';
import type { ModelSlot } from '../model/model-slot.js';
import type { Completion, PendingInput, ShadowResult } from '../store/log-store.js';
import type { TaskName } from '../model/types.js';
import { ModelRegistry } from '../model/registry.js';
import { normalizeLang } from '../model/language.js';
import { resolveFromPackage } from '../util/paths.js';

/** The language the shadow candidate stands beside: the one models.intent / models.sentiment serve. */
export const SHADOW_LANG = 'en';

export interface ShadowJob {
  readonly seq: number;
  readonly text: string;
  readonly tasks: readonly TaskName[];
}

export interface ShadowStats {
  /** Inputs handed to the shadow queue. */
  queued: number;
  /** Shadow predictions stored. */
  done: number;
  /** Shadow analyses (or their writes) that failed. */
  failed: number;
  /** Inputs dropped because the queue was full (the live path was busy for long). */
  dropped: number;
  /** Answered inputs the shadow does not apply to (another language, or no task it serves). */
  skipped: number;
}

export interface ShadowOptions {
  /** Tasks the shadow models serve. */
  readonly tasks: readonly TaskName[];
  readonly maxQueued: number;
  /** Whether the live path has inputs in flight. */
  readonly busy: () => boolean;
  /** Resolves when the live path has nothing in flight. */
  readonly idle: () => Promise<void>;
  /** Most predictions written in one transaction. */
  readonly batchSize?: number;
  /**
   * How long the live path must have been quiet (no result committed) before shadow work runs, ms. Default 50: a burst
   * of inputs is answered first, whole; a household's few inputs a minute get their shadow prediction 50 ms later.
   */
  readonly quietMs?: number;
}

export interface ShadowStore {
  recordShadow(results: readonly ShadowResult[]): void;
}

/** Loads the shadow models named by models.shadow, or null when none is configured. */
export async function loadShadowModels(config: Config): Promise<LoadedModels | null> {
  const s = config.models.shadow;
  if (!s || (!s.intent && !s.sentiment)) return null;
  return ModelRegistry.load({
    intentDir: s.intent ? resolveFromPackage(s.intent) : null,
    sentimentDir: s.sentiment ? resolveFromPackage(s.sentiment) : null,
    unknownThreshold: config.models.unknownThreshold,
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
  readonly stats: ShadowStats = { queued: 0, done: 0, failed: 0, dropped: 0, skipped: 0 };
  private readonly queue: ShadowJob[] = [];
  private readonly unwritten: ShadowResult[] = [];
  private running?: Promise<void>;
  private closed = false;
  private warnedAt = 0;
  private lastLiveAt = 0;

  constructor(
    private readonly store: ShadowStore,
    private readonly models: ModelSlot,
    private readonly log: Logger,
    private readonly opts: ShadowOptions,
  ) {}

  /** Inputs waiting for the shadow model. */
  get queued(): number {
    return this.queue.length;
  }

  /** Called by the worker after a batch of live results is committed: queues the answered inputs it applies to. */
  offer(batch: readonly PendingInput[], completions: readonly Completion[]): void {
    if (this.closed) return;
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
    if (this.queue.length > 0 && !this.running) this.running = this.loop().finally(() => (this.running = undefined));
  }

  /** Resolves when every queued input has a stored shadow prediction (tests, benches). */
  async drain(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Stops taking work, lets the analysis in progress finish, writes what is done; the rest is dropped. */
  async close(): Promise<void> {
    this.closed = true;
    this.stats.dropped += this.queue.length;
    this.queue.length = 0;
    await this.running;
    this.flush();
  }

  private async loop(): Promise<void> {
    const batchSize = this.opts.batchSize ?? 64;
    while (!this.closed && (this.queue.length > 0 || this.unwritten.length > 0)) {
      // Live work first: wait until nothing is in flight, then give intake one more turn of the event loop.
      if (this.opts.busy()) await this.opts.idle();
      const quiet = this.lastLiveAt + (this.opts.quietMs ?? 50) - performance.now();
      if (quiet > 0) {
        await new Promise<void>((resolve) => setTimeout(resolve, quiet));
        continue;
      }
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.opts.busy() || this.closed) continue;
      const job = this.queue.shift();
      if (job) await this.analyze(job);
      // Written in batches, and only while the live path is idle (else at the next idle moment).
      if ((this.unwritten.length >= batchSize || this.queue.length === 0) && !this.opts.busy()) this.flush();
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
      this.warn({ err: (err as Error).message, seq: job.seq }, 'shadow model failed on an input (the live result is not affected)');
    }
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
