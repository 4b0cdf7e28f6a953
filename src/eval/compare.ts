/**
 * Comparing two models on the same rows: McNemar's paired test on their
 * per-row correctness, and the rows where they differ. `hubnlu eval
 * --compare`, household retraining and the nightly promotion decision use
 * this one implementation.
 *
 * McNemar: b = rows only A gets right, c = rows only B gets right. With
 * b + c ≤ 25 the exact two-sided binomial test (p = 0.5) is used, else the
 * chi-square statistic with continuity correction, (|b − c| − 1)² / (b + c),
 * on one degree of freedom.
 */
import type { EvalPrediction } from './evaluate.js';

export interface McNemarResult {
  /** Rows only the first model gets right. */
  readonly onlyA: number;
  /** Rows only the second model gets right. */
  readonly onlyB: number;
  readonly bothRight: number;
  readonly bothWrong: number;
  /** Two-sided p-value. */
  readonly p: number;
  readonly method: 'exact' | 'chi2-cc';
  readonly statistic?: number;
}

/** ln C(n, k) */
function logChoose(n: number, k: number): number {
  let s = 0;
  for (let i = 1; i <= k; i++) s += Math.log(n - k + i) - Math.log(i);
  return s;
}

/** P(X ≤ k) for X ~ Binomial(n, 0.5). */
function binomialCdfHalf(k: number, n: number): number {
  let total = 0;
  for (let i = 0; i <= k; i++) total += Math.exp(logChoose(n, i) - n * Math.LN2);
  return Math.min(1, total);
}

/** Complementary error function (Numerical Recipes erfc, relative error < 1.2e-7). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const r =
    t *
    Math.exp(
      -z * z - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 + t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? r : 2 - r;
}

/** P(χ²₁ ≥ x). */
function chiSquare1Survival(x: number): number {
  return x <= 0 ? 1 : erfc(Math.sqrt(x / 2));
}

export function mcnemar(correctA: readonly boolean[], correctB: readonly boolean[]): McNemarResult {
  if (correctA.length !== correctB.length) throw new RangeError(`the two models were scored on ${correctA.length} and ${correctB.length} rows; compare them on the same rows`);
  let onlyA = 0;
  let onlyB = 0;
  let bothRight = 0;
  let bothWrong = 0;
  for (let i = 0; i < correctA.length; i++) {
    if (correctA[i] && correctB[i]) bothRight++;
    else if (correctA[i]) onlyA++;
    else if (correctB[i]) onlyB++;
    else bothWrong++;
  }
  const n = onlyA + onlyB;
  if (n === 0) return { onlyA, onlyB, bothRight, bothWrong, p: 1, method: 'exact' };
  if (n <= 25) {
    const p = Math.min(1, 2 * binomialCdfHalf(Math.min(onlyA, onlyB), n));
    return { onlyA, onlyB, bothRight, bothWrong, p, method: 'exact' };
  }
  const statistic = (Math.abs(onlyA - onlyB) - 1) ** 2 / n;
  return { onlyA, onlyB, bothRight, bothWrong, p: chiSquare1Survival(statistic), method: 'chi2-cc', statistic };
}

export interface RowDifference {
  readonly index: number;
  readonly text: string;
  readonly gold: string;
  readonly a: string;
  readonly b: string;
  /** Which model got this row right (`a`, `b`), or neither. */
  readonly right: 'a' | 'b' | 'neither';
}

export interface Comparison {
  readonly n: number;
  readonly accuracyA: number;
  readonly accuracyB: number;
  readonly mcnemar: McNemarResult;
  /** B is better than A and the difference is significant at `alpha`. */
  readonly bBetter: boolean;
  readonly alpha: number;
  /** Rows where the two predictions differ, those B fixed first, then those it broke, then the rest. */
  readonly differences: readonly RowDifference[];
}

/** Compares two models' predictions on the same rows (same order, same texts). */
export function comparePredictions(a: readonly EvalPrediction[], b: readonly EvalPrediction[], alpha = 0.05): Comparison {
  if (a.length !== b.length) throw new RangeError(`the two models were scored on ${a.length} and ${b.length} rows; compare them on the same rows`);
  for (let i = 0; i < a.length; i++) {
    if (a[i].text !== b[i].text) throw new RangeError(`row ${i + 1} differs between the two runs; compare them on the same rows`);
  }
  const m = mcnemar(a.map((p) => p.correct), b.map((p) => p.correct));
  const order = { b: 0, a: 1, neither: 2 } as const;
  const differences: RowDifference[] = [];
  a.forEach((pa, i) => {
    const pb = b[i];
    if (pa.predicted === pb.predicted) return;
    const right = pb.correct ? 'b' : pa.correct ? 'a' : 'neither';
    differences.push({ index: i, text: pa.text, gold: pa.gold, a: pa.predicted, b: pb.predicted, right });
  });
  differences.sort((x, y) => order[x.right] - order[y.right] || x.index - y.index);
  const n = a.length;
  const accuracyA = n ? a.filter((p) => p.correct).length / n : 0;
  const accuracyB = n ? b.filter((p) => p.correct).length / n : 0;
  return { n, accuracyA, accuracyB, mcnemar: m, bBetter: accuracyB > accuracyA && m.p < alpha, alpha, differences };
}
