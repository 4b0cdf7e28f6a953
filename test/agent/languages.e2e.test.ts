/**
 * Languages end to end (issue 11): a real agent with the shipped models of
 * every language, the shipped langid model, the embedded broker and a SQLite
 * file. Detection, a route's language, a payload's language, an unsupported
 * language, and English unchanged.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';

interface Result {
  id: string;
  lang?: string;
  langSource?: string;
  reason?: string;
  intent?: { name: string; confidence: number };
  slots?: { type: string; value: unknown; raw: string }[];
  sentiment?: { label: string };
  models: { task: string; name: string }[];
}

describe('languages end to end via the embedded broker', () => {
  let running: RunningAgent;
  let recorder: Recorder;
  let n = 0;

  before(async () => {
    running = await startAgent({
      'input.topics': [
        { topic: 'hubnlu/+/utterance/de', lang: 'de' },
        { topic: 'hubnlu/+/utterance' },
      ],
    });
    recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
  });

  after(async () => {
    await recorder?.close();
    await running?.stop();
  });

  /** Publishes one input with a fresh id and returns its result and its row. */
  async function ask(topic: string, body: Record<string, unknown>): Promise<{ result: Result; row: Record<string, unknown> }> {
    const id = `lang-${++n}`;
    await recorder.publish(topic, JSON.stringify({ id, ...body }));
    assert.ok(await waitFor(() => recorder.json((t) => t.endsWith('/result')).some((r) => r.id === id), 10_000), `no result for ${id}`);
    const result = recorder.json((t) => t.endsWith('/result')).find((r) => r.id === id) as unknown as Result;
    const db = new Database(running.dbPath, { readonly: true });
    const row = db.prepare('SELECT * FROM inputs WHERE id = ?').get(id) as Record<string, unknown>;
    db.close();
    return { result, row };
  }

  const slot = (r: Result, type: string) => r.slots?.find((s) => s.type === type);

  test('German, detected: "mach das licht im wohnzimmer aus" → iot_hue_lightoff, house_place wohnzimmer', async () => {
    const { result, row } = await ask('hubnlu/wohnzimmer/utterance', { text: 'mach das licht im wohnzimmer aus' });
    assert.equal(result.lang, 'de');
    assert.equal(result.langSource, 'detected');
    assert.equal(result.intent?.name, 'iot_hue_lightoff', JSON.stringify(result));
    assert.equal(slot(result, 'house_place')?.value, 'wohnzimmer', JSON.stringify(result.slots));
    assert.equal(result.reason, undefined);
    assert.ok(result.models.some((m) => m.task === 'langid'));
    assert.ok(result.models.some((m) => m.task === 'intent' && m.name !== 'hubnlu-intent-en'), JSON.stringify(result.models));
    assert.equal(row.status, 'done');
    assert.equal(row.lang, 'de', 'the row records the language');
    assert.equal(row.intent, 'iot_hue_lightoff');
  });

  test('Chinese, detected: "把客厅的灯关掉" → iot_hue_lightoff, house_place 客厅', async () => {
    const { result, row } = await ask('hubnlu/keting/utterance', { text: '把客厅的灯关掉' });
    assert.equal(result.lang, 'zh-cn');
    assert.equal(result.langSource, 'detected');
    assert.equal(result.intent?.name, 'iot_hue_lightoff', JSON.stringify(result));
    assert.equal(slot(result, 'house_place')?.value, '客厅', JSON.stringify(result.slots));
    assert.equal(row.lang, 'zh-cn');
  });

  test('a payload lang wins over detection and is normalised (zh-CN → zh-cn, de-DE → de)', async () => {
    const zh = await ask('hubnlu/keting/utterance', { text: '把客厅的灯关掉', lang: 'zh-CN' });
    assert.equal(zh.result.lang, 'zh-cn');
    assert.equal(zh.result.langSource, 'payload');
    assert.equal(zh.result.intent?.name, 'iot_hue_lightoff');
    assert.equal(zh.row.lang, 'zh-cn');
    assert.equal(zh.result.models.some((m) => m.task === 'langid'), false, 'no detection when the payload names the language');
    const de = await ask('hubnlu/flur/utterance', { text: 'licht aus', lang: 'de-DE' });
    assert.equal(de.result.lang, 'de');
    assert.equal(de.result.intent?.name, 'iot_hue_lightoff');
  });

  test('a route\'s lang wins over detection: a short command detection would leave English', async () => {
    const { result } = await ask('hubnlu/flur/utterance/de', { text: 'licht aus' });
    assert.equal(result.lang, 'de');
    assert.equal(result.langSource, 'route');
    assert.equal(result.intent?.name, 'iot_hue_lightoff', JSON.stringify(result));
    // The payload still wins over the route.
    const en = await ask('hubnlu/flur/utterance/de', { text: 'turn off the hall lights', lang: 'en' });
    assert.equal(en.result.lang, 'en');
    assert.equal(en.result.langSource, 'payload');
    assert.equal(en.result.intent?.name, 'iot_hue_lightoff');
  });

  test('lang "xx" → unknown with reason unsupported_language, no sentiment, recorded in the row', async () => {
    const { result, row } = await ask('hubnlu/hall/utterance', { text: 'turn off the kitchen lights', lang: 'xx' });
    assert.equal(result.lang, 'xx');
    assert.equal(result.reason, 'unsupported_language');
    assert.equal(result.intent?.name, 'unknown');
    assert.equal(result.intent?.confidence, 0);
    assert.equal(result.sentiment, undefined);
    assert.equal(row.status, 'done');
    assert.equal(row.intent, 'unknown');
    assert.equal(row.lang, 'xx');
  });

  test('English unchanged: the English models answer, lang en detected', async () => {
    const { result, row } = await ask('hubnlu/kitchen/utterance', { text: 'turn off the kitchen lights' });
    assert.equal(result.lang, 'en');
    assert.equal(result.langSource, 'detected');
    assert.equal(result.intent?.name, 'iot_hue_lightoff');
    assert.equal(slot(result, 'house_place')?.value, 'kitchen');
    assert.ok(result.sentiment);
    assert.deepEqual(result.models.map((m) => m.name), ['hubnlu-intent-en', 'hubnlu-sentiment-en', 'hubnlu-langid']);
    assert.equal(result.reason, undefined);
    assert.equal(row.lang, 'en');
    assert.match(String(row.intent_model), /^hubnlu-intent-en@/);
  });
});
