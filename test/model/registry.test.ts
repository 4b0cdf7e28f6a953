import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/model/registry.js';
import { loadManifest, ManifestError, validateManifest } from '../../src/model/manifest.js';
import { trainClassifier } from '../../src/train/trainer.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { tinyDataset, TINY_DEV } from '../train/tiny-data.js';

let root: string;
let intentDir: string;
let sentimentDir: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hubnlu-reg-'));
  intentDir = join(root, 'intent');
  sentimentDir = join(root, 'sentiment');
  const intent = trainClassifier({ task: 'intent', train: [tinyDataset()], dev: [{ file: 'dev', rows: TINY_DEV }], fasttext: { epochs: 8, seed: 1 } });
  await writeModelDir(intentDir, intent, { name: 'tiny-intent', version: '0.0.1', threshold: 0.3, data: [{ file: 'tiny.jsonl', rows: 120, source: 'test', licence: 'CC0' }] });
  const sentRows = ['i love it', 'this is great', 'wonderful day', 'i hate this', 'awful and bad', 'terrible service', 'the door is open', 'it is tuesday', 'the box is blue'].map((text, i) => ({
    text,
    label: ['positive', 'negative', 'neutral'][Math.floor(i / 3)],
    slots: [],
    source: 'test',
  }));
  const sentiment = trainClassifier({ task: 'sentiment', train: [{ file: 's', rows: sentRows }], labels: ['negative', 'neutral', 'positive'], fasttext: { epochs: 150, seed: 1 } });
  await writeModelDir(sentimentDir, sentiment, { name: 'tiny-sentiment', version: '0.0.2', threshold: 0, data: [] });
});

after(() => rmSync(root, { recursive: true, force: true }));

test('analyze returns intent with top-3 alternatives, sentiment, and the model refs; close is idempotent', async () => {
  const reg = await ModelRegistry.load({ intentDir, sentimentDir });
  try {
    // The requested version plus the content hash of the weights (src/train/model-version.ts).
    const [iRef, sRef] = reg.loadedModels();
    assert.deepEqual([iRef.task, iRef.name, sRef.task, sRef.name], ['intent', 'tiny-intent', 'sentiment', 'tiny-sentiment']);
    assert.match(iRef.version, /^0\.0\.1-h\.[0-9a-f]{10}$/);
    assert.match(sRef.version, /^0\.0\.2-h\.[0-9a-f]{10}$/);
    assert.equal(reg.unknownThreshold, 0.3, 'threshold defaults to the manifest');
    const a = await reg.analyze('turn off the kitchen lights', ['intent', 'sentiment']);
    assert.equal(a.intent?.name, 'iot_hue_lightoff');
    assert.equal(a.intent?.alternatives.length, 3);
    const conf = a.intent!.alternatives.map((x) => x.confidence);
    assert.deepEqual(conf, [...conf].sort((x, y) => y - x));
    assert.equal(a.intent?.confidence, conf[0]);
    assert.deepEqual(a.intent?.slots, [], 'no tagger in this model dir: no slots');
    assert.ok(a.sentiment);
    const s = a.sentiment!.scores;
    assert.ok(Math.abs(s.negative + s.neutral + s.positive - 1) < 1e-6);
    assert.equal(a.models.length, 2);
    const onlySentiment = await reg.analyze('i love it', ['sentiment']);
    assert.equal(onlySentiment.intent, undefined);
    assert.equal(onlySentiment.sentiment?.label, 'positive');
    assert.deepEqual(onlySentiment.models, [sRef]);
  } finally {
    await reg.close();
    await reg.close();
  }
  await assert.rejects(reg.analyze('x', ['intent']), /closed/);
});

test('empty-after-normalisation text is unknown with confidence 0; a threshold of 1 makes everything unknown', async () => {
  const reg = await ModelRegistry.load({ intentDir, sentimentDir: null, unknownThreshold: 1 });
  try {
    const empty = await reg.analyze(' ?! … ', ['intent']);
    assert.equal(empty.intent?.name, 'unknown');
    assert.equal(empty.intent?.confidence, 0);
    const any = await reg.analyze('turn off the kitchen lights', ['intent']);
    assert.equal(any.intent?.name, 'unknown');
    assert.equal(any.intent?.alternatives[0].name, 'iot_hue_lightoff', 'alternatives are listed even when unknown');
    await assert.rejects(reg.analyze('hi', ['sentiment']), /no sentiment model is loaded/);
  } finally {
    await reg.close();
  }
  await assert.rejects(ModelRegistry.load({ intentDir, sentimentDir: null, unknownThreshold: 2 }), /outside \[0, 1\]/);
});

test('loading errors name the file and the fix', async () => {
  await assert.rejects(ModelRegistry.load({ intentDir: join(root, 'nope'), sentimentDir: null }), (e: Error) => {
    assert.ok(e instanceof ManifestError);
    assert.match(e.message, /nope.*does not exist.*models\.intent/s);
    return true;
  });
  await assert.rejects(ModelRegistry.load({ intentDir: sentimentDir, sentimentDir: null }), /says task "sentiment".*models\.intent/);

  const m = JSON.parse(readFileSync(join(intentDir, 'manifest.json'), 'utf8')) as Record<string, unknown>;
  const problems = validateManifest({ ...m, labels: ['only-one'], calibration: { temperature: -1 }, featurizer: { ...(m.featurizer as object), kind: 'v0' } });
  assert.ok(problems.some((p) => p.startsWith('labels:')));
  assert.ok(problems.some((p) => p.startsWith('calibration.temperature')));
  assert.ok(problems.some((p) => p.startsWith('featurizer.kind')));
  const copy = join(root, 'copy');
  cpSync(intentDir, copy, { recursive: true });
  unlinkSync(join(copy, 'features.bin'));
  assert.throws(() => loadManifest(copy), /files\.features: .*features\.bin does not exist/);
  writeFileSync(join(copy, 'manifest.json'), '{not json');
  assert.throws(() => loadManifest(copy), /manifest\.json: invalid model manifest:\n  - not valid JSON/);
});
