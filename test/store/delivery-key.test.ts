import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deliveryKey, legacyDeliveryKey } from '../../src/store/delivery-key.js';
import { openDatabase } from '../../src/store/database.js';
import { LogStore, type NewInput } from '../../src/store/log-store.js';

/** The key as versions before src/store/delivery-key.ts computed it (intake.ts). */
const oldKey = (topic: string, messageId: number | undefined, payload: Buffer) =>
  createHash('sha1').update(topic).update('\0').update(String(messageId ?? '')).update('\0').update(payload).digest('base64url');

test('a redelivery gets the same key whenever it comes; another packet id, topic or payload another key', () => {
  const payload = Buffer.from('{"text":"lights on"}');
  const key = deliveryKey('hubnlu/kitchen/utterance', 7, payload, 1_000);
  assert.equal(deliveryKey('hubnlu/kitchen/utterance', 7, payload, 9_999_999), key, 'the receipt time is not part of a redelivery key');
  assert.notEqual(deliveryKey('hubnlu/kitchen/utterance', 8, payload, 1_000), key);
  assert.notEqual(deliveryKey('hubnlu/hall/utterance', 7, payload, 1_000), key);
  assert.notEqual(deliveryKey('hubnlu/kitchen/utterance', 7, Buffer.from('{"text":"lights off"}'), 1_000), key);
});

test('legacyDeliveryKey gives the bare hash earlier versions stored; a bare hash is its own legacy form', () => {
  const payload = Buffer.from('{"id":"a","text":"x"}');
  for (const id of [0, 1, 255, 65535, undefined]) {
    const key = deliveryKey('t/x', id, payload, 1_700_000_000_000);
    assert.equal(legacyDeliveryKey(key), oldKey('t/x', id, payload));
  }
  assert.equal(legacyDeliveryKey(oldKey('t/x', 3, payload)), oldKey('t/x', 3, payload));
});

test('keys of packets numbered in turn sort in turn (they share index pages), whatever their payloads', () => {
  const keys = [100, 101, 102, 103].map((id) => deliveryKey('t/x', id, Buffer.from(`payload ${Math.random()}`), 0));
  assert.deepEqual([...keys].sort(), keys);
  const timed = [1_700_000_000_000, 1_700_000_000_001, 1_700_000_009_000].map((at) => deliveryKey('t/x', undefined, Buffer.from(String(Math.random())), at));
  assert.deepEqual([...timed].sort(), timed, 'without a packet id the receipt time orders them');
});

test('a broker redelivery of an input stored by an earlier version (bare-hash key) is still recognised', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-dkey-'));
  const db = openDatabase(join(dir, 'hubnlu.db'));
  try {
    const store = new LogStore(db);
    const payload = Buffer.from('{"text":"lights on"}');
    const input = (deliveryKeyValue: string, receivedAt: number): NewInput => ({
      id: `assigned-${receivedAt}`,
      idSource: 'assigned',
      deliveryKey: deliveryKeyValue,
      receivedAt,
      topic: 'hubnlu/kitchen/utterance',
      siteId: 'kitchen',
      text: 'lights on',
      tasks: ['intent'],
      request: {},
    });
    const stored = store.recordInput(input(oldKey('hubnlu/kitchen/utterance', 42, payload), 1));
    const again = store.recordInput(input(deliveryKey('hubnlu/kitchen/utterance', 42, payload, 2), 2), true);
    assert.deepEqual(again, { seq: stored.seq, duplicate: true, reason: 'redelivery' });
    const other = store.recordInput(input(deliveryKey('hubnlu/kitchen/utterance', 43, payload, 3), 3), true);
    assert.equal(other.duplicate, false, 'a redelivered packet never stored is a new input');
  } finally {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
