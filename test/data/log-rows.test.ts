import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { labelledRowsFromLog, locateSlot } from '../../src/data/log-rows.js';
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
      assert.deepEqual(rows[1].slots, [{ type: 'house_place', value: 'hall', start: 17, end: 21 }]);
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
  // Offsets past the end of the text are not trusted.
  assert.deepEqual(locateSlot(text, { type: 'house_place', value: 'kitchen', start: 8, end: 99 }), { type: 'house_place', value: 'kitchen', start: 8, end: 15 });
  assert.equal(locateSlot(text, { type: 'house_place', value: 'garden' }), null);
  assert.equal(locateSlot(text, { type: 3, value: 'x' }), null);
});
