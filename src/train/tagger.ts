/**
 * Slot tagger trainer: hashed per-token features (src/model/slot-features.ts,
 * shared with the runtime) → summed embeddings → ReLU → BIO tag softmax, trained
 * with SGD and a linear learning-rate decay (fastText-style), seeded and
 * reproducible; decoded with BIO-constrained Viterbi (src/model/slot-tagger.ts).
 *
 * Export (`exportSlotTagger`) writes `slots.onnx`, an ONNX graph from int64 feature
 * rows [tokens, K] to tag scores [tokens, tags], with int8 weights and per-row
 * scales dequantised in the graph, plus `slots.remap`, the hashed ids the model
 * keeps (buckets seen fewer than `minCount` times in training are pruned before
 * training, so the exported model is exactly the trained one).
 */
import { readFileSync } from 'node:fs';
import { mkdir, readFile, writeFile, stat } from 'node:fs/promises';
import { isAbsolute, join } from 'node:path';
import {
  DEFAULT_SLOT_FEATURIZER,
  HashedWordClasses,
  SLOT_FEATURES_VERSION_CLASSES,
  SlotFeatureRemap,
  slotFeatureIds,
  type SlotFeaturizerSettings,
  type WordClassTable,
} from '../model/slot-features.js';
import { packageRoot } from '../util/paths.js';
import {
  bioTags,
  logSoftmaxRows,
  slotsFromSpans,
  spansFromTags,
  viterbiBio,
  viterbiBioCrf,
  neighbourConfidences,
  type IntentMixture,
  type SlotsManifest,
} from '../model/slot-tagger.js';
import { normalizeText, tokenize, type Token } from '../model/text.js';
import type { SlotResult } from '../model/types.js';
import { OnnxGraphBuilder } from './onnx-writer.js';
import { dequantizeRows, quantizeRows } from './quantize.js';
import { BioCrf, pathScore } from './tagger-crf.js';
import { harmonizeSlotConventions } from './slot-conventions.js';
import { addSlotCounts, emptySlotCounts, slotPrf, type SlotCounts } from './tagger-eval.js';
import { mulberry32 } from '../data/random.js';

/** The word class table's file in a model directory. */
export const WORD_CLASSES_FILE = 'slots.classes';

export interface GoldSlot {
  readonly type: string;
  readonly start: number;
  readonly end: number;
  readonly value?: string;
}

export interface IntentRow {
  readonly text: string;
  readonly intent: string;
  readonly slots?: readonly GoldSlot[];
  readonly source?: string;
}

export interface SlotTrainProgress {
  /** `train`, then `self-train 1/1` … when self-training. */
  readonly phase: string;
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly seconds: number;
  /** Slot F1 on `devRows` after this epoch (when given and `evalEveryEpoch`). */
  readonly devF1?: number;
}

/**
 * Training settings. The defaults were chosen on slurp.devel with the tagger
 * trained on hwu64 + mindmeld (slot F1 in points, tagger conditioned on a
 * quick classifier's intents): CRF over per-token softmax +1.5 (seed 1);
 * feature dropout 0.2 with 12 instead of 8 epochs 70.3 → 71.7 (mean of seeds
 * 1-3); dim 48 over 32 → 72.0; intent dropout 0.5 over 0.3 → 72.1 (less
 * spread across seeds). Seeds alone move the score by about ±1.
 */
export interface SlotTrainOptions {
  /** Default 1. */
  readonly seed?: number;
  /** Default 12. */
  readonly epochs?: number;
  /** Embedding / hidden width (default 48). */
  readonly dim?: number;
  /** Default relu. */
  readonly activation?: 'relu' | 'linear';
  /** Per-token softmax, or (default) a linear-chain CRF that also learns tag transition scores. */
  readonly objective?: 'softmax' | 'crf';
  /** Initial SGD learning rate, decayed linearly to 0 over training (default 0.05; 0.1 diverges). */
  readonly lr?: number;
  /** Share of training sentences whose intent features are left out, so the tagger also works without an intent (default 0.5). */
  readonly intentDropout?: number;
  /** The final weights are the mean of the weights after each of the last this many epochs (default a third; 0 or 1 = none). */
  readonly averageLast?: number;
  /** Marginal mass below which the CRF's forward-backward skips a tag (speed; default 1e-7). */
  readonly crfNegligible?: number;
  /** Share of feature occurrences left out of each training step (regularisation; default 0.2). */
  readonly featureDropout?: number;
  /** Buckets seen in fewer training tokens are not part of the model (pruning; default 2). */
  readonly minCount?: number;
  readonly featurizer?: Partial<SlotFeaturizerSettings>;
  /** The loaded word class table when `featurizer.wordClasses` is set (else read from `wordClasses`). */
  readonly wordClassTable?: WordClassTable;
  /**
   * Distributional word classes as tagger features (issue 13; `SlotFeaturizerSettings.wordClasses`): `source`,
   * a `word TAB class TAB class …` table (coarse first; a path relative to the package root or absolute, made
   * by scripts/word-classes/), of which `columns` are used; the class at `intentGranularity` (an index into
   * `columns`, -1 none) is also paired with the intent. Exported as `slots.classes`. Absent: off.
   */
  readonly wordClasses?: { readonly source: string; readonly columns: readonly number[]; readonly intentGranularity: number };
  /**
   * `hwu64`: MindMeld's `time` slots are rewritten into HWU64/SLURP's date / timeofday / time
   * convention before training (src/train/slot-conventions.ts); `hwu64+values` also gives MindMeld
   * rows the values HWU64 labels consistently in rows of their intent (measured, not shipped);
   * default `as-is`. Rows from other sources are never changed.
   */
  readonly conventions?: 'as-is' | 'hwu64' | 'hwu64+values';
  readonly devRows?: readonly IntentRow[];
  /** Which intent conditions the tagger on dev rows: the gold one, none, or a predictor's. */
  readonly devIntent?: 'gold' | 'none' | ((row: IntentRow) => string | null);
  readonly evalEveryEpoch?: boolean;
  /** In-domain sentences without labels, for self-training (see `trainSlotTagger`: no gain measured). */
  readonly unlabelled?: readonly string[];
  readonly selfTraining?: Partial<SelfTrainingSettings>;
  readonly onProgress?: (p: SlotTrainProgress) => void;
}

