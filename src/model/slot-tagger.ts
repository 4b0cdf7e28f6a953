/**
 * The slot tagger at run time: tokens → feature ids (slot-features.ts, the same
 * code the trainer uses) → `slots.onnx` (per-token BIO tag scores) → Viterbi
 * decoding under BIO constraints → slots with normalised values.
 *
 * The decoding helpers are exported because the trainer evaluates with exactly
 * the same code on its fp32 weights.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isRowWiseTagger, MIXTURE_INPUTS, mixtureTaggerGraph } from './batch-graph.js';
import { OnnxModel } from './onnx-backend.js';
import { outsideDir } from './manifest.js';
import {
  HashedWordClasses,
  SlotFeatureRemap,
  slotFeatureIdsInto,
  slotIntentFeatureCount,
  slotIntentIdsInto,
  SLOT_FEATURES_VERSION,
  SLOT_FEATURES_VERSION_CLASSES,
  type SlotFeaturizerSettings,
} from './slot-features.js';
import { normalizeSlotValue, unitTokensAfter } from './slot-values.js';
import type { Token } from './text.js';
import type { ScoredLabel, SlotResult } from './types.js';
import { UNKNOWN_INTENT } from './types.js';

// ---------------------------------------------------------------------------
// BIO tag set

/** Tag names for slot types: `O`, then `B-type`, `I-type` for each type in order. */
export function bioTags(types: readonly string[]): string[] {
  const tags = ['O'];
  for (const t of types) tags.push(`B-${t}`, `I-${t}`);
  return tags;
}

/** Tag index layout shared by trainer and runtime: O = 0, B-types[i] = 1 + 2i, I-types[i] = 2 + 2i. */
export function isInside(tag: number): boolean {
  return tag > 0 && tag % 2 === 0;
}

export function typeOfTag(tag: number): number {
  return tag === 0 ? -1 : (tag - 1) >> 1;
}

/** Whether `next` may follow `prev` (prev = -1 at the sentence start): I-x only after B-x or I-x. */
export function allowedTransition(prev: number, next: number): boolean {
  if (!isInside(next)) return true;
  return prev > 0 && typeOfTag(prev) === typeOfTag(next);
}

/**
 * Best tag sequence under the BIO constraints, given per-token scores
 * (log-probabilities or any additive scores), row-major [n, nTags].
 * Without learned transition weights the best predecessor of O and B-x is the
 * best tag overall, and that of I-x is B-x or I-x, so this runs in O(n·tags).
 */
export function viterbiBio(scores: Float32Array | Float64Array, n: number, nTags: number): Int32Array {
  const out = new Int32Array(n);
  if (n === 0) return out;
  let prev = new Float64Array(nTags);
  let cur = new Float64Array(nTags);
  const back = new Int32Array(n * nTags);
  for (let j = 0; j < nTags; j++) prev[j] = isInside(j) ? -Infinity : scores[j];
  for (let i = 1; i < n; i++) {
    let best = 0;
    for (let j = 1; j < nTags; j++) if (prev[j] > prev[best]) best = j;
    const row = i * nTags;
    for (let j = 0; j < nTags; j++) {
      let from = best;
      if (isInside(j)) from = prev[j - 1] >= prev[j] ? j - 1 : j; // B-x is j-1
      const s = prev[from];
      cur[j] = s === -Infinity ? -Infinity : s + scores[row + j];
      back[row + j] = from;
    }
    [prev, cur] = [cur, prev];
  }
  let last = 0;
  for (let j = 1; j < nTags; j++) if (prev[j] > prev[last]) last = j;
  out[n - 1] = last;
  for (let i = n - 1; i > 0; i--) out[i - 1] = back[i * nTags + out[i]];
  return out;
}

/**
 * Transition weights of a CRF-trained tagger: [(tags + 2), tags] row-major;
 * row i < tags holds the scores of i → j, row `tags` the start scores, row
 * `tags + 1` the end scores. Disallowed transitions are never read.
 */
export type BioTransitions = Float32Array;

/**
 * Best tag sequence under the BIO constraints with learned transition scores.
 * O and B-x may follow any tag; I-x only B-x or I-x, so a step costs
 * (1 + types)·tags + 2·types instead of tags².
 */
export function viterbiBioCrf(scores: Float32Array | Float64Array, n: number, nTags: number, trans: BioTransitions): Int32Array {
  const out = new Int32Array(n);
  if (n === 0) return out;
  const { range } = transitionBounds(trans, nTags);
  const scratch = crfScratch(n, nTags);
  let prev = scratch.prev;
  let cur = scratch.cur;
  const back = scratch.back;
  const active = scratch.active;
  const start = nTags * nTags;
  for (let j = 0; j < nTags; j++) prev[j] = isInside(j) ? -Infinity : scores[j] + trans[start + j];
  for (let i = 1; i < n; i++) {
    const row = i * nTags;
    // Exact pruning: a predecessor more than `range` below the best one cannot win any
    // O/B column (range bounds how much a transition can make up), so only a few
    // of the tags are expanded; the loop order keeps ties as the full search breaks them.
    let mx = -Infinity;
    for (let p = 0; p < nTags; p++) if (prev[p] > mx) mx = prev[p];
    let na = 0;
    for (let p = 0; p < nTags; p++) if (prev[p] >= mx - range) active[na++] = p;
    // I-x (even j ≥ 2): from B-x (j - 1) or I-x (j).
    for (let j = 2; j < nTags; j += 2) {
      const b = prev[j - 1] + trans[(j - 1) * nTags + j];
      const c = prev[j] + trans[j * nTags + j];
      if (b >= c) {
        cur[j] = b;
        back[row + j] = j - 1;
      } else {
        cur[j] = c;
        back[row + j] = j;
      }
    }
    // O and B-x (0 and odd j): the best active predecessor. Predecessor-major, so each reads one row of `trans`
    // in order; every column still sees the predecessors in ascending order and keeps the first best, as before.
    for (let j = 0; j < nTags; j = j === 0 ? 1 : j + 2) {
      cur[j] = -Infinity;
      back[row + j] = 0;
    }
    for (let q = 0; q < na; q++) {
      const p = active[q];
      const pv = prev[p];
      const tp = p * nTags;
      for (let j = 0; j < nTags; j = j === 0 ? 1 : j + 2) {
        const v = pv + trans[tp + j];
        if (v > cur[j]) {
          cur[j] = v;
          back[row + j] = p;
        }
      }
    }
    for (let j = 0; j < nTags; j++) cur[j] += scores[row + j];
    const swap = prev;
    prev = cur;
    cur = swap;
  }
  const end = (nTags + 1) * nTags;
  let last = 0;
  let bestEnd = -Infinity;
  for (let j = 0; j < nTags; j++) {
    const v = prev[j] + trans[end + j];
    if (v > bestEnd) {
      bestEnd = v;
      last = j;
    }
  }
  out[n - 1] = last;
  for (let i = n - 1; i > 0; i--) out[i - 1] = back[i * nTags + out[i]];
  return out;
}

