/**
 * The transformers backend's runtime (transformers-backend.ts loads it on
 * first use, so processes without a transformer never load the library): a model directory in the Hugging Face layout
 * (hf-layout.ts) run through `@huggingface/transformers` (its tokenizer, its
 * model classes, and the onnxruntime-node it loads, which is the same single
 * copy hubnlu's own models use). The only module that imports the library.
 *
 * Tasks (`models.transformers.<task>.task`):
 * - `text-classification`: softmax over the model's labels, mapped to hubnlu's
 *   (sentiment: negative/neutral/positive; intents: `labelMap` renames).
 * - `zero-shot-classification` (intents): an NLI model scores "<text>" against
 *   one hypothesis per intent; the entailment logits, softmaxed across the
 *   intents, are the confidences (the library's single-label zero-shot rule).
 * - slots (`slotsFrom`): a token-classification model's BIO labels become
 *   `SlotResult`s with character offsets (token-spans.ts).
 *
 * Offline by default: the library may read local files only and its fetch
 * refuses. Downloading (`hf:owner/name` with `models.transformers.allowDownload`)
 * is the one exception, into the cache directory under the data directory.
 */
// First: the environment onnxruntime reads when it loads (telemetry off).
import './onnx-env.js';
import {
  AutoModelForSequenceClassification,
  AutoModelForTokenClassification,
  AutoTokenizer,
  env,
  LogLevel,
  type PreTrainedModel,
  type PreTrainedTokenizer,
  type Tensor,
} from '@huggingface/transformers';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendSettings, PreparedText, TaskModel } from './backend.js';
import {
  entailmentId,
  HF_ONNX,
  HF_REF_PREFIX,
  hfVersion,
  isHfLayout,
  mapLabels,
  missingHfFiles,
  parseHfConfig,
  rankMapped,
  readHfConfig,
  softmax,
} from './hf-layout.js';
import { alignTokens, bioSlots, type TokenLabel } from './token-spans.js';
import { DEFAULT_HYPOTHESIS, type TransformersSettings, type TransformersTaskSettings } from './transformers-settings.js';
import type { TaskName } from './tasks.js';
import type { ModelRef, ScoredLabel, SlotResult } from './types.js';

const libraryFetch = env.fetch;

/** Refuses every request: what the library's fetch is while downloading is off. */
async function noNetwork(url: string | URL | Request): Promise<Response> {
  throw new Error(`hubnlu: ${String(url)}: downloading is off (models.transformers.allowDownload is false); put the model's files in a local directory`);
}

/** Points the library at local files (or, when allowed, the download cache). */
function configureLibrary(s: TransformersSettings | undefined): void {
  const download = s?.allowDownload === true;
  env.allowLocalModels = true;
  env.allowRemoteModels = download;
  env.useBrowserCache = false;
  env.useFSCache = download;
  env.logLevel = LogLevel.ERROR;
  if (s) {
    env.cacheDir = s.cacheDir;
    env.localModelPath = s.cacheDir;
  }
  env.fetch = download ? libraryFetch : (noNetwork as typeof env.fetch);
}

/** Single-threaded sessions, as hubnlu's own (a hub runs one utterance at a time). */
const SESSION_OPTIONS = { intraOpNumThreads: 1, interOpNumThreads: 1, executionMode: 'sequential', graphOptimizationLevel: 'all' } as const;

interface Loaded {
  readonly tokenizer: PreTrainedTokenizer;
  readonly model: PreTrainedModel;
  readonly labels: readonly string[];
  readonly ref: { name: string; version: string };
  readonly maxLength: number;
}

function settingPath(task: TaskName): string {
  return `models.transformers.${task}`;
}

