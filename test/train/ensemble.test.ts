import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastTextScorer, concatEnsemble, trainFastText, type Example } from '../../src/train/fasttext.js';
import { trainClassifier, encodeForTraining } from '../../src/train/trainer.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

type Trained = ReturnType<typeof trainClassifier>;

/** On TINY_DEV (featurized as the ensemble does), the ensemble's logits are the mean of the two members' logits. */
function assertMeanOfMembers(ens: Trained, a: Trained, b: Trained): void {
  const enc = encodeForTraining(TINY_DEV.map((r) => r.text), ens.featurizer, ens.remap);
  const [sa, sb, se] = [a, b, ens].map((m) => new FastTextScorer(m.weights));
  for (const e of enc) {
    const la = Float32Array.from(sa.logits(e.rows, e.count, new Float32Array(4)));
    const lb = Float32Array.from(sb.logits(e.rows, e.count, new Float32Array(4)));
    const le = se.logits(e.rows, e.count, new Float32Array(4));
    for (let c = 0; c < 4; c++) assert.ok(Math.abs(le[c] - (la[c] + lb[c]) / 2) < 1e-5, `${le[c]} vs ${(la[c] + lb[c]) / 2}`);
  }
}

function examples(): Example[] {
  // 12 rows, 3 classes: each sentence averages a few rows; count > rows.length for some (unknown features).
  const out: Example[] = [];
  for (let i = 0; i < 60; i++) {
    const label = i % 3;
    out.push({ rows: Int32Array.from([label * 4 + (i % 4), (i * 7) % 12]), count: 2 + (i % 3), label, weight: 1 });
  }
  return out;
}

test('two linear models joined by concatEnsemble give the mean of their logits', () => {
  const ex = examples();
  const a = trainFastText(ex, 12, 3, { dim: 4, hidden: 0, epochs: 3, lr: 0.5, seed: 1, labelSmoothing: 0 });
  const b = trainFastText(ex, 12, 3, { dim: 5, hidden: 0, epochs: 3, lr: 0.5, seed: 2, labelSmoothing: 0 });
  const j = concatEnsemble([a, b]);
  assert.equal(j.dim, 9);
  assert.equal(j.numRows, 12);
  const sa = new FastTextScorer(a);
  const sb = new FastTextScorer(b);
  const sj = new FastTextScorer(j);
  const inputs = [...ex.map((e) => [e.rows, e.count] as const), [new Int32Array(0), 0] as const, [Int32Array.from([3, 3, 11]), 5] as const];
  for (const [rows, count] of inputs) {
    const la = Float32Array.from(sa.logits(rows, count, new Float32Array(3)));
    const lb = Float32Array.from(sb.logits(rows, count, new Float32Array(3)));
    const lj = sj.logits(rows, count, new Float32Array(3));
    for (let c = 0; c < 3; c++) {
      const want = (la[c] + lb[c]) / 2;
      assert.ok(Math.abs(lj[c] - want) <= 1e-5 * Math.max(1, Math.abs(want)), `class ${c}: ${lj[c]} vs ${want}`);
    }
  }
});

test('concatEnsemble refuses hidden layers and mismatched shapes', () => {
  const ex = examples();
  const a = trainFastText(ex, 12, 3, { dim: 4, hidden: 0, epochs: 1, lr: 0.5, seed: 1, labelSmoothing: 0 });
  const h = trainFastText(ex, 12, 3, { dim: 4, hidden: 3, epochs: 1, lr: 0.5, seed: 1, labelSmoothing: 0 });
  assert.throws(() => concatEnsemble([a, h]), /linear/);
  assert.throws(() => concatEnsemble([a, { ...a, numRows: 11, emb: a.emb.subarray(0, 44) }]), /differ/);
  assert.throws(() => concatEnsemble([]), /no models/);
});

test('trainer option ensembleSeeds trains one model per seed and ships their joined model', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()] };
  const one = trainClassifier({ ...base, fasttext: { dim: 6, epochs: 3, seed: 3 } });
  const two = trainClassifier({ ...base, fasttext: { dim: 6, epochs: 3, seed: 4 } });
  const ens = trainClassifier({ ...base, fasttext: { dim: 6, epochs: 3, seed: 3, ensembleSeeds: [3, 4] } });
  assert.equal(ens.weights.dim, 12);
  assertMeanOfMembers(ens, one, two);
  assert.throws(() => trainClassifier({ ...base, fasttext: { dim: 6, hidden: 4, epochs: 1, ensembleSeeds: [1, 2] } }), /linear/);
});

