/**
 * fastText-style classifier (Joulin et al. 2017, "Bag of Tricks"): the rows of
 * a sentence's hashed features are averaged into one vector, optionally passed
 * through one ReLU hidden layer, then a linear layer gives class logits.
 * Trained with per-example SGD and a linearly decaying learning rate, in the
 * order given by a seeded PRNG, so a run is reproducible bit for bit.
 *
 * Why this architecture for a hub: inference is one gather + mean + a small
 * matmul (tens of microseconds), training is minutes on two cores in plain
 * TypeScript, and the same code can retrain on a user's corrections on the hub.
 */
import { mulberry32, shuffleInPlace } from '../data/random.js';

export interface FastTextOptions {
  /** Embedding size. */
  readonly dim: number;
  /** Hidden ReLU layer size; 0 for none (plain fastText). */
  readonly hidden: number;
  readonly epochs: number;
  /** Initial learning rate; decays linearly to 0 over all epochs. */
  readonly lr: number;
  readonly seed: number;
  /** Target smoothing ε: the gold class gets 1-ε, the rest share ε. */
  readonly labelSmoothing: number;
  /**
   * Train one model per seed and join them into one (see `concatEnsemble`):
   * the shipped model's logits are the mean of the members' logits, with
   * `dim × seeds.length` embedding dimensions. Linear models only (hidden 0).
   * Unset or one seed: a single model with `seed`.
   */
  readonly ensembleSeeds?: readonly number[];
  /**
   * Polyak averaging: the returned weights are the mean of the weights after
   * each step of the last epoch instead of the final ones (computed exactly,
   * without storing the steps: avg = w_T − Σ_s (s−1)·Δ_s / T). Off by default.
   */
  readonly averageLastEpoch?: boolean;
  /**
   * Export a linear model with its output layer folded into the rows (see
   * `foldLinearOutput`): numClasses − 1 stored dimensions instead of `dim`, the
   * same probabilities. Off by default; pays off when classes < dim.
   */
  readonly foldOutput?: boolean;
  /**
   * The last `pretrainedDims` of the `dim` embedding dimensions hold a
   * pre-trained view (see `ClassifierTrainConfig.frozenView`): their rows
   * learn at `lr × pretrainedLr` (0: frozen; only the output layer reads
   * them). Unset: every dimension learns at `lr`.
   */
  readonly pretrainedDims?: number;
  readonly pretrainedLr?: number;
  /**
   * Joint intent + slot training (issue 13): an auxiliary multi-label head
   * (sigmoid per label, cross-entropy) reads the same sentence vector and
   * predicts `Example.aux` (e.g. which slot types the sentence holds); its
   * gradient, × `auxWeight`, trains the rows too. The head is not part of the
   * returned weights (nothing changes at inference). Linear models only; unset
   * or 0: off, and training is exactly as without it.
   */
  readonly auxLabels?: number;
  readonly auxWeight?: number;
}

export const DEFAULT_FASTTEXT: FastTextOptions = {
  dim: 64,
  hidden: 0,
  epochs: 20,
  lr: 0.5,
  seed: 1,
  labelSmoothing: 0,
};

export interface Example {
  /** Compact feature rows (may be empty). */
  readonly rows: Int32Array;
  /** Denominator of the average: all features of the sentence, known or not (see `EncodedText`). */
  readonly count: number;
  readonly label: number;
  /** Loss weight (class balance, pseudo-label confidence); 1 by default. */
  readonly weight: number;
  /**
   * Soft target (a teacher's probabilities, numClasses long, summing to 1):
   * trained towards it instead of the smoothed one-hot `label` (distillation).
   */
  readonly soft?: Float32Array;
  /** Positive labels of the auxiliary head (`FastTextOptions.auxLabels`); absent: the example does not train it. */
  readonly aux?: Int32Array;
}

/** Trained weights, all row-major Float32Arrays. */
export interface FastTextWeights {
  readonly numRows: number;
  readonly dim: number;
  readonly hidden: number;
  readonly numClasses: number;
  /** [numRows, dim] */
  readonly emb: Float32Array;
  /** [dim, hidden] and [hidden] when hidden > 0 */
  readonly w1: Float32Array | null;
  readonly b1: Float32Array | null;
  /** [in, numClasses], in = hidden || dim */
  readonly w2: Float32Array;
  readonly b2: Float32Array;
}

