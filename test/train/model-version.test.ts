import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { trainClassifier, type TrainedClassifier } from '../../src/train/trainer.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { baseVersion, contentHash } from '../../src/train/model-version.js';
import { loadManifest } from '../../src/model/manifest.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { decodeModel } from '../../src/train/onnx-proto.js';
import { liveAccuracyByModel } from '../../src/eval/live-accuracy.js';
import type { LoggedRow } from '../../src/data/log-rows.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

let root: string;
let seed1: TrainedClassifier;
let seed2: TrainedClassifier;

before(() => {
  root = mkdtempSync(join(tmpdir(), 'hubnlu-version-'));
  const train = (seed: number) => trainClassifier({ task: 'intent', train: [tinyDataset()], dev: [{ file: 'dev', rows: TINY_DEV }], fasttext: { epochs: 6, seed } });
  seed1 = train(1);
  seed2 = train(2);
});

after(() => rmSync(root, { recursive: true, force: true }));

const write = async (name: string, t: TrainedClassifier, version: string): Promise<string> => {
  const dir = join(root, name);
  await writeModelDir(dir, t, { name: 'tiny-intent', version, threshold: 0.3, data: [] });
  return dir;
};

test('the manifest version is the requested version plus a hash of the weights: same weights, same version; other weights, another', async () => {
  const a = await write('a', seed1, '1.2.3');
  const b = await write('b', seed1, '1.2.3');
  const c = await write('c', seed2, '1.2.3');
  const again = await write('again', seed1, '1.2.3-h.0123456789');
  const va = loadManifest(a).version;
  assert.match(va, /^1\.2\.3-h\.[0-9a-f]{10}$/);
  assert.equal(loadManifest(b).version, va, 'a rerun with the same weights keeps the version (train-defaults stays reproducible)');
  assert.equal(loadManifest(again).version, va, 'a version passed back in is not hashed twice');
  const vc = loadManifest(c).version;
  assert.equal(baseVersion(vc), '1.2.3');
  assert.notEqual(vc, va, 'a retrain with other weights gets another version');
  // The graph keeps the requested version in its metadata (it is hashed, so it cannot hold the hash), byte for byte the same.
  const onnx = decodeModel(readFileSync(join(a, 'model.onnx')));
  assert.equal(onnx.metadata.get('version'), '1.2.3');
  assert.deepEqual(readFileSync(join(a, 'model.onnx')), readFileSync(join(b, 'model.onnx')));
  // The card's title carries it too.
  assert.ok(readFileSync(join(a, 'MODEL_CARD.md'), 'utf8').startsWith(`# tiny-intent ${va} (intent)`));
});

test('the hash covers the weight files and the manifest settings that change answers, not measurements', async () => {
  const dir = await write('h', seed1, '1.0.0');
  const m = loadManifest(dir);
  const files = ['model.onnx', 'features.bin'];
  const h = contentHash(dir, files, m);
  assert.equal(`1.0.0-h.${h}`, m.version, 'recomputing it from the directory gives the manifest version');
  assert.equal(contentHash(dir, files, { ...m, metrics: { anything: 1 }, training: { ...m.training, seconds: 1 } } as typeof m), h, 'timings and metrics do not count');
  assert.notEqual(contentHash(dir, files, { ...m, calibration: { ...m.calibration, temperature: m.calibration.temperature * 1.5 } }), h, 'the temperature changes answers');
  assert.notEqual(contentHash(dir, files, { ...m, labels: [...m.labels].reverse() }), h);
  assert.notEqual(contentHash(dir, ['model.onnx'], m), h, 'every named file counts');
  assert.throws(() => contentHash(dir, ['missing.bin'], m), /missing\.bin: missing/);
});

test('what reads the version tells the two models apart: the registry refs (bridge info, Home Assistant, the log) and stats --by-model', async () => {
  const shipped = await write('shipped', seed1, '1.0.0');
  const household = await write('household', seed2, '1.0.0');
  const refs: string[] = [];
  for (const dir of [shipped, household]) {
    const reg = await ModelRegistry.load({ intentDir: dir, sentimentDir: null });
    try {
      const [ref] = reg.loadedModels();
      assert.equal(ref.version, loadManifest(dir).version);
      const a = await reg.analyze('turn off the kitchen lights', ['intent']);
      assert.deepEqual(a.models, [ref]);
      refs.push(`${ref.name}@${ref.version}`);
    } finally {
      await reg.close();
    }
  }
  assert.notEqual(refs[0], refs[1], 'same name and requested version, different weights: different refs');
  // Where several models answer together their refs are joined with '+' (the shadow log, mixed-language reports): still splittable.
  assert.deepEqual(refs.join('+').split('+'), refs);
  const row = (model: string, ok: boolean, i: number): LoggedRow => ({
    text: 't',
    label: 'alarm_set',
    slots: [],
    source: 'log',
    seq: i,
    id: `i${i}`,
    receivedAt: Date.UTC(2026, 0, 1) + i,
    siteId: 'kitchen',
    lang: 'en',
    live: { label: ok ? 'alarm_set' : 'weather_query', confidence: 0.9, model },
    labelledBy: 'household',
    labelledAt: null,
  });
  const byModel = liveAccuracyByModel([row(refs[0], false, 1), row(refs[0], false, 2), row(refs[1], true, 3), row(refs[1], true, 4)]);
  assert.deepEqual(
    byModel.map((m) => [m.model, m.n, m.correct]),
    [
      [refs[0], 2, 0],
      [refs[1], 2, 2],
    ],
  );
});