/**
 * Working arrays of `viterbiBioCrf`, reused by every call (decoding is synchronous): a sentence allocated four typed
 * arrays, the back pointers n × tags (issue 10, CPU and garbage per message).
 */
let crfWork = { prev: new Float64Array(0), cur: new Float64Array(0), back: new Int32Array(0), active: new Int32Array(0) };

function crfScratch(n: number, nTags: number): typeof crfWork {
  if (crfWork.prev.length < nTags || crfWork.back.length < n * nTags) {
    const tags = Math.max(nTags, crfWork.prev.length);
    crfWork = {
      prev: new Float64Array(tags),
      cur: new Float64Array(tags),
      back: new Int32Array(Math.max(n * nTags, crfWork.back.length, 32 * tags)),
      active: new Int32Array(tags),
    };
  }
  return crfWork;
}

/**
 * Confidence of each chosen tag of a CRF path, given its decoded neighbours:
 * the softmax, over the tags allowed between y[t-1] and y[t+1], of
 * emission(j) + trans(y[t-1] → j) + trans(j → y[t+1]), taken at y[t]. Written
 * into `out[t * nTags + tags[t]]` (what `spansFromTags` reads). Exact CRF
 * marginals need a forward-backward pass over all tags (~0.1 ms for a sentence
 * of 7 tokens and 113 tags); this costs one pass over the tags per token.
 * `into`: `transposeTransitions(trans)`, when the matrix no longer changes (the runtime's), so the scores into the
 * next tag are read in order.
 */
export function neighbourConfidences(
  scores: Float32Array,
  n: number,
  nTags: number,
  trans: BioTransitions,
  tags: Int32Array,
  out: Float32Array,
  into?: Float32Array,
): void {
  const start = nTags * nTags;
  const end = (nTags + 1) * nTags;
  for (let t = 0; t < n; t++) {
    const prev = t > 0 ? tags[t - 1] : -1;
    const next = t < n - 1 ? tags[t + 1] : -1;
    const o = t * nTags;
    // allowedTransition(prev, j) and allowedTransition(j, next) written out: an I-x needs prev of type x, and an I-y
    // next needs j of type y.
    const prevType = prev > 0 ? (prev - 1) >> 1 : -2;
    const nextInside = next > 0 && (next & 1) === 0;
    const nextType = nextInside ? (next - 1) >> 1 : -3;
    const fromRow = prev < 0 ? start : prev * nTags;
    const y = tags[t];
    let chosen = scores[o + y];
    chosen += trans[fromRow + y];
    chosen += next < 0 ? trans[end + y] : trans[y * nTags + next];
    // The scores of moving on, trans(j → next) for every j: a column of `trans`, or a row of its transpose when the
    // caller has one (issue 10: read in order); the end scores after the last token.
    const to = next < 0 || !into ? trans : into;
    const toRow = next < 0 ? end : into ? next * nTags : next;
    const step = next >= 0 && !into ? nTags : 1;
    let z = 0;
    for (let j = 0; j < nTags; j++) {
      const type = (j - 1) >> 1;
      if (j > 0 && (j & 1) === 0 && type !== prevType) continue;
      if (nextInside && (j === 0 || type !== nextType)) continue;
      let v = scores[o + j];
      v += trans[fromRow + j];
      v += to[toRow + j * step];
      z += Math.exp(v - chosen);
    }
    out[o + y] = 1 / z;
  }
}

/** The tags × tags part of `trans` transposed (into[j · tags + i] = trans[i · tags + j]), for `neighbourConfidences`. */
export function transposeTransitions(trans: BioTransitions, nTags: number): Float32Array {
  const t = new Float32Array(nTags * nTags);
  for (let i = 0; i < nTags; i++) for (let j = 0; j < nTags; j++) t[j * nTags + i] = trans[i * nTags + j];
  return t;
}

const boundsCache = new WeakMap<BioTransitions, { range: number }>();