/** A trained tagger in fp32, as plain arrays (the trainer's and exporter's view). */
export interface SlotTaggerWeights {
  readonly types: readonly string[];
  readonly tags: readonly string[];
  readonly featurizer: SlotFeaturizerSettings;
  readonly dim: number;
  readonly activation: 'relu' | 'linear';
  /** Hashed id of each model row r ≥ 1 at kept[r - 1], ascending; row 0 is padding. */
  readonly kept: Uint32Array;
  /** [kept.length + 1, dim]; row 0 is zeros. */
  readonly emb: Float32Array;
  readonly b1: Float32Array;
  /** [tags, dim]. */
  readonly w: Float32Array;
  readonly b2: Float32Array;
  /** CRF transition scores ([tags + 2, tags], see `BioTransitions`), or null for a per-token softmax model. */
  readonly trans: Float32Array | null;
  /** The word class table the features read (when `featurizer.wordClasses` is set). */
  readonly classes?: WordClassTable;
  readonly training: {
    readonly seed: number;
    readonly objective: 'softmax' | 'crf';
    readonly epochs: number;
    readonly lr: number;
    readonly intentDropout: number;
    readonly featureDropout: number;
    readonly averageLast: number;
    readonly minCount: number;
    readonly sentences: number;
    readonly tokens: number;
    readonly seconds: number;
    readonly bucketsSeen: number;
    readonly finalLoss: number;
    readonly selfTraining?: (SelfTrainingSettings & { unlabelled: number; pseudoLabelled: readonly number[] }) | null;
    /** Slot conventions the training rows were brought to (`SlotTrainOptions.conventions`), when not as-is. */
    readonly conventions?: 'hwu64' | 'hwu64+values';
  };
}

// ---------------------------------------------------------------------------
// Data

/**
 * BIO tags of each token (O = 0, B-types[i] = 1 + 2i, I-types[i] = 2 + 2i).
 * A token belongs to a slot when it overlaps the slot's character span, so a
 * boundary inside a token ("tomorrow's" for a slot "tomorrow", "@nsa" for a
 * token "nsa") takes the whole token. A token already claimed by an earlier
 * slot keeps it; a slot none of whose tokens is free is dropped.
 */
export function bioTagIds(tokens: readonly Token[], slots: readonly GoldSlot[], typeIndex: ReadonlyMap<string, number>): Int32Array {
  const tags = new Int32Array(tokens.length);
  const sorted = [...slots].sort((a, b) => a.start - b.start || b.end - a.end);
  for (const s of sorted) {
    const ty = typeIndex.get(s.type);
    if (ty === undefined) continue;
    let first = true;
    for (let i = 0; i < tokens.length; i++) {
      const t = tokens[i];
      if (t.end <= s.start || t.start >= s.end) continue;
      if (tags[i] !== 0 && first) continue; // claimed by an earlier slot
      if (tags[i] !== 0) break; // would run into another slot
      tags[i] = first ? 1 + 2 * ty : 2 + 2 * ty;
      first = false;
    }
  }
  return tags;
}

/** Slot types of `rows`, sorted (the tag order of the model). */
export function slotTypesOf(rows: readonly IntentRow[]): string[] {
  const set = new Set<string>();
  for (const r of rows) for (const s of r.slots ?? []) set.add(s.type);
  return [...set].sort();
}

/** Reads a JSON-lines file of intent rows. */
export async function readIntentRows(path: string): Promise<IntentRow[]> {
  const text = await readFile(path, 'utf8');
  const rows: IntentRow[] = [];
  text.split('\n').forEach((line, i) => {
    if (!line.trim()) return;
    try {
      rows.push(JSON.parse(line) as IntentRow);
    } catch (e) {
      throw new Error(`${path}:${i + 1}: not JSON (${(e as Error).message})`);
    }
  });
  return rows;
}

