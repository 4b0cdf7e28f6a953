/**
 * What the intake makes of inputs, through a real `hubnlu run` process and a
 * real mosquitto broker (issue 7, defects 3, 4 and 10):
 * - payload ids are scoped to topic and site and deduplicated within a window
 *   (`input.dedupeWindowSeconds`), and a dropped duplicate is logged and counted;
 * - numeric ids are kept exactly as written;
 * - a site topic's site wins over a payload `siteId` (`site_mismatch`), unless
 *   the route says `payloadSiteId: true`; Hermes topics use the payload's;
 * - every stored column is valid UTF-8, and a JSON parse error stores a fixed
 *   message, not the payload.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { FaultAgent } from '../helpers/agent-process.js';
import { faultScene, LIGHT_BROKER_PERSISTENCE } from '../helpers/delivery.js';
import { mosquittoPath } from '../helpers/mosquitto.js';
import { Recorder } from '../helpers/mqtt.js';
import { sleep, waitFor } from '../helpers/net.js';

const TOPICS = [
  { topic: 'hubnlu/+/utterance' },
  { topic: 'hubnlu/+/relay', payloadSiteId: true },
  { topic: 'hermes/nlu/query', format: 'hermes', tasks: ['intent'] },
];
const WINDOW_SECONDS = 2;
const utf8 = new TextDecoder('utf-8', { fatal: true });

test('intake through mosquitto: scoped dedupe, exact ids, the topic\'s site, valid stored text', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 120_000 }, async (t) => {
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'intake', { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });
  const agent = await FaultAgent.start({
    brokerUrl: broker.url,
    dbPath,
    clientId,
    settings: { 'log.level': 'debug', 'input.dedupeWindowSeconds': WINDOW_SECONDS, 'input.topics': JSON.stringify(TOPICS), 'storage.synchronous': 'normal' },
  });
  closers.push(() => agent.kill('SIGKILL'));
  const out = await Recorder.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { protocolVersion: 5 });
  closers.push(() => out.close());
  const frontdoor = await Recorder.connect(broker.url, ['hubnlu/frontdoor/#'], { protocolVersion: 5 });
  closers.push(() => frontdoor.close());

  const answers = (id: string) => out.messages.filter((m) => (JSON.parse(m.payload.toString()) as { id: unknown }).id === id);
  const answered = async (id: string, n = 1): Promise<Array<{ topic: string; body: Record<string, unknown> }>> => {
    assert.ok(await waitFor(() => answers(id).length >= n, 10_000), `no ${n}. answer for ${id}; got ${answers(id).length}`);
    return answers(id).map((m) => ({ topic: m.topic, body: JSON.parse(m.payload.toString()) as Record<string, unknown> }));
  };
  /** A fresh input after `id`: once it is answered, everything before it has been handled. */
  let fences = 0;
  const fence = async (): Promise<void> => {
    const id = `fence-${++fences}`;
    await out.publish('hubnlu/kitchen/utterance', JSON.stringify({ id, text: 'what time is it' }));
    await answered(id);
  };

  await t.test('defect 3: the same id from two sites is two inputs; a repeat within the window is dropped, logged and counted; after it, answered again', async () => {
    const press = JSON.stringify({ id: 'req-1', text: 'turn off the lights' });
    await out.publish('hubnlu/garage/utterance', press);
    await out.publish('hubnlu/hall/utterance', press);
    const both = await answered('req-1', 2);
    assert.deepEqual(both.map((a) => a.topic).sort(), ['hubnlu/garage/result', 'hubnlu/hall/result']);

    const logFrom = agent.logs.length;
    await out.publish('hubnlu/garage/utterance', press); // the same request again, within the window
    const line = await agent.waitForLog('duplicate input ignored', 10_000, logFrom);
    assert.ok(line, 'no debug line for the dropped duplicate');
    assert.equal(line.id, 'req-1');
    assert.equal(line.siteId, 'garage');
    assert.equal(line.level, 'debug');
    // The same id with another text is another request: answered.
    await out.publish('hubnlu/garage/utterance', JSON.stringify({ id: 'req-1', text: 'turn on the lights' }));
    await answered('req-1', 3);
    await fence();
    assert.equal(answers('req-1').length, 3, 'the duplicate got an answer');

    await sleep(WINDOW_SECONDS * 1000 + 200);
    await out.publish('hubnlu/garage/utterance', press); // the button, pressed again later
    const all = await answered('req-1', 4);
    assert.equal(all[3].topic, 'hubnlu/garage/result');
    const db = new Database(dbPath, { readonly: true });
    const rows = db.prepare(`SELECT site_id, count(*) AS n FROM inputs WHERE id = 'req-1' GROUP BY site_id ORDER BY site_id`).all();
    db.close();
    assert.deepEqual(rows, [
      { site_id: 'garage', n: 3 },
      { site_id: 'hall', n: 1 },
    ]);
  });

  await t.test('defect 3: numeric ids are kept exactly as sent; …123 and …124 are two inputs', async () => {
    await out.publish('hubnlu/kitchen/utterance', '{"id": 12345678901234567890123, "text": "turn on the lights"}');
    await out.publish('hubnlu/kitchen/utterance', '{"id": 12345678901234567890124, "text": "turn on the lights"}');
    const [a] = await answered('12345678901234567890123');
    const [b] = await answered('12345678901234567890124');
    assert.equal(a.topic, 'hubnlu/kitchen/result');
    assert.equal(b.topic, 'hubnlu/kitchen/result');
  });

  await t.test('defect 4: the topic\'s site wins; a disagreeing payload siteId is rejected on the topic\'s own error topic', async () => {
    await out.publish('hubnlu/kitchen/utterance', JSON.stringify({ id: 'sm-1', text: 'unlock the door', siteId: 'frontdoor' }));
    const [err] = await answered('sm-1');
    assert.equal(err.topic, 'hubnlu/kitchen/error');
    assert.equal(err.body.code, 'site_mismatch');
    assert.equal(err.body.siteId, 'kitchen');
    assert.match(String(err.body.message), /payloadSiteId/);
    // Agreeing is fine.
    await out.publish('hubnlu/kitchen/utterance', JSON.stringify({ id: 'sm-2', text: 'turn off the lights', siteId: 'kitchen' }));
    assert.equal((await answered('sm-2'))[0].topic, 'hubnlu/kitchen/result');
    // A route that allows it: the payload chooses.
    await out.publish('hubnlu/gateway/relay', JSON.stringify({ id: 'sm-3', text: 'turn off the lights', siteId: 'attic' }));
    assert.equal((await answered('sm-3'))[0].topic, 'hubnlu/attic/result');
    // Hermes topics carry no site: the payload's siteId is used.
    await out.publish('hermes/nlu/query', JSON.stringify({ id: 'sm-4', input: 'turn off the lights', siteId: 'porch' }));
    assert.equal((await answered('sm-4'))[0].topic, 'hubnlu/porch/result');
    await fence();
    assert.deepEqual(frontdoor.messages.map((m) => m.topic), [], 'something was published under hubnlu/frontdoor/');
    const db = new Database(dbPath, { readonly: true });
    const row = db.prepare(`SELECT site_id, status, error_code FROM inputs WHERE id = 'sm-1'`).get();
    db.close();
    assert.deepEqual(row, { site_id: 'kitchen', status: 'rejected', error_code: 'site_mismatch' });
  });

  await t.test('defect 10: lone surrogates become U+FFFD; a JSON error stores a fixed message; every stored column is valid UTF-8', async () => {
    await out.publish('hubnlu/kitchen/utterance', '{"id": "u-1", "text": "turn on the lights \\ud800 now", "sessionId": "s\\udc00", "meta": {"k\\udbff": "v\\udfff"}}');
    const [ok] = await answered('u-1');
    assert.equal(ok.body.text, 'turn on the lights \ufffd now');
    assert.equal(ok.body.sessionId, 's\ufffd');
    assert.deepEqual(ok.body.meta, { 'k\ufffd': 'v\ufffd' });
    await out.publish('hubnlu/kitchen/utterance', '{"id": "u-2", "text": "\\u0041 secret", "x": oops}');
    await out.publish('hubnlu/kitchen/utterance', '{"id": "u-3", "text": 5, "sessionId": "\\ud800"}');
    await fence();

    const db = new Database(dbPath, { readonly: true });
    try {
      const u2 = db.prepare(`SELECT error_code, error_message FROM inputs WHERE error_code = 'invalid_json'`).get() as { error_code: string; error_message: string };
      assert.equal(u2.error_message, 'payload is not valid JSON: unexpected character where a value should start at position 44');
      const u3 = db.prepare(`SELECT error_code, session_id FROM inputs WHERE id = 'u-3'`).get();
      assert.deepEqual(u3, { error_code: 'invalid_field', session_id: '\ufffd' });
      for (const [table, columns] of [
        ['inputs', ['id', 'topic', 'site_id', 'session_id', 'lang', 'text', 'request', 'payload_excerpt', 'error_message', 'result_topic', 'slots', 'alternatives']],
        ['outbox', ['topic', 'payload']],
      ] as const) {
        for (const column of columns) {
          const blobs = db.prepare(`SELECT CAST(${column} AS BLOB) FROM ${table} WHERE ${column} IS NOT NULL`).pluck().all() as Buffer[];
          for (const blob of blobs) assert.doesNotThrow(() => utf8.decode(blob), `${table}.${column} holds invalid UTF-8: ${blob.toString('hex').slice(0, 80)}`);
        }
      }
    } finally {
      db.close();
    }
  });

  const stopped = await agent.stop();
  assert.equal(stopped.code, 0);
  assert.equal(stopped.stats?.duplicates, 1, 'intake stats count the one dropped duplicate');
});

