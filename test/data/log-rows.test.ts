import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelledRowsFromLog, locateSlot } from '../../src/data/log-rows.js';
import { readRows } from '../../src/data/rows.js';
import { openDatabase } from '../../src/store/database.js';
import { LogStore } from '../../src/store/log-store.js';
import { seedDatabase } from '../store/seed.js';

test('labelled inputs come back as dataset rows with the live answer beside the gold label', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-logrows-'));
  try {
    const path = join(dir, 'log.db');
    const t0 = Date.UTC(2026, 10, 1);
    seedDatabase(path, [
      { receivedAt: t0, site: 'kitchen', status: 'done', id: 'a', text: 'open the garage please', intent: 'unknown', confidence: 0.2, intentModel: 'intent@1' },
      { receivedAt: t0 + 1000, site: 'hall', status: 'done', id: 'b', text: 'lights off in the hall', intent: 'iot_hue_lightoff', confidence: 0.9, intentModel: 'intent@2' },
      { receivedAt: t0 + 2000, site: 'hall', status: 'done', id: 'c', text: 'not labelled', intent: 'x', confidence: 0.9, intentModel: 'intent@2' },
      { receivedAt: t0 + 3000, site: 'hall', status: 'rejected', id: 'd', text: '{bad' },
    ]);
    const db = openDatabase(path);
    try {
      const store = new LogStore(db);
      assert.equal(store.label('a', { intent: 'iot_garage_open', slots: [{ type: 'device_type', value: 'garage' }, { type: 'house_place', value: 'attic' }], by: 'test', at: t0 + 5000 }).ok, true);
      assert.equal(store.label('b', { intent: 'iot_hue_lightoff', slots: [{ type: 'house_place', value: 'hall', start: 17, end: 21 }], sentiment: 'neutral', by: 'test', at: t0 + 6000 }).ok, true);

      const { rows, unlocatedSlots } = labelledRowsFromLog(db, 'intent');
      assert.deepEqual(rows.map((r) => [r.id, r.label, r.live.label, r.live.model]), [
        ['a', 'iot_garage_open', 'unknown', 'intent@1'],
        ['b', 'iot_hue_lightoff', 'iot_hue_lightoff', 'intent@2'],
      ]);
      // "garage" found by value; "attic" is not in the text: left out and counted.
      assert.deepEqual(rows[0].slots, [{ type: 'device_type', value: 'garage', start: 9, end: 15 }]);
      assert.equal(unlocatedSlots, 1);
      // Offsets one off (17-21 spans " hal"): not trusted; the slot is found by its value.
      assert.deepEqual(rows[1].slots, [{ type: 'house_place', value: 'hall', start: 18, end: 22 }]);
      assert.equal(rows[0].labelledBy, 'test');

      assert.deepEqual(labelledRowsFromLog(db, 'sentiment').rows.map((r) => [r.id, r.label]), [['b', 'neutral']]);
      assert.deepEqual(labelledRowsFromLog(db, 'intent', { model: 'intent@2' }).rows.map((r) => r.id), ['b']);
      assert.deepEqual(labelledRowsFromLog(db, 'intent', { model: 'intent' }).rows.map((r) => r.id), ['a', 'b']);
      assert.deepEqual(labelledRowsFromLog(db, 'intent', { since: t0 + 500 }).rows.map((r) => r.id), ['b']);
      assert.deepEqual(labelledRowsFromLog(db, 'intent', { site: 'kitchen' }).rows.map((r) => r.id), ['a']);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('locateSlot uses offsets when they fit the text, else raw, else the value', () => {
  const text = 'Set the Kitchen to 21 degrees';
  assert.deepEqual(locateSlot(text, { type: 'house_place', value: 'kitchen' }), { type: 'house_place', value: 'kitchen', start: 8, end: 15 });
  assert.deepEqual(locateSlot(text, { type: 'temperature', value: 21, raw: '21 degrees' }), { type: 'temperature', value: '21', start: 19, end: 29 });
  assert.deepEqual(locateSlot(text, { type: 'house_place', value: 'kitchen', start: 8, end: 15 }), { type: 'house_place', value: 'kitchen', start: 8, end: 15 });
  // Offsets that span something else than the value (or raw) are not trusted either.
  assert.deepEqual(locateSlot(text, { type: 'house_place', value: 'kitchen', start: 7, end: 14 }), { type: 'house_place', value: 'kitchen', start: 8, end: 15 });
  assert.deepEqual(locateSlot(text, { type: 'temperature', value: 21, raw: '21 degrees', start: 19, end: 29 }), { type: 'temperature', value: '21', start: 19, end: 29 });
  // Offsets past the end of the text are not trusted.
  assert.deepEqual(locateSlot(text, { type: 'house_place', value: 'kitchen', start: 8, end: 99 }), { type: 'house_place', value: 'kitchen', start: 8, end: 15 });
  assert.equal(locateSlot(text, { type: 'house_place', value: 'garden' }), null);
  assert.equal(locateSlot(text, { type: 3, value: 'x' }), null);
});

test('gold slots given in another case or as a number come back holding the text they span, so the rows train (the retrain writes and re-reads them)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-logrows-'));
  try {
    const path = join(dir, 'log.db');
    const t0 = Date.UTC(2026, 10, 1);
    seedDatabase(path, [{ receivedAt: t0, site: 'kitchen', status: 'done', id: 'a', text: 'Set the Kitchen to 21 degrees', intent: 'iot_thermostat_set', confidence: 0.9, intentModel: 'intent@1' }]);
    const db = openDatabase(path);
    try {
      const store = new LogStore(db);
      // What `hubnlu label --slot house_place=kitchen` and an import row {"type": "temperature", "value": 21, "raw": "21 degrees"} store.
      assert.equal(store.label('a', { intent: 'iot_thermostat_set', slots: [{ type: 'house_place', value: 'kitchen' }, { type: 'temperature', value: '21', raw: '21 degrees', start: 19, end: 29 }], by: 'test', at: t0 + 1 }).ok, true);
      const { rows } = labelledRowsFromLog(db, 'intent');
      assert.deepEqual(rows[0].slots, [
        { type: 'house_place', value: 'Kitchen', start: 8, end: 15 },
        { type: 'temperature', value: '21 degrees', start: 19, end: 29 },
      ]);
      // As src/learn/retrain.ts writes the household rows for training, read back by the dataset reader.
      const file = join(dir, 'household.jsonl');
      writeFileSync(file, rows.map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots, source: r.source })).join('\n') + '\n');
      assert.deepEqual(readRows(file, 'intent').rows[0].slots, rows[0].slots);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