/** Checks the files, then loads tokenizer and model through the library. */
async function loadHf(task: TaskName, dir: string, kind: 'sequence' | 'token', s: TransformersSettings | undefined, wantQuantized: boolean | undefined, setting: string): Promise<Loaded> {
  configureLibrary(s);
  const remote = dir.startsWith(HF_REF_PREFIX);
  // Unset: the fp32 file where there is one, else the quantized one.
  const quantized = wantQuantized ?? (!remote && !existsSync(join(dir, HF_ONNX.fp32)) && existsSync(join(dir, HF_ONNX.quantized)));
  const id = remote ? dir.slice(HF_REF_PREFIX.length) : dir;
  if (remote && s?.allowDownload !== true) {
    throw new Error(
      `${setting}: "${dir}" names a model on the Hugging Face hub, and downloading is off; download its files elsewhere and set ${setting} to that directory, or set models.transformers.allowDownload to true`,
    );
  }
  if (!remote) {
    const missing = missingHfFiles(dir, quantized);
    if (missing.length > 0) {
      const other = quantized ? HF_ONNX.fp32 : HF_ONNX.quantized;
      const hint = missing.length === 1 && missing[0].startsWith('onnx/') && isHfLayout(dir) ? ` (it has ${other}: set models.transformers.${task}.quantized to ${!quantized} or remove it)` : '';
      throw new Error(`${setting}: ${dir} lacks ${missing.join(', ')}${hint}; a transformer model directory holds config.json, tokenizer.json, tokenizer_config.json and ${HF_ONNX.fp32} or ${HF_ONNX.quantized}`);
    }
  }
  // config.json first (cheap, and its errors are clearer than the library's).
  const localConfig = remote ? null : readHfConfig(dir);
  if (!remote) {
    // The library's JSON error ("Expected property name … at position 1") names no file.
    for (const f of ['tokenizer.json', 'tokenizer_config.json']) {
      try {
        JSON.parse(readFileSync(join(dir, f), 'utf8'));
      } catch (err) {
        throw new Error(`${setting}: ${join(dir, f)} is not valid JSON (${(err as Error).message}); copy the model's files from its export again`);
      }
    }
  }
  const options = {
    local_files_only: !remote,
    dtype: quantized ? ('q8' as const) : ('fp32' as const),
    device: 'cpu' as const,
    session_options: SESSION_OPTIONS,
  };
  let tokenizer: PreTrainedTokenizer;
  let model: PreTrainedModel;
  try {
    tokenizer = await AutoTokenizer.from_pretrained(id, { local_files_only: !remote });
    model = kind === 'sequence' ? await AutoModelForSequenceClassification.from_pretrained(id, options) : await AutoModelForTokenClassification.from_pretrained(id, options);
  } catch (err) {
    throw new Error(`${setting}: could not load ${dir}: ${(err as Error).message}`);
  }
  let config;
  try {
    config = localConfig ?? parseHfConfig(JSON.stringify(model.config), `${dir} config.json`);
  } catch (err) {
    await model.dispose().catch(() => undefined);
    throw err;
  }
  const onnxFile = quantized ? HF_ONNX.quantized : HF_ONNX.fp32;
  const version = remote ? `hf-${id}` : hfVersion(dir, onnxFile);
  const tokMax = Number(tokenizer.model_max_length);
  const maxLength = Math.min(Number.isFinite(tokMax) && tokMax > 0 ? tokMax : 512, config.maxPositions ?? 512);
  // One run now: a config.json from another export names more or fewer labels than the graph scores, and would
  // otherwise load and answer every message with a label that has no score (or a score with no label).
  let scored: number;
  try {
    const out = logitsOf(await model(tokenizer('ok', { truncation: true, max_length: maxLength })), setting);
    scored = out.dims[out.dims.length - 1];
  } catch (err) {
    await model.dispose().catch(() => undefined);
    throw new Error(`${setting}: a test run of ${dir} failed (${(err as Error).message}); use the files of one export (config.json, tokenizer.json, ${onnxFile})`);
  }
  if (scored !== config.labels.length) {
    await model.dispose().catch(() => undefined);
    const where = remote ? `${dir} config.json` : join(dir, 'config.json');
    throw new Error(`${setting}: ${where} lists ${config.labels.length} labels (id2label) but ${remote ? 'its graph' : join(dir, onnxFile)} scores ${scored}; use the config.json of the same export`);
  }
  return { tokenizer, model, labels: config.labels, ref: { name: config.name, version }, maxLength };
}

function logitsOf(out: Record<string, unknown>, where: string): Tensor {
  const logits = out.logits as Tensor | undefined;
  if (!logits) throw new Error(`${where}: the model has no "logits" output; use a classification export`);
  return logits;
}

/** Row `r` of a [rows, n] float tensor. */
function row(t: Tensor, r: number): Float32Array {
  const n = t.dims[t.dims.length - 1];
  return (t.data as Float32Array).subarray(r * n, (r + 1) * n);
}

/** The slot model of an intent (`slotsFrom`). */
class SlotModel {
  private constructor(
    private readonly m: Loaded,
    private readonly idToToken: readonly string[],
    private readonly special: ReadonlySet<number>,
    private readonly wordPiece: boolean,
    private readonly typeMap: Readonly<Record<string, string>>,
  ) {}

  static async load(dir: string, s: TransformersSettings | undefined, t: TransformersTaskSettings): Promise<SlotModel> {
    const m = await loadHf('intent', dir, 'token', s, undefined, `${settingPath('intent')}.slotsFrom`);
    const idToToken: string[] = [];
    for (const [tok, id] of m.tokenizer.get_vocab()) idToToken[id] = tok;
    let wordPiece = false;
    if (!dir.startsWith(HF_REF_PREFIX)) {
      const tj = JSON.parse(readFileSync(join(dir, 'tokenizer.json'), 'utf8')) as { model?: { type?: string } };
      wordPiece = tj.model?.type === 'WordPiece';
    } else {
      wordPiece = idToToken.some((x) => x?.startsWith('##'));
    }
    return new SlotModel(m, idToToken, new Set(m.tokenizer.all_special_ids), wordPiece, t.slotMap ?? {});
  }