export interface EpochReport {
  readonly epoch: number;
  readonly epochs: number;
  readonly loss: number;
  readonly seconds: number;
}

/** Forward pass in plain TypeScript (used for training-time evaluation and pseudo-labelling). */
export class FastTextScorer {
  private readonly h0: Float32Array;
  private readonly h1: Float32Array;

  constructor(readonly w: FastTextWeights) {
    this.h0 = new Float32Array(w.dim);
    this.h1 = new Float32Array(Math.max(1, w.hidden));
  }

  /** Writes logits into `out` (length numClasses). An empty row list gives the biases alone. */
  logits(rows: Int32Array, count: number, out: Float32Array): Float32Array {
    const { dim, hidden, numClasses, emb, w1, b1, w2, b2 } = this.w;
    const h0 = this.h0;
    h0.fill(0);
    const n = rows.length;
    for (let i = 0; i < n; i++) {
      const off = rows[i] * dim;
      for (let d = 0; d < dim; d++) h0[d] += emb[off + d];
    }
    if (count > 0) for (let d = 0; d < dim; d++) h0[d] /= count;
    let x = h0;
    let xdim = dim;
    if (hidden > 0 && w1 && b1) {
      const h1 = this.h1;
      for (let j = 0; j < hidden; j++) h1[j] = b1[j];
      for (let d = 0; d < dim; d++) {
        const v = h0[d];
        if (v === 0) continue;
        const off = d * hidden;
        for (let j = 0; j < hidden; j++) h1[j] += v * w1[off + j];
      }
      for (let j = 0; j < hidden; j++) if (h1[j] < 0) h1[j] = 0;
      x = h1;
      xdim = hidden;
    }
    for (let c = 0; c < numClasses; c++) out[c] = b2[c];
    for (let d = 0; d < xdim; d++) {
      const v = x[d];
      if (v === 0) continue;
      const off = d * numClasses;
      for (let c = 0; c < numClasses; c++) out[c] += v * w2[off + c];
    }
    return out;
  }
}

/** In-place softmax of `x / temperature`; returns x. */
export function softmaxInPlace(x: Float32Array | number[], temperature = 1): typeof x {
  let max = -Infinity;
  for (let i = 0; i < x.length; i++) if (x[i] / temperature > max) max = x[i] / temperature;
  let sum = 0;
  for (let i = 0; i < x.length; i++) {
    x[i] = Math.exp(x[i] / temperature - max);
    sum += x[i];
  }
  for (let i = 0; i < x.length; i++) x[i] /= sum;
  return x;
}

/**
 * Trains from scratch. `onEpoch` is called after each epoch (for progress bars
 * and dev evaluation); it may be async-free only: training is synchronous so
 * it stays fast, and callers that need a responsive event loop run it in a
 * worker.
 */
