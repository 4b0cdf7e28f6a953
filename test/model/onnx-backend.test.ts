/**
 * OnnxModel runs the native onnxruntime session synchronously (issue 10): on every shipped model file (and the
 * batched form batch-graph.ts makes of the classifiers) it gives exactly what onnxruntime-node's public async API
 * gives, with real inputs from real sentences; a run settles before any other macrotask; errors still reject. And the
 * classifier's ranking of the labels (an insertion sort since issue 10) is the stable sort it was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { batchClassifierGraph, BATCH_INPUTS } from '../../src/model/batch-graph.js';
import { encodeTokens, FeatureRemap } from '../../src/model/features.js';
import { loadManifest } from '../../src/model/manifest.js';
import { OnnxModel, onnxNativeBinding, type FeedValue } from '../../src/model/onnx-backend.js';
import { HashedWordClasses, SlotFeatureRemap, slotFeatureIds } from '../../src/model/slot-features.js';
import { readSlotsManifest } from '../../src/model/slot-tagger.js';
import { tokenize } from '../../src/model/text.js';
import { loadLexicon, TextClassifier } from '../../src/model/classifier.js';
import { packageRoot } from '../../src/util/paths.js';

const models = join(packageRoot(), 'models');
const SENTENCES = [
  'turn off the kitchen lights',
  'set the heating to twenty one degrees in the living room please',
  'I do NOT like this sooo much... :(',
  'wake me up at seven thirty tomorrow morning and then remind me to call mum about the party on saturday',
  'mach das licht im wohnzimmer aus',
  '把客厅的灯关掉',
  'lock',
];

const CLASSIFIER_DIRS = ['intent', 'sentiment', 'langid', 'de/intent', 'de/sentiment', 'zh-cn/intent'];

/** Both ways of running one graph; the public-API one is disposed by the caller too. */
async function pair(source: string | Uint8Array, path: string): Promise<[OnnxModel, OnnxModel]> {
  const open = (api: boolean) => (typeof source === 'string' ? OnnxModel.load(source, { api }) : OnnxModel.fromBytes(source, path, { api }));
  return [await open(false), await open(true)];
}

async function assertSame(sync: OnnxModel, api: OnnxModel, feeds: Record<string, FeedValue>, what: string): Promise<void> {
  const a = await sync.run(feeds);
  const b = await api.run(feeds);
  assert.deepEqual(Object.keys(a).sort(), Object.keys(b).sort(), what);
  for (const name of Object.keys(b)) {
    assert.deepEqual([...a[name].dims], [...b[name].dims], `${what}: dims of ${name}`);
    assert.ok(a[name].data instanceof Float32Array, `${what}: ${name} is float32`);
    assert.deepEqual(a[name].data, b[name].data, `${what}: ${name}`);
  }
}

test('onnxruntime-node 1.30 has the native session shape OnnxModel runs synchronously (else it falls back silently)', async () => {
  assert.ok(onnxNativeBinding(), 'binding.InferenceSession with loadModel/run/dispose and initOrt');
  const m = await OnnxModel.load(join(models, 'intent', 'model.onnx'));
  const api = await OnnxModel.load(join(models, 'intent', 'model.onnx'), { api: true });
  try {
    assert.equal(m.synchronous, true);
    assert.equal(api.synchronous, false);
    assert.deepEqual(m.inputNames, api.inputNames);
    assert.deepEqual(m.outputNames, api.outputNames);
  } finally {
    await m.dispose();
    await api.dispose();
  }
});

test('classifier graphs, as files and in batched form: the native run equals the public API on real sentences', async () => {
  for (const dir of CLASSIFIER_DIRS) {
    const modelDir = join(models, dir);
    const manifest = loadManifest(modelDir);
    const featuresFile = join(modelDir, manifest.files.features);
    const remap = FeatureRemap.fromBytes(new Uint8Array(readFileSync(featuresFile)), featuresFile);
    const lexicon = manifest.featurizer.lexicon ? loadLexicon(join(modelDir, manifest.featurizer.lexicon.file), manifest.featurizer.lexicon.entries) : undefined;
    const encs = SENTENCES.map((s) => encodeTokens(tokenize(s), manifest.featurizer, remap, s, lexicon));
    const file = join(modelDir, manifest.files.classifier);
    const [sync, api] = await pair(file, file);
    try {
      for (const [i, enc] of encs.entries()) {
        await assertSame(sync, api, {
          ids: { type: 'int32', data: enc.rows, dims: [enc.rows.length] },
          inv_count: { type: 'float32', data: new Float32Array([enc.count > 0 ? 1 / enc.count : 0]), dims: [1] },
        }, `${dir} file, sentence ${i}`);
      }
    } finally {
      await sync.dispose();
      await api.dispose();
    }
    const bytes = batchClassifierGraph(new Uint8Array(readFileSync(file)), file);
    assert.ok(bytes, `${dir}: the shipped graph has the batchable shape`);
    const [bsync, bapi] = await pair(bytes, file);
    try {
      const len = Math.max(...encs.map((e) => e.rows.length));
      const ids = new Int32Array(encs.length * len);
      const weight = new Float32Array(encs.length * len);
      encs.forEach((e, i) => {
        ids.set(e.rows, i * len);
        weight.fill(e.count > 0 ? 1 / e.count : 0, i * len, i * len + e.rows.length);
      });
      await assertSame(bsync, bapi, {
        [BATCH_INPUTS.ids]: { type: 'int32', data: ids, dims: [encs.length, len] },
        [BATCH_INPUTS.weight]: { type: 'float32', data: weight, dims: [encs.length, len] },
      }, `${dir} batched`);
    } finally {
      await bsync.dispose();
      await bapi.dispose();
    }
  }
});

