import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FastTextScorer, foldLinearOutput, softmaxInPlace, trainFastText, type Example } from '../../src/train/fasttext.js';
import { encodeForTraining, trainClassifier } from '../../src/train/trainer.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

function examples(classes: number): Example[] {
  const out: Example[] = [];
  for (let i = 0; i < 80; i++) {
    const label = i % classes;
    out.push({ rows: Int32Array.from([label * 3 + (i % 3), (i * 7) % 12]), count: 2 + (i % 3), label, weight: 1 });
  }
  return out;
}

for (const classes of [2, 3, 4]) {
  test(`foldLinearOutput keeps the probabilities of a ${classes}-class linear model with ${classes - 1} numbers a row`, () => {
    const ex = examples(classes);
    const w = trainFastText(ex, 12, classes, { dim: 8, hidden: 0, epochs: 4, lr: 0.5, seed: 1, labelSmoothing: 0 });
    const f = foldLinearOutput(w);
    assert.equal(f.dim, classes - 1);
    assert.equal(f.emb.length, 12 * (classes - 1));
    const a = new FastTextScorer(w);
    const b = new FastTextScorer(f);
    const inputs = [...ex.map((e) => [e.rows, e.count] as const), [new Int32Array(0), 0] as const, [Int32Array.from([1, 1, 11]), 7] as const];
    let moved = 0;
    for (const [rows, count] of inputs) {
      const pa = softmaxInPlace(Float32Array.from(a.logits(rows, count, new Float32Array(classes))));
      const pb = softmaxInPlace(Float32Array.from(b.logits(rows, count, new Float32Array(classes))));
      for (let c = 0; c < classes; c++) {
        assert.ok(Math.abs(pa[c] - pb[c]) < 1e-5, `class ${c}: ${pa[c]} vs ${pb[c]}`);
        if (Math.abs(pa[c] - 1 / classes) > 0.01) moved++;
      }
    }
    assert.ok(moved > 0, 'the trained model must not be uniform (the comparison would be empty)');
  });
}

test('foldLinearOutput refuses a hidden layer', () => {
  const w = trainFastText(examples(3), 12, 3, { dim: 4, hidden: 3, epochs: 1, lr: 0.5, seed: 1, labelSmoothing: 0 });
  assert.throws(() => foldLinearOutput(w), /linear/);
});

test('trainer option foldOutput ships the folded rows with the same predictions', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()], fasttext: { dim: 16, epochs: 3, seed: 2 } };
  const plain = trainClassifier(base);
  const folded = trainClassifier({ ...base, fasttext: { ...base.fasttext, foldOutput: true } });
  assert.equal(folded.weights.dim, plain.labels.length - 1);
  assert.ok(plain.weights.dim > folded.weights.dim);
  assert.deepEqual([...folded.remap.ids], [...plain.remap.ids]);
  const k = plain.labels.length;
  const a = new FastTextScorer(plain.weights);
  const b = new FastTextScorer(folded.weights);
  for (const e of encodeForTraining(TINY_DEV.map((r) => r.text), plain.featurizer, plain.remap)) {
    const pa = softmaxInPlace(Float32Array.from(a.logits(e.rows, e.count, new Float32Array(k))));
    const pb = softmaxInPlace(Float32Array.from(b.logits(e.rows, e.count, new Float32Array(k))));
    for (let c = 0; c < k; c++) assert.ok(Math.abs(pa[c] - pb[c]) < 1e-5, `class ${c}: ${pa[c]} vs ${pb[c]}`);
  }
});
