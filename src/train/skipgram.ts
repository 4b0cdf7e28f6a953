/**
 * Unsupervised pre-training of the classifier's embedding rows in the
 * fastText skip-gram manner (Bojanowski et al. 2017): a word is the mean of
 * the rows of its own hashed features (the word unigram and its character
 * n-grams, exactly as `features.ts` hashes them for the classifier), trained
 * to predict the words around it with negative sampling. The rows it learns
 * initialise the classifier's rows for the same hashed ids (`pretrained` in
 * `trainClassifier`); bigram rows and ids it never saw start as usual.
 *
 * Seeded and synchronous: the same text and settings give the same vectors.
 */
import { mulberry32 } from '../data/random.js';
import { featurizeTokens, type FeaturizerSettings } from '../model/features.js';
import { tokenize } from '../model/text.js';

export interface SkipGramOptions {
  readonly dim: number;
  readonly epochs: number;
  readonly lr: number;
  /** Context words on each side (a random window 1..window per position, as word2vec). */
  readonly window: number;
  readonly negatives: number;
  /** Output words seen fewer times are not predicted (they still get input rows). */
  readonly minCount: number;
  readonly seed: number;
}

export const DEFAULT_SKIPGRAM: SkipGramOptions = { dim: 64, epochs: 5, lr: 0.05, window: 5, negatives: 5, minCount: 2, seed: 1 };

/** Hashed feature id → vector (row-major, `dim` wide). */
export interface PretrainedRows {
  readonly dim: number;
  /** Sorted hashed ids. */
  readonly ids: Uint32Array;
  /** [ids.length, dim] */
  readonly vectors: Float32Array;
  readonly stats: { readonly sentences: number; readonly tokens: number; readonly words: number; readonly seconds: number };
}

/** Trains input rows for every hashed id the words of `texts` produce under `settings`. */
export function pretrainSkipGram(texts: readonly string[], settings: FeaturizerSettings, options: Partial<SkipGramOptions> = {}): PretrainedRows {
  const t0 = performance.now();
  const o: SkipGramOptions = { ...DEFAULT_SKIPGRAM, ...options };
  const { dim } = o;
  // Word-level settings: the unigram and character n-grams only (no sentence cues).
  const wordSettings: FeaturizerSettings = { ...settings, surface: false, negation: false, lexicon: undefined };
  const wordIndex = new Map<string, number>();
  const wordCount: number[] = [];
  const wordRows: Int32Array[] = [];
  const rowOf = new Map<number, number>();
  const corpus: Int32Array[] = [];
  let tokens = 0;
  for (const text of texts) {
    const toks = tokenize(text);
    const sent = new Int32Array(toks.length);
    toks.forEach((tok, i) => {
      let w = wordIndex.get(tok.norm);
      if (w === undefined) {
        w = wordIndex.size;
        wordIndex.set(tok.norm, w);
        wordCount.push(0);
        const ids = [...new Set(featurizeTokens([tok], wordSettings, tok.norm))];
        wordRows.push(
          Int32Array.from(ids, (id) => {
            let r = rowOf.get(id);
            if (r === undefined) rowOf.set(id, (r = rowOf.size));
            return r;
          }),
        );
      }
      wordCount[w]++;
      sent[i] = w;
    });
    tokens += toks.length;
    if (sent.length > 1) corpus.push(sent);
  }
  const nWords = wordIndex.size;
  const nRows = rowOf.size;
  const rand = mulberry32(o.seed);
  const input = new Float32Array(nRows * dim);
  for (let i = 0; i < input.length; i++) input[i] = (rand() * 2 - 1) / dim;
  const output = new Float32Array(nWords * dim);
  // Negative-sampling table: counts^0.75 over the output vocabulary.
  const table: number[] = [];
  let z = 0;
  for (let w = 0; w < nWords; w++) if (wordCount[w] >= o.minCount) z += wordCount[w] ** 0.75;
  const TABLE = 1_000_000;
  for (let w = 0; w < nWords; w++) {
    if (wordCount[w] < o.minCount) continue;
    const n = Math.max(1, Math.round((wordCount[w] ** 0.75 / z) * TABLE));
    for (let k = 0; k < n; k++) table.push(w);
  }
  if (table.length === 0) throw new Error('skip-gram pre-training: no word is frequent enough; give more text or lower minCount');
  const h = new Float32Array(dim);
  const grad = new Float32Array(dim);
  const total = o.epochs * tokens;
  let done = 0;
  const sigmoid = (x: number): number => (x > 8 ? 1 : x < -8 ? 0 : 1 / (1 + Math.exp(-x)));
  const order = corpus.map((_, i) => i);
  for (let epoch = 0; epoch < o.epochs; epoch++) {
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    for (const si of order) {
      const sent = corpus[si];
      for (let i = 0; i < sent.length; i++) {
        const lr = o.lr * Math.max(1e-4, 1 - done / total);
        done++;
        const rows = wordRows[sent[i]];
        h.fill(0);
        for (const r of rows) for (let d = 0; d < dim; d++) h[d] += input[r * dim + d];
        for (let d = 0; d < dim; d++) h[d] /= rows.length;
        const b = 1 + Math.floor(rand() * o.window);
        for (let j = Math.max(0, i - b); j <= Math.min(sent.length - 1, i + b); j++) {
          if (j === i || wordCount[sent[j]] < o.minCount) continue;
          grad.fill(0);
          for (let k = 0; k <= o.negatives; k++) {
            const target = k === 0 ? sent[j] : table[Math.floor(rand() * table.length)];
            if (k > 0 && target === sent[j]) continue;
            const off = target * dim;
            let s = 0;
            for (let d = 0; d < dim; d++) s += h[d] * output[off + d];
            const g = lr * ((k === 0 ? 1 : 0) - sigmoid(s));
            for (let d = 0; d < dim; d++) {
              grad[d] += g * output[off + d];
              output[off + d] += g * h[d];
            }
          }
          // fastText: every input row of the word gets the whole gradient.
          for (const r of rows) for (let d = 0; d < dim; d++) input[r * dim + d] += grad[d];
        }
      }
    }
  }
  const ids = Uint32Array.from(rowOf.keys()).sort();
  const vectors = new Float32Array(ids.length * dim);
  ids.forEach((id, i) => vectors.set(input.subarray(rowOf.get(id)! * dim, rowOf.get(id)! * dim + dim), i * dim));
  return { dim, ids, vectors, stats: { sentences: corpus.length, tokens, words: nWords, seconds: (performance.now() - t0) / 1000 } };
}