// ---------------------------------------------------------------------------
// Seeded randomness

/**
 * Marginal mass below which the training forward-backward does not expand a tag:
 * each skipped tag moves a gradient entry by at most this much.
 */
const CRF_NEGLIGIBLE = 1e-7;

/** CRF transition updates are applied every this many sentences (each update re-exponentiates the matrix). */
const TRANSITION_BATCH = 16;

// ---------------------------------------------------------------------------
// Forward pass in fp32 (the same arithmetic as the exported graph)

/** Tag scores [n, tags] for model rows [n, K] (0 = padding). */
export function forwardScores(m: SlotTaggerWeights, rows: Int32Array, n: number): Float32Array {
  const K = m.featurizer.maxFeatures;
  const d = m.dim;
  const nTags = m.tags.length;
  const out = new Float32Array(n * nTags);
  const h = new Float32Array(d);
  for (let i = 0; i < n; i++) {
    h.set(m.b1);
    for (let k = 0; k < K; k++) {
      const r = rows[i * K + k];
      if (r === 0) continue;
      const o = r * d;
      for (let c = 0; c < d; c++) h[c] += m.emb[o + c];
    }
    if (m.activation === 'relu') for (let c = 0; c < d; c++) if (h[c] < 0) h[c] = 0;
    for (let j = 0; j < nTags; j++) {
      let s = m.b2[j];
      const o = j * d;
      for (let c = 0; c < d; c++) s += m.w[o + c] * h[c];
      out[i * nTags + j] = s;
    }
  }
  return out;
}

/** Maps hashed ids to model rows with a lookup built from `kept`. */
export function remapIds(ids: Int32Array, lookup: ReadonlyMap<number, number>): Int32Array {
  const out = new Int32Array(ids.length);
  for (let i = 0; i < ids.length; i++) out[i] = ids[i] === 0 ? 0 : lookup.get(ids[i]) ?? 0;
  return out;
}

/**
 * Tokens → model rows on the training side: the hashed ids of the shared
 * featurizer through the kept-id lookup (the runtime does the same with
 * `SlotFeatureRemap`; test/model/slot-features.test.ts checks they agree).
 */
export function trainingFeatureRows(
  tokens: readonly Token[],
  intent: string | null,
  featurizer: SlotFeaturizerSettings,
  lookup: ReadonlyMap<number, number>,
  classes?: WordClassTable,
): Int32Array {
  return remapIds(slotFeatureIds(tokens, intent, featurizer, classes), lookup);
}

/** Tags a sentence with fp32 weights in TypeScript (for training-time evaluation). */
export function tagWithWeights(
  m: SlotTaggerWeights,
  lookup: ReadonlyMap<number, number>,
  text: string,
  tokens: readonly Token[],
  intent: string | null,
): SlotResult[] {
  if (tokens.length === 0) return [];
  const rows = trainingFeatureRows(tokens, intent, m.featurizer, lookup, m.classes);
  const scores = forwardScores(m, rows, tokens.length);
  const probs = logSoftmaxRows(scores, tokens.length, m.tags.length);
  let tags: Int32Array;
  if (m.trans) {
    tags = viterbiBioCrf(scores, tokens.length, m.tags.length, m.trans);
    neighbourConfidences(scores, tokens.length, m.tags.length, m.trans, tags, probs); // as the runtime does
  } else {
    tags = viterbiBio(scores, tokens.length, m.tags.length);
  }
  return slotsFromSpans(text, tokens, spansFromTags(tags, m.types, probs, m.tags.length));
}

export function rowLookup(kept: Uint32Array): Map<number, number> {
  const map = new Map<number, number>();
  kept.forEach((id, i) => map.set(id, i + 1));
  return map;
}

function devIntentOf(opt: SlotTrainOptions['devIntent'], row: IntentRow): string | null {
  if (opt === 'none') return null;
  if (typeof opt === 'function') return opt(row);
  return row.intent;
}

/** Gold slots of a row in the evaluator's shape. */
export function goldSlots(row: IntentRow): { type: string; raw: string }[] {
  return (row.slots ?? []).map((s) => ({ type: s.type, raw: row.text.slice(s.start, s.end) }));
}

/** Slot counts of an fp32 model on rows. */
export function evaluateWeights(
  m: SlotTaggerWeights,
  rows: readonly IntentRow[],
  intentOf: SlotTrainOptions['devIntent'] = 'gold',
  perType?: Map<string, SlotCounts>,
): SlotCounts {
  const lookup = rowLookup(m.kept);
  const counts = emptySlotCounts();
  for (const r of rows) {
    const pred = tagWithWeights(m, lookup, r.text, tokenize(r.text), devIntentOf(intentOf, r));
    addSlotCounts(counts, goldSlots(r), pred, perType);
  }
  return counts;
}

