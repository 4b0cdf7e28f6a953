/**
 * The model layer's task registry: which model serves which task, and the
 * post-processing that turns classifier output into the `Analysis` contract
 * (types.ts). The agent and the CLI only talk to this.
 *
 * One utterance is tokenised once; the intent classifier, the slot tagger and
 * the sentiment classifier all read the same tokens.
 */
import { TextClassifier } from './classifier.js';
import { defaultModelDir, loadManifest } from './manifest.js';
import { SlotTagger } from './slot-tagger.js';
import { tokenize, type Token } from './text.js';
import {
  UNKNOWN_INTENT,
  type Analysis,
  type Analyzer,
  type IntentResult,
  type ModelRef,
  type SentimentLabel,
  type SentimentResult,
  type SlotResult,
  type TaskName,
} from './types.js';

export { defaultModelDir } from './manifest.js';

export interface RegistryOptions {
  /** Intent (+ slots) model directory; default `models/intent` in the package; `null` to load none. */
  readonly intentDir?: string | null;
  /** Sentiment model directory; default `models/sentiment` in the package; `null` to load none. */
  readonly sentimentDir?: string | null;
  /**
   * Calibrated confidence below which the intent is `unknown`. Default: the
   * threshold recorded in the intent model's manifest.
   */
  readonly unknownThreshold?: number;
}

export class ModelRegistry implements Analyzer {
  private closed = false;

  private constructor(
    private readonly intent: TextClassifier | null,
    private readonly slots: SlotTagger | null,
    private readonly sentiment: TextClassifier | null,
    readonly unknownThreshold: number,
  ) {}

  /**
   * Loads the models. Sessions that did load are released if a later one fails,
   * so a failed start leaks nothing.
   */
  static async load(opts: RegistryOptions = {}): Promise<ModelRegistry> {
    const intentDir = opts.intentDir === undefined ? defaultModelDir('intent') : opts.intentDir;
    const sentimentDir = opts.sentimentDir === undefined ? defaultModelDir('sentiment') : opts.sentimentDir;
    const threshold = opts.unknownThreshold;
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
      throw new RangeError(`unknownThreshold ${threshold} is outside [0, 1]; set models.unknownThreshold to e.g. 0.5`);
    }
    const opened: { dispose(): Promise<void> }[] = [];
    try {
      let intent: TextClassifier | null = null;
      let slots: SlotTagger | null = null;
      let sentiment: TextClassifier | null = null;
      if (intentDir !== null) {
        const manifest = loadManifest(intentDir);
        if (manifest.task !== 'intent') {
          throw new Error(`${intentDir}: manifest.json says task "${manifest.task}", but it is configured as the intent model (models.intent)`);
        }
        intent = await TextClassifier.load(intentDir, manifest);
        opened.push(intent);
        if (manifest.files.slots) {
          slots = await SlotTagger.load(intentDir, manifest);
          opened.push(slots);
        }
      }
      if (sentimentDir !== null) {
        const manifest = loadManifest(sentimentDir);
        if (manifest.task !== 'sentiment') {
          throw new Error(`${sentimentDir}: manifest.json says task "${manifest.task}", but it is configured as the sentiment model (models.sentiment)`);
        }
        sentiment = await TextClassifier.load(sentimentDir, manifest);
        opened.push(sentiment);
      }
      const t = threshold ?? intent?.manifest.calibration.threshold ?? 0.5;
      return new ModelRegistry(intent, slots, sentiment, t);
    } catch (err) {
      await Promise.allSettled(opened.map((m) => m.dispose()));
      throw err;
    }
  }

  loadedModels(): readonly ModelRef[] {
    const refs: ModelRef[] = [];
    if (this.intent) refs.push(this.intent.ref);
    if (this.sentiment) refs.push(this.sentiment.ref);
    return refs;
  }

  /** Labels the task's model can produce (manifest order); empty when no model serves the task. */
  labels(task: TaskName): readonly string[] {
    return this.classifier(task)?.manifest.labels ?? [];
  }

  /** The loaded classifier for a task (for `hubnlu eval` and benchmarks). */
  classifier(task: TaskName): TextClassifier | null {
    return task === 'intent' ? this.intent : this.sentiment;
  }

  get hasSlots(): boolean {
    return this.slots !== null;
  }

  async analyze(text: string, tasks: readonly TaskName[]): Promise<Analysis> {
    if (this.closed) throw new Error('ModelRegistry is closed; load it again');
    const tokens = tokenize(text);
    const models: ModelRef[] = [];
    let intent: IntentResult | undefined;
    let sentiment: SentimentResult | undefined;
    if (tasks.includes('intent')) {
      if (!this.intent) throw new Error('no intent model is loaded; set models.intent to a model directory');
      intent = await this.analyzeIntent(text, tokens);
      models.push(this.intent.ref);
    }
    if (tasks.includes('sentiment')) {
      if (!this.sentiment) throw new Error('no sentiment model is loaded; set models.sentiment to a model directory');
      sentiment = await this.analyzeSentiment(tokens, text);
      models.push(this.sentiment.ref);
    }
    return { intent, sentiment, models };
  }

  /** Intent and slots for already tokenised text. */
  async analyzeIntent(text: string, tokens: readonly Token[]): Promise<IntentResult> {
    const c = await this.intent!.classify(tokens, text);
    const alternatives = c.ranked.slice(0, 3);
    const top = alternatives[0];
    // Nothing left after normalisation ("?!", emoji only): nothing to understand.
    const known = tokens.length > 0 && top.confidence >= this.unknownThreshold;
    const name = known ? top.name : UNKNOWN_INTENT;
    let slots: SlotResult[] = [];
    if (this.slots && tokens.length > 0) slots = await this.slots.tag(text, tokens, known ? name : null);
    return { name, confidence: tokens.length > 0 ? top.confidence : 0, alternatives, slots };
  }

  /** Sentiment of already tokenised text; `text` is the sentence the tokens came from (raw-text cues). */
  async analyzeSentiment(tokens: readonly Token[], text?: string): Promise<SentimentResult> {
    const c = await this.sentiment!.classify(tokens, text);
    const scores = { negative: 0, neutral: 0, positive: 0 } as Record<SentimentLabel, number>;
    for (const s of c.ranked) scores[s.name as SentimentLabel] = s.confidence;
    const top = c.ranked[0];
    return { label: top.name as SentimentLabel, score: top.confidence, scores };
  }

  /** Releases every ONNX session. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [this.intent, this.slots, this.sentiment].filter((m): m is NonNullable<typeof m> => m !== null);
    await Promise.allSettled(all.map((m) => m.dispose()));
  }
}