  async tag(text: string): Promise<SlotResult[]> {
    const { tokenizer, model, labels, maxLength } = this.m;
    const enc = tokenizer(text, { truncation: true, max_length: maxLength });
    const logits = logitsOf(await model(enc), 'slots');
    const ids = (enc.input_ids as Tensor).tolist()[0] as (bigint | number)[];
    const kept: { pos: number; token: string }[] = [];
    ids.forEach((id, pos) => {
      const n = Number(id);
      if (!this.special.has(n) || n === tokenizer.unk_token_id) kept.push({ pos, token: this.idToToken[n] ?? tokenizer.unk_token });
    });
    const spans = alignTokens(
      text,
      kept.map((k) => k.token),
      { unkToken: tokenizer.unk_token, wordPiece: this.wordPiece },
    );
    // alignTokens drops tokens it cannot place; walk both lists by token order.
    const labelled: TokenLabel[] = [];
    let k = 0;
    for (const span of spans) {
      while (k < kept.length && kept[k].token !== span.token) k++;
      if (k >= kept.length) break;
      const probs = softmax(row(logits, kept[k].pos));
      let best = 0;
      for (let j = 1; j < probs.length; j++) if (probs[j] > probs[best]) best = j;
      labelled.push({ span, label: labels[best], probability: probs[best] });
      k++;
    }
    return bioSlots(text, labelled, this.typeMap);
  }

  dispose(): Promise<unknown> {
    return this.m.model.dispose();
  }
}

export class TransformersTaskModel implements TaskModel {
  private disposed = false;

  private constructor(
    readonly task: TaskName,
    private readonly m: Loaded,
    /** hubnlu label per model output (text-classification) or per candidate (zero-shot). */
    private readonly mapped: readonly string[],
    private readonly zeroShot: { readonly hypotheses: readonly string[]; readonly entailment: number } | null,
    private readonly slots: SlotModel | null,
  ) {}

  static async load(task: TaskName, dir: string, settings: BackendSettings = {}): Promise<TransformersTaskModel> {
    const s = settings.transformers;
    const t: TransformersTaskSettings = s?.[task] ?? {};
    const setting = settingPath(task);
    const kind = t.task ?? 'text-classification';
    if (kind === 'zero-shot-classification' && task !== 'intent') {
      throw new Error(`${setting}.task: zero-shot-classification serves intents only; use text-classification for ${task}`);
    }
    if (t.slotsFrom !== undefined && task !== 'intent') throw new Error(`${setting}.slotsFrom: slots belong to the intent model; move it to models.transformers.intent`);
    const candidates = Object.entries(t.candidateLabels ?? {});
    if (kind === 'zero-shot-classification' && candidates.length < 2) {
      throw new Error(`${setting}.candidateLabels: zero-shot-classification needs at least two intents, e.g. {"lights_on": "turning the lights on", "weather_query": "the weather"}`);
    }
    const template = t.hypothesisTemplate ?? DEFAULT_HYPOTHESIS;
    if (!template.includes('{}')) throw new Error(`${setting}.hypothesisTemplate: "${template}" has no {} for the label; use e.g. "${DEFAULT_HYPOTHESIS}"`);
    const m = await loadHf(task, dir, 'sequence', s, t.quantized, `models.${task}`);
    try {
      const zeroShot =
        kind === 'zero-shot-classification'
          ? { hypotheses: candidates.map(([label, description]) => template.replace('{}', description || label)), entailment: entailmentId(m.labels, setting) }
          : null;
      const mapped = zeroShot ? candidates.map(([label]) => label) : mapLabels(task, m.labels, t.labelMap, setting);
      const slots = t.slotsFrom ? await SlotModel.load(t.slotsFrom, s, t) : null;
      return new TransformersTaskModel(task, m, mapped, zeroShot, slots);
    } catch (err) {
      await m.model.dispose().catch(() => undefined);
      throw err;
    }
  }

  get ref(): ModelRef {
    return { task: this.task, ...this.m.ref };
  }

  get labels(): readonly string[] {
    return [...new Set(this.mapped)];
  }

  get hasSlots(): boolean {
    return this.slots !== null;
  }

  async classify(input: PreparedText): Promise<readonly ScoredLabel[]> {
    const { tokenizer, model, maxLength } = this.m;
    if (this.zeroShot) {
      const { hypotheses, entailment } = this.zeroShot;
      const texts = hypotheses.map(() => input.text);
      const enc = tokenizer(texts, { text_pair: [...hypotheses], padding: true, truncation: true, max_length: maxLength });
      const logits = logitsOf(await model(enc), `models.${this.task}`);
      const ent = hypotheses.map((_, i) => row(logits, i)[entailment]);
      return rankMapped(softmax(ent), this.mapped);
    }
    const enc = tokenizer(input.text, { truncation: true, max_length: maxLength });
    const logits = logitsOf(await model(enc), `models.${this.task}`);
    return rankMapped(softmax(row(logits, 0)), this.mapped);
  }

  async tagSlots(input: PreparedText): Promise<SlotResult[]> {
    if (!this.slots || input.text.trim() === '') return [];
    return this.slots.tag(input.text);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    await Promise.allSettled([this.m.model.dispose(), this.slots?.dispose()]);
  }
}