/** max over O/B columns j of (max_p trans[p→j] − min_p trans[p→j]): how much a transition can reorder predecessors. */
function transitionBounds(trans: BioTransitions, nTags: number): { range: number } {
  let b = boundsCache.get(trans);
  if (b) return b;
  let range = 0;
  for (let j = 0; j < nTags; j++) {
    if (isInside(j)) continue;
    let lo = Infinity;
    let hi = -Infinity;
    for (let p = 0; p < nTags; p++) {
      const v = trans[p * nTags + j];
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
    range = Math.max(range, hi - lo);
  }
  b = { range };
  boundsCache.set(trans, b);
  return b;
}


/**
 * Linear-chain CRF over BIO tags: forward-backward in probability space with
 * per-step scaling. The trainer uses it for the loss gradient (marginals and
 * expected transition counts), the runtime for slot confidences (marginals).
 * O and B-x may follow any tag, I-x only B-x or I-x.
 */
export class BioCrf {
  /** Tags that may follow any tag (O and every B-x). */
  private readonly open: Int32Array;
  private expT: Float64Array;
  /** expT transposed (tags × tags part only), for the backward pass's column sums. */
  private expTT: Float64Array;
  private alpha = new Float64Array(0);
  private beta = new Float64Array(0);
  private psi = new Float64Array(0);
  private scale = new Float64Array(0);
  private tmp: Float64Array;
  private active: Int32Array;
  private rows: Int32Array;

  /** @param negligible forward / backward mass (relative, per step) below which a tag is not expanded. */
  constructor(
    readonly nTags: number,
    private readonly negligible = 1e-12,
  ) {
    const open: number[] = [];
    for (let j = 0; j < nTags; j++) if (!isInside(j)) open.push(j);
    this.open = Int32Array.from(open);
    this.expT = new Float64Array((nTags + 2) * nTags);
    this.expTT = new Float64Array(nTags * nTags);
    this.tmp = new Float64Array(nTags);
    this.active = new Int32Array(nTags);
    this.rows = new Int32Array(nTags);
  }

  /** Call after the transition weights changed (the runtime calls it once, at load). */
  setTransitions(trans: Float32Array): void {
    const T = this.nTags;
    for (let i = 0; i < trans.length; i++) this.expT[i] = Math.exp(trans[i]);
    for (let i = 0; i < T; i++) for (let j = 0; j < T; j++) this.expTT[j * T + i] = this.expT[i * T + j];
  }

  private ensure(n: number): void {
    const size = n * this.nTags;
    if (this.alpha.length >= size) return;
    this.alpha = new Float64Array(size);
    this.beta = new Float64Array(size);
    this.psi = new Float64Array(size);
    this.scale = new Float64Array(n);
  }

  /**
   * Per-token marginals of the tags into `probs` [n, tags]; adds the expected
   * transition counts (start, pairs, end) into `expected` when given. Returns log Z.
   */
  marginals(scores: Float32Array, n: number, probs: Float32Array, expected?: Float64Array): number {
    const T = this.nTags;
    const E = this.expT;
    const open = this.open;
    this.ensure(n);
    const { alpha, beta, psi, scale, active } = this;
    let logZ = 0;
    for (let t = 0; t < n; t++) {
      let mx = -Infinity;
      for (let j = 0; j < T; j++) if (scores[t * T + j] > mx) mx = scores[t * T + j];
      // Clamped so a reachable tag never underflows to 0 while an unreachable one holds the max.
      for (let j = 0; j < T; j++) psi[t * T + j] = Math.exp(Math.max(scores[t * T + j] - mx, -60));
      logZ += mx;
    }
    // Forward.
    const start = T * T;
    let c = 0;
    for (let j = 0; j < T; j++) {
      const v = isInside(j) ? 0 : E[start + j] * psi[j];
      alpha[j] = v;
      c += v;
    }
    scale[0] = c;
    for (let j = 0; j < T; j++) alpha[j] /= c;
    for (let t = 1; t < n; t++) {
      const a0 = (t - 1) * T;
      const a1 = t * T;
      c = 0;
      // Predecessors whose forward mass is negligible are skipped (alpha sums to 1 at
      // each step): a tagger is sure of most tokens, so a step costs a few · tags
      // instead of tags².
      let na = 0;
      for (let p = 0; p < T; p++) if (alpha[a0 + p] > this.negligible) active[na++] = p;
      for (const j of open) {
        let s = 0;
        for (let q = 0; q < na; q++) {
          const p = active[q];
          s += alpha[a0 + p] * E[p * T + j];
        }
        const v = s * psi[a1 + j];
        alpha[a1 + j] = v;
        c += v;
      }
      for (let j = 2; j < T; j += 2) {
        const v = (alpha[a0 + j - 1] * E[(j - 1) * T + j] + alpha[a0 + j] * E[j * T + j]) * psi[a1 + j];
        alpha[a1 + j] = v;
        c += v;
      }
      scale[t] = c;
      for (let j = 0; j < T; j++) alpha[a1 + j] /= c;
    }
    const end = (T + 1) * T;
    const last = (n - 1) * T;
    let zEnd = 0;
    for (let j = 0; j < T; j++) zEnd += alpha[last + j] * E[end + j];
    for (let t = 0; t < n; t++) logZ += Math.log(scale[t]);
    logZ += Math.log(zEnd);
    // Backward, scaled so that alpha·beta are the marginals. Only successors j whose
    // marginal p_{t+1}(j) = α·β exceeds `negligible` are expanded: every path through a
    // dropped j carries at most p_{t+1}(j) of the mass, so each drop moves any marginal
    // by at most `negligible` (and the expected counts likewise).
    for (let j = 0; j < T; j++) beta[last + j] = E[end + j] / zEnd;
    const x = this.tmp;
    const ET = this.expTT;
    for (let t = n - 2; t >= 0; t--) {
      const b0 = t * T;
      const b1 = (t + 1) * T;
      let nx = 0;
      const inv = 1 / scale[t + 1];
      for (let j = 0; j < T; j++) {
        if (alpha[b1 + j] * beta[b1 + j] <= this.negligible) continue;
        x[j] = psi[b1 + j] * beta[b1 + j] * inv;
        active[nx++] = j;
      }
      beta.fill(0, b0, b0 + T);
      for (let q = 0; q < nx; q++) {
        const j = active[q];
        const xj = x[j];
        if (isInside(j)) {
          // I-x follows only B-x (j - 1) or I-x (j).
          beta[b0 + j - 1] += E[(j - 1) * T + j] * xj;
          beta[b0 + j] += E[j * T + j] * xj;
        } else {
          const col = j * T;
          for (let i = 0; i < T; i++) beta[b0 + i] += ET[col + i] * xj;
        }
      }
      if (expected) {
        // Pairwise marginals ξ(i → j) = α_t(i) M(i, j) x(j) ≤ p_t(i): rows with a
        // negligible marginal are skipped like the columns.
        const rows = this.rows;
        let nr = 0;
        for (let i = 0; i < T; i++) if (alpha[b0 + i] * beta[b0 + i] > this.negligible) rows[nr++] = i;
        for (let q = 0; q < nx; q++) {
          const j = active[q];
          const xj = x[j];
          if (isInside(j)) {
            expected[(j - 1) * T + j] += alpha[b0 + j - 1] * E[(j - 1) * T + j] * xj;
            expected[j * T + j] += alpha[b0 + j] * E[j * T + j] * xj;
          } else {
            for (let r = 0; r < nr; r++) {
              const i = rows[r];
              expected[i * T + j] += alpha[b0 + i] * E[i * T + j] * xj;
            }
          }
        }
      }
    }
    for (let k = 0; k < n * T; k++) probs[k] = alpha[k] * beta[k];
    if (expected) {
      for (let j = 0; j < T; j++) {
        expected[start + j] += probs[j];
        expected[end + j] += probs[last + j];
      }
    }
    return logZ;
  }
}

/** In-place log-softmax of each row; returns the probabilities too (for confidences). */
export function logSoftmaxRows(scores: Float32Array, n: number, nTags: number): Float32Array {
  const probs = new Float32Array(n * nTags);
  for (let i = 0; i < n; i++) {
    const o = i * nTags;
    let max = -Infinity;
    for (let j = 0; j < nTags; j++) if (scores[o + j] > max) max = scores[o + j];
    let sum = 0;
    for (let j = 0; j < nTags; j++) {
      const e = Math.exp(scores[o + j] - max);
      probs[o + j] = e;
      sum += e;
    }
    const lse = max + Math.log(sum);
    for (let j = 0; j < nTags; j++) {
      probs[o + j] /= sum;
      scores[o + j] -= lse;
    }
  }
  return probs;
}

export interface TagSpan {
  readonly type: string;
  /** Token range [first, last]. */
  readonly first: number;
  readonly last: number;
  /** Mean probability of the chosen tags over the span's tokens. */
  readonly confidence: number;
}

/** Spans from a valid tag sequence (a stray I-x is treated as B-x, so invalid input still yields spans). */
export function spansFromTags(tags: Int32Array, types: readonly string[], probs?: Float32Array, nTags = 0): TagSpan[] {
  const out: TagSpan[] = [];
  let i = 0;
  while (i < tags.length) {
    const t = tags[i];
    if (t === 0) {
      i++;
      continue;
    }
    const ty = typeOfTag(t);
    let j = i + 1;
    while (j < tags.length && isInside(tags[j]) && typeOfTag(tags[j]) === ty) j++;
    let conf = 1;
    if (probs) {
      conf = 0;
      for (let k = i; k < j; k++) conf += probs[k * nTags + tags[k]];
      conf /= j - i;
    }
    out.push({ type: types[ty], first: i, last: j - 1, confidence: conf });
    i = j;
  }
  return out;
}

/** Slot results of the spans of one sentence, in order. */
export function slotsFromSpans(text: string, tokens: readonly Token[], spans: readonly TagSpan[]): SlotResult[] {
  return spans.map((s, i) => slotFromSpan(text, tokens, s, i + 1 < spans.length ? spans[i + 1].first : tokens.length));
}

/** A slot result from a token span: offsets into the original text, normalised value. */
export function slotFromSpan(text: string, tokens: readonly Token[], span: TagSpan, nextFirst = tokens.length): SlotResult {
  const start = tokens[span.first].start;
  // A unit said right after a number belongs to the slot ("21°C" tagged as "21"),
  // unless the next slot already starts there.
  const last = Math.min(span.last + unitTokensAfter(tokens, span.last), nextFirst - 1);
  const end = tokens[last].end;
  const raw = text.slice(start, end);
  const v = normalizeSlotValue(span.type, raw);
  const base = { type: span.type, value: v.value, raw, start, end, confidence: span.confidence };
  return v.unit ? { ...base, unit: v.unit } : base;
}

// ---------------------------------------------------------------------------
// Manifest section and runtime

/** The `slots` section of an intent model's manifest.json. */
export interface SlotsManifest {
  readonly tags: readonly string[];
  readonly types: readonly string[];
  readonly featurizer: SlotFeaturizerSettings;
  /** `transitions`: little-endian float32 [(tags + 2), tags] CRF transition scores (see `BioTransitions`). */
  /** `classes`: the word class table (`HashedWordClasses`) when `featurizer.wordClasses` is set. */
  readonly files: { readonly model: string; readonly remap?: string; readonly transitions?: string; readonly classes?: string };
  readonly model?: Readonly<Record<string, unknown>>;
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly training?: Readonly<Record<string, unknown>>;
  /** Decode over the classifier's likely intents instead of the accepted one (`IntentMixture`); absent: the accepted intent only. */
  readonly intentMixture?: IntentMixture;
}

/**
 * Joint intent + slot decoding (issue 13): the tagger's emission scores are mixed over the classifier's `top`
 * intents (at most the three alternatives the registry ranks), each weighted by its calibrated probability, with the rest of the probability mass on the scores with no
 * intent; intents below `floor` give their mass to no intent, which is left out below `floor` too, and the weights
 * are renormalised. Viterbi then decodes the mixed scores once. A sure classifier (top intent ≥ 1 − floor) gives
 * exactly the one-intent scores; an unsure one no longer bets the slots on its first guess, and an intent under the
 * unknown threshold still informs the slots (docs/slot-tagger.md, "third pass"). A model that sets it runs its tagger
 * file in the mixture form (`mixtureTaggerGraph`): the intent-independent features are computed and summed once a
 * token, whatever the number of parts.
 */
export interface IntentMixture {
  readonly top: number;
  readonly floor: number;
}

/** One intent of a mixture (null: the scores with no intent) and its weight; the weights sum to 1. */
export interface MixturePart {
  readonly intent: string | null;
  readonly weight: number;
}

/** The mixture's parts for a ranking (most likely first, calibrated probabilities; see `IntentMixture`). */
export function mixtureParts(ranked: readonly ScoredLabel[], m: IntentMixture): MixturePart[] {
  const parts: MixturePart[] = [];
  let mass = 0;
  for (const r of ranked.slice(0, m.top)) {
    if (r.confidence < m.floor || r.name === UNKNOWN_INTENT) continue;
    parts.push({ intent: r.name, weight: r.confidence });
    mass += r.confidence;
  }
  const rest = 1 - mass;
  if (rest >= m.floor || parts.length === 0) parts.push({ intent: null, weight: Math.max(rest, 0) });
  const z = parts.reduce((a, x) => a + x.weight, 0);
  return z > 0 ? parts.map((x) => ({ intent: x.intent, weight: x.weight / z })) : [{ intent: null, weight: 1 }];
}

function fail(modelDir: string, what: string): never {
  throw new Error(`slot tagger in ${modelDir}: ${what}; retrain with \`hubnlu train --task intent\` or \`npm run train:models\``);
}

/** Reads and checks the `slots` section of a manifest object. */
export function readSlotsManifest(modelDir: string, manifest: unknown): SlotsManifest {
  const m = manifest as { slots?: unknown } | null;
  const s = m && typeof m === 'object' ? (m.slots as Partial<SlotsManifest> | undefined) : undefined;
  if (!s || typeof s !== 'object') fail(modelDir, 'manifest.json has no `slots` section');
  if (!Array.isArray(s.types) || !Array.isArray(s.tags)) fail(modelDir, '`slots.types` and `slots.tags` must be arrays');
  const expected = bioTags(s.types as string[]);
  if (expected.length !== s.tags.length || expected.some((t, i) => t !== s.tags![i])) {
    fail(modelDir, '`slots.tags` is not the BIO tag set of `slots.types`');
  }
  const f = s.featurizer;
  if (!f || f.version !== (f.wordClasses ? SLOT_FEATURES_VERSION_CLASSES : SLOT_FEATURES_VERSION)) {
    const want = f?.wordClasses ? `${SLOT_FEATURES_VERSION_CLASSES} (with word classes)` : `${SLOT_FEATURES_VERSION}`;
    fail(modelDir, `featurizer version ${f?.version ?? 'missing'} is not ${want}, the one this hubnlu computes`);
  }
  if (!s.files || typeof s.files.model !== 'string') fail(modelDir, '`slots.files.model` is missing');
  for (const [k, name] of Object.entries(s.files)) {
    const outside = typeof name === 'string' ? outsideDir(modelDir, name) : null;
    if (outside) fail(modelDir, `\`slots.files.${k}\`: ${outside}`);
  }
  if (f.wordClasses && typeof s.files.classes !== 'string') fail(modelDir, 'the featurizer uses word classes but `slots.files.classes` is missing');
  const mx = s.intentMixture;
  if (mx !== undefined && (typeof mx !== 'object' || mx === null || !Number.isInteger(mx.top) || mx.top < 1 || !(mx.floor >= 0 && mx.floor < 1))) {
    fail(modelDir, '`slots.intentMixture` must be { top: an integer ≥ 1, floor: a number in [0, 1) }');
  }
  return s as SlotsManifest;
}

/** The hashed slot feature ids of the sentence being featurized (SlotTagger.writeFeatureRows). */
let slotIdsWork = new Int32Array(0);

/** The intent-dependent hashed ids of the sentence being featurized for the mixture graph (SlotTagger.mixtureScores). */
let slotPartIdsWork = new Int32Array(0);

/**
 * The mixture graph's inputs, reused by every call when the session runs synchronously (the native binding: it has
 * read them when `run` returns): no three new arrays a call, and none of 64 bytes or less, which V8 keeps in its heap
 * and must move out before native code reads it. Views of the one buffer each (an asynchronous session gets new ones).
 */
let mixtureWork = { ids: new Int32Array(0), select: new Float32Array(0), weight: new Float32Array(0) };

function mixtureInputs(ids: number, select: number, weight: number, reuse: boolean): typeof mixtureWork {
  if (!reuse) return { ids: new Int32Array(ids), select: new Float32Array(select), weight: new Float32Array(weight) };
  const w = mixtureWork;
  if (w.ids.length < ids || w.select.length < select || w.weight.length < weight) {
    mixtureWork = {
      ids: w.ids.length < ids ? new Int32Array(Math.max(ids, 2 * w.ids.length, 1024)) : w.ids,
      select: w.select.length < select ? new Float32Array(Math.max(select, 2 * w.select.length, 256)) : w.select,
      weight: w.weight.length < weight ? new Float32Array(Math.max(weight, 2 * w.weight.length, 256)) : w.weight,
    };
  }
  const m = mixtureWork;
  const out = { ids: m.ids.subarray(0, ids), select: m.select.subarray(0, select), weight: m.weight.subarray(0, weight) };
  out.ids.fill(0);
  out.select.fill(0);
  out.weight.fill(0);
  return out;
}

/** The confidences `SlotTagger.decode` hands to spansFromTags (see there). */
let decodeConf = new Float32Array(0);

export class SlotTagger {
  private constructor(
    private readonly model: OnnxModel,
    private readonly remap: SlotFeatureRemap | null,
    /** The word class table the features read, or undefined (`featurizer.wordClasses` unset). */
    private readonly classes: HashedWordClasses | undefined,
    private readonly transitions: BioTransitions | null,
    /** `transitions` transposed (transposeTransitions), or null without them. */
    private readonly transitionsInto: Float32Array | null,
    readonly section: SlotsManifest,
    private readonly inputName: string,
    /** Whether the graph scores each token from its own row (batch-graph.ts): several sentences' tokens per call. */
    readonly rowWise: boolean,
    /** Whether `model` is the file in its mixture form (`mixtureTaggerGraph`): every call goes through `mixtureScores`. */
    readonly mixtureGraph: boolean,
  ) {}

  /**
   * `options.mixtureGraph: false` runs the file as it is even when the manifest sets `intentMixture` (each part's rows
   * through the file, then mixed: the reference the tests compare the mixture form with).
   */
  static async load(modelDir: string, manifest: unknown, options: { readonly mixtureGraph?: boolean } = {}): Promise<SlotTagger> {
    const section = readSlotsManifest(modelDir, manifest);
    const remap = section.files.remap
      ? SlotFeatureRemap.decode(new Uint8Array(await readFile(join(modelDir, section.files.remap))))
      : null;
    let classes: HashedWordClasses | undefined;
    if (section.featurizer.wordClasses && section.files.classes) {
      classes = HashedWordClasses.decode(new Uint8Array(await readFile(join(modelDir, section.files.classes))));
      if (classes.granularities !== section.featurizer.wordClasses.granularities) {
        fail(modelDir, `${section.files.classes} has ${classes.granularities} granularities, the featurizer ${section.featurizer.wordClasses.granularities}`);
      }
    }
    let transitions: BioTransitions | null = null;
    if (section.files.transitions) {
      const bytes = await readFile(join(modelDir, section.files.transitions));
      const n = section.tags.length;
      if (bytes.length !== (n + 2) * n * 4) fail(modelDir, `${section.files.transitions} holds ${bytes.length} bytes, not ${(n + 2) * n * 4}`);
      const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      transitions = new Float32Array((n + 2) * n);
      for (let i = 0; i < transitions.length; i++) transitions[i] = dv.getFloat32(i * 4, true);
    }
    const modelFile = join(modelDir, section.files.model);
    const bytes = new Uint8Array(await readFile(modelFile));
    const rowWise = isRowWiseTagger(bytes, modelFile);
    // A model that decodes over several intents runs the mixture form of the file (the same weights: one session,
    // no more memory), when the file has the shape batch-graph.ts knows; else the file as it is.
    const mixtureBytes = section.intentMixture && options.mixtureGraph !== false ? mixtureTaggerGraph(bytes, modelFile) : null;
    // Else from the path, not the bytes just read: onnxruntime then parses the file itself and the process keeps less.
    const model = mixtureBytes ? await OnnxModel.fromBytes(mixtureBytes, modelFile) : await OnnxModel.load(modelFile);
    if (model.outputNames[0] !== 'scores') {
      await model.dispose();
      fail(modelDir, `${section.files.model} has no \`scores\` output`);
    }
    const into = transitions ? transposeTransitions(transitions, section.tags.length) : null;
    return new SlotTagger(model, remap, classes, transitions, into, section, model.inputNames[0], rowWise, mixtureBytes !== null);
  }

  get types(): readonly string[] {
    return this.section.types;
  }

  /** The file's input for `tokens`: compact feature rows [tokens.length, maxFeatures] (the mixture form takes `mixtureScores`' rows). */
  featureRows(tokens: readonly Token[], intent: string | null): BigInt64Array {
    const out = new BigInt64Array(tokens.length * this.section.featurizer.maxFeatures);
    this.writeFeatureRows(tokens, intent, out, 0);
    return out;
  }

  /** `featureRows` written into `out` from position `at` (the hashed ids go through a reused buffer, not a new array each). */
  private writeFeatureRows(tokens: readonly Token[], intent: string | null, out: BigInt64Array, at: number): number {
    const size = tokens.length * this.section.featurizer.maxFeatures;
    if (slotIdsWork.length < size) slotIdsWork = new Int32Array(Math.max(size, 2 * slotIdsWork.length));
    else slotIdsWork.fill(0, 0, size);
    const ids = slotFeatureIdsInto(tokens, intent && intent !== UNKNOWN_INTENT ? intent : null, this.section.featurizer, slotIdsWork, this.classes);
    if (this.remap) this.remap.applyInto(ids, out, at);
    else for (let i = 0; i < ids.length; i++) out[at + i] = BigInt(ids[i]);
    return size;
  }

  /** Raw per-token tag scores from the graph, [tokens.length, tags] (the caller's own array: each run's output is fresh). */
  async rawScores(tokens: readonly Token[], intent: string | null): Promise<Float32Array> {
    if (this.mixtureGraph) return this.mixtureScores([{ tokens, parts: [{ intent, weight: 1 }] }]);
    const rows = this.featureRows(tokens, intent);
    const out = await this.model.run({
      [this.inputName]: { type: 'int64', data: rows, dims: [tokens.length, this.section.featurizer.maxFeatures] },
    });
    return out.scores.data;
  }

  /** Per-token tag log-probabilities and probabilities (softmax of the scores), [tokens.length, tags]. */
  async scores(tokens: readonly Token[], intent: string | null): Promise<{ logp: Float32Array; probs: Float32Array }> {
    const logp = await this.rawScores(tokens, intent);
    const probs = logSoftmaxRows(logp, tokens.length, this.section.tags.length);
    return { logp, probs };
  }

  /** Slots in `text` (tokens from `tokenize(text)`), conditioned on the predicted intent (null or `unknown`: none). */
  async tag(text: string, tokens: readonly Token[], intent: string | null): Promise<SlotResult[]> {
    if (tokens.length === 0) return [];
    if (this.mixtureGraph) return (await this.tagMixtures([{ text, tokens, parts: [{ intent, weight: 1 }] }]))[0];
    return this.decode(text, tokens, await this.rawScores(tokens, intent));
  }

  /**
   * `tag` for several sentences: with a row-wise graph their tokens go through
   * one ONNX call (rows concatenated, scores split back), else one call each.
   */
  async tagMany(inputs: ReadonlyArray<{ readonly text: string; readonly tokens: readonly Token[]; readonly intent: string | null }>): Promise<SlotResult[][]> {
    // One part of weight 1 a sentence: its scores are used as they are (a view, no mixing).
    return this.tagMixtures(inputs.map((x) => ({ text: x.text, tokens: x.tokens, parts: [{ intent: x.intent, weight: 1 }] })));
  }

  /** The model's joint decoding over intents (`IntentMixture`), or undefined. */
  get intentMixture(): IntentMixture | undefined {
    return this.section.intentMixture;
  }

  /**
   * Slots decoded from the emission scores mixed over intents (`IntentMixture`, parts from `mixtureParts`):
   * Σ weight × the scores under each part's intent. The mixture form of the graph computes that sum in one call
   * (`mixtureScores`); with the file as it is, every part of every sentence goes through one ONNX call (a row-wise
   * graph) and the scores are mixed here. One part of weight 1 gives exactly `tag`'s slots.
   */
  async tagMixtures(inputs: ReadonlyArray<{ readonly text: string; readonly tokens: readonly Token[]; readonly parts: readonly MixturePart[] }>): Promise<SlotResult[][]> {
    if (this.mixtureGraph) {
      const scores = await this.mixtureScores(inputs);
      const nTags = this.section.tags.length;
      let token = 0;
      return inputs.map((x) => {
        const n = x.tokens.length;
        if (n === 0) return [];
        // This sentence's rows of the call's fresh output (decoding may write into them; no other sentence reads them).
        token += n;
        return this.decode(x.text, x.tokens, scores.subarray((token - n) * nTags, token * nTags));
      });
    }
    const k = this.section.featurizer.maxFeatures;
    const nTags = this.section.tags.length;
    const mixed = (n: number, scoresOf: (part: number) => Float32Array, parts: readonly MixturePart[]): Float32Array => {
      if (parts.length === 1) return scoresOf(0);
      const m = new Float32Array(n * nTags);
      parts.forEach((p, i) => {
        const s = scoresOf(i);
        for (let j = 0; j < m.length; j++) m[j] += p.weight * s[j];
      });
      return m;
    };
    if (!this.rowWise) {
      const out: SlotResult[][] = [];
      for (const x of inputs) {
        if (x.tokens.length === 0) {
          out.push([]);
          continue;
        }
        const scores: Float32Array[] = [];
        for (const p of x.parts) scores.push(await this.rawScores(x.tokens, p.intent));
        out.push(this.decode(x.text, x.tokens, mixed(x.tokens.length, (i) => scores[i], x.parts)));
      }
      return out;
    }
    let total = 0;
    for (const x of inputs) total += x.tokens.length * x.parts.length;
    if (total === 0) return inputs.map(() => []);
    // Each sentence's rows, once per part, written straight into the batch's input (no per-sentence int64 array and copy).
    const all = new BigInt64Array(total * k);
    let at = 0;
    for (const x of inputs) if (x.tokens.length > 0) for (const p of x.parts) at += this.writeFeatureRows(x.tokens, p.intent, all, at);
    const out = await this.model.run({ [this.inputName]: { type: 'int64', data: all, dims: [total, k] } });
    const scores = out.scores.data;
    let token = 0;
    return inputs.map((x) => {
      const n = x.tokens.length;
      if (n === 0) return [];
      // Views of this sentence's rows (a part of weight 1 is decoded in place: decoding may write into it, and no
      // other sentence reads it); several parts are mixed into a new array first.
      const from = token;
      token += n * x.parts.length;
      return this.decode(x.text, x.tokens, mixed(n, (i) => scores.subarray((from + i * n) * nTags, (from + (i + 1) * n) * nTags), x.parts));
    });
  }

  /**
   * The mixed emission scores of every sentence's tokens, concatenated [Σ tokens, tags], through the mixture form
   * of the graph (`mixtureTaggerGraph`; only when `mixtureGraph`). A token's row holds its intent-independent ids
   * once (`slotIntentIdsInto`: featurized once a sentence), then each part's own ids; a call with fewer parts in a
   * sentence than in another pads it with empty parts of weight 0. When some token's row under an intent would hold
   * more features than `maxFeatures` (the featurizer then drops some), each part's whole row goes in instead, so the
   * scores are always those of the file's rows (test/model/slot-tagger.test.ts compares both with the file's).
   */
  async mixtureScores(inputs: ReadonlyArray<{ readonly tokens: readonly Token[]; readonly parts: readonly MixturePart[] }>): Promise<Float32Array> {
    const K = this.section.featurizer.maxFeatures;
    const KI = slotIntentFeatureCount(this.section.featurizer);
    let tokens = 0;
    let P = 1;
    let longest = 0;
    for (const x of inputs) {
      if (x.tokens.length === 0) continue;
      tokens += x.tokens.length;
      P = Math.max(P, x.parts.length);
      longest = Math.max(longest, x.tokens.length);
    }
    if (tokens === 0) return new Float32Array(0);
    if (slotIdsWork.length < longest * K) slotIdsWork = new Int32Array(Math.max(longest * K, 2 * slotIdsWork.length));
    if (slotPartIdsWork.length < longest * P * KI) slotPartIdsWork = new Int32Array(Math.max(longest * P * KI, 2 * slotPartIdsWork.length));
    // The shared ids, then P blocks of KI intent ids; else (some row would overflow K) P blocks of K ids, nothing shared.
    const reuse = this.model.synchronous;
    let shared = K - KI;
    let block = KI;
    let width = shared + P * block;
    let work = mixtureInputs(tokens * width, P * width, tokens * P, reuse);
    if (!this.mixtureIds(inputs, width, true, work.ids)) {
      shared = 0;
      block = K;
      width = P * K;
      work = mixtureInputs(tokens * width, P * width, tokens * P, reuse);
      this.mixtureIds(inputs, width, false, work.ids);
    }
    const { ids, select, weight } = work;
    for (let p = 0; p < P; p++) {
      select.fill(1, p * width, p * width + shared);
      select.fill(1, p * width + shared + p * block, p * width + shared + (p + 1) * block);
    }
    let row = 0;
    for (const x of inputs) {
      const parts = x.parts;
      for (let i = 0; i < x.tokens.length; i++, row++) for (let p = 0; p < parts.length; p++) weight[row * P + p] = parts[p].weight;
    }
    const out = await this.model.run({
      [MIXTURE_INPUTS.ids]: { type: 'int32', data: ids, dims: [tokens, width] },
      [MIXTURE_INPUTS.select]: { type: 'float32', data: select, dims: [P, width] },
      [MIXTURE_INPUTS.weight]: { type: 'float32', data: weight, dims: [tokens, P, 1] },
    });
    return out.scores.data;
  }

  /**
   * `mixtureScores`' ids [tokens, width] (compact rows) into `ids` (all zero): split, each token's shared ids (K − KI
   * of them) then its parts' intent ids (KI each), or false when some token's would not fit (`slotIntentIdsInto`);
   * else each part's whole row (K each).
   */
  private mixtureIds(
    inputs: ReadonlyArray<{ readonly tokens: readonly Token[]; readonly parts: readonly MixturePart[] }>,
    width: number,
    split: boolean,
    ids: Int32Array,
  ): boolean {
    const s = this.section.featurizer;
    const K = s.maxFeatures;
    const KI = slotIntentFeatureCount(s);
    const shared = K - KI;
    const intents: (string | null)[] = [];
    let row = 0;
    for (const x of inputs) {
      const n = x.tokens.length;
      if (n === 0) continue;
      const parts = x.parts.length;
      intents.length = parts;
      for (let p = 0; p < parts; p++) {
        const intent = x.parts[p].intent;
        intents[p] = intent && intent !== UNKNOWN_INTENT ? intent : null;
      }
      if (split) {
        slotIdsWork.fill(0, 0, n * K);
        slotPartIdsWork.fill(0, 0, n * parts * KI);
        if (!slotIntentIdsInto(x.tokens, intents, s, slotIdsWork, slotPartIdsWork, this.classes)) return false;
        for (let i = 0; i < n; i++) {
          this.rowsInto(slotIdsWork, i * K, i * K + shared, ids, (row + i) * width);
          this.rowsInto(slotPartIdsWork, i * parts * KI, (i + 1) * parts * KI, ids, (row + i) * width + shared);
        }
      } else {
        for (let p = 0; p < parts; p++) {
          slotIdsWork.fill(0, 0, n * K);
          slotFeatureIdsInto(x.tokens, intents[p], s, slotIdsWork, this.classes);
          for (let i = 0; i < n; i++) this.rowsInto(slotIdsWork, i * K, (i + 1) * K, ids, (row + i) * width + p * K);
        }
      }
      row += n;
    }
    return true;
  }

  /** The compact rows (the remap's, or the hashed ids of a model without one) of `ids[from, to)`, written into `out` from `at`. */
  private rowsInto(ids: Int32Array, from: number, to: number, out: Int32Array, at: number): void {
    if (this.remap) this.remap.applyInto32(ids, out, at, from, to);
    else out.set(ids.subarray(from, to), at);
  }

  /** Tags and slot values from one sentence's raw scores [tokens.length, tags]. */
  private decode(text: string, tokens: readonly Token[], scores: Float32Array): SlotResult[] {
    const n = tokens.length;
    const nTags = this.section.tags.length;
    let tags: Int32Array;
    let conf: Float32Array;
    if (this.transitions) {
      // Neither decoding nor the confidences change with a per-token constant: no softmax needed.
      tags = viterbiBioCrf(scores, n, nTags, this.transitions);
      // Reused: only each token's chosen tag is written, and only those are read (spansFromTags), before the next call.
      if (decodeConf.length < n * nTags) decodeConf = new Float32Array(Math.max(n * nTags, 32 * nTags));
      conf = decodeConf;
      neighbourConfidences(scores, n, nTags, this.transitions, tags, conf, this.transitionsInto ?? undefined);
    } else {
      conf = logSoftmaxRows(scores, n, nTags);
      tags = viterbiBio(scores, n, nTags);
    }
    return slotsFromSpans(text, tokens, spansFromTags(tags, this.section.types, conf, nTags));
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
