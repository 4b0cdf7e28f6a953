/**
 * The outbox publisher's timing (issue 10, latency): a kick sends what the outbox holds before the event loop
 * turns, and the kicks of one task share one read of the outbox. A real LogStore on a real SQLite file; the MQTT
 * connection is a recorder (the end-to-end delivery is test/agent/*.e2e and test/faults).
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/database.js';
import { LogStore, type NewInput, type OutboxRow } from '../../src/store/log-store.js';
import { OutboxPublisher } from '../../src/agent/outbox-publisher.js';
import type { MqttConnection } from '../../src/transport/mqtt-connection.js';
import { createLogger } from '../../src/util/logger.js';
import { requeueRefused } from '../../src/store/outbox.js';
import { captureLogger } from '../helpers/log-capture.js';
import { ErrorWithReasonCode } from 'mqtt';

let dir: string;
let db: Db;
let store: LogStore;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-outbox-'));
  db = openDatabase(join(dir, 'log.db'), { synchronous: 'normal' });
  store = new LogStore(db);
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
/** Queues one error message in the outbox (a rejected input), as intake does. */
function queueMessage(site = 'kitchen', topic = `hubnlu/${site}/error`): string {
  n++;
  const input: NewInput = { id: `bad-${n}`, idSource: 'payload', deliveryKey: `key-${n}`, receivedAt: 1_700_000_000_000 + n, topic: `hubnlu/${site}/utterance`, siteId: site, tasks: [], request: {} };
  const payload = JSON.stringify({ id: input.id, code: 'invalid_json' });
  store.recordRejection(input, { code: 'invalid_json', message: 'not JSON' }, [{ topic, payload }]);
  return input.id;
}

function recordingConnection() {
  const sent: string[] = [];
  let reads = 0;
  const connection = {
    isOnline: true,
    on: () => connection,
    off: () => connection,
    publish: (_topic: string, payload: string) => {
      sent.push((JSON.parse(payload) as { id: string }).id);
      return new Promise<void>(() => undefined); // no PUBACK: the rows stay in flight
    },
  };
  const countingStore = Object.create(store, { unpublished: { value: (after: number, limit: number) => (reads++, store.unpublished(after, limit)) } }) as LogStore;
  return { connection: connection as unknown as MqttConnection, sent, reads: () => reads, store: countingStore };
}

/** Makes the recorder's publishes wait for a PUBACK: each call to one of the returned functions acknowledges the next publish. */
function acknowledgeOnCall(rec: ReturnType<typeof recordingConnection>): Array<() => void> {
  const acks: Array<() => void> = [];
  (rec.connection as unknown as { publish: (t: string, p: string) => Promise<void> }).publish = (_t, payload) => {
    rec.sent.push((JSON.parse(payload) as { id: string }).id);
    return new Promise<void>((resolve) => acks.push(resolve));
  };
  return acks;
}

test('a kick publishes what the outbox holds before the event loop turns (no setImmediate hop between a commit and its publish)', async () => {
  const rec = recordingConnection();
  const publisher = new OutboxPublisher(rec.store, rec.connection, createLogger({ level: 'silent', sync: true }));
  const id = queueMessage();
  // An immediate queued before the kick runs at the next turn of the loop: the message must be on its way by then.
  const atNextTurn = new Promise<string[]>((resolve) => setImmediate(() => resolve([...rec.sent])));
  publisher.kick();
  assert.deepEqual(await atNextTurn, [id]);
  publisher.stop();
});

test('the kicks of one task share one read of the outbox, and every message is sent once', async () => {
  const rec = recordingConnection();
  const publisher = new OutboxPublisher(rec.store, rec.connection, createLogger({ level: 'silent', sync: true }));
  const ids = [queueMessage(), queueMessage()];
  publisher.kick();
  ids.push(queueMessage());
  publisher.kick();
  publisher.kick();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(rec.sent, ids);
  assert.equal(rec.reads(), 1);
  // A later kick reads on from where the last one stopped.
  ids.push(queueMessage());
  publisher.kick();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(rec.sent, ids);
  publisher.stop();
});