// ---------------------------------------------------------------------------
// Training

interface Prepared {
  n: number;
  tags: Int32Array;
  withIntent: Int32Array; // model rows [n, K]
  noIntent: Int32Array;
}

/**
 * Trains the tagger on `rows`. With `unlabelled` text it then self-trains: tags
 * the unlabelled sentences, keeps those it is sure of (every token's marginal
 * ≥ `selfTraining.threshold`) as extra rows without an intent, and retrains
 * from scratch on both. Measured on slurp.devel with SLURP's unlabelled text
 * (three seeds): +0.9 slot F1 without an intent, −0.9 with the gold intent,
 * −0.3 with a classifier's intent, for twice the training time, so the
 * shipped recipe does not pass `unlabelled`.
 */
export function trainSlotTagger(rows: readonly IntentRow[], opts: SlotTrainOptions = {}): SlotTaggerWeights {
  const t0 = performance.now();
  if (opts.conventions === 'hwu64' || opts.conventions === 'hwu64+values') rows = harmonizeSlotConventions(rows, opts.conventions === 'hwu64+values');
  const types = slotTypesOf(rows);
  const seed = opts.seed ?? 1;
  if (opts.wordClasses && !opts.wordClassTable) {
    const wc = opts.wordClasses;
    const file = isAbsolute(wc.source) ? wc.source : join(packageRoot(), wc.source);
    opts = {
      ...opts,
      featurizer: {
        ...opts.featurizer,
        version: SLOT_FEATURES_VERSION_CLASSES,
        wordClasses: { file: WORD_CLASSES_FILE, granularities: wc.columns.length, intentGranularity: wc.intentGranularity },
      },
      wordClassTable: HashedWordClasses.fromTsv(readFileSync(file, 'utf8'), wc.columns),
    };
  }
  let m = trainOnce(rows, types, opts, seed, 'train');
  const st = { ...DEFAULT_SELF_TRAINING, ...opts.selfTraining };
  const pseudoCounts: number[] = [];
  if (opts.unlabelled && opts.unlabelled.length > 0 && st.rounds > 0) {
    const seen = new Set(rows.map((r) => normalizeText(r.text)));
    const texts = [...new Set(opts.unlabelled)].filter((t) => {
      const n = normalizeText(t);
      return n.length > 0 && !seen.has(n);
    });
    for (let round = 1; round <= st.rounds; round++) {
      const pseudo = pseudoLabel(m, texts, st.threshold);
      pseudoCounts.push(pseudo.length);
      m = trainOnce([...rows, ...pseudo], types, opts, seed + round, `self-train ${round}/${st.rounds}`);
    }
  }
  return {
    ...m,
    training: {
      ...m.training,
      seed,
      seconds: (performance.now() - t0) / 1000,
      selfTraining: pseudoCounts.length ? { ...st, unlabelled: opts.unlabelled!.length, pseudoLabelled: pseudoCounts } : null,
      ...(opts.conventions && opts.conventions !== 'as-is' ? { conventions: opts.conventions } : {}),
    },
  };
}

export interface SelfTrainingSettings {
  readonly rounds: number;
  /** A sentence is kept when every token's marginal probability of its tag is at least this. */
  readonly threshold: number;
}

export const DEFAULT_SELF_TRAINING: SelfTrainingSettings = { rounds: 1, threshold: 0.9 };

/** Rows for the unlabelled sentences the model is sure of, slots as character spans, no intent. */
export function pseudoLabel(m: SlotTaggerWeights, texts: readonly string[], threshold: number): IntentRow[] {
  const lookup = rowLookup(m.kept);
  const nTags = m.tags.length;
  const crf = m.trans ? new BioCrf(nTags) : null;
  if (crf && m.trans) crf.setTransitions(m.trans);
  const out: IntentRow[] = [];
  for (const text of texts) {
    const tokens = tokenize(text);
    if (tokens.length === 0) continue;
    const scores = forwardScores(m, trainingFeatureRows(tokens, null, m.featurizer, lookup, m.classes), tokens.length);
    const probs = logSoftmaxRows(scores, tokens.length, nTags);
    let tags: Int32Array;
    if (crf && m.trans) {
      tags = viterbiBioCrf(scores, tokens.length, nTags, m.trans);
      crf.marginals(scores, tokens.length, probs);
    } else {
      tags = viterbiBio(scores, tokens.length, nTags);
    }
    let sure = true;
    for (let i = 0; i < tokens.length && sure; i++) if (probs[i * nTags + tags[i]] < threshold) sure = false;
    if (!sure) continue;
    const slots = spansFromTags(tags, m.types).map((s) => ({ type: s.type, start: tokens[s.first].start, end: tokens[s.last].end }));
    out.push({ text, intent: '', slots, source: 'pseudo' });
  }
  return out;
}

