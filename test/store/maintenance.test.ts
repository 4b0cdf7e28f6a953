import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { LogStore, type NewInput } from '../../src/store/log-store.js';
import { runMaintenance } from '../../src/store/maintenance.js';

const DAY = 86_400_000;
const NOW = Date.UTC(2026, 10, 29);

function input(id: string, receivedAt: number): NewInput {
  return { id, idSource: 'payload', deliveryKey: id, receivedAt, topic: 'hubnlu/k/utterance', siteId: 'k', text: 'hi', tasks: ['intent'], resultTopic: 'hubnlu/k/result' };
}

test('retention deletes only old, finished, fully published rows', async () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db'));
  const store = new LogStore(db);
  const oldDone = store.recordInput(input('old-done', NOW - 40 * DAY)).seq;
  const oldUnsent = store.recordInput(input('old-unsent', NOW - 40 * DAY)).seq;
  store.recordInput(input('old-pending', NOW - 40 * DAY));
  const newDone = store.recordInput(input('new-done', NOW - 1 * DAY)).seq;
  const done = (seq: number) => ({ seq, status: 'done' as const, completedAt: NOW, latencyMs: 1, messages: [{ topic: 'hubnlu/k/result', payload: '{}' }] });
  store.completeMany([done(oldDone), done(oldUnsent), done(newDone)]);
  const outbox = store.unpublished(0, 10);
  store.markPublished(outbox.filter((m) => m.seq !== outbox[1].seq).map((m) => m.seq), NOW); // old-unsent's message stays unpublished

  const result = await runMaintenance(db, { retentionDays: 30, now: NOW });
  assert.equal(result.deletedInputs, 1);
  assert.equal(result.deletedMessages, 1);
  const left = (db.prepare('SELECT id FROM inputs ORDER BY seq').all() as Array<{ id: string }>).map((r) => r.id);
  assert.deepEqual(left, ['old-unsent', 'old-pending', 'new-done']);
  assert.equal((db.prepare('SELECT count(*) AS n FROM outbox').get() as { n: number }).n, 2);
  db.close();
});

test('retention keeps inputs that carry gold labels and deletes the unlabelled ones beside them; history alone (every label cleared) pins nothing', async () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db'));
  const store = new LogStore(db);
  const ids = ['plain', 'labelled', 'relabelled', 'history-only'];
  const seqs = ids.map((id) => store.recordInput(input(id, NOW - 40 * DAY)).seq);
  store.completeMany(seqs.map((seq) => ({ seq, status: 'done' as const, completedAt: NOW - 40 * DAY, latencyMs: 1, messages: [{ topic: 'hubnlu/k/result', payload: '{}' }] })));
  store.markPublished(store.unpublished(0, 10).map((m) => m.seq), NOW - 40 * DAY);
  assert.equal(store.label('labelled', { intent: 'lights_on', by: 'eve', at: NOW - 39 * DAY }).ok, true);
  store.label('relabelled', { intent: 'lights_on', by: 'eve', at: NOW - 39 * DAY });
  store.label('relabelled', { intent: 'lights_off', by: 'bob', at: NOW - 38 * DAY });
  // An input whose current label was cleared by hand but whose history remains (label_history.input_seq refers to it).
  db.prepare(`INSERT INTO label_history (input_seq, gold_intent, gold_by, gold_at, replaced_at) VALUES (?, 'x', 'eve', 1, 2)`).run(seqs[3]);
  assert.equal(db.prepare('SELECT count(*) FROM label_history').pluck().get(), 2);

  const result = await runMaintenance(db, { retentionDays: 30, now: NOW });
  assert.equal(result.deletedInputs, 2);
  assert.equal(result.deletedMessages, 2);
  assert.equal(result.deletedHistory, 1);
  assert.deepEqual(db.prepare('SELECT id FROM inputs ORDER BY seq').pluck().all(), ['labelled', 'relabelled']);
  assert.deepEqual(db.prepare('SELECT input_seq FROM label_history').pluck().all(), [seqs[2]], "the relabelled input's history kept, the deleted one's gone with it");
  assert.deepEqual(db.pragma('foreign_key_check'), []);
  db.close();
});

