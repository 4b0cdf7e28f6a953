import { test } from 'node:test';
import assert from 'node:assert/strict';
import { INTENT_TABLE, SLOT_TABLE, haIntentFor, haSlotFor, hubnluIntentFor, hubnluSlotFor, mappedHubnluIntents } from '../../src/corpus/ha-intents.js';
import { readFileSync } from 'node:fs';

test('HA → hubnlu: domain decides what HassTurnOn/Off mean', () => {
  assert.equal(hubnluIntentFor({ intent: 'HassTurnOff', domain: 'light', slots: {} }), 'iot_hue_lightoff');
  assert.equal(hubnluIntentFor({ intent: 'HassTurnOn', domain: 'fan', slots: {} }), 'iot_wemo_on');
  assert.equal(hubnluIntentFor({ intent: 'HassTurnOn', domain: 'cover', slots: {} }), 'iot_door_open');
  assert.equal(hubnluIntentFor({ intent: 'HassTurnOn', domain: 'lock', slots: {} }), 'iot_door_lock');
  assert.equal(hubnluIntentFor({ intent: 'HassTurnOn', domain: 'scene', slots: {} }), undefined);
  assert.equal(hubnluIntentFor({ intent: 'HassRespond', slots: {} }), undefined);
});

test('HA → hubnlu: HassLightSet by its slots', () => {
  assert.equal(hubnluIntentFor({ intent: 'HassLightSet', slots: { color: 'red' } }), 'iot_hue_lightchange');
  assert.equal(hubnluIntentFor({ intent: 'HassLightSet', slots: { brightness: 100 } }), 'iot_hue_lightup');
  assert.equal(hubnluIntentFor({ intent: 'HassLightSet', slots: { brightness: 30 } }), 'iot_hue_lightdim');
  assert.equal(hubnluIntentFor({ intent: 'HassSetVolume', slots: { volume_level: 80 } }), undefined);
});

test('HA → hubnlu slots; timer names are not devices; the light domain word is not a device', () => {
  assert.equal(hubnluSlotFor('area', 'HassTurnOn'), 'house_place');
  assert.equal(hubnluSlotFor('name', 'HassTurnOn'), 'device_type');
  assert.equal(hubnluSlotFor('name', 'HassStartTimer'), undefined);
  assert.equal(hubnluSlotFor('domain', 'HassTurnOn', 'light'), undefined);
  assert.equal(hubnluSlotFor('domain', 'HassTurnOn', 'fan'), 'device_type');
  assert.equal(hubnluSlotFor('state', 'HassGetState'), undefined);
});

test('hubnlu → HA: the first row is canonical, and every mapped label has a reverse', () => {
  assert.deepEqual(haIntentFor('iot_hue_lightoff'), { intent: 'HassTurnOff', domain: 'light' });
  assert.deepEqual(haIntentFor('iot_door_unlock'), { intent: 'HassTurnOff', domain: 'lock' });
  assert.deepEqual(haIntentFor('iot_cleaning'), { intent: 'HassVacuumStart' });
  assert.deepEqual(haIntentFor('alarm_remove'), { intent: 'HassCancelTimer' });
  assert.equal(haIntentFor('qa_factoid'), undefined);
  assert.equal(haSlotFor('house_place'), 'area');
  assert.equal(haSlotFor('device_type'), 'name');
  for (const label of mappedHubnluIntents()) assert.ok(haIntentFor(label), label);
});

test('every hubnlu label and slot type in the table exists in the shipped English ontology', () => {
  const manifest = JSON.parse(readFileSync(new URL('../../../models/intent/manifest.json', import.meta.url), 'utf8'));
  for (const row of INTENT_TABLE) assert.ok(manifest.labels.includes(row.hubnlu), row.hubnlu);
  for (const row of SLOT_TABLE) assert.ok(manifest.slots.types.includes(row.hubnlu), row.hubnlu);
});
