/**
 * Post-training adjustments fit on dev data:
 * - temperature scaling (Guo et al. 2017): one scalar T dividing the logits,
 *   chosen to minimise dev NLL, so confidences mean what they say and
 *   `models.unknownThreshold` is a probability;
 * - per-class logit offsets (prior correction) chosen to maximise dev macro-F1,
 *   for label distributions that differ between training data and use.
 */
import { classificationMetrics, expectedCalibrationError, negativeLogLikelihood } from '../eval/metrics.js';

export interface ScoredSet {
  /** One logit vector per example, in label order. */
  readonly logits: readonly Float32Array[];
  /** Gold label index, or -1 when the model cannot produce the gold label. */
  readonly gold: readonly number[];
}

function softmax(logits: Float32Array, t: number, bias?: Float64Array): Float64Array {
  const p = new Float64Array(logits.length);
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) {
    p[i] = (logits[i] + (bias ? bias[i] : 0)) / t;
    if (p[i] > max) max = p[i];
  }
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    p[i] = Math.exp(p[i] - max);
    sum += p[i];
  }
  for (let i = 0; i < p.length; i++) p[i] /= sum;
  return p;
}

function argmax(x: ArrayLike<number>): number {
  let b = 0;
  for (let i = 1; i < x.length; i++) if (x[i] > x[b]) b = i;
  return b;
}

export interface CalibrationStats {
  readonly nll: number;
  readonly ece: number;
  readonly accuracy: number;
}

/** NLL, ECE and accuracy of `softmax(logits / t)`. Unproducible gold labels count as wrong with probability 0. */
export function calibrationStats(set: ScoredSet, t: number): CalibrationStats {
  const pGold: number[] = [];
  const conf: number[] = [];
  const correct: boolean[] = [];
  set.logits.forEach((l, i) => {
    const p = softmax(l, t);
    const top = argmax(p);
    const g = set.gold[i];
    pGold.push(g >= 0 ? p[g] : 0);
    conf.push(p[top]);
    correct.push(top === g);
  });
  const acc = correct.filter(Boolean).length / Math.max(1, correct.length);
  return { nll: negativeLogLikelihood(pGold), ece: expectedCalibrationError(conf, correct), accuracy: acc };
}

export interface TemperatureFit {
  readonly temperature: number;
  readonly before: CalibrationStats;
  readonly after: CalibrationStats;
}

/**
 * Fits T by golden-section search on log T in [1/100, 100] minimising the NLL of
 * the examples whose gold label the model can produce (the others have no
 * finite NLL and say nothing about T).
 */
export function fitTemperature(set: ScoredSet): TemperatureFit {
  const idx = set.gold.map((g, i) => (g >= 0 ? i : -1)).filter((i) => i >= 0);
  const fitSet: ScoredSet = { logits: idx.map((i) => set.logits[i]), gold: idx.map((i) => set.gold[i]) };
  const nll = (logT: number): number => calibrationStats(fitSet, Math.exp(logT)).nll;
  let a = Math.log(1 / 100);
  let b = Math.log(100);
  const phi = (Math.sqrt(5) - 1) / 2;
  let c = b - phi * (b - a);
  let d = a + phi * (b - a);
  let fc = nll(c);
  let fd = nll(d);
  for (let it = 0; it < 60 && b - a > 1e-4; it++) {
    if (fc < fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - phi * (b - a);
      fc = nll(c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + phi * (b - a);
      fd = nll(d);
    }
  }
  const temperature = Math.exp((a + b) / 2);
  return { temperature, before: calibrationStats(set, 1), after: calibrationStats(set, temperature) };
}

/** Macro-F1 of argmax(logits + bias) on a set. */
export function macroF1WithBias(set: ScoredSet, bias: Float64Array, labels: readonly string[]): number {
  const gold: string[] = [];
  const pred: string[] = [];
  set.logits.forEach((l, i) => {
    let b = 0;
    for (let c = 1; c < l.length; c++) if (l[c] + bias[c] > l[b] + bias[b]) b = c;
    pred.push(labels[b]);
    gold.push(set.gold[i] >= 0 ? labels[set.gold[i]] : '\u0000unproducible');
  });
  return classificationMetrics(gold, pred).macroF1;
}

/** What bias tuning maximises over the dev sets: mean macro-F1, or mean plus worst-case macro-F1 (no set left behind). */
export type BiasObjective = 'mean' | 'mean+worst';

/**
 * Per-class logit offsets maximising the mean dev macro-F1 over `sets` (or
 * the mean plus the worst set's, see `BiasObjective`). Class
 * 0's offset stays 0 (only differences matter). With three classes the grid
 * is searched exhaustively (macro-F1 is a step function: coordinate search
 * stalls on its plateaus); with more, coordinate search over the grid.
 * Ties go to the smallest total adjustment, for stability.
 */
export function tuneClassBiases(
  sets: readonly ScoredSet[],
  labels: readonly string[],
  grid = { min: -2, max: 2, step: 0.05 },
  rounds = 3,
  objective: BiasObjective = 'mean',
): { bias: Float64Array; score: number } {
  const k = labels.length;
  const bias = new Float64Array(k);
  const score = (): number => {
    const f1 = sets.map((s) => macroF1WithBias(s, bias, labels));
    const mean = f1.reduce((a, b) => a + b, 0) / f1.length;
    return objective === 'mean+worst' ? mean + Math.min(...f1) : mean;
  };
  const values: number[] = [];
  for (let i = 0; ; i++) {
    const v = Math.round((grid.min + i * grid.step) * 1000) / 1000;
    if (v > grid.max + 1e-9) break;
    values.push(v);
  }
  let best = score();
  let bestSize = 0;
  if (k === 3) {
    let b1 = 0;
    let b2 = 0;
    for (const v1 of values) {
      for (const v2 of values) {
        bias[1] = v1;
        bias[2] = v2;
        const s = score();
        const size = Math.abs(v1) + Math.abs(v2);
        if (s > best + 1e-9 || (Math.abs(s - best) <= 1e-9 && size < bestSize)) {
          best = Math.max(best, s);
          bestSize = size;
          b1 = v1;
          b2 = v2;
        }
      }
    }
    bias[1] = b1;
    bias[2] = b2;
    return { bias, score: score() };
  }
  for (let r = 0; r < rounds; r++) {
    let improved = false;
    for (let c = 1; c < k; c++) {
      let bestV = bias[c];
      for (const v of values) {
        bias[c] = v;
        const s = score();
        if (s > best + 1e-9 || (Math.abs(s - best) <= 1e-9 && Math.abs(v) < Math.abs(bestV))) {
          if (s > best + 1e-9) improved = true;
          best = Math.max(best, s);
          bestV = v;
        }
      }
      bias[c] = bestV;
    }
    if (!improved) break;
  }
  return { bias, score: score() };
}
