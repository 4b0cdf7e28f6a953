/**
 * Micro-batched inference (issue 10) on the shipped model files: the graph rewritten in memory
 * (src/model/batch-graph.ts) gives each sentence of a batch what the file itself gives it alone, the
 * slot tagger's concatenated batch equals one call per sentence, the router's analyzeMany equals
 * analyze, and a file the rewrite does not know still loads and runs one sentence per call.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { batchClassifierGraph, isRowWiseTagger } from '../../src/model/batch-graph.js';
import { TextClassifier } from '../../src/model/classifier.js';
import { OnnxModel } from '../../src/model/onnx-backend.js';
import { LanguageRouter } from '../../src/model/language-router.js';
import { loadManifest } from '../../src/model/manifest.js';
import { SlotTagger } from '../../src/model/slot-tagger.js';
import { tokenize } from '../../src/model/text.js';
import type { Analysis } from '../../src/model/types.js';
import { decodeModel, encodeModel } from '../../src/train/onnx-proto.js';
import { buildClassifierGraph } from '../../src/train/export.js';
import { packageRoot } from '../../src/util/paths.js';

const models = join(packageRoot(), 'models');
const SENTENCES = [
  'turn off the kitchen lights',
  'set the heating to twenty one degrees in the living room please',
  'what is the weather tomorrow',
  '',
  '?! …',
  'i love this song',
  'wake me up at seven thirty tomorrow morning and then remind me to call mum about the party on saturday',
  'mach das licht im wohnzimmer aus',
  'baisse le chauffage',
  '把客厅的灯关掉',
  'lock',
];

/** What the file itself (single-sentence graph, as written) gives one sentence. */
async function fileLogits(model: OnnxModel, rows: Int32Array, count: number): Promise<Float32Array> {
  const out = await model.run({
    ids: { type: 'int32', data: rows, dims: [rows.length] },
    inv_count: { type: 'float32', data: new Float32Array([count > 0 ? 1 / count : 0]), dims: [1] },
  });
  return out.logits.data;
}

function assertClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i])), `${what}: logit ${i} ${a[i]} vs ${b[i]}`);
}

const classifierDirs = ['intent', 'sentiment', 'langid', 'de/intent', 'zh-cn/sentiment'];

for (const rel of classifierDirs) {
  test(`batched ${rel} classifier: each sentence of one batch gets the logits the file gives it alone`, async () => {
    const dir = join(models, rel);
    const clf = await TextClassifier.load(dir);
    const file = await OnnxModel.load(join(dir, loadManifest(dir).files.classifier));
    try {
      assert.equal(clf.batched, true, 'the shipped int8 graph is rewritten');
      const encs = SENTENCES.map((s) => clf.encode(tokenize(s), s));
      const batch = await clf.logitsMany(encs);
      for (let i = 0; i < encs.length; i++) {
        const alone = await fileLogits(file, encs[i].rows, encs[i].count);
        assertClose(batch[i], alone, `${rel} "${SENTENCES[i]}"`);
        assertClose(await clf.logits(encs[i]), alone, `${rel} "${SENTENCES[i]}" (batch of one)`);
      }
      const ranked = await clf.classifyMany(SENTENCES.map((text) => ({ tokens: tokenize(text), text })));
      for (let i = 0; i < SENTENCES.length; i++) {
        const alone = await clf.classify(tokenize(SENTENCES[i]), SENTENCES[i]);
        assert.deepEqual(
          ranked[i].ranked.map((r) => r.name),
          alone.ranked.map((r) => r.name),
        );
        assert.equal(alone.ranked.length, clf.labels.length, 'without `top`, every label is ranked');
        // `top`: the same first labels and probabilities, and only those (issue 10: no objects for labels nobody reads).
        const top = await clf.classify(tokenize(SENTENCES[i]), SENTENCES[i], 3);
        assert.deepEqual(top.ranked, alone.ranked.slice(0, 3));
        assert.deepEqual((await clf.classifyMany([{ tokens: tokenize(SENTENCES[i]), text: SENTENCES[i] }], 2))[0].ranked, alone.ranked.slice(0, 2));
      }
    } finally {
      await clf.dispose();
      await file.dispose();
    }
  });
}

test('the fp32 form is rewritten too, and agrees with its file', async () => {
  const numRows = 50;
  const dim = 4;
  const classes = 3;
  const rnd = (n: number, seed: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(seed * 1000 + i * 7.3));
  const w = { emb: rnd(numRows * dim, 1), numRows, dim, hidden: 0, w2: rnd(dim * classes, 2), b2: rnd(classes, 3), numClasses: classes } as unknown as Parameters<typeof buildClassifierGraph>[0];
  const bytes = buildClassifierGraph(w, 'fp32');
  const batched = batchClassifierGraph(bytes);
  assert.ok(batched, 'the fp32 graph is recognised');
  const file = await OnnxModel.fromBytes(bytes, 'fp32 file');
  const b = await OnnxModel.fromBytes(batched, 'fp32 batched');
  try {
    const sentences = [new Int32Array([1, 2, 3]), new Int32Array([]), new Int32Array([49, 0, 7, 7, 12])];
    const len = 5;
    const ids = new Int32Array(sentences.length * len);
    const weight = new Float32Array(sentences.length * len);
    sentences.forEach((rows, i) => {
      ids.set(rows, i * len);
      weight.fill(rows.length > 0 ? 1 / (rows.length + 1) : 0, i * len, i * len + rows.length);
    });
    const out = await b.run({ ids: { type: 'int32', data: ids, dims: [sentences.length, len] }, weight: { type: 'float32', data: weight, dims: [sentences.length, len] } });
    assert.deepEqual(out.logits.dims, [sentences.length, classes]);
    for (let i = 0; i < sentences.length; i++) {
      const alone = await fileLogits(file, sentences[i], sentences[i].length > 0 ? sentences[i].length + 1 : 0);
      assertClose(out.logits.data.subarray(i * classes, (i + 1) * classes), alone, `fp32 sentence ${i}`);
    }
  } finally {
    await file.dispose();
    await b.dispose();
  }
});

