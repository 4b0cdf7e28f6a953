import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainClassifier } from '../../src/train/trainer.js';
import { FastTextScorer } from '../../src/train/fasttext.js';
import { encodeForTraining, trainingRowWeights } from '../../src/train/trainer.js';
import { parseRows } from '../../src/data/rows.js';
import { stratifiedSplit } from '../../src/data/random.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

test('training is reproducible for a seed and differs across seeds', () => {
  const cfg = { task: 'intent' as const, train: [tinyDataset()], fasttext: { epochs: 2, seed: 11 } };
  const a = trainClassifier(cfg);
  const b = trainClassifier(cfg);
  const c = trainClassifier({ ...cfg, fasttext: { epochs: 2, seed: 12 } });
  assert.deepEqual(a.weights.emb, b.weights.emb);
  assert.deepEqual(a.weights.w2, b.weights.w2);
  assert.notDeepEqual(a.weights.emb, c.weights.emb);
});

test('learns the tiny task, generalises to unseen phrasings, prunes to maxRows and calibrates on dev', () => {
  const t = trainClassifier({
    task: 'intent',
    train: [tinyDataset()],
    dev: [{ file: 'dev', rows: TINY_DEV }],
    fasttext: { epochs: 10, seed: 1 },
    maxRows: 300,
  });
  assert.equal(t.labels.length, 4);
  assert.equal(t.remap.size, 300);
  assert.equal(t.weights.numRows, 300);
  assert.ok(t.stats.vocabularyRows > 300);
  const enc = encodeForTraining(TINY_DEV.map((r) => r.text), t.featurizer, t.remap);
  const s = new FastTextScorer(t.weights);
  let ok = 0;
  enc.forEach((e, i) => {
    const l = s.logits(e.rows, e.count, new Float32Array(4));
    if (t.labels[l.indexOf(Math.max(...l))] === TINY_DEV[i].label) ok++;
  });
  assert.ok(ok >= 3, `${ok}/4 dev sentences right`);
  assert.ok(t.calibration.temperature > 0);
  assert.equal(t.calibration.fitOn, 'dev');
});

test('self-training pseudo-labels unlabelled text above the threshold', () => {
  const t = trainClassifier({
    task: 'intent',
    train: [tinyDataset()],
    unlabelled: { file: 'u.txt', texts: ['turn off the porch lights', 'weather in lisbon', 'turn off the kitchen lights', 'wake me at six'] },
    selfTraining: { rounds: 1, threshold: 0, weight: 0.5 },
    fasttext: { epochs: 2, seed: 1 },
  });
  // "turn off the kitchen lights" is a training sentence: not pseudo-labelled again.
  assert.deepEqual(t.stats.pseudoLabelled, [3]);
});

test('stratified split keeps every label on both sides and is seeded', () => {
  const rows = tinyDataset().rows;
  const [a, b] = stratifiedSplit(rows, 0.1, 1);
  assert.equal(a.length + b.length, rows.length);
  for (const label of new Set(rows.map((r) => r.label))) {
    assert.ok(b.some((r) => r.label === label), label);
    assert.ok(a.some((r) => r.label === label), label);
  }
  assert.deepEqual(stratifiedSplit(rows, 0.1, 1)[1], b);
  assert.notDeepEqual(stratifiedSplit(rows, 0.1, 2)[1], b);
});

test('dataset rows: errors name file, line and fix', () => {
  assert.throws(() => parseRows('{"text":"a","intent":"x"}\n{oops', 'intent', 'f.jsonl'), /f\.jsonl:2: not valid JSON/);
  assert.throws(() => parseRows('{"text":"a","sentiment":"positive"}', 'intent', 'f.jsonl'), /f\.jsonl:1: missing string field "intent".*--task sentiment/);
  const rows = parseRows('{"text":"a b","intent":"x","slots":[{"type":"t","value":"b","start":2,"end":3}]}\n\n', 'intent', 'f');
  assert.equal(rows.length, 1);
  assert.equal(rows[0].slots[0].type, 't');
});

test('fine-tuning continues from given weights without modifying them, and checks the shape', async () => {
  const { trainFastText } = await import('../../src/train/fasttext.js');
  const examples = [
    { rows: Int32Array.from([0, 1]), count: 2, label: 0, weight: 1 },
    { rows: Int32Array.from([2, 3]), count: 2, label: 1, weight: 1 },
  ];
  const opts = { dim: 4, hidden: 0, epochs: 30, lr: 0.5, seed: 1, labelSmoothing: 0 };
  const base = trainFastText(examples, 4, 2, opts);
  const before = Float32Array.from(base.emb);
  const losses: number[] = [];
  trainFastText(examples, 4, 2, { ...opts, epochs: 1 }, (r) => losses.push(r.loss), base);
  const fresh: number[] = [];
  trainFastText(examples, 4, 2, { ...opts, epochs: 1 }, (r) => fresh.push(r.loss));
  assert.ok(losses[0] < fresh[0] / 2, `fine-tuned loss ${losses[0]} vs fresh ${fresh[0]}`);
  assert.deepEqual(base.emb, before);
  assert.throws(() => trainFastText(examples, 5, 2, opts, undefined, base), /do not match/);
});

test('row weights: class balance over all rows or inside each file, times the file weight', () => {
  const row = (label: string) => ({ text: label, label, slots: [], source: 't' });
  // a.jsonl: 3 pos, 1 neg; b.jsonl: 1 pos, 3 neg. Over both files the classes are balanced.
  const a = { file: '/x/a.jsonl', rows: [row('pos'), row('pos'), row('pos'), row('neg')] };
  const b = { file: '/y/b.jsonl', rows: [row('pos'), row('neg'), row('neg'), row('neg')] };
  assert.deepEqual(trainingRowWeights([a, b], {}), [1, 1, 1, 1, 1, 1, 1, 1]);
  assert.deepEqual(trainingRowWeights([a, b], { classBalance: 1 }), [1, 1, 1, 1, 1, 1, 1, 1]);
  // Inside each file: the lone class weighs 2 / 1 = 2, the other 2 / 3.
  assert.deepEqual(trainingRowWeights([a, b], { classBalance: 1, classBalanceScope: 'file' }), [2 / 3, 2 / 3, 2 / 3, 2, 2, 2 / 3, 2 / 3, 2 / 3]);
  const half = trainingRowWeights([a, b], { classBalance: 0.5, classBalanceScope: 'file', fileWeights: { 'b.jsonl': 3 } });
  assert.deepEqual(half, [Math.sqrt(2 / 3), Math.sqrt(2 / 3), Math.sqrt(2 / 3), Math.sqrt(2), 3 * Math.sqrt(2), 3 * Math.sqrt(2 / 3), 3 * Math.sqrt(2 / 3), 3 * Math.sqrt(2 / 3)]);
  // Scope `all` with unbalanced totals: a lone file's skew sets the weights.
  assert.deepEqual(trainingRowWeights([a], { classBalance: 1 }), [2 / 3, 2 / 3, 2 / 3, 2]);
});
