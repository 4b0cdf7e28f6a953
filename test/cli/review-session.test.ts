/**
 * `runReviewSession` on a real SQLite file, answers typed one at a time (a
 * stream, as a terminal gives them), with a second connection labelling or
 * deleting beside it, as the agent (bridge `label`, retention) or another
 * `hubnlu label` does while someone reviews.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/store/database.js';
import { LogStore } from '../../src/store/log-store.js';
import { reviewQueue } from '../../src/store/review.js';
import { labelHistory } from '../../src/store/labels.js';
import { runReviewSession } from '../../src/cli/review-session.js';
import { waitFor } from '../helpers/net.js';
import { seedDatabase, type SeedRow } from '../store/seed.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-review-session-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const t0 = Date.now() - 3_600_000;
const ROWS: SeedRow[] = [
  { id: 'r-1', receivedAt: t0, site: 'hall', status: 'done', text: 'could you open the garage', intent: 'unknown', confidence: 0.2, alternatives: [{ name: 'iot_wemo_on', confidence: 0.2 }, { name: 'iot_hue_lighton', confidence: 0.1 }] },
  { id: 'r-2', receivedAt: t0 + 1000, site: 'hall', status: 'done', text: 'shut the garage', intent: 'unknown', confidence: 0.3, alternatives: [{ name: 'iot_wemo_off', confidence: 0.3 }] },
  { id: 'r-3', receivedAt: t0 + 2000, site: 'den', status: 'done', text: 'put on some music', intent: 'unknown', confidence: 0.25, alternatives: [{ name: 'play_music', confidence: 0.25 }] },
];

/** A session fed line by line: `answer(line, expect)` types a line once the output matches `expect` (the prompt is there). */
function session(path: string, by: string) {
  const input = new PassThrough();
  const output = new PassThrough();
  let text = '';
  output.on('data', (c: Buffer) => (text += c.toString()));
  const db = openDatabase(path);
  const items = reviewQueue(db, { limit: 10 });
  const done = runReviewSession(db, items, { intents: new Set(['iot_wemo_on', 'iot_wemo_off', 'play_music', 'iot_hue_lighton']), slotTypes: new Set() }, by, { input, output }, path).finally(() => db.close());
  return {
    items,
    done,
    out: () => text,
    async answer(line: string, expect: RegExp): Promise<void> {
      assert.ok(await waitFor(() => expect.test(text), 10_000), `waiting for ${expect}; got:\n${text}`);
      input.write(`${line}\n`);
    },
    end: () => input.end(),
  };
}

function gold(path: string, id: string): { intent: string | null; by: string | null; seq: number } {
  const db = openDatabase(path);
  try {
    return db.prepare('SELECT seq, gold_intent AS intent, gold_by AS by FROM inputs WHERE id = ?').get(id) as { intent: string | null; by: string | null; seq: number };
  } finally {
    db.close();
  }
}

