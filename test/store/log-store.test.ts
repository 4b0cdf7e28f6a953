import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/database.js';
import { LogStore, type Completion, type NewInput, type OutboxRow } from '../../src/store/log-store.js';

let dir: string;
let db: Db;
let store: LogStore;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-logstore-'));
  db = openDatabase(join(dir, 'hubnlu.db'));
  store = new LogStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function input(over: Partial<NewInput> = {}): NewInput {
  n++;
  return {
    id: `assigned-${n}`,
    idSource: 'assigned',
    deliveryKey: `key-${n}`,
    receivedAt: 1_700_000_000_000 + n,
    topic: 'hubnlu/kitchen/utterance',
    siteId: 'kitchen',
    text: 'turn off the kitchen lights',
    tasks: ['intent', 'sentiment'],
    resultTopic: 'hubnlu/kitchen/result',
    request: {},
    ...over,
  };
}

function done(seq: number, over: Partial<Completion> = {}): Completion {
  return {
    seq,
    status: 'done',
    completedAt: 1_700_000_001_000,
    intent: 'iot_hue_lightoff',
    confidence: 0.93,
    alternatives: [{ name: 'iot_hue_lightoff', confidence: 0.93 }],
    slots: [{ type: 'house_place', value: 'kitchen', start: 13, end: 20, confidence: 0.9 }],
    sentiment: 'neutral',
    sentimentScore: 0.7,
    sentimentScores: { negative: 0.1, neutral: 0.7, positive: 0.2 },
    intentModel: 'intent@1',
    sentimentModel: 'sentiment@1',
    latencyMs: 12.5,
    inferenceMs: 3.25,
    messages: [{ topic: 'hubnlu/kitchen/result', payload: `{"seq":${seq}}` }],
    ...over,
  };
}

const count = (sql: string, ...params: unknown[]): number => db.prepare(sql).pluck().get(...params) as number;
const row = (seq: number) => db.prepare('SELECT * FROM inputs WHERE seq = ?').get(seq) as Record<string, unknown>;