test('a PUBACK reads the outbox again only when the last read stopped at the publish window', async () => {
  const rec = recordingConnection();
  const acks = acknowledgeOnCall(rec);
  const publisher = new OutboxPublisher(rec.store, rec.connection, createLogger({ level: 'silent', sync: true }), { window: 2 });
  const turn = () => new Promise((resolve) => setImmediate(resolve));

  // Room to spare: the PUBACK frees a place nobody waits for, so no read.
  const first = queueMessage();
  publisher.kick();
  await turn();
  assert.deepEqual(rec.sent, [first]);
  assert.equal(rec.reads(), 1);
  acks.shift()!();
  await turn();
  assert.equal(rec.reads(), 1, 'a PUBACK with room to spare read the outbox');

  // Three rows, a window of two: the third waits; the first PUBACK must fetch it.
  const ids = [queueMessage(), queueMessage(), queueMessage()];
  publisher.kick();
  await turn();
  assert.deepEqual(rec.sent, [first, ids[0], ids[1]]);
  acks.shift()!();
  await turn();
  assert.deepEqual(rec.sent, [first, ...ids], 'the row beyond the window was sent after a place came free');
  publisher.stop();
});

test('offer(): rows committed right after the last one sent go without a read; after a gap the outbox is read', async () => {
  const rec = recordingConnection();
  const publisher = new OutboxPublisher(rec.store, rec.connection, createLogger({ level: 'silent', sync: true }));
  const turn = () => new Promise((resolve) => setImmediate(resolve));
  /** An answered input with its result message, as the worker commits it; returns the rows it queued. */
  const answered = (): { id: string; rows: OutboxRow[] } => {
    n++;
    const id = `ok-${n}`;
    const row: NewInput = { id, idSource: 'payload', deliveryKey: `key-${n}`, receivedAt: 1_700_000_000_000 + n, topic: 'hubnlu/kitchen/utterance', siteId: 'kitchen', text: 'lights on', tasks: ['intent'], resultTopic: 'hubnlu/kitchen/result', request: {} };
    const rows: OutboxRow[] = [];
    store.completeMany([{ seq: 0, input: { row, redelivered: false }, status: 'done', completedAt: 1, latencyMs: 1, messages: [{ topic: 'hubnlu/kitchen/result', payload: JSON.stringify({ id }) }] }], rows);
    return { id, rows };
  };

  const earlier = queueMessage(); // left by a previous run: the first offer is not right after the cursor (0)
  const first = answered();
  publisher.offer(first.rows);
  await turn();
  assert.deepEqual(rec.sent, [earlier, first.id]);
  assert.equal(rec.reads(), 1);

  const second = answered();
  assert.equal(second.rows[0].seq, first.rows[0].seq + 1);
  publisher.offer(second.rows);
  assert.deepEqual(rec.sent, [earlier, first.id, second.id], 'sent at once, not read back');
  assert.equal(rec.reads(), 1);

  const rejected = queueMessage(); // committed elsewhere (intake), not kicked yet
  const third = answered();
  publisher.offer(third.rows);
  await turn();
  assert.deepEqual(rec.sent, [earlier, first.id, second.id, rejected, third.id], 'the gap sent the publisher to the outbox, in order');
  assert.equal(rec.reads(), 2);
  publisher.stop();
});

test('acknowledgements wait while deferWrites() says so (the WAL starting over), and are recorded after it; stop() records them at once', async () => {
  const rec = recordingConnection();
  const acks = acknowledgeOnCall(rec);
  let deferring = true;
  const publisher = new OutboxPublisher(rec.store, rec.connection, createLogger({ level: 'silent', sync: true }), { deferWrites: () => deferring });
  const unpublished = () => (db.prepare('SELECT count(*) AS n FROM outbox WHERE published_at IS NULL').get() as { n: number }).n;
  queueMessage();
  queueMessage();
  publisher.kick();
  await new Promise((resolve) => setImmediate(resolve));
  acks.shift()!();
  // The 20 ms flush comes and finds the pause: nothing is written.
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(unpublished(), 2, 'not marked during the pause');
  deferring = false;
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(unpublished(), 1, 'marked once the pause is over');
  deferring = true;
  acks.shift()!();
  await new Promise((resolve) => setImmediate(resolve));
  publisher.stop();
  assert.equal(unpublished(), 0, 'stop() records the last acknowledgement even during a pause');
});

