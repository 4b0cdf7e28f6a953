/**
 * One model set per language, and the choice of which one reads an input.
 *
 * The language comes from, in order: the caller (the payload's `lang`, else the
 * route's `lang`), language detection (when a langid model is loaded and sure),
 * the default language. A language without a model for a task gets no
 * confident guess from another language's model: the intent is `unknown` with
 * `reason: "unsupported_language"`, and sentiment is left out (there is no
 * "unknown" sentiment label, and a neutral guess would read as a real answer).
 *
 * The router is itself an `Analyzer`, so whatever wraps the live analyzer
 * (the agent, a model slot that swaps it) needs no language logic.
 */
import { LanguageDetector, normalizeLang, type Detection } from './language.js';
import type { BackendSettings } from './backend.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkManifestTask, loadManifest, MANIFEST_FILE } from './manifest.js';
import { backendFor } from './backends.js';
import { fastTextBackend } from './fasttext-backend.js';
import { ModelRegistry } from './registry.js';
import { tokenize, type Token } from './text.js';
import { UNKNOWN_INTENT, type Analysis, type AnalyzeOptions, type AnalyzeRequest, type Analyzer, type ModelRef, type TaskName } from './types.js';

export const UNSUPPORTED_LANGUAGE = 'unsupported_language';

export interface LanguageModelDirs {
  /** Intent (+ slots) model directory, or null for none. */
  readonly intent: string | null;
  /** Sentiment model directory, or null for none. */
  readonly sentiment: string | null;
}

export interface RouterOptions {
  /** Language → model directories. Keys are normalised (`de-DE` → `de`); two keys naming one language are an error. */
  readonly languages: Readonly<Record<string, LanguageModelDirs>>;
  readonly defaultLanguage: string;
  /** langid model directory, or null to skip detection (then every input without a language is the default). */
  readonly langidDir: string | null;
  /** Overrides the langid model's own threshold. */
  readonly detectThreshold?: number;
  /** Overrides every intent model's own unknown threshold. */
  readonly unknownThreshold?: number;
  /** Backend settings from the config (`models.transformers`), for every language's models. */
  readonly backendSettings?: BackendSettings;
  /**
   * Load the sessions of languages other than the default at their first input, not here (`models.lazyLanguages`).
   * Their manifests are still read here (labels, model versions, and a wrong directory fails the start).
   */
  readonly lazy?: boolean;
}

/** A language whose manifests are read but whose sessions load at its first input. */
interface Deferred {
  readonly dirs: LanguageModelDirs;
  readonly refs: readonly ModelRef[];
  readonly labels: Readonly<Record<TaskName, readonly string[]>>;
  readonly unknownThreshold?: number;
  readonly backendSettings?: BackendSettings;
  loading?: Promise<ModelRegistry>;
}

export type LangSource = NonNullable<Analysis['langSource']>;

export interface ResolvedLanguage {
  readonly lang: string;
  readonly source: LangSource;
  readonly detection?: Detection;
}

export class LanguageRouter implements Analyzer {
  private closed = false;

  private constructor(
    private readonly registries: Map<string, ModelRegistry>,
    private readonly detector: LanguageDetector | null,
    readonly defaultLanguage: string,
    private readonly deferred: Map<string, Deferred> = new Map(),
    /** Every language with a model, in configuration order (loaded or deferred). */
    private readonly order: readonly string[] = [...registries.keys()],
  ) {}

