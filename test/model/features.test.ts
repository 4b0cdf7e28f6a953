import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FEATURIZER, FeatureRemap, SortedIds, checkFeaturizerSettings, findSorted, encodeTokens, featurize, featurizeTokens, type FeaturizerSettings } from '../../src/model/features.js';
import { tokenize } from '../../src/model/text.js';
import { TextClassifier } from '../../src/model/classifier.js';
import { encodeForTraining, trainClassifier } from '../../src/train/trainer.js';
import { FastTextScorer } from '../../src/train/fasttext.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { tinyDataset, TINY_DEV } from '../train/tiny-data.js';

const WORDS_ONLY: FeaturizerSettings = { ...DEFAULT_FEATURIZER, charNgrams: null, wordWeight: 1 };

test('featurize is deterministic and ids stay inside the hash space', () => {
  const a = featurize('Turn off the kitchen lights!', DEFAULT_FEATURIZER);
  const b = featurize('Turn off the kitchen lights!', DEFAULT_FEATURIZER);
  assert.deepEqual(a, b);
  assert.ok(a.length > 0);
  for (const id of a) assert.ok(id >= 0 && id < DEFAULT_FEATURIZER.buckets);
  const small = featurize('turn off the kitchen lights', { ...DEFAULT_FEATURIZER, buckets: 7 });
  for (const id of small) assert.ok(id < 7);
});

test('feature counts follow the settings: unigrams, bigrams, char n-grams, word weight', () => {
  // 3 tokens: 3 unigrams + 2 bigrams.
  assert.equal(featurize('turn lights off', WORDS_ONLY).length, 5);
  assert.equal(featurize('turn lights off', { ...WORDS_ONLY, wordNgrams: 1 }).length, 3);
  assert.equal(featurize('turn lights off', { ...WORDS_ONLY, wordWeight: 2 }).length, 10);
  // "<off>" has 5 chars: 3-grams 3, 4-grams 2, 5-gram is the whole word (skipped) → 5; plus the unigram.
  assert.equal(featurize('off', { ...WORDS_ONLY, charNgrams: [3, 5] }).length, 1 + 5);
  assert.deepEqual([...featurize('', DEFAULT_FEATURIZER)], []);
  assert.deepEqual([...featurize('?! …', DEFAULT_FEATURIZER)], []);
});

test('spelled-out and digit numbers give the same features; case and punctuation do not matter', () => {
  assert.deepEqual(featurize('set the heating to twenty one degrees', DEFAULT_FEATURIZER), featurize('Set the heating to 21 degrees.', DEFAULT_FEATURIZER));
  // Numbers share their shape: "to 5" and "to 7" differ only in the literal unigram.
  const five = new Set(featurize('set it to 5', WORDS_ONLY));
  const seven = new Set(featurize('set it to 7', WORDS_ONLY));
  const shared = [...five].filter((x) => seven.has(x)).length;
  assert.equal(five.size - shared, 1);
});

test('"constructor" is a word, not a number (the number-word tables have no Object.prototype behind them)', () => {
  const [, , word, at, seven] = tokenize('call the constructor at seven');
  assert.deepEqual({ norm: word.norm, isNumber: word.isNumber }, { norm: 'constructor', isNumber: false });
  assert.equal(at.norm, 'at');
  assert.deepEqual({ norm: seven.norm, isNumber: seven.isNumber }, { norm: '7', isNumber: true });
  assert.equal(tokenize('seven constructor').length, 2, 'a number run stops at it');
});

test('settings validation names each bad field', () => {
  assert.deepEqual(checkFeaturizerSettings(DEFAULT_FEATURIZER), []);
  const errs = checkFeaturizerSettings({ ...DEFAULT_FEATURIZER, buckets: 0, wordNgrams: 3, charNgrams: [5, 3], wordWeight: 0 });
  assert.equal(errs.length, 4);
  assert.match(errs.join('\n'), /buckets/);
  assert.match(errs.join('\n'), /charNgrams/);
});

test('remap drops unknown ids, keeps order, and round-trips through bytes', () => {
  const remap = new FeatureRemap(new Uint32Array([10, 20, 30]));
  assert.deepEqual([...remap.rows(new Uint32Array([30, 99, 10, 30]))], [2, 0, 2]);
  const back = FeatureRemap.fromBytes(remap.toBytes());
  assert.deepEqual([...back.ids], [10, 20, 30]);
  assert.throws(() => FeatureRemap.fromBytes(new Uint8Array(5)), /truncated/);
  assert.throws(() => new FeatureRemap(new Uint32Array([1, 1])), /twice/);
  const enc = encodeTokens(tokenize('turn it off'), WORDS_ONLY, new FeatureRemap(featurize('turn', WORDS_ONLY)));
  assert.equal(enc.rows.length, 1);
  assert.equal(enc.count, featurizeTokens(tokenize('turn it off'), WORDS_ONLY).length);
});