/**
 * A connection whose publishes fail as MQTT.js 5 fails them: `fail(id)` gives the error for a message (by its payload
 * id), or undefined for a PUBACK. `reconnect()` runs the publisher's 'online' handler, as after a reconnect.
 */
function failingConnection(fail: (id: string) => Error | undefined) {
  const sent: Array<{ topic: string; id: string }> = [];
  let online: (() => void) | undefined;
  const connection = {
    isOnline: true,
    on: (_event: string, fn: () => void) => ((online = fn), connection),
    off: () => connection,
    publish: (topic: string, payload: string) => {
      const id = String((JSON.parse(payload) as { id: string }).id);
      sent.push({ topic, id });
      const err = fail(id);
      return err ? Promise.reject(err) : Promise.resolve();
    },
  };
  return { connection: connection as unknown as MqttConnection, sent, reconnect: () => online?.() };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 40));

test('a definite refusal (PUBACK 0x87) sets the row aside: marked, logged once, told once, not sent again after a reconnect; the others go on', async () => {
  const refusedId = queueMessage();
  const okId = queueMessage();
  const conn = failingConnection((id) => (id === refusedId ? new ErrorWithReasonCode('Publish error: Not authorized', 135) : undefined));
  const logs = captureLogger('debug');
  const notices: unknown[] = [];
  const publisher = new OutboxPublisher(store, conn.connection, logs.log, {
    pollMs: 0,
    refusalNotice: (r) => (notices.push(r), { topic: 'hubnlu/kitchen/notice', payload: JSON.stringify({ id: `notice-${r.input.id}` }) }),
  });
  publisher.start();
  publisher.kick();
  await settle();
  publisher.flushAcks(true);
  const row = db.prepare(`SELECT o.seq, o.refused_at, o.refused_code, o.refused_reason, o.attempts, o.published_at FROM outbox o JOIN inputs i ON i.seq = o.input_seq WHERE i.id = ?`).get(refusedId) as Record<string, unknown>;
  assert.equal(row.refused_code, 135);
  assert.equal(row.refused_reason, 'Not authorized');
  assert.ok(typeof row.refused_at === 'number');
  assert.equal(row.published_at, null);
  assert.equal(row.attempts, 0);
  assert.equal(publisher.refused, 1);
  assert.equal(notices.length, 1);
  assert.deepEqual(conn.sent.map((s) => s.id), [refusedId, okId, `notice-${refusedId}`]);
  const refusalLines = logs.lines.filter((l) => l.msg.startsWith('the broker refused'));
  assert.equal(refusalLines.length, 1);
  assert.equal(refusalLines[0].level, 'error');
  assert.equal(refusalLines[0].reasonCode, 135);
  assert.match(refusalLines[0].msg, /hubnlu\/kitchen\/error \(0x87 Not authorized\)/);

  conn.reconnect();
  conn.reconnect();
  await settle();
  assert.deepEqual(conn.sent.map((s) => s.id), [refusedId, okId, `notice-${refusedId}`], 'sent again after a reconnect');
  assert.equal(store.unpublishedCount(), 0);
  assert.equal(store.refusedCount(), 1);
  publisher.stop();
});

test('anything but a definite refusal keeps today\'s path: an ambiguous reason code (0x80, 0x83, 0x97) or a closed connection leaves the row unpublished, sent again after a reconnect', async () => {
  const cases: Array<[string, Error]> = [
    ['unspecified', new ErrorWithReasonCode('Publish error: Unspecified error', 0x80)],
    ['implementation', new ErrorWithReasonCode('Publish error: Implementation specific error', 0x83)],
    ['quota', new ErrorWithReasonCode('Publish error: Quota exceeded', 0x97)],
    ['closed', new Error('Connection closed')],
    ['reset', Object.assign(new Error('write ECONNRESET'), { code: 'ECONNRESET' })],
  ];
  const ids = new Map(cases.map(([name, err]) => [queueMessage(), { name, err }]));
  let failing = true;
  const conn = failingConnection((id) => (failing ? ids.get(id)?.err : undefined));
  const notices: unknown[] = [];
  const publisher = new OutboxPublisher(store, conn.connection, createLogger({ level: 'silent', sync: true }), { pollMs: 0, refusalNotice: (r) => (notices.push(r), undefined) });
  publisher.start();
  publisher.kick();
  await settle();
  assert.equal(conn.sent.length, cases.length);
  assert.equal(store.refusedCount(), 0);
  assert.equal(store.unpublishedCount(), cases.length);
  assert.equal(notices.length, 0);
  assert.deepEqual(db.prepare('SELECT DISTINCT attempts FROM outbox').pluck().all(), [1]);
  failing = false;
  conn.reconnect();
  await settle();
  publisher.flushAcks(true);
  assert.equal(conn.sent.length, 2 * cases.length, 'each row sent again after the reconnect');
  assert.equal(store.unpublishedCount(), 0);
  publisher.stop();
});