function trainOnce(
  rows: readonly IntentRow[],
  types: readonly string[],
  opts: SlotTrainOptions,
  seed: number,
  phase: string,
): SlotTaggerWeights {
  const t0 = performance.now();
  const epochs = opts.epochs ?? 12;
  const d = opts.dim ?? 48;
  const activation = opts.activation ?? 'relu';
  const objective = opts.objective ?? 'crf';
  const lr0 = opts.lr ?? 0.05;
  const intentDropout = opts.intentDropout ?? 0.5;
  const minCount = opts.minCount ?? 2;
  const dropout = opts.featureDropout ?? 0.2;
  // Snapshot averaging over the last epochs (see the end of the epoch loop).
  const averageFrom = Math.max(0, epochs - (opts.averageLast ?? Math.floor(epochs / 3)));
  const featurizer: SlotFeaturizerSettings = { ...DEFAULT_SLOT_FEATURIZER, ...opts.featurizer };
  const K = featurizer.maxFeatures;
  const tags = bioTags(types);
  const nTags = tags.length;
  const typeIndex = new Map(types.map((t, i) => [t, i]));
  const rand = mulberry32(seed);

  // Pass 1: tokens, tags, hashed ids, bucket counts.
  const raw: { tags: Int32Array; a: Int32Array; b: Int32Array; n: number }[] = [];
  const counts = new Map<number, number>();
  let tokenCount = 0;
  for (const r of rows) {
    const tokens = tokenize(r.text);
    if (tokens.length === 0) continue;
    const a = slotFeatureIds(tokens, r.intent, featurizer, opts.wordClassTable);
    const b = featurizer.intent ? slotFeatureIds(tokens, null, featurizer, opts.wordClassTable) : a;
    // Features without the intent are a subset of those with it: counting `a` counts both.
    for (const id of a) if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    raw.push({ tags: bioTagIds(tokens, r.slots ?? [], typeIndex), a, b, n: tokens.length });
    tokenCount += tokens.length;
  }
  const keptList: number[] = [];
  for (const [id, c] of counts) if (c >= minCount) keptList.push(id);
  keptList.sort((x, y) => x - y);
  const kept = Uint32Array.from(keptList);
  const lookup = rowLookup(kept);
  const data: Prepared[] = raw.map((p) => ({
    n: p.n,
    tags: p.tags,
    withIntent: remapIds(p.a, lookup),
    noIntent: p.b === p.a ? remapIds(p.a, lookup) : remapIds(p.b, lookup),
  }));

  // Parameters: embeddings uniform in ±1/d (fastText), output weights zero.
  const R = kept.length + 1;
  const emb = new Float32Array(R * d);
  for (let i = d; i < emb.length; i++) emb[i] = (rand() * 2 - 1) / d;
  const b1 = new Float32Array(d);
  const w = new Float32Array(nTags * d);
  const b2 = new Float32Array(nTags);
  const trans = new Float32Array(objective === 'crf' ? (nTags + 2) * nTags : 0);

  const weights: SlotTaggerWeights = {
    types,
    tags,
    featurizer,
    dim: d,
    activation,
    kept,
    emb,
    b1,
    w,
    b2,
    trans: objective === 'crf' ? trans : null,
    ...(opts.wordClassTable ? { classes: opts.wordClassTable } : {}),
    training: {
      seed, epochs, objective, lr: lr0, intentDropout, featureDropout: dropout, averageLast: epochs - averageFrom, minCount, sentences: data.length, tokens: tokenCount,
      seconds: 0, bucketsSeen: counts.size, finalLoss: 0,
    },
  };

  const params = [emb, b1, w, b2, trans];
  const sums = averageFrom < epochs ? params.map((x) => new Float64Array(x.length)) : [];
  let averaged = 0;
  const crf = objective === 'crf' ? new BioCrf(nTags, opts.crfNegligible ?? CRF_NEGLIGIBLE) : null;
  const transGrad = crf ? new Float64Array(trans.length) : null;
  let pending = 0;
  crf?.setTransitions(trans);
  const maxLen = data.reduce((x, p) => Math.max(x, p.n), 0);
  const H = new Float32Array(maxLen * d); // pre-activations per token
  const A = new Float32Array(maxLen * d); // activations per token
  const S = new Float32Array(maxLen * nTags); // scores, then probabilities
  const P = new Float32Array(maxLen * nTags);
  const da = new Float32Array(d);
  const live = new Int32Array(maxLen * K); // feature rows after dropout
  const order = data.map((_, i) => i);
  const totalSteps = epochs * data.length;
  let step = 0;
  let lastLoss = 0;
  const applyTransitions = (lr: number): void => {
    if (!crf || !transGrad || pending === 0) return;
    // Clamped: exp() of the transitions must stay finite in the forward-backward pass.
    for (let k = 0; k < trans.length; k++) trans[k] = Math.max(-30, Math.min(30, trans[k] - lr * transGrad[k]));
    transGrad.fill(0);
    pending = 0;
    crf.setTransitions(trans);
  };
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    let loss = 0;
    for (const idx of order) {
      const p = data[idx];
      const n = p.n;
      const lr = lr0 * (1 - step / totalSteps);
      step++;
      const feats = featurizer.intent && rand() < intentDropout ? p.noIntent : p.withIntent;
      // Forward every token.
      for (let t = 0; t < n; t++) {
        const base = t * K;
        const ho = t * d;
        for (let c = 0; c < d; c++) H[ho + c] = b1[c];
        for (let k = 0; k < K; k++) {
          let r = feats[base + k];
          // Feature dropout: the model must also tag from the context alone (unseen names and places).
          if (r !== 0 && dropout > 0 && rand() < dropout) r = 0;
          live[base + k] = r;
          if (r === 0) continue;
          const o = r * d;
          for (let c = 0; c < d; c++) H[ho + c] += emb[o + c];
        }
        for (let c = 0; c < d; c++) A[ho + c] = activation === 'relu' && H[ho + c] < 0 ? 0 : H[ho + c];
        for (let j = 0; j < nTags; j++) {
          let v = b2[j];
          const o = j * d;
          for (let c = 0; c < d; c++) v += w[o + c] * A[ho + c];
          S[t * nTags + j] = v;
        }
      }
      // Per-token gradients of the loss with respect to the scores: P − onehot.
      if (crf && transGrad) {
        const logZ = crf.marginals(S, n, P, transGrad);
        loss += logZ - pathScore(S, n, nTags, p.tags, trans);
        const start = nTags * nTags;
        const end = start + nTags;
        transGrad[start + p.tags[0]] -= 1;
        transGrad[end + p.tags[n - 1]] -= 1;
        for (let t = 1; t < n; t++) transGrad[p.tags[t - 1] * nTags + p.tags[t]] -= 1;
        if (++pending >= TRANSITION_BATCH) applyTransitions(lr);
      } else {
        for (let t = 0; t < n; t++) {
          const o = t * nTags;
          let max = -Infinity;
          for (let j = 0; j < nTags; j++) if (S[o + j] > max) max = S[o + j];
          let sum = 0;
          for (let j = 0; j < nTags; j++) sum += P[o + j] = Math.exp(S[o + j] - max);
          for (let j = 0; j < nTags; j++) P[o + j] /= sum;
          loss -= Math.log(P[o + p.tags[t]] + 1e-12);
        }
      }
      // Backward, token by token.
      for (let t = 0; t < n; t++) {
        const y = p.tags[t];
        const ho = t * d;
        da.fill(0);
        for (let j = 0; j < nTags; j++) {
          const g = P[t * nTags + j] - (j === y ? 1 : 0);
          // Tags the model already rules out contribute nothing worth the multiply.
          if (g > -1e-5 && g < 1e-5) continue;
          const o = j * d;
          const stepJ = lr * g;
          for (let c = 0; c < d; c++) {
            da[c] += w[o + c] * g;
            w[o + c] -= stepJ * A[ho + c];
          }
          b2[j] -= stepJ;
        }
        if (activation === 'relu') for (let c = 0; c < d; c++) if (H[ho + c] <= 0) da[c] = 0;
        for (let c = 0; c < d; c++) {
          da[c] *= lr;
          b1[c] -= da[c];
        }
        const base = t * K;
        for (let k = 0; k < K; k++) {
          const r = live[base + k];
          if (r === 0) continue;
          const o = r * d;
          for (let c = 0; c < d; c++) emb[o + c] -= da[c];
        }
      }
    }
    applyTransitions(lr0 * (1 - step / totalSteps));
    lastLoss = loss / tokenCount;
    if (!Number.isFinite(lastLoss)) {
      throw new Error(`slot tagger training diverged in epoch ${epoch + 1} (loss ${lastLoss}); lower the learning rate (lr ${lr0})`);
    }
    if (epoch >= averageFrom) {
      for (let k = 0; k < params.length; k++) {
        const src = params[k];
        const dst = sums[k];
        for (let i = 0; i < src.length; i++) dst[i] += src[i];
      }
      averaged++;
    }
    if (epoch === epochs - 1 && averaged > 1) {
      // The final weights are the mean of the snapshots (SWA-style): less seed-to-seed noise.
      for (let k = 0; k < params.length; k++) {
        const dst = params[k];
        const src = sums[k];
        for (let i = 0; i < dst.length; i++) dst[i] = src[i] / averaged;
      }
    }
    let devF1: number | undefined;
    if (opts.devRows && (opts.evalEveryEpoch || epoch === epochs - 1)) {
      devF1 = slotPrf(evaluateWeights(weights, opts.devRows, opts.devIntent)).f1;
    }
    opts.onProgress?.({ phase, epoch: epoch + 1, epochs, loss: lastLoss, seconds: (performance.now() - t0) / 1000, devF1 });
  }
  return {
    ...weights,
    training: { ...weights.training, seconds: (performance.now() - t0) / 1000, finalLoss: lastLoss },
  };
}

