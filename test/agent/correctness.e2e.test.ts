/**
 * The agent end to end over the embedded aedes broker, correctness only: what comes back and what is stored, with
 * deadlines long enough for a slow board or an emulator (scripts/arm64-check.sh runs this file under qemu, where
 * agent.e2e.test.ts's 5-second and 1-second bounds cannot hold). Speed belongs to bench/.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { UTTERANCES } from '../helpers/delivery.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';

const DEADLINE_MS = Number(process.env.HUBNLU_TEST_DEADLINE_MS ?? 600_000);
let running: RunningAgent;
let recorder: Recorder;

before(async () => {
  running = await startAgent();
  recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
});

after(async () => {
  await recorder?.close();
  await running?.stop();
});

type Result = { id: string; siteId: string; text: string; intent: { name: string; confidence: number }; slots: Array<{ type: string; value: unknown }>; sentiment: { label: string; score: number } };

test('an utterance comes back analysed on its site topic, and its row is stored', { timeout: DEADLINE_MS + 10_000 }, async () => {
  await recorder.publish('hubnlu/kitchen/utterance', JSON.stringify({ text: 'turn off the kitchen lights', id: 'arm-1', sessionId: 's-1' }));
  assert.ok(await waitFor(() => recorder.messages.length > 0, DEADLINE_MS), 'no answer');
  const msg = recorder.messages[0];
  assert.equal(msg.topic, 'hubnlu/kitchen/result');
  const r = JSON.parse(msg.payload.toString()) as Result & { sessionId: string };
  assert.equal(r.id, 'arm-1');
  assert.equal(r.sessionId, 's-1');
  assert.equal(r.intent.name, 'iot_hue_lightoff');
  assert.ok(r.slots.some((s) => s.type === 'house_place' && s.value === 'kitchen'), JSON.stringify(r.slots));
  const db = new Database(running.dbPath, { readonly: true });
  const row = db.prepare('SELECT status, intent, site_id FROM inputs WHERE id = ?').get('arm-1') as Record<string, unknown>;
  db.close();
  assert.deepEqual(row, { status: 'done', intent: 'iot_hue_lightoff', site_id: 'kitchen' });
});

test('200 utterances: each answered once, the same text gets the same answer, a bad payload is rejected and the rest flows', { timeout: DEADLINE_MS + 10_000 }, async () => {
  const before = recorder.messages.length;
  const ids = Array.from({ length: 200 }, (_, i) => `flood-${i}`);
  await recorder.publish('hubnlu/hall/utterance', Buffer.from([0xff, 0xfe, 0x00]));
  await Promise.all(ids.map((id, i) => recorder.publish(`hubnlu/site${i % 4}/utterance`, JSON.stringify({ id, text: UTTERANCES[i % UTTERANCES.length] }))));
  assert.ok(await waitFor(() => recorder.messages.length >= before + 201, DEADLINE_MS, 100), `only ${recorder.messages.length - before} of 201 answers`);
  const got = recorder.messages.slice(before);
  const errors = got.filter((m) => m.topic.endsWith('/error')).map((m) => JSON.parse(m.payload.toString()) as { code: string });
  assert.deepEqual(errors.map((e) => e.code), ['invalid_utf8']);
  const results = got.filter((m) => m.topic.endsWith('/result')).map((m) => ({ topic: m.topic, r: JSON.parse(m.payload.toString()) as Result }));
  assert.deepEqual(results.map((x) => x.r.id).sort(), [...ids].sort(), 'each id answered exactly once');
  const byText = new Map<string, string>();
  for (const { topic, r } of results) {
    const i = Number(r.id.split('-')[1]);
    assert.equal(topic, `hubnlu/site${i % 4}/result`);
    const answer = JSON.stringify([r.intent, r.slots, r.sentiment]);
    assert.equal(byText.get(r.text) ?? answer, answer, `two answers for ${JSON.stringify(r.text)}`);
    byText.set(r.text, answer);
  }
  assert.equal(byText.size, UTTERANCES.length);
  const db = new Database(running.dbPath, { readonly: true });
  try {
    assert.deepEqual(db.prepare(`SELECT status, count(*) AS n FROM inputs WHERE id LIKE 'flood-%' GROUP BY status`).all(), [{ status: 'done', n: 200 }]);
    // PUBACKs are recorded in batches: every result is marked published soon after it was acknowledged.
    const unpublished = db.prepare('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL');
    assert.ok(await waitFor(() => (unpublished.get() as { n: number }).n === 0, DEADLINE_MS, 100), 'results never marked published');
  } finally {
    db.close();
  }
});
