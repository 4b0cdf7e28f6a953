import { test } from 'node:test';
import assert from 'node:assert/strict';
import { expandLanguage, toHubnluRow } from '../../src/corpus/ha-dataset.js';
import { HOUSEHOLDS, fixtureHousehold } from '../../src/corpus/households.js';
import { datasetFile, needsDatasets } from '../helpers/datasets.js';

test('a sampled sentence becomes a hubnlu row: intent by domain, slot types, unit words joined', () => {
  const text = 'mach das Licht im Wohnzimmer aus';
  const row = toHubnluRow({ text, intent: 'HassTurnOff', domain: 'light', template: 't', slots: [{ type: 'area', value: 'Wohnzimmer', start: 18, end: 28, list: 'area' }] }, 'x');
  assert.deepEqual(row, { text, intent: 'iot_hue_lightoff', slots: [{ type: 'house_place', value: 'Wohnzimmer', start: 18, end: 28 }], source: 'x' });
  const t = 'Timer für 1 Stunde 20 Minuten';
  const timer = toHubnluRow({ text: t, intent: 'HassStartTimer', template: 't', slots: [
    { type: 'hours', value: 1, start: 10, end: 11, list: 'timer_hours' }, { type: 'minutes', value: 20, start: 19, end: 21, list: 'timer_minutes' }] }, 'x')!;
  assert.deepEqual(timer.slots, [{ type: 'time', value: '1 Stunde 20 Minuten', start: 10, end: 29 }]);
  const dim = toHubnluRow({ text: '把灯调到50%', intent: 'HassLightSet', template: 't', slots: [{ type: 'brightness', value: 50, start: 4, end: 6, list: 'brightness' }] }, 'x')!;
  assert.equal(dim.intent, 'iot_hue_lightdim');
  assert.deepEqual(dim.slots, [{ type: 'change_amount', value: '50%', start: 4, end: 7 }]);
  assert.equal(toHubnluRow({ text: 'x', intent: 'HassBroadcast', template: 't', slots: [] }, 'x'), null);
});

test('three made-up households per language', () => {
  for (const lang of Object.keys(HOUSEHOLDS)) assert.equal(HOUSEHOLDS[lang].length, 3, lang);
});

test('made-up households differ from the fixtures', needsDatasets, () => {
  for (const lang of Object.keys(HOUSEHOLDS)) {
    const fx = fixtureHousehold(datasetFile('ha-intents', 'fixtures', lang, '_fixtures.yaml'), lang);
    const fxNames = new Set(fx.entities.map((e) => e.name.toLowerCase()));
    const ours = HOUSEHOLDS[lang].flatMap((h) => h.entities.map((e) => e.name.toLowerCase()));
    const shared = ours.filter((n) => fxNames.has(n));
    assert.ok(shared.length <= 2, `${lang}: ${shared.join(', ')}`);
  }
});

test('expansion is seeded, every slot offset holds, and held-out templates never reach training', needsDatasets, () => {
  const haDir = datasetFile('ha-intents');
  const a = expandLanguage({ haDir, language: 'de', seed: 7, perTemplate: 3, heldOutShare: 0.2 });
  const b = expandLanguage({ haDir, language: 'de', seed: 7, perTemplate: 3, heldOutShare: 0.2 });
  assert.deepEqual(a.train.slice(0, 50), b.train.slice(0, 50));
  assert.ok(a.heldOut.length > 0 && a.train.length > a.heldOut.length);
  const train = new Set(a.train.map((r) => r.text.toLowerCase()));
  for (const r of a.heldOut) assert.ok(!train.has(r.text.toLowerCase()));
  for (const r of [...a.train, ...a.heldOut]) for (const s of r.slots) assert.equal(r.text.slice(s.start, s.end), s.value);
});