  /** Loads every language's models and the detector; releases what loaded if a later load fails. */
  static async load(opts: RouterOptions): Promise<LanguageRouter> {
    const def = normalizeLang(opts.defaultLanguage);
    if (!def) throw new Error(`models.defaultLanguage ${JSON.stringify(opts.defaultLanguage)} is not a language tag; use e.g. "en"`);
    const dirs = new Map<string, LanguageModelDirs>();
    for (const [key, value] of Object.entries(opts.languages)) {
      const lang = normalizeLang(key);
      if (!lang) throw new Error(`models.languages: ${JSON.stringify(key)} is not a language tag; use e.g. "de" or "zh-cn"`);
      if (dirs.has(lang)) throw new Error(`models.languages: two entries name the language ${lang}; keep one`);
      dirs.set(lang, value);
    }
    if (!dirs.has(def)) {
      throw new Error(`models.defaultLanguage is ${def}, but models.languages has no models for it; add models.languages.${def} or choose one of ${[...dirs.keys()].join(', ') || '(none)'}`);
    }
    const registries = new Map<string, ModelRegistry>();
    const deferred = new Map<string, Deferred>();
    let detector: LanguageDetector | null = null;
    for (const [lang, d] of dirs) checkModelLanguages(lang, d);
    try {
      for (const [lang, d] of dirs) {
        if (d.intent === null && d.sentiment === null) continue;
        if (opts.lazy && lang !== def && canDefer(d)) deferred.set(lang, deferLanguage(d, opts.unknownThreshold, opts.backendSettings));
        else registries.set(lang, await ModelRegistry.load({ intentDir: d.intent, sentimentDir: d.sentiment, unknownThreshold: opts.unknownThreshold, backendSettings: opts.backendSettings }));
      }
      if (opts.langidDir !== null) detector = await LanguageDetector.load(opts.langidDir, { defaultLanguage: def, threshold: opts.detectThreshold });
    } catch (err) {
      await Promise.allSettled([...registries.values()].map((r) => r.close()));
      throw err;
    }
    const order = [...dirs.keys()].filter((l) => registries.has(l) || deferred.has(l));
    return new LanguageRouter(registries, detector, def, deferred, order);
  }

  /** Languages with at least one model (loaded, or deferred to its first input). */
  get languages(): readonly string[] {
    return this.order;
  }

  /** Languages whose sessions are loaded now. */
  get loadedLanguages(): readonly string[] {
    return this.order.filter((l) => this.registries.has(l));
  }

  /** The models of a language, loading a deferred one (once; a failed load is tried again at the next input). */
  private async registryFor(lang: string): Promise<ModelRegistry | undefined> {
    const loaded = this.registries.get(lang);
    if (loaded) return loaded;
    const d = this.deferred.get(lang);
    if (!d) return undefined;
    d.loading ??= ModelRegistry.load({ intentDir: d.dirs.intent, sentimentDir: d.dirs.sentiment, unknownThreshold: d.unknownThreshold, backendSettings: d.backendSettings }).then(
      async (reg) => {
        // Closed while loading (a model swap retired this router): release what just loaded.
        if (this.closed) {
          await reg.close();
          throw new Error('LanguageRouter is closed; load it again');
        }
        this.registries.set(lang, reg);
        return reg;
      },
      (err: unknown) => {
        d.loading = undefined;
        throw err;
      },
    );
    return d.loading;
  }

  /** The unknown threshold of the default language's intent model; each analysis names its own language's (`Analysis.unknownThreshold`). */
  get unknownThreshold(): number | undefined {
    return this.registries.get(this.defaultLanguage)?.unknownThreshold;
  }

  /** The models of one language (for `hubnlu eval --lang`), or undefined. */
  registry(lang: string): ModelRegistry | undefined {
    const l = normalizeLang(lang);
    return l ? this.registries.get(l) : undefined;
  }

  get hasDetector(): boolean {
    return this.detector !== null;
  }

  loadedModels(): readonly ModelRef[] {
    const refs = this.languages.flatMap((lang) => this.registries.get(lang)?.loadedModels() ?? this.deferred.get(lang)?.refs ?? []);
    if (this.detector) refs.push(this.detector.ref);
    return refs;
  }

  /**
   * Every label a task can produce in any language: the default language's
   * first, in its model's order, then the others' new ones (Home Assistant's
   * event types and `bridge/info` list what any input may yield).
   */
  labels(task: TaskName): readonly string[] {
    const of = (lang: string): readonly string[] => this.registries.get(lang)?.labels(task) ?? this.deferred.get(lang)?.labels[task] ?? [];
    return [...new Set([this.defaultLanguage, ...this.languages].flatMap(of))];
  }