// ---------------------------------------------------------------------------
// Quantisation and export

/** The weights as the int8 graph computes them (for measuring int8 accuracy in TypeScript). */
export function int8View(m: SlotTaggerWeights): SlotTaggerWeights {
  const R = m.kept.length + 1;
  const nTags = m.tags.length;
  return {
    ...m,
    emb: dequantizeRows(quantizeRows(m.emb, R, m.dim)),
    w: dequantizeRows(quantizeRows(m.w, nTags, m.dim)),
  };
}

/** Builds the tagger's ONNX graph: ids [T, K] int64 → scores [T, tags] float. */
export function buildSlotGraph(m: SlotTaggerWeights, precision: 'int8' | 'fp32'): Uint8Array {
  const R = m.kept.length + 1;
  const d = m.dim;
  const nTags = m.tags.length;
  const K = m.featurizer.maxFeatures;
  const g = new OnnxGraphBuilder('hubnlu_slots');
  g.input('ids', 'int64', ['tokens', K]);
  g.initializer('reduce_axes', 'int64', [1], BigInt64Array.from([1n]));
  g.initializer('b1', 'float32', [d], m.b1);
  g.initializer('b2', 'float32', [nTags], m.b2);
  let summed: string;
  let wName: string;
  if (precision === 'int8') {
    const e = quantizeRows(m.emb, R, d);
    const wq = quantizeRows(m.w, nTags, d);
    g.initializer('emb_q', 'int8', [R, d], e.q);
    g.initializer('emb_scale', 'float32', [R, 1], e.scales);
    g.initializer('w_q', 'int8', [nTags, d], wq.q);
    g.initializer('w_scale', 'float32', [nTags, 1], wq.scales);
    // Gather int8 rows first and dequantise only those: the table stays int8 in memory.
    const gq = g.node('Gather', ['emb_q', 'ids'], ['rows_q'], { axis: 0 });
    const gf = g.node('Cast', [gq], ['rows_f'], { to: 1 });
    const gs = g.node('Gather', ['emb_scale', 'ids'], ['rows_scale'], { axis: 0 });
    const rows = g.node('Mul', [gf, gs], ['rows']);
    summed = g.node('ReduceSum', [rows, 'reduce_axes'], ['summed'], { keepdims: 0 });
    const wf = g.node('Cast', ['w_q'], ['w_f'], { to: 1 });
    wName = g.node('Mul', [wf, 'w_scale'], ['w']);
  } else {
    g.initializer('emb', 'float32', [R, d], m.emb);
    g.initializer('w', 'float32', [nTags, d], m.w);
    const rows = g.node('Gather', ['emb', 'ids'], ['rows'], { axis: 0 });
    summed = g.node('ReduceSum', [rows, 'reduce_axes'], ['summed'], { keepdims: 0 });
    wName = 'w';
  }
  let hidden = g.node('Add', [summed, 'b1'], ['hidden']);
  if (m.activation === 'relu') hidden = g.node('Relu', [hidden], ['hidden_relu']);
  g.node('Gemm', [hidden, wName, 'b2'], ['scores'], { transB: 1 });
  g.output('scores', 'float32', ['tokens', nTags]);
  return g.toBytes({ opset: 17, docString: `hubnlu slot tagger (${precision})`, metadata: { task: 'slots', precision } });
}

