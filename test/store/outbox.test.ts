/**
 * Migration 6 and the refused-message mark (a dead letter): a version-5 file with rows in it gains the columns with
 * every row kept; the publisher's reads skip refused rows; retention treats them as finished; `requeueRefused` moves
 * them to a new seq, once. Real SQLite files.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase } from '../../src/store/database.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { LogStore, type NewInput } from '../../src/store/log-store.js';
import { listRefused, outboxCounts, requeueRefused } from '../../src/store/outbox.js';
import { runMaintenance } from '../../src/store/maintenance.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-outbox-store-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 11, 2);

function input(id: string, receivedAt = NOW, siteId = 'kitchen'): NewInput {
  return { id, idSource: 'payload', deliveryKey: id, receivedAt, topic: `hubnlu/${siteId}/utterance`, siteId, text: `text of ${id}`, tasks: ['intent'], resultTopic: `hubnlu/${siteId}/result` };
}

/** An input answered with one result message on its site's result topic; returns the outbox seq. */
function answer(store: LogStore, id: string, receivedAt = NOW, siteId = 'kitchen'): number {
  const seq = store.recordInput(input(id, receivedAt, siteId)).seq;
  const queued: Parameters<LogStore['completeMany']>[1] = [];
  store.completeMany([{ seq, status: 'done', completedAt: receivedAt, latencyMs: 1, messages: [{ topic: `hubnlu/${siteId}/result`, payload: JSON.stringify({ id }) }] }], queued);
  return queued[0].seq;
}

test('migration 6 on a version-5 file with rows: every row kept, refusal columns added (NULL), the publisher reads what it read before', () => {
  const path = join(dir, 'v5.db');
  const raw = new Database(path);
  for (const m of MIGRATIONS.filter((m) => m.version <= 5)) raw.exec(m.sql);
  raw.pragma('user_version = 5');
  const addInput = raw.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status) VALUES (?, 'payload', ?, ?, 'hubnlu/k/utterance', 'k', 'done')`);
  const addMessage = raw.prepare(`INSERT INTO outbox (input_seq, topic, payload, created_at, published_at, attempts, properties) VALUES (?, ?, ?, ?, ?, ?, ?)`);
  for (let i = 1; i <= 4; i++) addInput.run(`in-${i}`, `k-${i}`, NOW + i);
  addMessage.run(1, 'hubnlu/k/result', '{"id":"in-1"}', NOW, NOW + 5, 0, null); // published
  addMessage.run(2, 'hubnlu/k/result', '{"id":"in-2"}', NOW, null, 3, '{"contentType":"application/json"}'); // waiting, 3 failed sends
  addMessage.run(3, 'hubnlu/k/error', '{"id":"in-3"}', NOW, null, 0, null); // waiting
  addMessage.run(4, 'hubnlu/k/result', '{"id":"in-4"}', NOW, NOW + 9, 1, null); // published
  const before = raw.prepare('SELECT * FROM outbox ORDER BY seq').all();
  assert.equal(raw.prepare(`SELECT count(*) FROM pragma_table_info('outbox') WHERE name = 'refused_at'`).pluck().get(), 0);
  raw.close();

  const db = openDatabase(path);
  try {
    assert.ok(SCHEMA_VERSION >= 6);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const after = db.prepare('SELECT * FROM outbox ORDER BY seq').all() as Array<Record<string, unknown>>;
    assert.deepEqual(
      after.map(({ refused_at, refused_code, refused_reason, ...rest }) => {
        assert.deepEqual([refused_at, refused_code, refused_reason], [null, null, null]);
        return rest;
      }),
      before,
      'outbox rows changed by the migration',
    );
    assert.equal(db.prepare('SELECT count(*) FROM inputs').pluck().get(), 4);
    const indexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' ORDER BY name`).pluck().all();
    assert.deepEqual(indexes, ['outbox_input_seq', 'outbox_refused', 'outbox_unsent']);
    const store = new LogStore(db);
    assert.deepEqual(store.unpublished(0, 10).map((r) => r.seq), [2, 3]);
    assert.equal(store.unpublished(0, 10)[0].properties?.contentType, 'application/json');
    assert.equal(store.unpublishedCount(), 2);
    assert.equal(store.refusedCount(), 0);
    const plan = (db.prepare('EXPLAIN QUERY PLAN SELECT seq FROM outbox WHERE published_at IS NULL AND refused_at IS NULL AND seq > ? ORDER BY seq LIMIT ?').all(0, 10) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    assert.match(plan, /INDEX outbox_unsent/, plan);
  } finally {
    db.close();
  }
});