describe('LogStore', () => {
  test('recordInput stores a pending row; completeMany stores the result and queues its messages', () => {
    const rec = store.recordInput(input({ sessionId: 's1', lang: 'en', request: { customData: 'cd', intentFilter: ['a'] } }));
    assert.equal(rec.duplicate, false);
    const before = row(rec.seq);
    assert.equal(before.status, 'pending');
    assert.equal(before.tasks, '["intent","sentiment"]');
    assert.equal(before.request, '{"customData":"cd","intentFilter":["a"]}');
    assert.equal(count('SELECT count(*) FROM outbox'), 0);

    store.completeMany([done(rec.seq)]);
    const after = row(rec.seq);
    assert.equal(after.status, 'done');
    assert.equal(after.intent, 'iot_hue_lightoff');
    assert.equal(after.confidence, 0.93);
    assert.deepEqual(JSON.parse(after.slots as string)[0].value, 'kitchen');
    assert.deepEqual(JSON.parse(after.sentiment_scores as string), { negative: 0.1, neutral: 0.7, positive: 0.2 });
    assert.equal(after.latency_ms, 12.5);
    assert.equal(after.inference_ms, 3.25);
    assert.equal(after.completed_at, 1_700_000_001_000);
    assert.equal(after.error_code, null);
    const outbox = db.prepare('SELECT input_seq, topic, payload, qos, retain, published_at FROM outbox').all();
    assert.deepEqual(outbox, [{ input_seq: rec.seq, topic: 'hubnlu/kitchen/result', payload: `{"seq":${rec.seq}}`, qos: 1, retain: 0, published_at: null }]);
  });

  test('completeMany is one transaction: a failure part-way stores none of the batch', () => {
    const a = store.recordInput(input()).seq;
    const b = store.recordInput(input()).seq;
    const broken = done(b, { messages: [{ topic: 'hubnlu/kitchen/result', payload: null as unknown as string }] }); // outbox.payload is NOT NULL
    assert.throws(() => store.completeMany([done(a), broken]), /NOT NULL/);
    assert.equal(row(a).status, 'pending', 'the first completion was rolled back with the second');
    assert.equal(count('SELECT count(*) FROM outbox'), 0);
  });

  test('completeMany with the input: one new row holding input and result (never pending), same columns as record + complete', () => {
    const a = input({ sessionId: 's1', lang: 'en', request: { customData: 'cd' } });
    const [outcome] = store.completeMany([{ ...done(0, { lang: 'de' }), input: { row: a, redelivered: false } }]);
    assert.equal(outcome.duplicate, false);
    const inserted = row(outcome.seq);
    // The same input through the two-step path, for comparison of every column but seq and delivery key.
    const b = { ...a, id: `${a.id}-b`, deliveryKey: `${a.deliveryKey}-b` };
    const rec = store.recordInput(b);
    store.completeMany([done(rec.seq, { lang: 'de' })]);
    const twoStep = row(rec.seq);
    for (const key of Object.keys(twoStep)) {
      if (key === 'seq' || key === 'id' || key === 'delivery_key') continue;
      assert.deepEqual(inserted[key], twoStep[key], `column ${key}`);
    }
    assert.equal(inserted.status, 'done');
    assert.equal(inserted.lang, 'de', 'the language it was analysed as');
    const outbox = db.prepare('SELECT input_seq, payload FROM outbox WHERE input_seq = ?').all(outcome.seq);
    assert.deepEqual(outbox, [{ input_seq: outcome.seq, payload: '{"seq":0}' }]);
  });

  test('completeMany hands back the outbox rows it wrote exactly as unpublished() reads them', () => {
    const seq = store.recordInput(input()).seq;
    const queued: OutboxRow[] = [];
    store.completeMany(
      [
        done(seq, {
          messages: [
            { topic: 'hubnlu/kitchen/result', payload: 'plain \ud800 text' },
            { topic: 'reply/here', payload: '{}', qos: 0, retain: true, properties: { responseTopic: 'r/t', correlationData: Buffer.from([1, 2, 3]), userProperties: { a: 'b' } } },
            { topic: 'hubnlu/x', payload: '{}', properties: {} },
          ],
        }),
      ],
      queued,
    );
    assert.deepEqual(queued, store.unpublished(0, 10));
    assert.equal(queued.length, 3);
  });

  test('completeMany with the input: a redelivered or repeated input is a duplicate and stores nothing', () => {
    const a = input({ id: 'req-7', idSource: 'payload' });
    const [first] = store.completeMany([{ ...done(0), input: { row: a, redelivered: false } }]);
    const outcomes = store.completeMany([
      { ...done(0), input: { row: { ...a, receivedAt: a.receivedAt + 1 }, redelivered: true } },
      { ...done(0), input: { row: { ...a, deliveryKey: 'other-key', receivedAt: a.receivedAt + 2 }, redelivered: false } },
    ]);
    assert.deepEqual(outcomes, [
      { seq: first.seq, duplicate: true, reason: 'redelivery' },
      { seq: first.seq, duplicate: true, reason: 'payload_id' },
    ]);
    assert.equal(count('SELECT count(*) FROM inputs'), 1);
    assert.equal(count('SELECT count(*) FROM outbox'), 1);
  });

  test('completing a row twice queues its messages once', () => {
    const seq = store.recordInput(input()).seq;
    store.completeMany([done(seq)]);
    store.completeMany([done(seq, { intent: 'other' })]);
    assert.equal(row(seq).intent, 'iot_hue_lightoff');
    assert.equal(count('SELECT count(*) FROM outbox WHERE input_seq = ?', seq), 1);
  });

  test('an error completion keeps its code and message', () => {
    const seq = store.recordInput(input()).seq;
    store.completeMany([{ seq, status: 'error', completedAt: 5, latencyMs: 1, error: { code: 'model_error', message: 'boom' }, messages: [{ topic: 'hubnlu/kitchen/error', payload: '{}' }] }]);
    const r = row(seq);
    assert.equal(r.status, 'error');
    assert.equal(r.error_code, 'model_error');
    assert.equal(r.error_message, 'boom');
    assert.equal(r.intent, null);
  });

  test('the same payload id, topic, site and text again within the window is a duplicate: same seq, no second row', () => {
    const first = store.recordInput(input({ id: 'req-1', idSource: 'payload', receivedAt: 1_000_000 }));
    const again = store.recordInput(input({ id: 'req-1', idSource: 'payload', receivedAt: 1_000_000 + 599_999 }));
    assert.deepEqual(again, { seq: first.seq, duplicate: true, reason: 'payload_id' });
    assert.equal(count(`SELECT count(*) FROM inputs WHERE id = 'req-1'`), 1);
  });

  test('a payload id is scoped: another site, another topic, another text or a time past the window is a new input', () => {
    const t0 = 2_000_000;
    const first = store.recordInput(input({ id: 'req-1', idSource: 'payload', receivedAt: t0 }));
    const cases: Array<[string, Partial<NewInput>]> = [
      ['another site', { siteId: 'hall', topic: 'hubnlu/hall/utterance', resultTopic: 'hubnlu/hall/result' }],
      ['another topic, same site', { topic: 'hermes/nlu/query' }],
      ['the same id with another text (a different request)', { text: 'turn on the kitchen lights' }],
      ['the button pressed again after the window', { receivedAt: t0 + 600_001 }],
    ];
    for (const [what, over] of cases) {
      const rec = store.recordInput(input({ id: 'req-1', idSource: 'payload', receivedAt: t0 + 1, ...over }));
      assert.equal(rec.duplicate, false, what);
      assert.notEqual(rec.seq, first.seq, what);
    }
    assert.equal(count(`SELECT count(*) FROM inputs WHERE id = 'req-1'`), 5);
    // Within the window of the latest press, that press is the one repeated.
    assert.equal(store.recordInput(input({ id: 'req-1', idSource: 'payload', receivedAt: t0 + 600_002 })).duplicate, true);
  });

  test('ids that differ only past double precision stay two inputs', () => {
    const a = store.recordInput(input({ id: '12345678901234567890123', idSource: 'payload', receivedAt: 5 }));
    const b = store.recordInput(input({ id: '12345678901234567890124', idSource: 'payload', receivedAt: 6 }));
    assert.equal(b.duplicate, false);
    assert.notEqual(a.seq, b.seq);
  });

  test('dedupeWindowMs 0: payload ids never deduplicate, broker redeliveries still do', () => {
    const noWindow = new LogStore(db, { dedupeWindowMs: 0 });
    const first = noWindow.recordInput(input({ id: 'btn', idSource: 'payload', deliveryKey: 'k-btn', receivedAt: 10 }));
    assert.equal(noWindow.recordInput(input({ id: 'btn', idSource: 'payload', receivedAt: 11 })).duplicate, false);
    assert.deepEqual(noWindow.recordInput(input({ id: 'btn', idSource: 'payload', deliveryKey: 'k-btn', receivedAt: 12 }), true), {
      seq: first.seq,
      duplicate: true,
      reason: 'redelivery',
    });
  });

  test('a redelivered (DUP) message with the same delivery key is a duplicate, however old', () => {
    const first = store.recordInput(input({ deliveryKey: 'same', receivedAt: 1 }));
    const redelivery = store.recordInput(input({ deliveryKey: 'same', receivedAt: 1 + 86_400_000 }), true);
    assert.deepEqual(redelivery, { seq: first.seq, duplicate: true, reason: 'redelivery' });
    assert.equal(count('SELECT count(*) FROM inputs'), 1);
  });

  test('a fresh message with the same delivery key and no payload id is a new input: two people can say the same thing', () => {
    const first = store.recordInput(input({ deliveryKey: 'same' }));
    const second = store.recordInput(input({ deliveryKey: 'same' }), false);
    assert.equal(second.duplicate, false);
    assert.notEqual(second.seq, first.seq);
    assert.equal(count(`SELECT count(*) FROM inputs WHERE delivery_key = 'same'`), 2);
  });

  test('a redelivery with no earlier row is stored', () => {
    const rec = store.recordInput(input({ deliveryKey: 'first-seen-as-dup' }), true);
    assert.equal(rec.duplicate, false);
    assert.equal(count('SELECT count(*) FROM inputs'), 1);
  });

  test('a rejection is a completed row with its error code, and its error message is queued with it', () => {
    const rejected = input({ id: 'bad-1', idSource: 'payload', text: undefined, tasks: [], resultTopic: undefined, payloadExcerpt: '{"text": 5}' });
    const payload = JSON.stringify({ id: 'bad-1', code: 'invalid_field', message: 'text must be a string' });
    const rec = store.recordRejection(rejected, { code: 'invalid_field', message: 'text must be a string' }, [{ topic: 'hubnlu/kitchen/error', payload }]);
    assert.equal(rec.duplicate, false);
    const r = row(rec.seq);
    assert.equal(r.status, 'rejected');
    assert.equal(r.error_code, 'invalid_field');
    assert.equal(r.error_message, 'text must be a string');
    assert.equal(r.completed_at, rejected.receivedAt);
    assert.equal(r.payload_excerpt, '{"text": 5}');
    assert.equal(r.text, null);
    const [msg] = store.unpublished(0, 10);
    assert.equal(msg.topic, 'hubnlu/kitchen/error');
    assert.equal(JSON.parse(msg.payload).code, 'invalid_field');

    const again = store.recordRejection(rejected, { code: 'invalid_field', message: 'x' }, [{ topic: 'hubnlu/kitchen/error', payload }]);
    assert.deepEqual(again, { seq: rec.seq, duplicate: true, reason: 'payload_id' });
    assert.equal(count('SELECT count(*) FROM outbox'), 1, 'a duplicate rejection queues no second error');
    assert.deepEqual(store.pending(0, 10), [], 'rejections are never pending');
  });

  test('unpublished/markPublished: ordered by seq, after a cursor, limited; published rows drop out', () => {
    const seqs = [0, 1, 2].map(() => store.recordInput(input()).seq);
    store.completeMany(seqs.map((s) => done(s)));
    store.completeMany([]); // no-op
    const all = store.unpublished(0, 10);
    assert.equal(all.length, 3);
    assert.deepEqual(all.map((m) => JSON.parse(m.payload).seq), seqs);
    assert.ok(all[0].seq < all[1].seq && all[1].seq < all[2].seq);
    assert.deepEqual(all[0].qos, 1);
    assert.equal(all[0].retain, false);

    assert.deepEqual(store.unpublished(all[0].seq, 10).map((m) => m.seq), [all[1].seq, all[2].seq], 'strictly after the cursor');
    assert.deepEqual(store.unpublished(0, 2).map((m) => m.seq), [all[0].seq, all[1].seq], 'limited');

    store.markPublished([all[1].seq], 42);
    store.markPublished([], 43); // no-op
    assert.deepEqual(store.unpublished(0, 10).map((m) => m.seq), [all[0].seq, all[2].seq]);
    assert.equal(count('SELECT published_at FROM outbox WHERE seq = ?', all[1].seq), 42);

    store.noteAttempt(all[0].seq);
    store.noteAttempt(all[0].seq);
    assert.equal(count('SELECT attempts FROM outbox WHERE seq = ?', all[0].seq), 2);
  });

  test('every input column lands where it belongs (positional insert, issue 10)', () => {
    const seq = store.recordInput(input({ id: 'p-1', idSource: 'payload', deliveryKey: 'dk-1', receivedAt: 42, sessionId: 's9', lang: 'de', text: 'licht aus', request: { k: 1 } })).seq;
    const r = row(seq);
    assert.deepEqual(
      { id: r.id, id_source: r.id_source, delivery_key: r.delivery_key, received_at: r.received_at, topic: r.topic, site_id: r.site_id, session_id: r.session_id, lang: r.lang, text: r.text, tasks: r.tasks, result_topic: r.result_topic, request: r.request, status: r.status, payload_excerpt: r.payload_excerpt, error_code: r.error_code, error_message: r.error_message, completed_at: r.completed_at },
      { id: 'p-1', id_source: 'payload', delivery_key: 'dk-1', received_at: 42, topic: 'hubnlu/kitchen/utterance', site_id: 'kitchen', session_id: 's9', lang: 'de', text: 'licht aus', tasks: '["intent","sentiment"]', result_topic: 'hubnlu/kitchen/result', request: '{"k":1}', status: 'pending', payload_excerpt: null, error_code: null, error_message: null, completed_at: null },
    );
    const rej = store.recordRejection(input({ receivedAt: 43, text: undefined, payloadExcerpt: '{"x"' }), { code: 'invalid_json', message: 'bad' }, []).seq;
    const j = row(rej);
    assert.deepEqual([j.status, j.error_code, j.error_message, j.completed_at, j.payload_excerpt, j.text], ['rejected', 'invalid_json', 'bad', 43, '{"x"', null]);
    store.completeMany([done(seq, { lang: 'en' })]);
    assert.equal(row(seq).lang, 'en', 'the analysed language replaces the tag');
    const other = store.recordInput(input({ lang: 'fr' })).seq;
    store.completeMany([done(other, { lang: undefined })]);
    assert.equal(row(other).lang, 'fr', 'no analysed language: the tag stays');
  });

  test('markPublished marks exactly the rows given, however many', () => {
    const seqs: number[] = [];
    for (let i = 0; i < 1200; i++) seqs.push(store.recordInput(input()).seq);
    store.completeMany(seqs.map((s) => done(s)));
    const outbox = store.unpublished(0, 2000).map((m) => m.seq);
    assert.equal(outbox.length, 1200);
    const marked = outbox.filter((_, i) => i % 3 !== 1);
    store.markPublished(marked, 777);
    assert.deepEqual(db.prepare('SELECT seq FROM outbox WHERE published_at = 777 ORDER BY seq').pluck().all(), marked);
    assert.deepEqual(store.unpublished(0, 2000).map((m) => m.seq), outbox.filter((_, i) => i % 3 === 1));
    store.markPublished([], 778);
    assert.equal(count('SELECT count(*) FROM outbox WHERE published_at = 778'), 0);
  });

  test('qos and retain round-trip through the outbox', () => {
    const seq = store.recordInput(input()).seq;
    store.completeMany([done(seq, { messages: [{ topic: 'a', payload: '1', qos: 0, retain: true }, { topic: 'b', payload: '2', qos: 2 }] })]);
    assert.deepEqual(
      store.unpublished(0, 10).map((m) => [m.topic, m.qos, m.retain]),
      [['a', 0, true], ['b', 2, false]],
    );
  });

  test('pending() returns only pending rows, after a cursor, with JSON fields parsed', () => {
    const a = store.recordInput(input({ sessionId: 'sess', lang: 'de', request: { meta: { room: 'Küche' } } })).seq;
    const b = store.recordInput(input({ tasks: ['sentiment'] })).seq;
    const c = store.recordInput(input()).seq;
    store.recordRejection(input(), { code: 'empty_text', message: 'x' }, []);
    store.completeMany([done(b)]);

    const pending = store.pending(0, 10);
    assert.deepEqual(pending.map((p) => p.seq), [a, c]);
    assert.equal(pending[0].sessionId, 'sess');
    assert.equal(pending[0].lang, 'de');
    assert.deepEqual(pending[0].tasks, ['intent', 'sentiment']);
    assert.deepEqual(pending[0].request, { meta: { room: 'Küche' } });
    assert.deepEqual(pending[1].request, {}, 'an empty request is stored as NULL and read back as {}');
    assert.equal(pending[1].sessionId, null);
    assert.deepEqual(store.pending(a, 10).map((p) => p.seq), [c]);
    assert.deepEqual(store.pending(0, 1).map((p) => p.seq), [a]);
  });
});