/** The pre-trained vector of a hashed id, or null (binary search in the sorted ids). */
export function pretrainedRow(p: Pick<PretrainedRows, 'dim' | 'ids' | 'vectors'>, id: number): Float32Array | null {
  let lo = 0;
  let hi = p.ids.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = p.ids[mid];
    if (v === id) return p.vectors.subarray(mid * p.dim, mid * p.dim + p.dim);
    if (v < id) lo = mid + 1;
    else hi = mid - 1;
  }
  return null;
}

/**
 * A frozen word view for the classifier (`ClassifierTrainConfig.frozenView`):
 * one pre-trained vector per word, keyed by the hashed id of the word's
 * unigram feature, so that the view lives in the unigram's row of the
 * classifier's table (and folds with it into the shipped rows).
 */
export interface WordView {
  readonly dim: number;
  /** Sorted hashed unigram ids. */
  readonly ids: Uint32Array;
  /** [ids.length, dim] */
  readonly vectors: Float32Array;
}

/**
 * The word vectors of every word in `texts`, fastText style (the mean of the
 * pre-trained rows of the word's unigram and character n-grams), scaled to
 * length `scale`; words none of whose features were pre-trained are left out.
 * Two words whose unigrams hash to the same id: the first keeps it.
 */
export function wordViewFromSkipGram(p: PretrainedRows, texts: Iterable<string>, settings: FeaturizerSettings, scale: number): WordView {
  const wordSettings: FeaturizerSettings = { ...settings, surface: false, negation: false, lexicon: undefined, wordNgrams: 1 };
  const unigramSettings: FeaturizerSettings = { ...wordSettings, charNgrams: null, numberShape: false };
  const byId = new Map<number, Float32Array>();
  const seen = new Set<string>();
  for (const text of texts) {
    for (const tok of tokenize(text)) {
      if (seen.has(tok.norm)) continue;
      seen.add(tok.norm);
      const uni = featurizeTokens([tok], unigramSettings, tok.norm)[0];
      if (uni === undefined || byId.has(uni)) continue;
      const v = new Float32Array(p.dim);
      let found = 0;
      for (const id of new Set(featurizeTokens([tok], wordSettings, tok.norm))) {
        const row = pretrainedRow(p, id);
        if (!row) continue;
        found++;
        for (let d = 0; d < p.dim; d++) v[d] += row[d];
      }
      if (found === 0) continue;
      let norm = 0;
      for (let d = 0; d < p.dim; d++) norm += v[d] * v[d];
      norm = Math.sqrt(norm);
      if (norm === 0) continue;
      for (let d = 0; d < p.dim; d++) v[d] *= scale / norm;
      byId.set(uni, v);
    }
  }
  const ids = Uint32Array.from(byId.keys()).sort();
  const vectors = new Float32Array(ids.length * p.dim);
  ids.forEach((id, i) => vectors.set(byId.get(id)!, i * p.dim));
  return { dim: p.dim, ids, vectors };
}
