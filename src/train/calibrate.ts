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
 * Fits T by golden-section search on log T in [1/20, 20] minimising the NLL of
 * the examples whose gold label the model can produce (the others have no
 * finite NLL and say nothing about T).
 */
export function fitTemperature(set: ScoredSet): TemperatureFit {
  const idx = set.gold.map((g, i) => (g >= 0 ? i : -1)).filter((i) => i >= 0);
  const fitSet: ScoredSet = { logits: idx.map((i) => set.logits[i]), gold: idx.map((i) => set.gold[i]) };
  const nll = (logT: number): number => calibrationStats(fitSet, Math.exp(logT)).nll;
  let a = Math.log(1 / 20);
  let b = Math.log(20);
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

/**
 * Per-class logit offsets maximising the mean dev macro-F1 over `sets`
 * (coordinate search on a grid; class 0's offset stays 0 since only
 * differences matter). Meant for few-class tasks (sentiment).
 */
export function tuneClassBiases(sets: readonly ScoredSet[], labels: readonly string[], grid = { min: -3, max: 3, step: 0.1 }, rounds = 3): { bias: Float64Array; score: number } {
  const k = labels.length;
  const bias = new Float64Array(k);
  const score = (): number => sets.reduce((a, s) => a + macroF1WithBias(s, bias, labels), 0) / sets.length;
  let best = score();
  for (let r = 0; r < rounds; r++) {
    let improved = false;
    for (let c = 1; c < k; c++) {
      const keep = bias[c];
      let bestV = keep;
      for (let v = grid.min; v <= grid.max + 1e-9; v += grid.step) {
        bias[c] = Math.round(v * 1000) / 1000;
        const s = score();
        // Prefer the smallest adjustment among ties, for stability.
        if (s > best + 1e-9 || (Math.abs(s - best) <= 1e-9 && Math.abs(bias[c]) < Math.abs(bestV))) {
          if (s > best + 1e-9) improved = true;
          best = Math.max(best, s);
          bestV = bias[c];
        }
      }
      bias[c] = bestV;
    }
    if (!improved) break;
  }
  return { bias, score: best };
}