test('a refused row re-queued by another process (hubnlu outbox retry) is sent by the running publisher at its next poll', async () => {
  const id = queueMessage();
  let refuse = true;
  const conn = failingConnection(() => (refuse ? new ErrorWithReasonCode('Publish error: Not authorized', 135) : undefined));
  const publisher = new OutboxPublisher(store, conn.connection, createLogger({ level: 'silent', sync: true }), { pollMs: 20 });
  publisher.start();
  publisher.kick();
  await settle();
  assert.equal(store.refusedCount(), 1);
  refuse = false;
  // Another connection to the same file, as the CLI opens it.
  const other = openDatabase(join(dir, 'log.db'), { synchronous: 'normal' });
  try {
    assert.equal(requeueRefused(other, 'all').requeued.length, 1);
  } finally {
    other.close();
  }
  await new Promise((resolve) => setTimeout(resolve, 120));
  publisher.flushAcks(true);
  assert.deepEqual(conn.sent.map((s) => s.id), [id, id]);
  assert.equal(store.refusedCount(), 0);
  assert.equal(store.unpublishedCount(), 0);
  publisher.stop();
});

test('no notice about a refused notice: an error message refused on the topic its notice would use is set aside without one', async () => {
  queueMessage(); // an error message on hubnlu/kitchen/error
  const conn = failingConnection(() => new ErrorWithReasonCode('Publish error: Not authorized', 135));
  const publisher = new OutboxPublisher(store, conn.connection, createLogger({ level: 'silent', sync: true }), {
    pollMs: 0,
    refusalNotice: (r) => ({ topic: `hubnlu/${r.input.siteId}/error`, payload: JSON.stringify({ id: 'notice' }) }),
  });
  publisher.start();
  publisher.kick();
  await settle();
  assert.deepEqual(conn.sent.map((s) => s.topic), ['hubnlu/kitchen/error'], 'a notice was published about a refused message on the notice topic');
  assert.equal(store.refusedCount(), 1);
  publisher.stop();
});