export function trainFastText(
  examples: readonly Example[],
  numRows: number,
  numClasses: number,
  opts: FastTextOptions,
  onEpoch?: (r: EpochReport, weights: FastTextWeights) => void,
  /** Continue from these weights (copied, not modified) instead of a fresh init: fine-tuning. */
  init?: FastTextWeights,
): FastTextWeights {
  const { dim, hidden, epochs, lr, seed, labelSmoothing } = opts;
  const averaging = opts.averageLastEpoch === true;
  const frozenFrom = dim - (opts.pretrainedDims ?? 0);
  const pretrainedLr = opts.pretrainedLr ?? 0;
  if (frozenFrom < 0 || (frozenFrom < dim && hidden > 0)) throw new Error('fasttext.pretrainedDims: at most dim, and linear models (hidden 0) only');
  if (init && (init.numRows !== numRows || init.dim !== dim || init.hidden !== hidden || init.numClasses !== numClasses)) {
    throw new Error('fine-tuning: the initial weights do not match the requested shape');
  }
  if (numClasses < 2) throw new Error(`training needs at least two labels, got ${numClasses}`);
  if (examples.length === 0) throw new Error('training needs at least one example');
  const rand = mulberry32(seed);
  const emb = new Float32Array(numRows * dim);
  // fastText's init: uniform(-1/dim, 1/dim) input rows, zero output layer.
  for (let i = 0; i < emb.length; i++) emb[i] = (rand() * 2 - 1) / dim;
  const xdim = hidden > 0 ? hidden : dim;
  let w1: Float32Array | null = null;
  let b1: Float32Array | null = null;
  if (hidden > 0) {
    w1 = new Float32Array(dim * hidden);
    b1 = new Float32Array(hidden);
    // He init scaled to the small averaged inputs.
    const s = Math.sqrt(6 / (dim + hidden));
    for (let i = 0; i < w1.length; i++) w1[i] = (rand() * 2 - 1) * s;
  }
  const w2 = new Float32Array(xdim * numClasses);
  const b2 = new Float32Array(numClasses);
  if (hidden > 0) {
    const s = Math.sqrt(6 / (xdim + numClasses));
    for (let i = 0; i < w2.length; i++) w2[i] = (rand() * 2 - 1) * s;
  }
  if (init) {
    emb.set(init.emb);
    w2.set(init.w2);
    b2.set(init.b2);
    if (w1 && init.w1) w1.set(init.w1);
    if (b1 && init.b1) b1.set(init.b1);
  }
  const weights: FastTextWeights = { numRows, dim, hidden, numClasses, emb, w1, b1, w2, b2 };
  // Polyak averaging accumulators: u += k·Δ for the k-th update (0-based) of the last epoch.
  const uEmb = averaging ? new Float64Array(emb.length) : null;
  const uW2 = averaging ? new Float64Array(w2.length) : null;
  const uB2 = averaging ? new Float64Array(b2.length) : null;
  const uW1 = averaging && w1 ? new Float64Array(w1.length) : null;
  const uB1 = averaging && b1 ? new Float64Array(b1.length) : null;

  const h0 = new Float32Array(dim);
  const h1 = new Float32Array(Math.max(1, hidden));
  const p = new Float32Array(numClasses);
  const gx = new Float32Array(xdim);
  const g0 = new Float32Array(dim);
  // Auxiliary head (joint slot-type prediction): zero-initialised, so it draws nothing from `rand`.
  const auxN = opts.auxLabels ?? 0;
  const auxW = auxN > 0 ? opts.auxWeight ?? 0 : 0;
  if (auxW > 0 && hidden > 0) throw new Error('fasttext.auxLabels: linear models (hidden 0) only');
  const wa = new Float32Array(auxW > 0 ? dim * auxN : 0);
  const ba = new Float32Array(auxW > 0 ? auxN : 0);
  const pa = new Float32Array(auxW > 0 ? auxN : 0);
  const order = examples.map((_, i) => i);
  const total = epochs * examples.length;
  let step = 0;
  const offTarget = labelSmoothing / numClasses;
  const onTarget = 1 - labelSmoothing + offTarget;

  for (let epoch = 1; epoch <= epochs; epoch++) {
    const t0 = performance.now();
    shuffleInPlace(order, rand);
    let lossSum = 0;
    let weightSum = 0;
    const avgEpoch = averaging && epoch === epochs;
    let k = 0;
    for (const idx of order) {
      const ex = examples[idx];
      const rate = lr * Math.max(0, 1 - step / total) * ex.weight;
      step++;
      const rows = ex.rows;
      const n = rows.length;
      // forward
      h0.fill(0);
      for (let i = 0; i < n; i++) {
        const off = rows[i] * dim;
        for (let d = 0; d < dim; d++) h0[d] += emb[off + d];
      }
      const count = ex.count;
      if (count > 0) for (let d = 0; d < dim; d++) h0[d] /= count;
      let x = h0;
      if (hidden > 0) {
        for (let j = 0; j < hidden; j++) h1[j] = b1![j];
        for (let d = 0; d < dim; d++) {
          const v = h0[d];
          const off = d * hidden;
          for (let j = 0; j < hidden; j++) h1[j] += v * w1![off + j];
        }
        for (let j = 0; j < hidden; j++) if (h1[j] < 0) h1[j] = 0;
        x = h1;
      }
      let max = -Infinity;
      for (let c = 0; c < numClasses; c++) {
        let s = b2[c];
        for (let d = 0; d < xdim; d++) s += x[d] * w2[d * numClasses + c];
        p[c] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let c = 0; c < numClasses; c++) {
        p[c] = Math.exp(p[c] - max);
        sum += p[c];
      }
      for (let c = 0; c < numClasses; c++) p[c] /= sum;
      lossSum -= ex.weight * Math.log(Math.max(p[ex.label], 1e-12));
      weightSum += ex.weight;
      // backward: g = p - target (stored in p)
      const soft = ex.soft;
      if (soft) for (let c = 0; c < numClasses; c++) p[c] -= soft[c];
      else for (let c = 0; c < numClasses; c++) p[c] -= c === ex.label ? onTarget : offTarget;
      gx.fill(0);
      for (let d = 0; d < xdim; d++) {
        const xd = x[d];
        const off = d * numClasses;
        let acc = 0;
        for (let c = 0; c < numClasses; c++) {
          acc += p[c] * w2[off + c];
          const dl = rate * p[c] * xd;
          w2[off + c] -= dl;
          if (avgEpoch) uW2![off + c] -= k * dl;
        }
        gx[d] = acc;
      }
      if (auxW > 0 && ex.aux) {
        // σ(b + xᵀW) − target, per auxiliary label; its gradient joins the sentence vector's (gx) × auxWeight.
        for (let j = 0; j < auxN; j++) {
          let s = ba[j];
          for (let d = 0; d < dim; d++) s += x[d] * wa[d * auxN + j];
          pa[j] = 1 / (1 + Math.exp(-s));
        }
        for (const j of ex.aux) pa[j] -= 1;
        const ar = rate * auxW;
        for (let d = 0; d < dim; d++) {
          const xd = x[d];
          const off = d * auxN;
          let acc = 0;
          for (let j = 0; j < auxN; j++) {
            acc += pa[j] * wa[off + j];
            wa[off + j] -= ar * pa[j] * xd;
          }
          gx[d] += auxW * acc;
        }
        for (let j = 0; j < auxN; j++) ba[j] -= ar * pa[j];
      }
      for (let c = 0; c < numClasses; c++) {
        b2[c] -= rate * p[c];
        if (avgEpoch) uB2![c] -= k * rate * p[c];
      }
      let gIn = gx;
      if (hidden > 0) {
        g0.fill(0);
        for (let j = 0; j < hidden; j++) if (h1[j] <= 0) gx[j] = 0;
        for (let d = 0; d < dim; d++) {
          const off = d * hidden;
          const v = h0[d];
          let acc = 0;
          for (let j = 0; j < hidden; j++) {
            acc += gx[j] * w1![off + j];
            const dl = rate * gx[j] * v;
            w1![off + j] -= dl;
            if (avgEpoch) uW1![off + j] -= k * dl;
          }
          g0[d] = acc;
        }
        for (let j = 0; j < hidden; j++) {
          b1![j] -= rate * gx[j];
          if (avgEpoch) uB1![j] -= k * rate * gx[j];
        }
        gIn = g0;
      }
      if (n > 0 && frozenFrom < dim) {
        // A pre-trained view in the last dimensions: they learn at their own rate (0: not at all).
        const scale = rate / count;
        const pScale = scale * pretrainedLr;
        for (let i = 0; i < n; i++) {
          const off = rows[i] * dim;
          for (let d = 0; d < frozenFrom; d++) emb[off + d] -= scale * gIn[d];
          if (avgEpoch) for (let d = 0; d < frozenFrom; d++) uEmb![off + d] -= k * scale * gIn[d];
          if (pScale !== 0) {
            for (let d = frozenFrom; d < dim; d++) emb[off + d] -= pScale * gIn[d];
            if (avgEpoch) for (let d = frozenFrom; d < dim; d++) uEmb![off + d] -= k * pScale * gIn[d];
          }
        }
      } else if (n > 0) {
        const scale = rate / count;
        for (let i = 0; i < n; i++) {
          const off = rows[i] * dim;
          for (let d = 0; d < dim; d++) emb[off + d] -= scale * gIn[d];
          if (avgEpoch) for (let d = 0; d < dim; d++) uEmb![off + d] -= k * scale * gIn[d];
        }
      }
      k++;
    }
    if (avgEpoch && k > 0) {
      const fold = (w: Float32Array, u: Float64Array | null): void => {
        if (u) for (let i = 0; i < w.length; i++) w[i] -= u[i] / k;
      };
      fold(emb, uEmb);
      fold(w2, uW2);
      fold(b2, uB2);
      if (w1) fold(w1, uW1);
      if (b1) fold(b1, uB1);
    }
    onEpoch?.({ epoch, epochs, loss: lossSum / Math.max(weightSum, 1e-12), seconds: (performance.now() - t0) / 1000 }, weights);
  }
  return weights;
}

