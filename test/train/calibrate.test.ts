import { test } from 'node:test';
import assert from 'node:assert/strict';
import { calibrationStats, fitTemperature, macroF1WithBias, tuneClassBiases, type ScoredSet } from '../../src/train/calibrate.js';
import { mulberry32 } from '../../src/data/random.js';

/** Overconfident synthetic classifier: 70 % accurate but logits scaled so it claims ~99 %. */
function overconfident(n: number, k: number, seed: number): ScoredSet {
  const rand = mulberry32(seed);
  const logits: Float32Array[] = [];
  const gold: number[] = [];
  for (let i = 0; i < n; i++) {
    const g = i % k;
    const predicted = rand() < 0.7 ? g : (g + 1 + Math.floor(rand() * (k - 1))) % k;
    const l = new Float32Array(k);
    for (let c = 0; c < k; c++) l[c] = rand();
    l[predicted] += 8 + rand() * 4;
    logits.push(l);
    gold.push(g);
  }
  return { logits, gold };
}

test('temperature scaling lowers NLL and ECE on an overconfident model, and keeps accuracy', () => {
  const set = overconfident(2000, 5, 1);
  const fit = fitTemperature(set);
  assert.ok(fit.temperature > 1.5, `T = ${fit.temperature}`);
  assert.ok(fit.after.nll < fit.before.nll, `NLL ${fit.before.nll} → ${fit.after.nll}`);
  assert.ok(fit.after.ece < fit.before.ece / 3, `ECE ${fit.before.ece} → ${fit.after.ece}`);
  assert.equal(fit.after.accuracy, fit.before.accuracy);
  // On held-out data from the same source it still helps.
  const test = overconfident(2000, 5, 2);
  assert.ok(calibrationStats(test, fit.temperature).ece < calibrationStats(test, 1).ece / 3);
});

test('an underconfident model gets T < 1', () => {
  const set = overconfident(1000, 4, 3);
  const flat: ScoredSet = { logits: set.logits.map((l) => l.map((v) => v / 20)), gold: set.gold };
  assert.ok(fitTemperature(flat).temperature < 0.5);
});

test('class offsets recover a shifted prior', () => {
  // Class 2 gets a spurious +1 on every logit: offsets should take most of it back.
  const rand = mulberry32(4);
  const logits: Float32Array[] = [];
  const gold: number[] = [];
  for (let i = 0; i < 600; i++) {
    const g = i % 3;
    const l = new Float32Array([rand(), rand(), rand() + 1]);
    l[g] += 0.8;
    logits.push(l);
    gold.push(g);
  }
  const labels = ['a', 'b', 'c'];
  const set = { logits, gold };
  const before = macroF1WithBias(set, new Float64Array(3), labels);
  const { bias, score } = tuneClassBiases([set], labels);
  assert.ok(score > before + 0.1, `${before} → ${score}`);
  assert.ok(bias[2] - bias[0] < -0.5, `offset of c relative to a: ${bias[2] - bias[0]}`);
});

test('class offsets for mean + worst-case macro-F1 do not leave a dev set behind', () => {
  // Two dev sets whose priors disagree: class c is favoured by +1 in one and disfavoured by 0.7 in the other.
  const make = (shift: number, n: number, seed: number): ScoredSet => {
    const rand = mulberry32(seed);
    const logits: Float32Array[] = [];
    const gold: number[] = [];
    for (let i = 0; i < n; i++) {
      const g = i % 3;
      const l = new Float32Array([rand(), rand(), rand() + shift]);
      l[g] += 0.8;
      logits.push(l);
      gold.push(g);
    }
    return { logits, gold };
  };
  const labels = ['a', 'b', 'c'];
  const sets = [make(1, 600, 5), make(-0.7, 600, 6), make(0.9, 600, 7)];
  const f1s = (bias: Float64Array): number[] => sets.map((s) => macroF1WithBias(s, bias, labels));
  const mean = tuneClassBiases(sets, labels);
  const robust = tuneClassBiases(sets, labels, undefined, undefined, 'mean+worst');
  const m = f1s(mean.bias);
  const r = f1s(robust.bias);
  const avg = (x: number[]): number => x.reduce((a, b) => a + b, 0) / x.length;
  assert.ok(Math.abs(robust.score - (avg(r) + Math.min(...r))) < 1e-9, `score ${robust.score} is mean + worst of ${r}`);
  assert.ok(Math.abs(mean.score - avg(m)) < 1e-9);
  assert.ok(Math.min(...r) >= Math.min(...m) - 1e-9, `worst ${Math.min(...m)} → ${Math.min(...r)}`);
  assert.ok(avg(r) <= avg(m) + 1e-9, 'the mean objective has the best mean');
});
