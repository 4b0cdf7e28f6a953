/**
 * The model layer's task registry: which model serves which task, and the
 * post-processing that turns classifier output into the `Analysis` contract
 * (types.ts). The agent and the CLI only talk to this.
 *
 * One utterance is tokenised once; the intent classifier, the slot tagger and
 * the sentiment classifier all read the same tokens.
 */
import type { BackendSettings, PreparedText, TaskModel } from './backend.js';
import { loadTaskModel } from './backends.js';
import { defaultModelDir } from './manifest.js';
import { tokenize, type Token } from './text.js';
import { countLetters } from './language.js';
import {
  UNKNOWN_INTENT,
  type Analysis,
  type AnalyzeRequest,
  type Analyzer,
  type IntentResult,
  type ModelRef,
  type ScoredLabel,
  type SentimentLabel,
  type SentimentResult,
  type SlotResult,
  type TaskName,
} from './types.js';
export { defaultModelDir } from './manifest.js';

/** Intent alternatives an analysis reports (the top one first). */
const ALTERNATIVES = 3;

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
  /** Backend settings from the config (`models.transformers`). */
  readonly backendSettings?: BackendSettings;
}

export class ModelRegistry implements Analyzer {
  private closed = false;

  private constructor(
    private readonly intent: TaskModel | null,
    private readonly sentiment: TaskModel | null,
    readonly unknownThreshold: number,
  ) {}

