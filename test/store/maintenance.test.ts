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

test('without retentionDays nothing is deleted', async () => {
  const db = openDatabase(join(mkdtempSync(join(tmpdir(), 'hubnlu-maint-')), 'h.db'));
  const store = new LogStore(db);
  const seq = store.recordInput(input('ancient', NOW - 3650 * DAY)).seq;
  store.completeMany([{ seq, status: 'done', completedAt: NOW, latencyMs: 1, messages: [] }]);
  assert.equal((await runMaintenance(db, { now: NOW })).deletedInputs, 0);
  assert.equal((db.prepare('SELECT count(*) AS n FROM inputs').get() as { n: number }).n, 1);
  db.close();
});