test('a refused row is set aside: not read for publishing, counted apart, listed with its reason; the others unaffected', () => {
  const db = openDatabase(join(dir, 'refuse.db'), { synchronous: 'normal' });
  try {
    const store = new LogStore(db);
    const kitchen = answer(store, 'k-1');
    const garage = answer(store, 'g-1', NOW, 'garage');
    const kitchen2 = answer(store, 'k-2');
    const refusedInput = store.markRefused(garage, NOW + 10, 0x87, 'Not authorized');
    assert.deepEqual(refusedInput, { id: 'g-1', siteId: 'garage', sessionId: null, topic: 'hubnlu/garage/utterance', receivedAt: NOW, text: 'text of g-1' });
    assert.deepEqual(store.unpublished(0, 10).map((r) => r.seq), [kitchen, kitchen2]);
    assert.equal(store.unpublishedCount(), 2);
    assert.equal(store.refusedCount(), 1);
    assert.deepEqual(outboxCounts(db), { unpublished: 2, refused: 1, published: 0 });
    const [listed] = listRefused(db);
    assert.equal(listed.seq, garage);
    assert.equal(listed.topic, 'hubnlu/garage/result');
    assert.equal(listed.reasonCode, 135);
    assert.equal(listed.reason, 'Not authorized');
    assert.equal(listed.refusedAt, NOW + 10);
    assert.equal(listed.inputId, 'g-1');
    // A published row cannot be marked refused (a late answer), and a second mark changes nothing.
    store.markPublished([kitchen], NOW);
    assert.equal(store.markRefused(kitchen, NOW, 0x87, 'Not authorized'), undefined);
    assert.deepEqual(outboxCounts(db), { unpublished: 1, refused: 1, published: 1 });
  } finally {
    db.close();
  }
});

test('requeueRefused moves a refused row to a new seq past every other, once; unknown, waiting and published seqs are reported, not moved', () => {
  const db = openDatabase(join(dir, 'requeue.db'), { synchronous: 'normal' });
  try {
    const store = new LogStore(db);
    const g1 = answer(store, 'g-1', NOW, 'garage');
    const k1 = answer(store, 'k-1');
    const g2 = answer(store, 'g-2', NOW, 'garage');
    store.markRefused(g1, NOW, 0x87, 'Not authorized');
    store.markRefused(g2, NOW, 0x87, 'Not authorized');
    store.noteAttempt(k1);
    const last = answer(store, 'k-2');
    store.markPublished([k1, last], NOW);
    const payloadBefore = db.prepare('SELECT payload FROM outbox WHERE seq = ?').pluck().get(g1);

    const one = requeueRefused(db, [g1, k1, 999]);
    assert.deepEqual(one.notRefused, [k1, 999]);
    assert.equal(one.requeued.length, 1);
    assert.equal(one.requeued[0].seq, g1);
    assert.ok(one.requeued[0].newSeq > last, 'the re-queued row must come after every row the publisher has read');
    assert.equal(db.prepare('SELECT count(*) FROM outbox WHERE seq = ?').pluck().get(g1), 0, 'the old row is gone');
    const moved = db.prepare('SELECT * FROM outbox WHERE seq = ?').get(one.requeued[0].newSeq) as Record<string, unknown>;
    assert.equal(moved.payload, payloadBefore);
    assert.equal(moved.refused_at, null);
    assert.equal(moved.published_at, null);
    // The publisher reading forward from the last seq it sent finds it.
    assert.deepEqual(store.unpublished(last, 10).map((r) => r.seq), [one.requeued[0].newSeq]);
    // Again: nothing left to move for that seq.
    assert.deepEqual(requeueRefused(db, [g1]), { requeued: [], notRefused: [g1] });

    const rest = requeueRefused(db, 'all');
    assert.deepEqual(rest.requeued.map((r) => r.seq), [g2]);
    assert.deepEqual(outboxCounts(db), { unpublished: 2, refused: 0, published: 2 });
    assert.deepEqual(requeueRefused(db, 'all'), { requeued: [], notRefused: [] });
  } finally {
    db.close();
  }
});

test('retention treats a refused message as finished: its old input is deleted with it; an old waiting one is kept', async () => {
  const db = openDatabase(join(dir, 'retention.db'), { synchronous: 'normal' });
  try {
    const store = new LogStore(db);
    const refused = answer(store, 'old-refused', NOW - 40 * DAY, 'garage');
    answer(store, 'old-waiting', NOW - 40 * DAY);
    const recentRefused = answer(store, 'new-refused', NOW - DAY, 'garage');
    store.markRefused(refused, NOW, 0x87, 'Not authorized');
    store.markRefused(recentRefused, NOW, 0x87, 'Not authorized');
    const result = await runMaintenance(db, { retentionDays: 30, now: NOW });
    assert.equal(result.deletedInputs, 1);
    assert.equal(result.deletedMessages, 1);
    assert.deepEqual(db.prepare('SELECT id FROM inputs ORDER BY seq').pluck().all(), ['old-waiting', 'new-refused']);
    assert.deepEqual(outboxCounts(db), { unpublished: 1, refused: 1, published: 0 });
  } finally {
    db.close();
  }
});