  /**
   * Loads the models, each with the backend its directory belongs to
   * (backends.ts). Models that did load are released if a later one fails,
   * so a failed start leaks nothing.
   */
  static async load(opts: RegistryOptions = {}): Promise<ModelRegistry> {
    const intentDir = opts.intentDir === undefined ? defaultModelDir('intent') : opts.intentDir;
    const sentimentDir = opts.sentimentDir === undefined ? defaultModelDir('sentiment') : opts.sentimentDir;
    const threshold = opts.unknownThreshold;
    if (threshold !== undefined && !(threshold >= 0 && threshold <= 1)) {
      throw new RangeError(`unknownThreshold ${threshold} is outside [0, 1]; set models.unknownThreshold to e.g. 0.5`);
    }
    const opened: TaskModel[] = [];
    try {
      const intent = intentDir === null ? null : await loadTaskModel('intent', intentDir, undefined, opts.backendSettings);
      if (intent) opened.push(intent);
      const sentiment = sentimentDir === null ? null : await loadTaskModel('sentiment', sentimentDir, undefined, opts.backendSettings);
      if (sentiment) opened.push(sentiment);
      const t = threshold ?? intent?.recommendedThreshold ?? 0.5;
      return new ModelRegistry(intent, sentiment, t);
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

  /** Labels the task's model can produce (its own order); empty when no model serves the task. */
  labels(task: TaskName): readonly string[] {
    return this.model(task)?.labels ?? [];
  }

  /** The loaded model for a task, or null. */
  model(task: TaskName): TaskModel | null {
    return task === 'intent' ? this.intent : this.sentiment;
  }

  get hasSlots(): boolean {
    return this.intent?.hasSlots ?? false;
  }

  async analyze(text: string, tasks: readonly TaskName[]): Promise<Analysis> {
    return this.analyzeTokens(text, tokenize(text), tasks);
  }

  /** `analyze` for text the caller has tokenised already (`tokenize(text)`: the language router, which detected with them). */
  async analyzeTokens(text: string, tokens: readonly Token[], tasks: readonly TaskName[]): Promise<Analysis> {
    if (this.closed) throw new Error('ModelRegistry is closed; load it again');
    const input: PreparedText = { text, tokens };
    const models: ModelRef[] = [];
    let intent: IntentResult | undefined;
    let sentiment: SentimentResult | undefined;
    if (tasks.includes('intent')) {
      if (!this.intent) throw new Error('no intent model is loaded; set models.intent to a model directory');
      intent = await this.analyzeIntent(input);
      models.push(this.intent.ref);
    }
    if (tasks.includes('sentiment')) {
      if (!this.sentiment) throw new Error('no sentiment model is loaded; set models.sentiment to a model directory');
      sentiment = await this.analyzeSentiment(input);
      models.push(this.sentiment.ref);
    }
    return { intent, sentiment, models };
  }

  /**
   * `analyze` for several texts: each model runs once for the batch where its backend can (classifyMany,
   * tagSlotsMany), else once per text. Each analysis equals what `analyze` gives that text. `tokens[i]`: as `analyze`'s.
   */
  async analyzeMany(requests: readonly AnalyzeRequest[], tokens?: ReadonlyArray<readonly Token[]>): Promise<Analysis[]> {
    if (this.closed) throw new Error('ModelRegistry is closed; load it again');
    const inputs: PreparedText[] = requests.map((r, i) => ({ text: r.text, tokens: tokens?.[i] ?? tokenize(r.text) }));
    const want = (task: TaskName) => requests.flatMap((r, i) => (r.tasks.includes(task) ? [i] : []));
    const wantIntent = want('intent');
    const wantSentiment = want('sentiment');
    if (wantIntent.length > 0 && !this.intent) throw new Error('no intent model is loaded; set models.intent to a model directory');
    if (wantSentiment.length > 0 && !this.sentiment) throw new Error('no sentiment model is loaded; set models.sentiment to a model directory');
    const intents = new Map<number, IntentResult>();
    const sentiments = new Map<number, SentimentResult>();
    // Intent (then slots) and sentiment together: with a backend whose runs are asynchronous (onnxruntime-node's public
    // API defers each to a setImmediate) they then share the event-loop hops; OnnxModel's own runs are synchronous.
    const [intentResults, sentimentRanked] = await Promise.all([
      wantIntent.length > 0 ? this.analyzeIntentMany(wantIntent.map((i) => inputs[i])) : [],
      wantSentiment.length > 0 ? classifyAll(this.sentiment!, wantSentiment.map((i) => inputs[i])) : [],
    ]);
    intentResults.forEach((r, k) => intents.set(wantIntent[k], r));
    sentimentRanked.forEach((r, k) => sentiments.set(wantSentiment[k], sentimentOf(r)));
    return requests.map((_, i) => {
      const models: ModelRef[] = [];
      const intent = intents.get(i);
      const sentiment = sentiments.get(i);
      if (intent) models.push(this.intent!.ref);
      if (sentiment) models.push(this.sentiment!.ref);
      return { intent, sentiment, models };
    });
  }

  /** Intent and slots for already tokenised text. */
  async analyzeIntent(input: PreparedText): Promise<IntentResult> {
    const ranked = await this.intent!.classify(input, ALTERNATIVES);
    const top = this.topIntent(input, ranked);
    const slots = top.meaningful && this.intent!.tagSlots ? await this.intent!.tagSlots(input, top.known ? top.name : null, top.alternatives) : [];
    return { name: top.name, confidence: top.confidence, alternatives: top.alternatives, slots };
  }

  /** `analyzeIntent` for several texts (one classifier call and one tagger call where the backend batches). */
  private async analyzeIntentMany(inputs: readonly PreparedText[]): Promise<IntentResult[]> {
    const model = this.intent!;
    const tops = (await classifyAll(model, inputs, ALTERNATIVES)).map((ranked, i) => this.topIntent(inputs[i], ranked));
    const tagged = inputs.flatMap((_, i) => (tops[i].meaningful && model.tagSlots ? [i] : []));
    const slots = new Map<number, SlotResult[]>();
    if (tagged.length > 0) {
      const intentsOf = tagged.map((i) => (tops[i].known ? tops[i].name : null));
      if (model.tagSlotsMany) {
        (await model.tagSlotsMany(tagged.map((i) => inputs[i]), intentsOf, tagged.map((i) => tops[i].alternatives))).forEach((s, k) => slots.set(tagged[k], s));
      } else {
        for (let k = 0; k < tagged.length; k++) slots.set(tagged[k], await model.tagSlots!(inputs[tagged[k]], intentsOf[k], tops[tagged[k]].alternatives));
      }
    }
    return tops.map((top, i) => ({ name: top.name, confidence: top.confidence, alternatives: top.alternatives, slots: slots.get(i) ?? [] }));
  }

  /** The accepted intent from a ranking: `unknown` below the threshold, or when nothing is left to understand. */
  private topIntent(input: PreparedText, ranked: readonly ScoredLabel[]) {
    const alternatives = ranked.slice(0, ALTERNATIVES);
    const top = alternatives[0];
    // Nothing left after normalisation ("?!", emoji only), or not one letter ("42", "12:30"): nothing says what to do,
    // and a bare number must not become a command (the shipped model reads "42" as iot_thermostat_set at 0.98).
    const meaningful = input.tokens.length > 0 && countLetters(input.text, 1) > 0;
    const known = meaningful && top.confidence >= this.unknownThreshold;
    return { name: known ? top.name : UNKNOWN_INTENT, confidence: meaningful ? top.confidence : 0, alternatives, meaningful, known };
  }

  /** Sentiment of already tokenised text. */
  async analyzeSentiment(input: PreparedText): Promise<SentimentResult> {
    return sentimentOf(await this.sentiment!.classify(input));
  }

  /** Releases every model. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    const all = [this.intent, this.sentiment].filter((m): m is TaskModel => m !== null);
    await Promise.allSettled(all.map((m) => m.dispose()));
  }
}

/** Every input's ranking: one batched call when the model has one, else a call per input. */
async function classifyAll(model: TaskModel, inputs: readonly PreparedText[], top?: number): Promise<ReadonlyArray<readonly ScoredLabel[]>> {
  if (model.classifyMany) return model.classifyMany(inputs, top);
  const out: (readonly ScoredLabel[])[] = [];
  for (const input of inputs) out.push(await model.classify(input, top));
  return out;
}

function sentimentOf(ranked: readonly ScoredLabel[]): SentimentResult {
  const scores = { negative: 0, neutral: 0, positive: 0 } as Record<SentimentLabel, number>;
  for (const s of ranked) scores[s.name as SentimentLabel] = s.confidence;
  const top = ranked[0];
  return { label: top.name as SentimentLabel, score: top.confidence, scores };
}
