import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trainClassifier } from '../../src/train/trainer.js';
import { pretrainSkipGram, pretrainedRow, wordViewFromSkipGram } from '../../src/train/skipgram.js';
import { DEFAULT_FEATURIZER, featurizeTokens, type FeaturizerSettings } from '../../src/model/features.js';
import { tokenize } from '../../src/model/text.js';
import { FastTextScorer } from '../../src/train/fasttext.js';
import { tinyDataset } from './tiny-data.js';

const extra = ['the kettle in the scullery is boiling', 'scullery lights are too dim'];

test('word view from skip-gram rows: one vector of length `scale` per word, on its unigram id', () => {
  const texts = [...tinyDataset().rows.map((r) => r.text), ...extra];
  const p = pretrainSkipGram(texts, DEFAULT_FEATURIZER, { dim: 8, epochs: 1 });
  const v = wordViewFromSkipGram(p, texts, DEFAULT_FEATURIZER, 3);
  assert.equal(v.dim, 8);
  const uni: FeaturizerSettings = { ...DEFAULT_FEATURIZER, charNgrams: null, numberShape: false, wordNgrams: 1 };
  const id = featurizeTokens(tokenize('scullery'), uni)[0];
  const row = pretrainedRow(v, id);
  assert.ok(row, 'scullery has no word vector');
  assert.ok(Math.abs(Math.hypot(...row) - 3) < 1e-4);
  // A character n-gram id is not a word: no vector there.
  const char = featurizeTokens(tokenize('scullery'), DEFAULT_FEATURIZER).find((x) => x !== id)!;
  assert.equal(pretrainedRow(v, char), null);
});

test('trainer option frozenView: the view fills extra row dimensions, frozen at lr 0, and folds exactly', () => {
  const texts = [...tinyDataset().rows.map((r) => r.text), ...extra];
  const words = wordViewFromSkipGram(pretrainSkipGram(texts, DEFAULT_FEATURIZER, { dim: 4, epochs: 1 }), texts, DEFAULT_FEATURIZER, 2);
  const base = { task: 'intent' as const, train: [tinyDataset()], fasttext: { dim: 6, epochs: 3, seed: 3 } };
  const plain = trainClassifier(base);
  const t = trainClassifier({ ...base, frozenView: { words } });
  assert.equal(t.weights.dim, 10);
  // A word only the unlabelled text has gets a row: its trained part zero, its view part the word vector.
  const uni: FeaturizerSettings = { ...DEFAULT_FEATURIZER, charNgrams: null, numberShape: false, wordNgrams: 1 };
  const sc = featurizeTokens(tokenize('scullery'), uni)[0];
  assert.equal(plain.remap.row(sc), -1);
  const r = t.remap.row(sc);
  assert.ok(r >= 0);
  assert.deepEqual([...t.weights.emb.subarray(r * 10, r * 10 + 6)], [0, 0, 0, 0, 0, 0]);
  // Frozen: every row's view part is still the word vector (or zero) after training.
  for (let k = 0; k < t.remap.size; k++) {
    const want = pretrainedRow(words, t.remap.ids[k]);
    for (let d = 0; d < 4; d++) assert.equal(t.weights.emb[k * 10 + 6 + d], want ? want[d] : 0);
  }
  // ... and the output layer reads it.
  assert.ok(t.weights.w2.subarray(6 * t.weights.numClasses).some((x) => x !== 0));
  // Learning at a rate: the view part moves.
  const moving = trainClassifier({ ...base, frozenView: { words, lr: 0.5 } });
  const k = moving.remap.row(featurizeTokens(tokenize('kitchen'), uni)[0]);
  assert.notDeepEqual([...moving.weights.emb.subarray(k * 10 + 6, k * 10 + 10)], [...pretrainedRow(words, moving.remap.ids[k])!]);
  // Folded (3 labels → 2 numbers a row): the same argmax as the unfolded model on every training text.
  const three = { task: 'sentiment' as const, train: [{ file: 's.jsonl', rows: ['good kitchen', 'bad kitchen', 'the kitchen', 'great lights', 'awful lights', 'the lights'].map((text, i) => ({ text, label: ['positive', 'negative', 'neutral'][i % 3], slots: [], source: 's' })) }], fasttext: { dim: 6, epochs: 5, seed: 1 } };
  const open = trainClassifier({ ...three, frozenView: { words } });
  const folded = trainClassifier({ ...three, frozenView: { words }, fasttext: { ...three.fasttext, foldOutput: true } });
  assert.equal(folded.weights.dim, 2);
  const a = new FastTextScorer(open.weights);
  const b = new FastTextScorer(folded.weights);
  for (const row of three.train[0].rows) {
    const ids = featurizeTokens(tokenize(row.text), open.featurizer);
    const la = a.logits(open.remap.rows(ids), ids.length, new Float32Array(3));
    const lb = b.logits(folded.remap.rows(ids), ids.length, new Float32Array(3));
    for (let c = 1; c < 3; c++) assert.ok(Math.abs((la[c] - la[0]) - (lb[c] - lb[0])) < 1e-4, `${row.text}: ${la} vs ${lb}`);
  }
  assert.throws(() => trainClassifier({ ...base, fasttext: { dim: 6, hidden: 4, epochs: 1 }, frozenView: { words } }), /linear/);
});

test('trainer option frozenView with self-training: every round keeps the view\'s rows, frozen', () => {
  // "pantry" is in the view but in neither the labelled nor the unlabelled text: only the view gives it a row.
  const texts = [...tinyDataset().rows.map((r) => r.text), ...extra, 'the pantry lights are off'];
  const words = wordViewFromSkipGram(pretrainSkipGram(texts, DEFAULT_FEATURIZER, { dim: 4, epochs: 1 }), texts, DEFAULT_FEATURIZER, 2);
  const t = trainClassifier({
    task: 'intent', train: [tinyDataset()], fasttext: { dim: 6, epochs: 3, seed: 3 },
    unlabelled: { file: 'u.txt', texts: extra }, selfTraining: { rounds: 2, threshold: 0, weight: 1 }, frozenView: { words },
  });
  assert.deepEqual(t.stats.pseudoLabelled, [extra.length, extra.length]);
  const uni: FeaturizerSettings = { ...DEFAULT_FEATURIZER, charNgrams: null, numberShape: false, wordNgrams: 1 };
  for (const w of ['pantry', 'scullery']) assert.ok(t.remap.row(featurizeTokens(tokenize(w), uni)[0]) >= 0, `${w} has no row`);
  for (let k = 0; k < t.remap.size; k++) {
    const want = pretrainedRow(words, t.remap.ids[k]);
    for (let d = 0; d < 4; d++) assert.equal(t.weights.emb[k * 10 + 6 + d], want ? want[d] : 0);
  }
});
