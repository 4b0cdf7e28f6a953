import { test } from 'node:test';
import assert from 'node:assert/strict';
import { comparePredictions, mcnemar } from '../../src/eval/compare.js';
import type { EvalPrediction } from '../../src/eval/evaluate.js';

const T = true;
const F = false;

test('McNemar exact: 0 vs 6 discordant rows is p = 2 · 0.5^6', () => {
  const a = [F, F, F, F, F, F, T, T, F];
  const b = [T, T, T, T, T, T, T, T, F];
  const r = mcnemar(a, b);
  assert.deepEqual([r.onlyA, r.onlyB, r.bothRight, r.bothWrong, r.method], [0, 6, 2, 1, 'exact']);
  assert.ok(Math.abs(r.p - 2 / 64) < 1e-12, String(r.p));
});

test('McNemar exact: balanced disagreement is p = 1; no disagreement is p = 1', () => {
  assert.equal(mcnemar([T, F, T, F], [F, T, F, T]).p, 1);
  assert.equal(mcnemar([T, F], [T, F]).p, 1);
});

test('McNemar chi-square with continuity correction above 25 discordant rows (hand-computed)', () => {
  // b = 10, c = 30: (|10 − 30| − 1)² / 40 = 9.025, p = P(χ²₁ ≥ 9.025) ≈ 0.002663
  const a = [...Array(10).fill(T), ...Array(30).fill(F), ...Array(5).fill(T)];
  const b = [...Array(10).fill(F), ...Array(30).fill(T), ...Array(5).fill(T)];
  const r = mcnemar(a, b);
  assert.equal(r.method, 'chi2-cc');
  assert.ok(Math.abs(r.statistic! - 9.025) < 1e-12);
  assert.ok(Math.abs(r.p - 0.002663) < 2e-5, String(r.p));
  assert.throws(() => mcnemar([T], [T, F]), /same rows/);
});

function pred(text: string, gold: string, predicted: string): EvalPrediction {
  return { text, gold, predicted, reported: predicted, confidence: 0.9, correct: gold === predicted, latency_ms: 0.1 };
}

test('comparePredictions lists the rows B fixed first, then those it broke, and calls the result significant only when B is better', () => {
  const gold = ['x', 'y', 'z', 'x', 'y', 'z', 'x', 'y'];
  const a = gold.map((g, i) => pred(`t${i}`, g, i < 6 ? 'w' : g));
  const b = gold.map((g, i) => pred(`t${i}`, g, i === 7 ? 'w' : g));
  const c = comparePredictions(a, b);
  assert.equal(c.n, 8);
  assert.deepEqual(c.differences.map((d) => [d.index, d.right]), [[0, 'b'], [1, 'b'], [2, 'b'], [3, 'b'], [4, 'b'], [5, 'b'], [7, 'a']]);
  assert.equal(c.mcnemar.onlyB, 6);
  assert.equal(c.mcnemar.onlyA, 1);
  assert.ok(c.mcnemar.p > 0.05, 'six against one is not significant at 5 %');
  assert.equal(c.bBetter, false);
  const reversed = comparePredictions(b, a);
  assert.equal(reversed.bBetter, false);
  assert.throws(() => comparePredictions(a, b.slice(1)), /same rows/);
});