test('a classifier file of another shape is not rewritten: it loads as it is and runs one sentence per call', async () => {
  const scratch = mkdtempSync(join(tmpdir(), 'hubnlu-batch-'));
  try {
    const src = join(models, 'intent');
    for (const f of readdirSync(src)) copyFileSync(join(src, f), join(scratch, f));
    // The same weights behind an extra Identity on `ids`: a graph batch-graph.ts does not know.
    const m = decodeModel(new Uint8Array(readFileSync(join(src, 'model.onnx'))));
    for (const n of m.graph.nodes) n.inputs = n.inputs.map((x) => (x === 'ids' ? 'ids_copy' : x));
    m.graph.nodes.unshift({ opType: 'Identity', domain: '', name: 'copy', inputs: ['ids'], outputs: ['ids_copy'], attributes: new Map() });
    const other = encodeModel(m);
    assert.equal(batchClassifierGraph(other), null);
    writeFileSync(join(scratch, 'model.onnx'), other);
    const plain = await TextClassifier.load(scratch);
    const shipped = await TextClassifier.load(src);
    try {
      assert.equal(plain.batched, false);
      const encs = SENTENCES.map((s) => plain.encode(tokenize(s), s));
      const a = await plain.logitsMany(encs);
      const b = await shipped.logitsMany(encs);
      for (let i = 0; i < encs.length; i++) assertClose(a[i], b[i], `"${SENTENCES[i]}"`);
    } finally {
      await plain.dispose();
      await shipped.dispose();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});

test('the shipped slot taggers are row-wise; one call for a batch tags each sentence as one call for it alone', async () => {
  assert.equal(isRowWiseTagger(readFileSync(join(models, 'intent', 'model.onnx'))), false, 'a classifier is not a tagger');
  for (const rel of ['intent', 'fr/intent', 'zh-cn/intent']) {
    const dir = join(models, rel);
    const manifest = loadManifest(dir);
    assert.equal(isRowWiseTagger(readFileSync(join(dir, 'slots.onnx'))), true, rel);
    const tagger = await SlotTagger.load(dir, manifest);
    try {
      assert.equal(tagger.rowWise, true);
      const inputs = SENTENCES.map((text, i) => ({ text, tokens: tokenize(text), intent: i % 3 === 0 ? null : manifest.labels[i % manifest.labels.length] }));
      const batch = await tagger.tagMany(inputs);
      for (let i = 0; i < inputs.length; i++) {
        const alone = await tagger.tag(inputs[i].text, inputs[i].tokens, inputs[i].intent);
        assert.equal(batch[i].length, alone.length, `${rel} "${inputs[i].text}"`);
        batch[i].forEach((slot, k) => {
          const { confidence, ...rest } = slot;
          const { confidence: c2, ...rest2 } = alone[k];
          assert.deepEqual(rest, rest2);
          assert.ok(Math.abs(confidence - c2) < 1e-4);
        });
      }
    } finally {
      await tagger.dispose();
    }
  }
});

/** An analysis with confidences rounded (a batch may differ from a single call in the last float bits). */
function rounded(a: Analysis): unknown {
  return JSON.parse(JSON.stringify(a, (_k, v: unknown) => (typeof v === 'number' ? Number(v.toFixed(4)) : v)));
}

test('the router: analyzeMany over every shipped language equals analyze, with payload languages and tasks mixed', async () => {
  const languages: Record<string, { intent: string; sentiment: string }> = { en: { intent: join(models, 'intent'), sentiment: join(models, 'sentiment') } };
  for (const lang of ['de', 'fr', 'es', 'zh-cn']) languages[lang] = { intent: join(models, lang, 'intent'), sentiment: join(models, lang, 'sentiment') };
  const router = await LanguageRouter.load({ languages, defaultLanguage: 'en', langidDir: join(models, 'langid'), lazy: true });
  try {
    const requests = SENTENCES.flatMap((text, i) => [
      { text, tasks: ['intent', 'sentiment'] as const },
      { text, tasks: [i % 2 === 0 ? 'intent' : 'sentiment'] as const, options: { lang: i % 2 === 0 ? 'de' : 'xx', langSource: 'payload' as const } },
    ]);
    const batch = await router.analyzeMany(requests.map((r) => ({ ...r, tasks: [...r.tasks] })));
    assert.equal(batch.length, requests.length);
    for (let i = 0; i < requests.length; i++) {
      const alone = await router.analyze(requests[i].text, [...requests[i].tasks], requests[i].options);
      assert.deepEqual(rounded(batch[i]), rounded(alone), `"${requests[i].text}" ${JSON.stringify(requests[i].options ?? {})}`);
    }
  } finally {
    await router.close();
  }
});