test('an input someone else labelled while it waited in the session is not overwritten: the reviewer is told who and what', async () => {
  const path = join(dir, 'concurrent.db');
  seedDatabase(path, ROWS);
  const s = session(path, 'alice');
  assert.deepEqual(s.items.map((i) => i.id), ['r-1', 'r-3', 'r-2']);
  await s.answer('1', /\[1\/3\][\s\S]*> $/);
  // Bob labels r-3 (shown next) through another connection, as the bridge or `hubnlu label` would.
  const other = openDatabase(path);
  const bobs = new LogStore(other).label('r-3', { intent: 'play_radio', by: 'bob', at: Date.now() });
  other.close();
  assert.ok(bobs.ok);
  await s.answer('1', /\[2\/3\][\s\S]*> $/);
  await s.answer('s', /\[3\/3\][\s\S]*> $/);
  s.end();
  const result = await s.done;
  assert.match(s.out(), /#\d+ was labelled meanwhile by bob \(intent play_radio\); kept, moving on/);
  assert.equal(gold(path, 'r-3').intent, 'play_radio', "bob's label stands");
  assert.equal(gold(path, 'r-3').by, 'bob');
  assert.equal(gold(path, 'r-1').intent, 'iot_wemo_on');
  assert.equal(result.labelled, 1);
});

test('an input retention deleted while it waited: said so, the session moves on (no loop on the same input)', async () => {
  const path = join(dir, 'deleted.db');
  seedDatabase(path, ROWS);
  const s = session(path, 'alice');
  await s.answer('1', /\[1\/3\][\s\S]*> $/);
  const other = openDatabase(path);
  other.prepare(`DELETE FROM outbox WHERE input_seq = (SELECT seq FROM inputs WHERE id = 'r-3')`).run();
  other.prepare(`DELETE FROM inputs WHERE id = 'r-3'`).run();
  other.close();
  await s.answer('1', /\[2\/3\][\s\S]*> $/);
  await s.answer('1', /\[3\/3\][\s\S]*> $/);
  s.end();
  const result = await s.done;
  assert.match(s.out(), /#\d+ is no longer in the log \(retention deletes old inputs\); moving on/);
  assert.equal(gold(path, 'r-2').intent, 'iot_wemo_off');
  assert.equal(result.labelled, 2);
});

test('u goes back to the input just labelled: labelled again, the mistaken label kept in its history', async () => {
  const path = join(dir, 'undo.db');
  seedDatabase(path, ROWS);
  const s = session(path, 'alice');
  await s.answer('1', /\[1\/3\][\s\S]*> $/); // meant 2
  await s.answer('u', /\[2\/3\][\s\S]*> $/);
  await s.answer('2', /back to #\d+[\s\S]*\[1\/3\][\s\S]*> $/);
  await s.answer('s', /labelled #\d+ as iot_hue_lighton[\s\S]*\[2\/3\][\s\S]*> $/);
  await s.answer('s', /\[3\/3\][\s\S]*> $/);
  s.end();
  const result = await s.done;
  const r1 = gold(path, 'r-1');
  assert.equal(r1.intent, 'iot_hue_lighton');
  const db = openDatabase(path);
  const history = labelHistory(db, r1.seq);
  db.close();
  assert.deepEqual(history.map((h) => h.intent), ['iot_wemo_on', 'iot_hue_lighton']);
  assert.equal(result.labelled, 1);
  assert.match(s.out(), /1 labelled/);
});

test('u with nothing labelled yet says so', async () => {
  const path = join(dir, 'undo-none.db');
  seedDatabase(path, ROWS);
  const s = session(path, 'alice');
  await s.answer('u', /\[1\/3\][\s\S]*> $/);
  await s.answer('q', /nothing to go back to[\s\S]*> $/);
  await s.done;
  assert.equal(gold(path, 'r-1').intent, null);
});

test('u then s keeps the label the input has', async () => {
  const path = join(dir, 'undo-keep.db');
  seedDatabase(path, ROWS);
  const s = session(path, 'alice');
  await s.answer('1', /\[1\/3\][\s\S]*> $/);
  await s.answer('u', /\[2\/3\][\s\S]*> $/);
  await s.answer('s', /back to #\d+[\s\S]*\[1\/3\][\s\S]*> $/);
  await s.answer('q', /kept the label of #\d+[\s\S]*\[2\/3\][\s\S]*> $/);
  const result = await s.done;
  assert.equal(gold(path, 'r-1').intent, 'iot_wemo_on');
  assert.deepEqual({ labelled: result.labelled, skipped: result.skipped }, { labelled: 1, skipped: 0 });
});

test('u again and again walks back through the session\'s own labels (a stack); a relabelled one returns to where the session was, and its own earlier label is not "someone else\'s"', async () => {
  const path = join(dir, 'undo-stack.db');
  seedDatabase(path, ROWS);
  const s = session(path, 'alice');
  assert.deepEqual(s.items.map((i) => i.id), ['r-1', 'r-3', 'r-2']);
  await s.answer('1', /\[1\/3\][\s\S]*> $/); // r-1: iot_wemo_on
  await s.answer('1', /\[2\/3\][\s\S]*> $/); // r-3: play_music
  await s.answer('u', /\[3\/3\][\s\S]*> $/); // back to r-3
  await s.answer('u', /back to #\d+[\s\S]*\[2\/3\][\s\S]*> $/); // on back to r-1 (r-3 keeps its label)
  await s.answer('u', /back to #\d+[\s\S]*\[1\/3\][\s\S]*> $/); // nothing before r-1
  await s.answer('2', /nothing to go back to[\s\S]*> $/); // r-1 relabelled: iot_hue_lighton
  // The session carries on where it was (r-2), not at r-3 again.
  await s.answer('u', /labelled #\d+ as iot_hue_lighton\n\n\[3\/3\][\s\S]*> $/); // back to r-3, the last labelled before r-2
  await s.answer('t', /back to #\d+[\s\S]*\[2\/3\][\s\S]*> $/);
  await s.answer('iot_hue_lighton', /intent: $/); // r-3 relabelled over the session's own label
  await s.answer('1', /labelled #\d+ as iot_hue_lighton\n\n\[3\/3\][\s\S]*> $/); // r-2: iot_wemo_off
  s.end();
  const result = await s.done;
  assert.doesNotMatch(s.out(), /meanwhile/, "the session's own label was taken for another labeller's");
  assert.equal((s.out().match(/\[2\/3\]/g) ?? []).length, 3, 'r-3 shown when first met and on each of the two walks back, never on the way forward');
  assert.deepEqual(['r-1', 'r-3', 'r-2'].map((id) => [gold(path, id).intent, gold(path, id).by]), [['iot_hue_lighton', 'alice'], ['iot_hue_lighton', 'alice'], ['iot_wemo_off', 'alice']]);
  const db = openDatabase(path);
  assert.deepEqual(labelHistory(db, gold(path, 'r-1').seq).map((h) => h.intent), ['iot_wemo_on', 'iot_hue_lighton']);
  assert.deepEqual(labelHistory(db, gold(path, 'r-3').seq).map((h) => h.intent), ['play_music', 'iot_hue_lighton']);
  db.close();
  assert.deepEqual({ shown: result.shown, labelled: result.labelled, skipped: result.skipped }, { shown: 3, labelled: 3, skipped: 0 });
});