  /**
   * Runs every loaded language's models once, and the detector: the first run of an ONNX session allocates and plans
   * (~10 ms), paid here at start rather than by the first utterance. Deferred languages stay deferred.
   */
  async warmUp(text = 'turn on the light'): Promise<void> {
    for (const lang of this.loadedLanguages) await this.analyze(text, ['intent', 'sentiment'], { lang, langSource: 'route' });
    await this.analyze(text, ['intent']);
  }

  /** Which language an input is read as, and why. */
  async resolveLanguage(text: string, options?: AnalyzeOptions, tokens?: readonly Token[]): Promise<ResolvedLanguage> {
    if (options?.lang !== undefined || !this.detector) return this.namedLanguage(options);
    const detection = await this.detector.detect(text, tokens);
    return { lang: detection.lang, source: detection.sure ? 'detected' : 'default', detection };
  }

  async analyze(text: string, tasks: readonly TaskName[], options?: AnalyzeOptions): Promise<Analysis> {
    if (this.closed) throw new Error('LanguageRouter is closed; load it again');
    // Tokenised once: the detector and the language's models read the same tokens.
    const tokens = tokenize(text);
    const resolved = await this.resolveLanguage(text, options, tokens);
    const reg = await this.registryFor(resolved.lang);
    const supported = this.supported(reg, tasks);
    const base = supported.length > 0 ? await reg!.analyzeTokens(text, tokens, supported) : { models: [] as ModelRef[] };
    return this.routed(base, reg, tasks, resolved);
  }

  /**
   * `analyze` for several texts: one detector call for those without a language, then each language's models once
   * for its texts (issue 10's micro-batching). Each analysis equals what `analyze` gives that text.
   */
  async analyzeMany(requests: readonly AnalyzeRequest[]): Promise<Analysis[]> {
    if (this.closed) throw new Error('LanguageRouter is closed; load it again');
    const resolved: ResolvedLanguage[] = new Array(requests.length);
    const tokens = requests.map((r) => tokenize(r.text));
    const detect: number[] = [];
    requests.forEach((r, i) => {
      if (r.options?.lang !== undefined || !this.detector) resolved[i] = this.namedLanguage(r.options);
      else detect.push(i);
    });
    if (detect.length > 0) {
      const detections = await this.detector!.detectMany(detect.map((i) => requests[i].text), detect.map((i) => tokens[i]));
      detections.forEach((detection, k) => (resolved[detect[k]] = { lang: detection.lang, source: detection.sure ? 'detected' : 'default', detection }));
    }
    const byLang = new Map<string, number[]>();
    resolved.forEach((r, i) => {
      const list = byLang.get(r.lang);
      if (list) list.push(i);
      else byLang.set(r.lang, [i]);
    });
    const out: Analysis[] = new Array(requests.length);
    for (const [lang, indices] of byLang) {
      const reg = await this.registryFor(lang);
      const asked = indices.map((i) => ({ i, supported: this.supported(reg, requests[i].tasks) }));
      const run = asked.filter((a) => a.supported.length > 0);
      const bases = run.length > 0 ? await reg!.analyzeMany(run.map((a) => ({ text: requests[a.i].text, tasks: a.supported })), run.map((a) => tokens[a.i])) : [];
      const baseOf = new Map(run.map((a, k) => [a.i, bases[k]]));
      for (const i of indices) out[i] = this.routed(baseOf.get(i) ?? { models: [] }, reg, requests[i].tasks, resolved[i]);
    }
    return out;
  }

  /** The language a caller named (payload or route), or the default when there is no detector. */
  private namedLanguage(options?: AnalyzeOptions): ResolvedLanguage {
    if (options?.lang !== undefined) {
      // An unparseable tag is still the caller's word: it cannot name a model we have.
      const lang = normalizeLang(options.lang) ?? options.lang.trim().toLowerCase();
      return { lang, source: options.langSource ?? 'payload' };
    }
    return { lang: this.defaultLanguage, source: 'default' };
  }

  /** The asked tasks a language's models can serve. */
  private supported(reg: ModelRegistry | undefined, tasks: readonly TaskName[]): TaskName[] {
    const supported: TaskName[] = [];
    if (tasks.includes('intent') && reg?.model('intent') != null) supported.push('intent');
    if (tasks.includes('sentiment') && reg?.model('sentiment') != null) supported.push('sentiment');
    return supported;
  }