test('refusals are coalesced: the first per topic and reason code is logged and told at once, the rest of its window counted in one line when it ends; every row is marked', async () => {
  let clock = 1_800_000_000_000;
  const logs = captureLogger('debug');
  const conn = failingConnection((id) => (id.startsWith('notice-') ? undefined : new ErrorWithReasonCode('Publish error: Not authorized', 135)));
  const publisher = new OutboxPublisher(store, conn.connection, logs.log, {
    pollMs: 0,
    now: () => clock,
    refusalNotice: (r) => ({ topic: `hubnlu/${r.input.siteId}/notice`, payload: JSON.stringify({ id: `notice-${r.input.id}` }) }),
  });
  const firstLines = () => logs.lines.filter((l) => l.msg.startsWith('the broker refused'));
  const summaries = () => logs.lines.filter((l) => l.msg.startsWith('…and '));
  const notices = (site: string) => conn.sent.filter((s) => s.topic === `hubnlu/${site}/notice`);
  publisher.start();

  // An ACL denying a whole site: 50 of its messages refused in one burst, and 5 of another site's.
  const kitchen = Array.from({ length: 50 }, () => queueMessage('kitchen'));
  const garage = Array.from({ length: 5 }, () => queueMessage('garage'));
  publisher.kick();
  await settle();
  assert.equal(store.refusedCount(), 55, 'every refused row is marked');
  assert.equal(publisher.refused, 55);
  assert.deepEqual(firstLines().map((l) => l.topic), ['hubnlu/kitchen/error', 'hubnlu/garage/error'], 'one line per topic, not one per message');
  assert.equal(firstLines()[0].id, kitchen[0]);
  assert.deepEqual(notices('kitchen').map((s) => s.id), [`notice-${kitchen[0]}`]);
  assert.deepEqual(notices('garage').map((s) => s.id), [`notice-${garage[0]}`]);
  assert.equal(publisher.noticesHeld, 53);
  assert.equal(summaries().length, 0, 'a summary before the window ended');

  // The window ends: the next refusal is preceded by the summary of what it counted, and is logged and told at once.
  clock += 60_000;
  const later = queueMessage('kitchen');
  publisher.kick();
  await settle();
  const kitchenSummaries = summaries().filter((l) => l.topic === 'hubnlu/kitchen/error');
  assert.equal(kitchenSummaries.length, 1);
  assert.equal(kitchenSummaries[0].level, 'error');
  assert.equal(kitchenSummaries[0].more, 49);
  assert.equal(kitchenSummaries[0].reasonCode, 135);
  assert.match(kitchenSummaries[0].msg, /^…and 49 more refused on hubnlu\/kitchen\/error \(0x87 Not authorized\) in the last 60 s/);
  assert.match(summaries().find((l) => l.topic === 'hubnlu/garage/error')!.msg, /^…and 4 more refused on hubnlu\/garage\/error/);
  assert.ok(logs.lines.indexOf(kitchenSummaries[0]) < logs.lines.indexOf(firstLines()[2]), 'the summary comes before the next window\'s first line');
  assert.equal(firstLines().length, 3);
  assert.equal(firstLines()[2].id, later);
  assert.deepEqual(notices('kitchen').map((s) => s.id), [`notice-${kitchen[0]}`, `notice-${later}`]);

  // Refusals counted in an open window are summarised at stop, not lost.
  for (let i = 0; i < 3; i++) queueMessage('kitchen');
  publisher.kick();
  await settle();
  assert.equal(firstLines().length, 3);
  publisher.stop();
  const last = summaries().at(-1)!;
  assert.equal(last.more, 3);
  assert.match(last.msg, /^…and 3 more refused on hubnlu\/kitchen\/error \(0x87 Not authorized\) in the last 1 s/);
  assert.equal(summaries().length, 3);
  assert.equal(store.refusedCount(), 59);
});

test('a refused topic shared by sites (another reason code, too) tells each site once per window, each reason code logged on its own', async () => {
  const logs = captureLogger('debug');
  // Every message refused; which code depends on its order: the first three 0x87, the rest 0x95.
  let count = 0;
  const conn = failingConnection((id) => {
    if (id.startsWith('notice-')) return undefined;
    count++;
    return count <= 3 ? new ErrorWithReasonCode('Publish error: Not authorized', 135) : new ErrorWithReasonCode('Publish error: Packet too large', 0x95);
  });
  const publisher = new OutboxPublisher(store, conn.connection, logs.log, {
    pollMs: 0,
    now: () => 1_800_000_000_000,
    refusalNotice: (r) => ({ topic: `hubnlu/${r.input.siteId}/notice`, payload: JSON.stringify({ id: `notice-${r.input.id}` }) }),
  });
  publisher.start();
  // One topic for every site (as the Home Assistant event topic is); each notice goes to its input's own site.
  const ids = ['kitchen', 'garage', 'kitchen', 'garage', 'kitchen'].map((site) => queueMessage(site, 'hubnlu/homeassistant/intent'));
  publisher.kick();
  await settle();
  publisher.stop();
  assert.equal(store.refusedCount(), 5);
  const firstLines = logs.lines.filter((l) => l.msg.startsWith('the broker refused'));
  assert.deepEqual(firstLines.map((l) => l.reasonCode), [135, 0x95]);
  assert.deepEqual(conn.sent.filter((s) => s.topic === 'hubnlu/kitchen/notice').map((s) => s.id), [`notice-${ids[0]}`, `notice-${ids[4]}`]);
  assert.deepEqual(conn.sent.filter((s) => s.topic === 'hubnlu/garage/notice').map((s) => s.id), [`notice-${ids[1]}`, `notice-${ids[3]}`]);
  assert.deepEqual(logs.lines.filter((l) => l.msg.startsWith('…and ')).map((l) => [l.reasonCode, l.more]), [[135, 2], [0x95, 1]]);
});