test('slot tagger graphs: the native run equals the public API on real sentences, one and concatenated', async () => {
  for (const dir of ['intent', 'zh-cn/intent']) {
    const modelDir = join(models, dir);
    const section = readSlotsManifest(modelDir, JSON.parse(readFileSync(join(modelDir, 'manifest.json'), 'utf8')));
    const remap = SlotFeatureRemap.decode(new Uint8Array(readFileSync(join(modelDir, section.files.remap!))));
    const k = section.featurizer.maxFeatures;
    const classes = section.files.classes ? HashedWordClasses.decode(new Uint8Array(readFileSync(join(modelDir, section.files.classes)))) : undefined;
    const rows = SENTENCES.map((s) => remap.apply(slotFeatureIds(tokenize(s), 'iot_hue_lightoff', section.featurizer, classes))).filter((r) => r.length > 0);
    const file = join(modelDir, section.files.model);
    const [sync, api] = await pair(file, file);
    try {
      for (const [i, r] of rows.entries()) await assertSame(sync, api, { [sync.inputNames[0]]: { type: 'int64', data: r, dims: [r.length / k, k] } }, `${dir} sentence ${i}`);
      const all = new BigInt64Array(rows.reduce((a, r) => a + r.length, 0));
      let at = 0;
      for (const r of rows) {
        all.set(r, at);
        at += r.length;
      }
      await assertSame(sync, api, { [sync.inputNames[0]]: { type: 'int64', data: all, dims: [all.length / k, k] } }, `${dir} concatenated`);
    } finally {
      await sync.dispose();
      await api.dispose();
    }
  }
});

test('a native run settles before any other macrotask; a bad feed rejects with what is wrong; dispose is idempotent', async () => {
  const file = join(models, 'intent', 'slots.onnx');
  const m = await OnnxModel.load(file);
  let immediate = false;
  const handle = setImmediate(() => (immediate = true));
  const out = await m.run({ ids: { type: 'int64', data: new BigInt64Array(2 * 28), dims: [2, 28] } });
  assert.equal(immediate, false, 'no event-loop turn between the call and its result');
  clearImmediate(handle);
  assert.equal(out.scores.dims[0], 2);
  await assert.rejects(m.run({}), /input 'ids' is missing/);
  await assert.rejects(m.run({ ids: { type: 'int64', data: new BigInt64Array(50), dims: [2, 28] } }), /space|size|length/i);
  await m.dispose();
  await m.dispose();
  await assert.rejects(m.run({ ids: { type: 'int64', data: new BigInt64Array(28), dims: [1, 28] } }), /disposed/);
});

test('a classifier ranks every label by descending probability, equal ones in label order (a stable sort)', async () => {
  const c = await TextClassifier.load(join(models, 'intent'));
  try {
    const n = c.labels.length;
    let x = 99;
    const rand = () => (x = (Math.imul(x, 1103515245) + 12345) >>> 0) / 2 ** 32;
    const cases = [
      Float32Array.from({ length: n }, () => rand() * 10 - 5),
      new Float32Array(n), // all equal
      Float32Array.from({ length: n }, () => Math.round(rand() * 3)), // many ties
      Float32Array.from({ length: n }, (_, i) => i), // ascending: the last label first
      Float32Array.from({ length: n }, (_, i) => -i),
    ];
    const rank = (c as unknown as { classification(l: Float32Array): { ranked: { name: string; confidence: number }[] } }).classification.bind(c);
    for (const logits of cases) {
      const p = c.probabilities(logits);
      const want = c.labels.map((name, i) => ({ name, confidence: p[i] })).sort((a, b) => b.confidence - a.confidence);
      assert.deepEqual(rank(logits).ranked, want);
    }
  } finally {
    await c.dispose();
  }
});