/**
 * A linear model's logits are b + W2ᵀ·mean(E[ids]); softmax ignores a shift
 * shared by all classes, so only each row's contribution E_r·W2 projected
 * onto the classes' zero-sum subspace matters. With an orthonormal basis U
 * ([numClasses − 1, numClasses]) of that subspace, rows E'_r = E_r·W2·Uᵀ and
 * output layer U give logits that differ from the original by one constant
 * per sentence: identical probabilities and argmax, with numClasses − 1
 * numbers a row instead of `dim` (2 instead of 8 for three classes).
 */
export function foldLinearOutput(w: FastTextWeights): FastTextWeights {
  if (w.hidden !== 0) throw new Error('foldLinearOutput: only linear models (hidden 0) can be folded');
  const C = w.numClasses;
  const k = C - 1;
  // Helmert basis of {z : Σ z = 0}: u_j = (1, …, 1, −j, 0, …) / √(j(j+1)) with j ones.
  const u = new Float64Array(k * C);
  for (let j = 1; j <= k; j++) {
    const norm = Math.sqrt(j * (j + 1));
    for (let c = 0; c < j; c++) u[(j - 1) * C + c] = 1 / norm;
    u[(j - 1) * C + j] = -j / norm;
  }
  const emb = new Float32Array(w.numRows * k);
  const z = new Float64Array(C);
  for (let r = 0; r < w.numRows; r++) {
    z.fill(0);
    for (let d = 0; d < w.dim; d++) {
      const v = w.emb[r * w.dim + d];
      for (let c = 0; c < C; c++) z[c] += v * w.w2[d * C + c];
    }
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let c = 0; c < C; c++) s += z[c] * u[j * C + c];
      emb[r * k + j] = s;
    }
  }
  return { numRows: w.numRows, dim: k, hidden: 0, numClasses: C, emb, w1: null, b1: null, w2: Float32Array.from(u), b2: Float32Array.from(w.b2) };
}