  /** The analysis as the router answers it: language, its source, the detector's ref, `unsupported_language`. */
  private routed(base: Analysis, reg: ModelRegistry | undefined, tasks: readonly TaskName[], { lang, source, detection }: ResolvedLanguage): Analysis {
    const detectorRef = detection && this.detector ? [this.detector.ref] : [];
    const canIntent = reg?.model('intent') != null;
    const canSentiment = reg?.model('sentiment') != null;
    const wantIntent = tasks.includes('intent');
    const wantSentiment = tasks.includes('sentiment');
    const missing = (wantIntent && !canIntent) || (wantSentiment && !canSentiment);
    return {
      ...base,
      ...(wantIntent && !canIntent ? { intent: { name: UNKNOWN_INTENT, confidence: 0, alternatives: [], slots: [] } } : {}),
      models: [...base.models, ...detectorRef],
      lang,
      langSource: source,
      // This language's threshold (its manifest's, or models.unknownThreshold): the default language's is not this input's.
      ...(wantIntent && canIntent ? { unknownThreshold: reg!.unknownThreshold } : {}),
      ...(missing ? { reason: UNSUPPORTED_LANGUAGE } : {}),
    };
  }

  /** Releases every session. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([...this.deferred.values()].map((d) => d.loading)); // a load in flight closes itself (above)
    await Promise.allSettled([...[...this.registries.values()].map((r) => r.close()), this.detector?.dispose()]);
  }
}

/** Manifest languages that serve any language they are configured for. */
const ANY_LANGUAGE: ReadonlySet<string> = new Set(['mul', 'und', 'zxx']);

/**
 * hubnlu's own model directories name their language (manifest.json `language`): one configured for another
 * language (the English model under `models.languages.de`) would load and answer that language's inputs with
 * confident nonsense, so it fails the start. A manifest that cannot be read, or is for another task, is left to
 * the load, whose errors say what is wrong with it.
 */
function checkModelLanguages(lang: string, dirs: LanguageModelDirs): void {
  for (const task of ['intent', 'sentiment'] as const) {
    const dir = dirs[task];
    if (dir === null) continue;
    let manifest: { task?: unknown; language?: unknown };
    try {
      manifest = JSON.parse(readFileSync(join(dir, MANIFEST_FILE), 'utf8')) as typeof manifest;
    } catch {
      continue;
    }
    if (manifest.task !== task || typeof manifest.language !== 'string') continue;
    const declared = normalizeLang(manifest.language);
    if (declared === null || declared === lang || ANY_LANGUAGE.has(declared)) continue;
    const setting = `models.languages.${lang}.${task}${lang === 'en' ? ` (or models.${task})` : ''}`;
    throw new Error(
      `${setting}: ${dir} holds a model for ${declared} (manifest.json language "${manifest.language}"), not ${lang}; give a ${lang} model there, or list it under models.languages.${declared}`,
    );
  }
}

/**
 * Only hubnlu's own model directories are deferred: their manifest names the
 * labels and version without loading a session. Other backends load at start.
 */
function canDefer(dirs: LanguageModelDirs): boolean {
  return [dirs.intent, dirs.sentiment].every((dir) => dir === null || backendFor(dir) === fastTextBackend);
}

/** Reads a language's manifests now (a wrong directory fails the start) and leaves its sessions for later. */
function deferLanguage(dirs: LanguageModelDirs, unknownThreshold: number | undefined, backendSettings: BackendSettings | undefined): Deferred {
  const refs: ModelRef[] = [];
  const labels: Record<TaskName, readonly string[]> = { intent: [], sentiment: [] };
  for (const task of ['intent', 'sentiment'] as const) {
    const dir = dirs[task];
    if (dir === null) continue;
    const manifest = loadManifest(dir);
    checkManifestTask(dir, manifest, task);
    refs.push({ task, name: manifest.name, version: manifest.version });
    labels[task] = manifest.labels;
  }
  return { dirs, refs, labels, unknownThreshold, backendSettings };
}
