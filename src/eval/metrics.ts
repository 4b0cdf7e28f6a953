/**
 * Classification, calibration, slot and latency metrics. Pure functions on
 * plain arrays, so they are tested on hand-computed cases and shared by
 * `hubnlu eval`, the trainer's dev reports and the benchmarks.
 *
 * Conventions:
 * - A gold label the model cannot produce is simply never predicted: it counts
 *   as an error in accuracy and with recall 0 in the macro averages.
 * - macro-F1 averages over the union of gold and predicted labels (a label only
 *   ever predicted, wrongly, has F1 0); macro-recall averages over gold labels.
 * - ECE: 15 equal-width confidence bins, |accuracy − mean confidence| weighted by
 *   the bin's share of examples (Guo et al. 2017).
 */

export interface LabelScore {
  readonly label: string;
  readonly precision: number;
  readonly recall: number;
  readonly f1: number;
  /** Gold examples of this label. */
  readonly support: number;
}

export interface ConfusedPair {
  readonly gold: string;
  readonly predicted: string;
  readonly count: number;
}

export interface ClassificationMetrics {
  readonly n: number;
  readonly accuracy: number;
  readonly macroF1: number;
  readonly macroRecall: number;
  readonly perLabel: readonly LabelScore[];
  readonly confused: readonly ConfusedPair[];
}

export function classificationMetrics(gold: readonly string[], predicted: readonly string[], topConfused = 10): ClassificationMetrics {
  if (gold.length !== predicted.length) throw new RangeError(`gold has ${gold.length} labels but predicted has ${predicted.length}`);
  const n = gold.length;
  const tp = new Map<string, number>();
  const goldCount = new Map<string, number>();
  const predCount = new Map<string, number>();
  const pairs = new Map<string, ConfusedPair>();
  let correct = 0;
  const inc = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  for (let i = 0; i < n; i++) {
    const g = gold[i];
    const p = predicted[i];
    inc(goldCount, g);
    inc(predCount, p);
    if (g === p) {
      correct++;
      inc(tp, g);
    } else {
      const key = `${g}\u0000${p}`;
      const prev = pairs.get(key);
      pairs.set(key, { gold: g, predicted: p, count: (prev?.count ?? 0) + 1 });
    }
  }
  const labels = [...new Set([...goldCount.keys(), ...predCount.keys()])].sort();
  const perLabel: LabelScore[] = labels.map((label) => {
    const t = tp.get(label) ?? 0;
    const pc = predCount.get(label) ?? 0;
    const gc = goldCount.get(label) ?? 0;
    const precision = pc > 0 ? t / pc : 0;
    const recall = gc > 0 ? t / gc : 0;
    const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
    return { label, precision, recall, f1, support: gc };
  });
  const goldLabels = perLabel.filter((s) => s.support > 0);
  const confused = [...pairs.values()]
    .sort((a, b) => b.count - a.count || a.gold.localeCompare(b.gold) || a.predicted.localeCompare(b.predicted))
    .slice(0, topConfused);
  return {
    n,
    accuracy: n > 0 ? correct / n : 0,
    macroF1: perLabel.length > 0 ? perLabel.reduce((a, s) => a + s.f1, 0) / perLabel.length : 0,
    macroRecall: goldLabels.length > 0 ? goldLabels.reduce((a, s) => a + s.recall, 0) / goldLabels.length : 0,
    perLabel,
    confused,
  };
}

/** One confidence bin of a reliability diagram: (lo, hi], its examples, their mean confidence and accuracy. */
export interface ReliabilityBin {
  readonly lo: number;
  readonly hi: number;
  readonly count: number;
  /** Mean top-1 confidence of the bin's examples (0 for an empty bin). */
  readonly confidence: number;
  /** Share of the bin's examples that were right (0 for an empty bin). */
  readonly accuracy: number;
}