test('clearing every gold label (hubnlu label --clear-*, the bridge label with nulls) makes an old row deletable again, with its history; a label left on it keeps it', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db');
  const db = openDatabase(path);
  const store = new LogStore(db);
  const ids = ['cleared', 'cleared-twice', 'half-cleared', 'slots-left'];
  const seqs = ids.map((id) => store.recordInput(input(id, NOW - 40 * DAY)).seq);
  store.completeMany(seqs.map((seq) => ({ seq, status: 'done' as const, completedAt: NOW - 40 * DAY, latencyMs: 1, messages: [{ topic: 'hubnlu/k/result', payload: '{}' }] })));
  store.markPublished(store.unpublished(0, 10).map((m) => m.seq), NOW - 40 * DAY);
  const at = NOW - 39 * DAY;
  // The writes `hubnlu label` makes: a label, then --clear-intent (intent: null; the other fields left as they are).
  store.label('cleared', { intent: 'lights_on', by: 'eve', at });
  store.label('cleared', { intent: null, by: 'eve', at: at + 1 });
  store.label('cleared-twice', { intent: 'lights_on', sentiment: 'neutral', by: 'eve', at });
  store.label('cleared-twice', { intent: 'lights_off', by: 'bob', at: at + 1 });
  store.label('cleared-twice', { intent: null, sentiment: null, by: 'bob', at: at + 2 });
  store.label('half-cleared', { intent: 'lights_on', sentiment: 'neutral', by: 'eve', at });
  store.label('half-cleared', { intent: null, by: 'eve', at: at + 1 });
  store.label('slots-left', { intent: 'lights_on', slots: [{ type: 'room', value: 'hi', raw: 'hi', start: 0, end: 2 }], by: 'eve', at });
  store.label('slots-left', { intent: null, by: 'eve', at: at + 1 });
  const gold = (id: string) => db.prepare('SELECT gold_at AS at, gold_by AS by FROM inputs WHERE id = ?').get(id) as { at: number | null; by: string | null };
  assert.deepEqual(gold('cleared'), { at: at + 1, by: 'eve' }, 'the clear is recorded (who, when)');
  db.close();

  // The retention run the agent's maintenance makes, on the file reopened as the agent would.
  const reopened = openDatabase(path);
  const result = await runMaintenance(reopened, { retentionDays: 30, now: NOW });
  assert.deepEqual(reopened.prepare('SELECT id FROM inputs ORDER BY seq').pluck().all(), ['half-cleared', 'slots-left']);
  assert.deepEqual({ inputs: result.deletedInputs, messages: result.deletedMessages, history: result.deletedHistory }, { inputs: 2, messages: 2, history: 3 });
  assert.deepEqual(reopened.prepare('SELECT input_seq FROM label_history ORDER BY seq').pluck().all(), [seqs[2], seqs[3]], 'history of the kept rows kept');
  assert.deepEqual(reopened.pragma('foreign_key_check'), []);
  reopened.close();
});

test('without retentionDays nothing is deleted', async () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db'));
  const store = new LogStore(db);
  const seq = store.recordInput(input('ancient', NOW - 3650 * DAY)).seq;
  store.completeMany([{ seq, status: 'done', completedAt: NOW, latencyMs: 1, messages: [] }]);
  assert.equal((await runMaintenance(db, { now: NOW })).deletedInputs, 0);
  assert.equal((db.prepare('SELECT count(*) AS n FROM inputs').get() as { n: number }).n, 1);
  db.close();
});

test('retention over many rows: batches that yield to the event loop, never a pending or unsent row, inputs written meanwhile kept', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db');
  const { seedBulk } = await import('./seed.js');
  // 6,000 rows, 4,000 of them expired; every 50th expired row pending, every 70th unsent.
  seedBulk(path, { total: 6000, expired: 4000, oldAt: NOW - 40 * DAY, recentAt: NOW - DAY, pendingEvery: 50, unsentEvery: 70 });
  const db = openDatabase(path);
  const store = new LogStore(db);
  const keep = db
    .prepare(`SELECT id FROM inputs i WHERE received_at >= ? OR status = 'pending' OR EXISTS (SELECT 1 FROM outbox o WHERE o.input_seq = i.seq AND o.published_at IS NULL) ORDER BY id`)
    .pluck()
    .all(NOW - 30 * DAY) as string[];
  assert.ok(keep.length > 2100, `kept ${keep.length}`); // 2,000 recent + 80 pending + 46 unsent

  // An "intake" that stores an input (old enough to be expired, but pending) each time the event loop gets a turn.
  let turns = 0;
  let stop = false;
  const written: string[] = [];
  const tick = (): void => {
    if (stop) return;
    turns++;
    const id = `during-${turns}`;
    store.recordInput(input(id, NOW - 45 * DAY));
    written.push(id);
    setImmediate(tick);
  };
  setImmediate(tick);
  const result = await runMaintenance(db, { retentionDays: 30, now: NOW, batchSize: 100 });
  stop = true;

  assert.ok(result.batches >= 40, `batches: ${result.batches}`);
  assert.ok(turns >= result.batches - 1, `the event loop ran ${turns} times during ${result.batches} batches: retention did not yield`);
  const expectedDeleted = 4000 - (keep.length - 2000);
  assert.equal(result.deletedInputs, expectedDeleted);
  assert.equal(result.deletedMessages, expectedDeleted);
  const left = db.prepare(`SELECT id FROM inputs WHERE id LIKE 'bulk-%' ORDER BY id`).pluck().all() as string[];
  assert.deepEqual(left, keep);
  const during = db.prepare(`SELECT count(*) FROM inputs WHERE id LIKE 'during-%'`).pluck().get();
  assert.equal(during, written.length, 'an input written while retention ran was deleted');
  assert.equal(db.prepare(`SELECT count(*) FROM outbox o LEFT JOIN inputs i ON i.seq = o.input_seq WHERE i.seq IS NULL`).pluck().get(), 0, 'orphaned messages');
  db.close();
});

test('retention stops between batches when asked, and the next run finishes the job', async () => {
  const path = join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db');
  const { seedBulk } = await import('./seed.js');
  seedBulk(path, { total: 3000, expired: 3000, oldAt: NOW - 40 * DAY, recentAt: NOW });
  const db = openDatabase(path);
  let batches = 0;
  const first = await runMaintenance(db, { retentionDays: 30, now: NOW, batchSize: 100, batchMs: 60_000, shouldStop: () => ++batches > 3 });
  assert.equal(first.stopped, true);
  assert.equal(first.deletedInputs, 300);
  const second = await runMaintenance(db, { retentionDays: 30, now: NOW, batchSize: 100 });
  assert.equal(second.stopped, false);
  assert.equal(second.deletedInputs, 2700);
  assert.equal(db.prepare('SELECT count(*) FROM inputs').pluck().get(), 0);
  db.close();
});
