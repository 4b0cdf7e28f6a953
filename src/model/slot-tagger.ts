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
import { OnnxModel } from './onnx-backend.js';
import { SlotFeatureRemap, slotFeatureIds, SLOT_FEATURES_VERSION, type SlotFeaturizerSettings } from './slot-features.js';
import { normalizeSlotValue } from './slot-values.js';
import type { Token } from './text.js';
import type { SlotResult } from './types.js';
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

/** A slot result from a token span: offsets into the original text, normalised value. */
export function slotFromSpan(text: string, tokens: readonly Token[], span: TagSpan): SlotResult {
  const start = tokens[span.first].start;
  const end = tokens[span.last].end;
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
  readonly files: { readonly model: string; readonly remap?: string };
  readonly model?: Readonly<Record<string, unknown>>;
  readonly metrics?: Readonly<Record<string, number | null>>;
  readonly training?: Readonly<Record<string, unknown>>;
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
  if (!f || f.version !== SLOT_FEATURES_VERSION) {
    fail(modelDir, `featurizer version ${f?.version ?? 'missing'} is not ${SLOT_FEATURES_VERSION}, the one this hubnlu computes`);
  }
  if (!s.files || typeof s.files.model !== 'string') fail(modelDir, '`slots.files.model` is missing');
  return s as SlotsManifest;
}

export class SlotTagger {
  private constructor(
    private readonly model: OnnxModel,
    private readonly remap: SlotFeatureRemap | null,
    readonly section: SlotsManifest,
    private readonly inputName: string,
  ) {}

  static async load(modelDir: string, manifest: unknown): Promise<SlotTagger> {
    const section = readSlotsManifest(modelDir, manifest);
    const remap = section.files.remap
      ? SlotFeatureRemap.decode(new Uint8Array(await readFile(join(modelDir, section.files.remap))))
      : null;
    const model = await OnnxModel.load(join(modelDir, section.files.model));
    if (model.outputNames[0] !== 'scores') {
      await model.dispose();
      fail(modelDir, `${section.files.model} has no \`scores\` output`);
    }
    return new SlotTagger(model, remap, section, model.inputNames[0]);
  }

  get types(): readonly string[] {
    return this.section.types;
  }

  /** Per-token tag log-probabilities and probabilities, [tokens.length, tags]. */
  async scores(tokens: readonly Token[], intent: string | null): Promise<{ logp: Float32Array; probs: Float32Array }> {
    const f = this.section.featurizer;
    const ids = slotFeatureIds(tokens, intent && intent !== UNKNOWN_INTENT ? intent : null, f);
    let rows: BigInt64Array;
    if (this.remap) rows = this.remap.apply(ids);
    else rows = BigInt64Array.from(ids, (x) => BigInt(x));
    const out = await this.model.run({ [this.inputName]: { type: 'int64', data: rows, dims: [tokens.length, f.maxFeatures] } });
    const logp = Float32Array.from(out.scores.data);
    const probs = logSoftmaxRows(logp, tokens.length, this.section.tags.length);
    return { logp, probs };
  }

  /** Slots in `text` (tokens from `tokenize(text)`), conditioned on the predicted intent. */
  async tag(text: string, tokens: readonly Token[], intent: string | null): Promise<SlotResult[]> {
    if (tokens.length === 0) return [];
    const nTags = this.section.tags.length;
    const { logp, probs } = await this.scores(tokens, intent);
    const tags = viterbiBio(logp, tokens.length, nTags);
    return spansFromTags(tags, this.section.types, probs, nTags).map((s) => slotFromSpan(text, tokens, s));
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}