/**
 * Top-1 confidences in `bins` equal-width bins, (k/B, (k+1)/B] (confidence 0
 * goes to the first): the reliability diagram, and the bins ECE sums over.
 */
export function reliabilityBins(confidence: readonly number[], correct: readonly boolean[], bins = 15): ReliabilityBin[] {
  if (confidence.length !== correct.length) throw new RangeError('confidence and correct differ in length');
  const { sumConf, sumAcc, count } = binSums(confidence, correct, bins);
  return Array.from({ length: bins }, (_, b) => ({
    lo: b / bins,
    hi: (b + 1) / bins,
    count: count[b],
    confidence: count[b] > 0 ? sumConf[b] / count[b] : 0,
    accuracy: count[b] > 0 ? sumAcc[b] / count[b] : 0,
  }));
}

function binSums(confidence: readonly number[], correct: readonly boolean[], bins: number): { sumConf: Float64Array; sumAcc: Float64Array; count: Float64Array } {
  const sumConf = new Float64Array(bins);
  const sumAcc = new Float64Array(bins);
  const count = new Float64Array(bins);
  for (let i = 0; i < confidence.length; i++) {
    const c = Math.min(Math.max(confidence[i], 0), 1);
    // Bins are (k/B, (k+1)/B]; confidence 0 goes to the first.
    const b = Math.min(bins - 1, Math.max(0, Math.ceil(c * bins) - 1));
    sumConf[b] += c;
    sumAcc[b] += correct[i] ? 1 : 0;
    count[b]++;
  }
  return { sumConf, sumAcc, count };
}

/** Expected calibration error of top-1 confidences (over the bins of `reliabilityBins`). */
export function expectedCalibrationError(confidence: readonly number[], correct: readonly boolean[], bins = 15): number {
  if (confidence.length !== correct.length) throw new RangeError('confidence and correct differ in length');
  const n = confidence.length;
  if (n === 0) return 0;
  const { sumConf, sumAcc, count } = binSums(confidence, correct, bins);
  let ece = 0;
  for (let b = 0; b < bins; b++) if (count[b] > 0) ece += Math.abs(sumAcc[b] - sumConf[b]) / n;
  return ece;
}

/** Mean negative log-likelihood of the gold class; `probOfGold` 0 is clamped to 1e-12. */
export function negativeLogLikelihood(probOfGold: readonly number[]): number {
  if (probOfGold.length === 0) return 0;
  return probOfGold.reduce((a, p) => a - Math.log(Math.max(p, 1e-12)), 0) / probOfGold.length;
}

/** Nearest-rank percentile (p in [0, 100]) of unsorted values; 0 for no values. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(rank, sorted.length) - 1];
}

export interface SlotCounts {
  readonly tp: number;
  readonly gold: number;
  readonly predicted: number;
}

/** Adds one utterance's slot keys (type + normalised value) to running counts: multiset matching. */
export function countSlots(goldKeys: readonly string[], predictedKeys: readonly string[], acc: SlotCounts = { tp: 0, gold: 0, predicted: 0 }): SlotCounts {
  const left = new Map<string, number>();
  for (const k of goldKeys) left.set(k, (left.get(k) ?? 0) + 1);
  let tp = 0;
  for (const k of predictedKeys) {
    const c = left.get(k) ?? 0;
    if (c > 0) {
      tp++;
      left.set(k, c - 1);
    }
  }
  return { tp: acc.tp + tp, gold: acc.gold + goldKeys.length, predicted: acc.predicted + predictedKeys.length };
}

/** Micro P/R/F1 from slot counts. F1 is 1 when there are no slots on either side (nothing to get wrong). */
export function slotF1(c: SlotCounts): { precision: number; recall: number; f1: number } {
  if (c.gold === 0 && c.predicted === 0) return { precision: 1, recall: 1, f1: 1 };
  const precision = c.predicted > 0 ? c.tp / c.predicted : 0;
  const recall = c.gold > 0 ? c.tp / c.gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}
