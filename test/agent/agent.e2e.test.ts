/**
 * End to end through real brokers: the embedded aedes broker (always) and
 * mosquitto (when installed), real models, a real SQLite file.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { UTTERANCES } from '../helpers/delivery.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';


interface BrokerCase {
  readonly name: string;
  readonly skip: string | false;
  setup(): Promise<{ url?: string; teardown(): Promise<void> }>;
}

const cases: BrokerCase[] = [
  { name: 'embedded aedes', skip: false, setup: async () => ({ teardown: async () => undefined }) },
  {
    name: 'mosquitto',
    skip: mosquittoPath() ? false : 'mosquitto not installed',
    setup: async () => {
      const broker = new Mosquitto();
      await broker.start();
      return { url: broker.url, teardown: () => broker.stop() };
    },
  },
];

for (const c of cases) {
  describe(`agent end to end via ${c.name}`, { skip: c.skip }, () => {
    let running: RunningAgent;
    let teardown: () => Promise<void>;
    let recorder: Recorder;

    before(async () => {
      const broker = await c.setup();
      teardown = broker.teardown;
      running = await startAgent(broker.url ? { 'mqtt.url': broker.url, 'mqtt.clientId': `hubnlu-e2e-${Date.now()}` } : {});
      recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
    });

    after(async () => {
      await recorder?.close();
      await running?.stop();
      await teardown?.();
    });

    test('the acceptance utterance: kitchen lights off, house_place slot, a matching row', async () => {
      const before = recorder.messages.length;
      await recorder.publish('hubnlu/kitchen/utterance', 'turn off the kitchen lights');
      assert.ok(await waitFor(() => recorder.messages.length > before, 5000), 'no result within 5 s');
      const msg = recorder.messages[before];
      assert.equal(msg.topic, 'hubnlu/kitchen/result');
      const result = JSON.parse(msg.payload.toString());
      assert.equal(result.intent.name, 'iot_hue_lightoff');
      assert.equal(result.siteId, 'kitchen');
      assert.ok(result.slots.some((s: { type: string; value: unknown }) => s.type === 'house_place' && s.value === 'kitchen'), JSON.stringify(result.slots));
      assert.ok(['negative', 'neutral', 'positive'].includes(result.sentiment.label));
      assert.ok(result.latencyMs < 1000, `latency ${result.latencyMs} ms`);
      // The result is published only after its row is committed: the file already holds it.
      const db = new Database(running.dbPath, { readonly: true });
      const row = db.prepare('SELECT * FROM inputs WHERE id = ?').get(result.id) as Record<string, unknown>;
      db.close();
      assert.equal(row.status, 'done');
      assert.equal(row.intent, 'iot_hue_lightoff');
      assert.equal(row.site_id, 'kitchen');
      assert.match(String(row.intent_model), /@/);
    });

    test('a JSON input keeps its id and sessionId', async () => {
      const before = recorder.messages.length;
      await recorder.publish('hubnlu/hall/utterance', JSON.stringify({ text: 'lock the front door', id: 'req-42', sessionId: 'sess-7', meta: { source: 'test' } }));
      assert.ok(await waitFor(() => recorder.messages.length > before, 5000));
      const result = JSON.parse(recorder.messages[before].payload.toString());
      assert.equal(result.id, 'req-42');
      assert.equal(result.sessionId, 'sess-7');
      assert.deepEqual(result.meta, { source: 'test' });
      assert.equal(result.siteId, 'hall');
    });

    test('bad input yields an error message and the agent keeps answering', async () => {
      const before = recorder.messages.length;
      await recorder.publish('hubnlu/hall/utterance', Buffer.from([0xff, 0xfe, 0x00]));
      await recorder.publish('hubnlu/hall/utterance', JSON.stringify({ text: 'hello', siteId: 'a/b' }));
      await recorder.publish('hubnlu/hall/utterance', 'turn on the lights');
      assert.ok(await waitFor(() => recorder.messages.length >= before + 3, 5000));
      const got = recorder.messages.slice(before);
      const errors = got.filter((m) => m.topic.endsWith('/error')).map((m) => JSON.parse(m.payload.toString()));
      assert.deepEqual(errors.map((e) => e.code).sort(), ['invalid_site_id', 'invalid_utf8']);
      assert.ok(errors.every((e) => e.topic === 'hubnlu/hall/utterance' && typeof e.receivedAt === 'string' && typeof e.message === 'string'));
      assert.ok(got.some((m) => m.topic === 'hubnlu/hall/result'));
    });

    test('1,000 utterances in, 1,000 results out, 1,000 rows, matched by id', async () => {
      const before = recorder.messages.length;
      const ids = Array.from({ length: 1000 }, (_, i) => `bulk-${c.name.replace(/\W/g, '')}-${i}`);
      await Promise.all(
        ids.map((id, i) => recorder.publish(`hubnlu/site${i % 7}/utterance`, JSON.stringify({ id, text: UTTERANCES[i % UTTERANCES.length] }))),
      );
      assert.ok(await waitFor(() => recorder.messages.length - before >= 1000, 60_000), `only ${recorder.messages.length - before} results`);
      const results = recorder.json((t) => t.endsWith('/result')).filter((r) => String(r.id).startsWith('bulk-'));
      const seen = new Map(results.map((r) => [r.id as string, r]));
      assert.equal(seen.size, 1000, 'distinct result ids');
      for (const [i, id] of ids.entries()) {
        const r = seen.get(id);
        assert.ok(r, `missing result for ${id}`);
        assert.equal(r.text, UTTERANCES[i % UTTERANCES.length]);
        assert.equal(r.siteId, `site${i % 7}`);
      }
      assert.ok(await waitFor(() => running.agent.stats().inFlight === 0, 5000));
      const db = new Database(running.dbPath, { readonly: true });
      const rows = db.prepare(`SELECT count(*) AS n, count(DISTINCT id) AS d FROM inputs WHERE id LIKE 'bulk-%' AND status = 'done'`).get() as { n: number; d: number };
      db.close();
      assert.equal(rows.n, 1000);
      assert.equal(rows.d, 1000);
    });
  });
}