export interface ExportOptions {
  readonly precision?: 'int8' | 'fp32';
  readonly modelFile?: string;
  readonly remapFile?: string;
  readonly transitionsFile?: string;
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly training?: Readonly<Record<string, unknown>>;
  /** Recorded as the manifest's `slots.intentMixture` (joint decoding over the likely intents); absent: none. */
  readonly intentMixture?: IntentMixture;
}

/** Little-endian float32 bytes. */
function float32Bytes(x: Float32Array): Uint8Array {
  const out = new Uint8Array(x.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < x.length; i++) dv.setFloat32(i * 4, x[i], true);
  return out;
}

/** Writes the graph and the remap into `outDir`; returns the manifest `slots` section and file sizes. */
export async function exportSlotTagger(
  m: SlotTaggerWeights,
  outDir: string,
  opts: ExportOptions = {},
): Promise<{ section: SlotsManifest; bytes: { model: number; remap: number; transitions: number; classes?: number; total: number } }> {
  const precision = opts.precision ?? 'int8';
  const modelFile = opts.modelFile ?? 'slots.onnx';
  const remapFile = opts.remapFile ?? 'slots.remap';
  await mkdir(outDir, { recursive: true });
  await writeFile(join(outDir, modelFile), buildSlotGraph(m, precision));
  await writeFile(join(outDir, remapFile), new SlotFeatureRemap(m.kept).encode());
  const transitionsFile = m.trans ? opts.transitionsFile ?? 'slots.transitions' : undefined;
  if (m.trans && transitionsFile) await writeFile(join(outDir, transitionsFile), float32Bytes(m.trans));
  const bytes = {
    model: (await stat(join(outDir, modelFile))).size,
    remap: (await stat(join(outDir, remapFile))).size,
    transitions: transitionsFile ? (await stat(join(outDir, transitionsFile))).size : 0,
    total: 0,
  };
  bytes.total = bytes.model + bytes.remap + bytes.transitions;
  let files: SlotsManifest['files'] = transitionsFile ? { model: modelFile, remap: remapFile, transitions: transitionsFile } : { model: modelFile, remap: remapFile };
  const wc = m.featurizer.wordClasses;
  if (wc) {
    if (!(m.classes instanceof HashedWordClasses)) throw new Error('exportSlotTagger: the model uses word classes but holds no HashedWordClasses table');
    await writeFile(join(outDir, wc.file), m.classes.encode());
    const size = (await stat(join(outDir, wc.file))).size;
    Object.assign(bytes, { classes: size, total: bytes.total + size });
    files = { ...files, classes: wc.file };
  }
  const section: SlotsManifest = {
    tags: m.tags,
    types: m.types,
    featurizer: m.featurizer,
    files,
    model: {
      architecture: `hashed-features-embedding-bag-${m.activation}-${m.trans ? 'crf' : 'softmax'}-bio`,
      decoding: m.trans ? 'viterbi-bio-constrained-crf-transitions' : 'viterbi-bio-constrained',
      dim: m.dim,
      activation: m.activation,
      rows: m.kept.length + 1,
      precision,
      bytes: bytes.total,
    },
    metrics: opts.metrics ?? {},
    training: { ...m.training, ...opts.training },
    ...(opts.intentMixture ? { intentMixture: { top: opts.intentMixture.top, floor: opts.intentMixture.floor } } : {}),
  };
  return { section, bytes };
}

