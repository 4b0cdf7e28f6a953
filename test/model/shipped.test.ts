/**
 * The shipped models (models/intent, models/sentiment) load from the package
 * and get obvious sentences right. Accuracy targets are measured by
 * `hubnlu eval` and the benches, not here.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/model/registry.js';
import { defaultModelDir, loadManifest } from '../../src/model/manifest.js';
import { packageRoot } from '../../src/util/paths.js';
import { weightFiles } from '../../src/train/model-dir.js';
import { contentHash } from '../../src/train/model-version.js';

let reg: ModelRegistry;

before(async () => {
  reg = await ModelRegistry.load({ unknownThreshold: 0.4 });
});
after(async () => {
  await reg.close();
});

test('shipped manifests are valid, int8, and within the size budgets', () => {
  for (const task of ['intent', 'sentiment'] as const) {
    const dir = defaultModelDir(task);
    const m = loadManifest(dir);
    assert.equal(m.task, task);
    assert.equal(m.architecture.precision, 'int8');
    let bytes = 0;
    for (const f of [m.files.classifier, m.files.features]) bytes += statSync(join(dir, f)).size;
    if (m.featurizer.lexicon) bytes += statSync(join(dir, m.featurizer.lexicon.file)).size;
    if (task === 'intent') {
      assert.ok(m.files.slots, 'the intent model carries the slot tagger');
      const slots = m.slots as { files: Record<string, string> };
      for (const f of Object.values(slots.files)) bytes += statSync(join(dir, f)).size;
    }
    // Issue 13: at most 5 MB per shipped model.
    assert.ok(bytes <= 5e6, `${task}: ${bytes} bytes > 5 MB`);
    assert.ok(m.calibration.temperature > 0);
  }
});

/** Every model directory `train-defaults` writes under models/ (English, langid, the other languages). */
function shippedDirs(): string[] {
  const root = join(packageRoot(), 'models');
  const dirs: string[] = [];
  for (const e of readdirSync(root, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const d = join(root, e.name);
    if (existsSync(join(d, 'manifest.json'))) dirs.push(d);
    else for (const t of ['intent', 'sentiment']) if (existsSync(join(d, t, 'manifest.json'))) dirs.push(join(d, t));
  }
  return dirs;
}

test('shipped model directories hold only generated files (train-defaults replaces them whole; hand-written docs live in docs/)', () => {
  const dirs = shippedDirs();
  assert.ok(dirs.length >= 3, dirs.join(', '));
  for (const dir of dirs) {
    const m = loadManifest(dir);
    const generated = new Set(['manifest.json', 'MODEL_CARD.md', ...weightFiles(m)]);
    const extra = readdirSync(dir).filter((f) => !generated.has(f));
    assert.deepEqual(extra, [], `${dir}: ${extra.join(', ')} would be deleted by the next train-defaults`);
  }
});

test('each shipped manifest version is its requested version plus the hash of its weights (tells it from household retrains)', () => {
  for (const dir of shippedDirs()) {
    const m = loadManifest(dir);
    const match = /^(\d+\.\d+\.\d+)-h\.([0-9a-f]{10})$/.exec(m.version);
    assert.ok(match, `${dir}: version ${m.version} is not <semver>-h.<hash>`);
    assert.equal(match[2], contentHash(dir, weightFiles(m), m), `${dir}: the version's hash does not match its files; retrain with npm run train:models`);
  }
});

test('obvious smart-home requests get the right intent and slots', async () => {
  const cases: [string, string][] = [
    ['turn off the kitchen lights', 'iot_hue_lightoff'],
    ['turn on the lights in the bedroom', 'iot_hue_lighton'],
    ['set the heating to twenty one degrees', 'iot_thermostat_set'],
    ['lock the front door', 'iot_door_lock'],
    ['wake me up at seven tomorrow', 'alarm_set'],
    ["what's the weather like today", 'weather_query'],
    ['play some jazz music', 'play_music'],
  ];
  for (const [text, want] of cases) {
    const a = await reg.analyze(text, ['intent']);
    assert.equal(a.intent?.name, want, `${text}: got ${a.intent?.name} (${a.intent?.confidence})`);
  }
  const kitchen = await reg.analyze('turn off the kitchen lights', ['intent']);
  assert.ok(
    kitchen.intent?.slots.some((s) => s.type === 'house_place' && s.value === 'kitchen' && s.raw === 'kitchen' && s.start === 13 && s.end === 20),
    JSON.stringify(kitchen.intent?.slots),
  );
  // Digits and number words mean the same.
  const words = await reg.analyze('set the heating to twenty one degrees', ['intent']);
  const digits = await reg.analyze('set the heating to 21 degrees', ['intent']);
  assert.equal(words.intent?.name, digits.intent?.name);
  assert.ok(Math.abs(words.intent!.confidence - digits.intent!.confidence) < 1e-6);
});

test('gibberish and empty input come out unknown at the default threshold', async () => {
  for (const text of ['asdf qwer zxcv', 'zxcvbnm asdfgh', 'lorem ipsum dolor sit amet', '', '?!']) {
    const a = await reg.analyze(text, ['intent']);
    assert.equal(a.intent?.name, 'unknown', `${JSON.stringify(text)}: ${a.intent?.alternatives[0]?.name} ${a.intent?.confidence}`);
  }
});

test('input without a single letter (a bare number, a time, emoji) is unknown with confidence 0, never a command', async () => {
  // Speech-to-text hearing only "42" must not set the thermostat to 42: nothing in it says what to do.
  for (const text of ['42', '21.5', '12:30', '50 %', '😀 👍', '#1']) {
    const a = await reg.analyze(text, ['intent']);
    assert.equal(a.intent?.name, 'unknown', `${JSON.stringify(text)}: ${a.intent?.alternatives[0]?.name} ${a.intent?.confidence}`);
    assert.equal(a.intent?.confidence, 0, JSON.stringify(text));
    assert.deepEqual(a.intent?.slots, [], JSON.stringify(text));
  }
  // One letter is enough to be read: the same numbers in a command still are.
  assert.equal((await reg.analyze('set the thermostat to 21.5', ['intent'])).intent?.name, 'iot_thermostat_set');
  assert.equal((await reg.analyze('wake me at 12:30', ['intent'])).intent?.name, 'alarm_set');
});

test('obvious sentiment', async () => {
  const cases: [string, string][] = [
    ['I love this, it is wonderful!', 'positive'],
    ['this is terrible, I hate it', 'negative'],
    ['what time is it', 'neutral'],
    ['the door is open', 'neutral'],
  ];
  for (const [text, want] of cases) {
    const a = await reg.analyze(text, ['sentiment']);
    assert.equal(a.sentiment?.label, want, `${text}: ${JSON.stringify(a.sentiment?.scores)}`);
  }
});