test('averageLastEpoch returns the mean of the weights after each step of the last epoch', () => {
  const ex = examples().slice(0, 9);
  const base = { dim: 3, hidden: 0, epochs: 2, lr: 0.5, seed: 7, labelSmoothing: 0 };
  const avg = trainFastText(ex, 12, 3, { ...base, averageLastEpoch: true });
  const plain = trainFastText(ex, 12, 3, base);
  assert.notDeepEqual(avg.emb, plain.emb);
  // Exact check on a one-epoch run of T copies of one example (so the shuffle
  // cannot matter): replay the T SGD steps by hand and average w_1..w_T.
  const one = [ex[0]];
  const rows = 12;
  const opts1 = { dim: 2, hidden: 0, epochs: 1, lr: 0.3, seed: 3, labelSmoothing: 0 };
  const copies = 4;
  const a4 = trainFastText(Array(copies).fill(one[0]), rows, 3, { ...opts1, averageLastEpoch: true });
  // Same updates, replayed by hand with the same schedule (rate = lr·(1 − step/total)).
  const ref = trainFastText(Array(copies).fill(one[0]), rows, 3, { ...opts1, epochs: 1, lr: 0 }); // initial weights
  const emb = Float32Array.from(ref.emb);
  const w2 = Float32Array.from(ref.w2);
  const b2 = Float32Array.from(ref.b2);
  const sumEmb = new Float64Array(emb.length);
  const sumW2 = new Float64Array(w2.length);
  const sumB2 = new Float64Array(b2.length);
  const e = one[0];
  for (let step = 0; step < copies; step++) {
    const rate = opts1.lr * (1 - step / copies) * e.weight;
    const h = new Float64Array(2);
    for (const r of e.rows) for (let d = 0; d < 2; d++) h[d] += emb[r * 2 + d];
    for (let d = 0; d < 2; d++) h[d] /= e.count;
    const z = [0, 1, 2].map((c) => b2[c] + h[0] * w2[c] + h[1] * w2[3 + c]);
    const m = Math.max(...z);
    const ez = z.map((v) => Math.exp(v - m));
    const sz = ez.reduce((a, b) => a + b, 0);
    const g = ez.map((v, c) => v / sz - (c === e.label ? 1 : 0));
    const gx = [0, 1].map((d) => g.reduce((acc, gc, c) => acc + gc * w2[d * 3 + c], 0));
    for (let d = 0; d < 2; d++) for (let c = 0; c < 3; c++) w2[d * 3 + c] -= rate * g[c] * h[d];
    for (let c = 0; c < 3; c++) b2[c] -= rate * g[c];
    for (const r of e.rows) for (let d = 0; d < 2; d++) emb[r * 2 + d] -= (rate / e.count) * gx[d];
    emb.forEach((v, i) => (sumEmb[i] += v));
    w2.forEach((v, i) => (sumW2[i] += v));
    b2.forEach((v, i) => (sumB2[i] += v));
  }
  const close = (got: Float32Array, sum: Float64Array): void => {
    for (let i = 0; i < got.length; i++) assert.ok(Math.abs(got[i] - sum[i] / copies) < 1e-5, `${i}: ${got[i]} vs ${sum[i] / copies}`);
  };
  close(a4.emb, sumEmb);
  close(a4.w2, sumW2);
  close(a4.b2, sumB2);
});

test('trainer option ensembleMembers trains each member with its own settings and ships their mean', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()] };
  const plain = trainClassifier({ ...base, fasttext: { dim: 6, epochs: 3, seed: 3 } });
  // The second member: other seed, file weight, class balance, lr and epochs, each as if trained alone.
  const other = { fileWeights: { 'tiny.jsonl': 0.5 }, classBalance: 1, fasttext: { dim: 6, epochs: 2, seed: 5, lr: 0.3 } };
  const alone = trainClassifier({ ...base, ...other });
  const ens = trainClassifier({
    ...base,
    fasttext: { dim: 6, epochs: 3, seed: 3 },
    ensembleMembers: [{ seed: 3 }, { seed: 5, fileWeights: other.fileWeights, classBalance: 1, fasttext: { lr: 0.3, epochs: 2 } }],
  });
  assert.equal(ens.weights.dim, 12);
  assertMeanOfMembers(ens, plain, alone);
  // The settings reach the member: without them the second member is another model.
  const seedOnly = trainClassifier({ ...base, fasttext: { dim: 6, epochs: 3, seed: 3 }, ensembleMembers: [{ seed: 3 }, { seed: 5 }] });
  assert.notDeepEqual(seedOnly.weights.emb, ens.weights.emb);
  assert.throws(() => trainClassifier({ ...base, fasttext: { dim: 6, hidden: 4, epochs: 1 }, ensembleMembers: [{ seed: 1 }, { seed: 2 }] }), /linear/);
});

test('an ensemble member with a feature view trains on that view only, over the count of all features, in one table', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()], fasttext: { dim: 6, epochs: 3, seed: 3 } };
  const viewOnly = { charNgrams: null };
  const ens = trainClassifier({ ...base, ensembleMembers: [{ seed: 3 }, { seed: 5, features: viewOnly }] });
  const full = trainClassifier({ ...base, ensembleMembers: [{ seed: 3 }, { seed: 5 }] });
  assert.equal(ens.remap.size, full.remap.size);
  // The view member's columns (6..11) are zero on the rows no word-level feature maps to (character n-grams).
  const words = trainClassifier({ ...base, featurizer: { ...full.featurizer, ...viewOnly } });
  const wordIds = new Set(words.remap.ids);
  let charRows = 0;
  for (let r = 0; r < ens.remap.size; r++) {
    const row = ens.weights.emb.subarray(r * 12 + 6, r * 12 + 12);
    if (wordIds.has(ens.remap.ids[r])) continue;
    charRows++;
    assert.ok(row.every((v) => v === 0), `row ${r} of the view member is not zero`);
  }
  assert.ok(charRows > 0);
  // Its first member is the plain seed-3 model in both ensembles.
  assert.deepEqual(ens.weights.emb.filter((_, i) => i % 12 < 6), full.weights.emb.filter((_, i) => i % 12 < 6));
});