test('a retained utterance replayed when hubnlu subscribes is rejected (retained), not answered again; one published live with the retain flag is answered', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 120_000 }, async (t) => {
  // A broker hands a retained message to every new subscriber [MQTT-3.3.1-6]: for an utterance that is an old command
  // ("unlock the front door") carried out again at each start without a session. Sent live, the flag is cleared [MQTT-3.3.1-9].
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'retained', { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });
  const out = await Recorder.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { protocolVersion: 5 });
  closers.push(() => out.close());
  await out.client.publishAsync('hubnlu/frontdoor/utterance', JSON.stringify({ id: 'stale-1', text: 'unlock the front door' }), { qos: 1, retain: true });
  const agent = await FaultAgent.start({ brokerUrl: broker.url, dbPath, clientId, settings: { 'storage.synchronous': 'normal' } });
  closers.push(() => agent.kill('SIGKILL'));
  const bodies = () => out.messages.map((m) => ({ topic: m.topic, body: JSON.parse(m.payload.toString()) as Record<string, unknown> }));
  assert.ok(await waitFor(() => bodies().some((m) => m.body.id === 'stale-1'), 10_000), 'the replayed retained utterance got no answer at all');
  const stale = bodies().filter((m) => m.body.id === 'stale-1');
  assert.deepEqual(stale.map((m) => [m.topic, m.body.code]), [['hubnlu/frontdoor/error', 'retained']]);
  assert.match(String(stale[0].body.message), /retain/);
  assert.ok(agent.logged('input rejected').some((l) => l.code === 'retained'), 'the rejection is not in the log');

  await out.client.publishAsync('hubnlu/frontdoor/utterance', JSON.stringify({ id: 'live-1', text: 'turn on the porch light' }), { qos: 1, retain: true });
  assert.ok(await waitFor(() => bodies().some((m) => m.body.id === 'live-1'), 10_000));
  assert.deepEqual(bodies().filter((m) => m.body.id === 'live-1').map((m) => m.topic), ['hubnlu/frontdoor/result']);
  await out.client.publishAsync('hubnlu/frontdoor/utterance', '', { qos: 1, retain: true }); // clears the retained message
});