test('the trainer and the runtime classifier compute identical inputs and (to float tolerance) identical logits', async () => {
  const trained = trainClassifier({ task: 'intent', train: [tinyDataset()], fasttext: { epochs: 3, seed: 3 }, maxRows: 400 });
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-feat-'));
  try {
    await writeModelDir(dir, trained, { name: 't', version: '0', threshold: 0.5, data: [], precision: 'fp32' });
    const clf = await TextClassifier.load(dir);
    try {
      const sentences = [...TINY_DEV.map((r) => r.text), 'Turn OFF the Kitchen lights!!', 'set the alarm for twenty one', '', 'zzqx qqq'];
      const trainerSide = encodeForTraining(sentences, trained.featurizer, trained.remap);
      const scorer = new FastTextScorer(trained.weights);
      for (let i = 0; i < sentences.length; i++) {
        const runtime = clf.encode(tokenize(sentences[i]));
        assert.deepEqual([...runtime.rows], [...trainerSide[i].rows], sentences[i]);
        assert.equal(runtime.count, trainerSide[i].count, sentences[i]);
        const onnx = await clf.logits(runtime);
        const js = scorer.logits(trainerSide[i].rows, trainerSide[i].count, new Float32Array(trained.labels.length));
        for (let c = 0; c < js.length; c++) assert.ok(Math.abs(onnx[c] - js[c]) < 1e-4, `${sentences[i]} class ${c}: ${onnx[c]} vs ${js[c]}`);
      }
    } finally {
      await clf.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('FeatureRemap (sorted typed arrays, issue 10) maps every id exactly as a Map of the same ids does', () => {
  // Ids across the whole uint32 range (above 2^31 too), in random order; lookups of known and unknown ids.
  let x = 12345;
  const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const ids = new Uint32Array([...new Set(Array.from({ length: 50_000 }, rand))]);
  const remap = new FeatureRemap(ids);
  const reference = new Map<number, number>();
  ids.forEach((id, row) => reference.set(id, row));
  const queries = new Uint32Array(20_000);
  for (let i = 0; i < queries.length; i++) queries[i] = i % 2 === 0 ? ids[rand() % ids.length] : rand();
  const want = Int32Array.from([...queries].map((q) => reference.get(q)).filter((r): r is number => r !== undefined));
  assert.deepEqual(remap.rows(queries), want);
  assert.ok(want.length >= 10_000, 'half the queries are known ids');
  // Runs of one id (word features come wordWeight times in a row; rows() looks a run up once), known and unknown.
  const runs = Uint32Array.from([...queries.subarray(0, 200)].flatMap((q, i) => Array.from({ length: 1 + (i % 3) }, () => q)));
  assert.deepEqual(remap.rows(runs), Int32Array.from([...runs].map((q) => reference.get(q)).filter((r): r is number => r !== undefined)));
  assert.deepEqual(remap.rows(runs, 10), Int32Array.from([...runs.subarray(0, 10)].map((q) => reference.get(q)).filter((r): r is number => r !== undefined)));
  assert.equal(remap.row(ids[7]), 7);
  assert.equal(remap.row(0xffffffff), reference.get(0xffffffff) ?? -1);
  assert.throws(() => new FeatureRemap(new Uint32Array([5, 0xfffffffe, 5])), /hashed id 5 appears twice \(rows 0 and 2\)/);
  // Ids already ascending (what the trainer writes) take the no-sort path; the lookups are the same.
  const ascending = Uint32Array.from(ids).sort();
  const fromSorted = new FeatureRemap(ascending);
  const sortedRef = new Map<number, number>();
  ascending.forEach((id, row) => sortedRef.set(id, row));
  assert.deepEqual(fromSorted.rows(queries), Int32Array.from([...queries].map((q) => sortedRef.get(q)).filter((r): r is number => r !== undefined)));
  assert.equal(fromSorted.row(ascending[4242]), 4242);
  assert.equal(fromSorted.row(ascending[0] > 0 ? ascending[0] - 1 : 0xffffffff), -1);
});

test('SortedIds (a bucket table over the keys, issue 10) finds exactly what a binary search of all keys finds', () => {
  let x = 777;
  const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0);
  const sets: Uint32Array[] = [
    new Uint32Array(0),
    Uint32Array.from([0]),
    Uint32Array.from([0xffffffff]),
    Uint32Array.from([0, 1, 2, 3, 0xffffffff]),
    Uint32Array.from([5, 6, 7, 1000, 1001]),
    Uint32Array.from(new Set(Array.from({ length: 40_000 }, () => rand() % (1 << 21)))).sort(),
    Uint32Array.from(new Set(Array.from({ length: 9_000 }, rand))).sort(),
    // Clustered ids: most buckets empty, a few full.
    Uint32Array.from({ length: 3_000 }, (_, i) => (i < 1500 ? i : 0x80000000 + i)),
  ];
  for (const keys of sets) {
    const index = new SortedIds(keys);
    const queries = [0, 1, 2, 4, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff, -1, 2 ** 32, 1.5];
    for (const k of keys) queries.push(k, k + 1, k - 1);
    for (let i = 0; i < 5_000; i++) queries.push(rand(), rand() % (1 << 21));
    for (const q of queries) assert.equal(index.indexOf(q), findSorted(keys, q), `keys of ${keys.length}, query ${q}`);
  }
});