/** Keeps only the given rows (in the given order) of a trained model. */
export function selectRows(w: FastTextWeights, keep: Int32Array): FastTextWeights {
  const emb = new Float32Array(keep.length * w.dim);
  for (let i = 0; i < keep.length; i++) emb.set(w.emb.subarray(keep[i] * w.dim, (keep[i] + 1) * w.dim), i * w.dim);
  return { ...w, numRows: keep.length, emb };
}

/** L2 norm of each embedding row. */
export function rowNorms(w: FastTextWeights): Float32Array {
  const out = new Float32Array(w.numRows);
  for (let r = 0; r < w.numRows; r++) {
    let s = 0;
    for (let d = 0; d < w.dim; d++) s += w.emb[r * w.dim + d] ** 2;
    out[r] = Math.sqrt(s);
  }
  return out;
}

/**
 * Joins linear fastText models trained on the same rows into one model whose
 * logits are the mean of theirs: logits = Σ_k (W_k · mean(E_k[ids]) + b_k) / K
 * = [W_1; …; W_K]/K · mean([E_1 | … | E_K][ids]) + Σ b_k / K. Same graph and
 * runtime, just wider rows (dim = Σ dim_k).
 */
export function concatEnsemble(members: readonly FastTextWeights[]): FastTextWeights {
  if (members.length === 0) throw new Error('concatEnsemble: no models');
  const { numRows, numClasses } = members[0];
  for (const m of members) {
    if (m.hidden !== 0) throw new Error('concatEnsemble: only linear models (hidden 0) can be joined');
    if (m.numRows !== numRows || m.numClasses !== numClasses) throw new Error('concatEnsemble: the models differ in rows or classes');
  }
  const k = members.length;
  const dim = members.reduce((s, m) => s + m.dim, 0);
  const emb = new Float32Array(numRows * dim);
  const w2 = new Float32Array(dim * numClasses);
  const b2 = new Float32Array(numClasses);
  let at = 0;
  for (const m of members) {
    for (let r = 0; r < numRows; r++) emb.set(m.emb.subarray(r * m.dim, (r + 1) * m.dim), r * dim + at);
    for (let i = 0; i < m.w2.length; i++) w2[at * numClasses + i] = m.w2[i] / k;
    for (let c = 0; c < numClasses; c++) b2[c] += m.b2[c] / k;
    at += m.dim;
  }
  return { numRows, dim, hidden: 0, numClasses, emb, w1: null, b1: null, w2, b2 };
}
