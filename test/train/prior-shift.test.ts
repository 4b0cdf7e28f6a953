import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainClassifier } from '../../src/train/trainer.js';
import { pretrainSkipGram, pretrainedRow } from '../../src/train/skipgram.js';
import { DEFAULT_FEATURIZER, featurizeTokens } from '../../src/model/features.js';
import { tokenize } from '../../src/model/text.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

const weatherTraffic = ['what is the weather in lisbon', 'will it rain in dublin', 'is it sunny in vienna today', 'how hot is it in cairo', 'weather forecast for prague'];

test('label-prior shift: unlabelled traffic full of one label raises that label\'s bias and lowers the others', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()], dev: [{ file: 'dev', rows: TINY_DEV }], fasttext: { epochs: 6, seed: 1 } };
  const plain = trainClassifier(base);
  assert.equal(plain.classBias, null);
  const unlabelled = { file: 'traffic.txt', texts: Array.from({ length: 40 }, (_, i) => weatherTraffic[i % weatherTraffic.length]) };
  const shifted = trainClassifier({ ...base, unlabelled, priorShift: { scale: 0.5 } });
  const bias = shifted.classBias!;
  const w = shifted.labels.indexOf('weather_query');
  assert.ok(bias[w] > 0.2, `weather_query bias ${bias[w]}`);
  for (let c = 0; c < bias.length; c++) if (c !== w) assert.ok(bias[c] < 0, `${shifted.labels[c]} bias ${bias[c]}`);
  // The biases are folded into the output layer; the rows are the same model's.
  for (let c = 0; c < bias.length; c++) assert.ok(Math.abs(shifted.weights.b2[c] - plain.weights.b2[c] - bias[c]) < 1e-5);
  assert.deepEqual(shifted.weights.emb, plain.weights.emb);
  // Half the scale, half the shift.
  const half = trainClassifier({ ...base, unlabelled, priorShift: { scale: 0.25 } }).classBias!;
  for (let c = 0; c < bias.length; c++) assert.ok(Math.abs(half[c] * 2 - bias[c]) < 1e-6);
});

test('skip-gram pre-training: seeded, covers the classifier\'s word ids, and initialises the rows it knows', () => {
  const texts = [...tinyDataset().rows.map((r) => r.text), ...weatherTraffic];
  const a = pretrainSkipGram(texts, DEFAULT_FEATURIZER, { dim: 16, epochs: 2 });
  const b = pretrainSkipGram(texts, DEFAULT_FEATURIZER, { dim: 16, epochs: 2 });
  assert.deepEqual(a.ids, b.ids);
  assert.deepEqual(a.vectors, b.vectors);
  const kitchen = tokenize('kitchen');
  for (const id of featurizeTokens(kitchen, DEFAULT_FEATURIZER)) assert.ok(pretrainedRow(a, id), `id ${id} of "kitchen" has no pre-trained row`);
  assert.equal(pretrainedRow(a, 0xffffffff), null);
  const cfg = { task: 'intent' as const, train: [tinyDataset()], fasttext: { dim: 16, epochs: 0, seed: 1 } };
  // Zero epochs: the rows stay as initialised, so a known id's row is its pre-trained vector × scale.
  const t = trainClassifier({ ...cfg, pretrained: { rows: a, scale: 2 } });
  const id = featurizeTokens(kitchen, DEFAULT_FEATURIZER)[0];
  const r = t.remap.row(id);
  assert.ok(r >= 0);
  const want = pretrainedRow(a, id)!;
  for (let d = 0; d < 16; d++) assert.ok(Math.abs(t.weights.emb[r * 16 + d] - want[d] * 2) < 1e-6);
});