test('an empty site level (hubnlu//utterance) is an invalid site, not a topic without one whose payload may name any site', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 120_000 }, async (t) => {
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'empty-site', { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });
  const agent = await FaultAgent.start({ brokerUrl: broker.url, dbPath, clientId, settings: { 'storage.synchronous': 'normal' } });
  closers.push(() => agent.kill('SIGKILL'));
  const out = await Recorder.connect(broker.url, ['hubnlu/+/result', 'hubnlu/+/error'], { protocolVersion: 5 });
  closers.push(() => out.close());
  await out.publish('hubnlu//utterance', JSON.stringify({ id: 'empty-1', text: 'unlock the front door', siteId: 'frontdoor' }));
  await out.publish('hubnlu//utterance', JSON.stringify({ id: 'empty-2', text: 'unlock the front door' }));
  const answers = (id: string) => out.messages.filter((m) => JSON.parse(m.payload.toString()).id === id);
  // The payload's siteId disagrees with the topic's (empty) one; without it the empty site itself is refused.
  for (const [id, code] of [['empty-1', 'site_mismatch'], ['empty-2', 'invalid_site_id']]) {
    assert.ok(await waitFor(() => answers(id).length > 0, 10_000), `no answer for ${id}`);
    assert.deepEqual(answers(id).map((m) => [m.topic, JSON.parse(m.payload.toString()).code]), [['hubnlu/_/error', code]], id);
  }
});