/**
 * The manifest's slot metrics on `rows`: slot F1 of the fp32 weights and of the
 * int8 weights as the graph dequantises them (TypeScript forward pass, the same
 * arithmetic as slots.onnx; test/train/tagger.test.ts checks they agree).
 * `slot_f1` is the shipped (int8) one.
 */
export function slotMetrics(
  m: SlotTaggerWeights,
  rows: readonly IntentRow[],
  intentOf: SlotTrainOptions['devIntent'] = 'gold',
): { slot_f1: number; fp32_slot_f1: number; int8_slot_f1: number } {
  const fp32 = slotPrf(evaluateWeights(m, rows, intentOf)).f1;
  const int8 = slotPrf(evaluateWeights(int8View(m), rows, intentOf)).f1;
  return { slot_f1: int8, fp32_slot_f1: fp32, int8_slot_f1: int8 };
}

// ---------------------------------------------------------------------------
// One call for train-defaults and `hubnlu train`

export interface SlotsIntoModelDirOptions extends SlotTrainOptions {
  /** Rows to report slot F1 on (fp32 and int8, in TypeScript, same arithmetic as the graph). */
  readonly evalRows?: readonly IntentRow[];
  /** Name of the evaluation set in the manifest metrics. */
  readonly evalName?: string;
  /** Joint decoding over the likely intents, recorded in the manifest (`IntentMixture`); absent: none. */
  readonly intentMixture?: IntentMixture;
}

export interface SlotsIntoModelDirResult {
  readonly section: SlotsManifest;
  readonly bytes: { model: number; remap: number; transitions: number; classes?: number; total: number };
  readonly weights: SlotTaggerWeights;
}

/**
 * Trains the tagger on `rows`, writes its int8 files into `modelDir`, and adds
 * the `slots` section and `files.slots` to `modelDir/manifest.json` when that
 * file exists (the classifier's writer may instead take the returned section).
 * Rows may use `label` (src/train/data.ts) or `intent` for the intent.
 */
export async function trainSlotsIntoModelDir(
  modelDir: string,
  rows: readonly (IntentRow | { text: string; label: string; slots?: readonly GoldSlot[] })[],
  opts: SlotsIntoModelDirOptions = {},
): Promise<SlotsIntoModelDirResult> {
  const intentRows: IntentRow[] = rows.map((r) => ('intent' in r ? r : { text: r.text, intent: r.label, slots: r.slots }));
  const weights = trainSlotTagger(intentRows, opts);
  const metrics: Record<string, number | null> = opts.evalRows ? { ...slotMetrics(weights, opts.evalRows, opts.devIntent) } : {};
  const { section, bytes } = await exportSlotTagger(weights, modelDir, {
    precision: 'int8',
    metrics,
    training: opts.evalName ? { evaluatedOn: opts.evalName } : {},
    ...(opts.intentMixture ? { intentMixture: opts.intentMixture } : {}),
  });
  const manifestPath = join(modelDir, 'manifest.json');
  let manifest: Record<string, unknown> | null = null;
  try {
    manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new Error(`${manifestPath}: cannot update (${(e as Error).message}); fix or remove the file and retrain`);
    }
  }
  if (manifest) {
    const files = (manifest.files ?? {}) as Record<string, unknown>;
    manifest.files = { ...files, slots: section.files.model };
    manifest.slots = section;
    await writeFile(manifestPath, JSON.stringify(manifest, null, 2) + '\n');
  }
  return { section, bytes, weights };
}
