/**
 * Bridge requests through real brokers: the embedded aedes broker with the
 * default allow-list, and mosquitto with MQTT 5 (response topic, correlation
 * data) and every command allowed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { BridgeCaller, type Got } from '../helpers/bridge.js';
import { Mosquitto, mosquittoPath } from '../helpers/mosquitto.js';
import { waitFor } from '../helpers/net.js';
import { packageVersion } from '../../src/util/paths.js';

const REQ = 'hubnlu/bridge/request';
const RES = 'hubnlu/bridge/response';

function rowCount(dbPath: string): number {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM inputs').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

/** Sends a request with a transaction and waits for the response that echoes it. */
async function ask(caller: BridgeCaller, command: string, body: Record<string, unknown>, transaction: string): Promise<Got> {
  await caller.send(`${REQ}/${command}`, { ...body, transaction });
  const found = () => caller.on(`${RES}/${command}`).find((g) => g.body.transaction === transaction);
  assert.ok(await waitFor(() => found() !== undefined, 10_000), `no response to ${command} (${transaction})`);
  return found()!;
}

/** Sends a request without a transaction and waits for one more response on the command's topic. */
/**
 * Starts `broker`, an agent on it over MQTT 5 with every bridge command allowed (plus `settings`), and a caller
 * subscribed to `topics`. The describe block's `after` stops all three (the broker too when a later step failed).
 */
async function agentOnMosquitto(broker: Mosquitto, clientId: string, settings: Record<string, unknown>, topics: string[]): Promise<{ running: RunningAgent; caller: BridgeCaller }> {
  await broker.start();
  const running = await startAgent({
    'mqtt.url': broker.url,
    'mqtt.clientId': `${clientId}-${Date.now()}`,
    'extensions.bridge.allow': ['health_check', 'info', 'stats', 'classify', 'reload_models', 'set_log_level', 'label'],
    ...settings,
  });
  try {
    return { running, caller: await BridgeCaller.connect(running.brokerUrl, topics, 5) };
  } catch (err) {
    await running.stop();
    throw err;
  }
}

async function askBare(caller: BridgeCaller, command: string, payload: unknown): Promise<Got> {
  const before = caller.on(`${RES}/${command}`).length;
  await caller.send(`${REQ}/${command}`, payload);
  assert.ok(await waitFor(() => caller.on(`${RES}/${command}`).length > before, 10_000), `no response to ${command}`);
  return caller.on(`${RES}/${command}`)[before];
}

describe('bridge with the default allow-list (embedded broker)', () => {
  let running: RunningAgent;
  let caller: BridgeCaller;

  before(async () => {
    running = await startAgent({ 'mqtt.username': 'hubnlu', 'mqtt.password': 'hunter2-secret' });
    caller = await BridgeCaller.connect(running.brokerUrl, [`${RES}/#`, 'hubnlu/bridge/info', 'hubnlu/bridge/health', 'hubnlu/+/result']);
  });
  after(async () => {
    await caller?.close();
    await running?.stop();
  });

  test('bridge/info is retained: version, models with versions and labels, config without secrets', async () => {
    assert.ok(await waitFor(() => caller.on('hubnlu/bridge/info').length > 0, 5000));
    const info = caller.on('hubnlu/bridge/info')[0];
    assert.equal(info.retain, true, 'a late subscriber gets the retained info');
    assert.equal(info.body.version, packageVersion());
    const intent = info.body.models.find((m: { task: string }) => m.task === 'intent');
    assert.equal(intent.name, 'hubnlu-intent-en');
    assert.match(intent.version, /^\d+\.\d+\.\d+/);
    assert.ok(intent.labels.includes('iot_hue_lightoff') && intent.labels.length > 20);
    assert.deepEqual(info.body.models.find((m: { task: string }) => m.task === 'sentiment').labels, ['negative', 'neutral', 'positive']);
    assert.equal(info.body.config.mqtt.password, '[redacted]');
    assert.equal(info.body.config.mqtt.username, 'hubnlu');
    assert.ok(!JSON.stringify(info.body).includes('hunter2-secret'));
    assert.deepEqual(info.body.commands, ['health_check', 'info', 'stats', 'classify', 'set_log_level']);
  });

  test('bridge/health is retained with the health snapshot', async () => {
    assert.ok(await waitFor(() => caller.on('hubnlu/bridge/health').length > 0, 5000));
    const h = caller.on('hubnlu/bridge/health')[0];
    assert.equal(h.retain, true);
    for (const key of ['uptimeSeconds', 'memory', 'queues', 'counts', 'inputsPerMinute', 'latencyMs', 'databaseBytes', 'connected']) assert.ok(key in h.body, key);
    assert.ok(h.body.databaseBytes > 0);
    assert.equal(h.body.connected, true);
  });

  test('health_check, info, stats, set_log_level: with and without transaction', async () => {
    for (const [command, body] of [
      ['health_check', {}],
      ['info', {}],
      ['stats', { since: '1h' }],
      ['set_log_level', { level: 'silent' }],
    ] as const) {
      const withT = await ask(caller, command, body, `t-${command}`);
      assert.equal(withT.body.status, 'ok', JSON.stringify(withT.body));
      const bare = await askBare(caller, command, body);
      assert.equal(bare.body.status, 'ok');
      assert.equal('transaction' in bare.body, false, 'no transaction asked, none echoed');
      assert.deepEqual(Object.keys(bare.body).sort(), ['data', 'status']);
    }
    const health = await ask(caller, 'health_check', {}, 'hc-2');
    assert.equal(health.body.data.healthy, true);
    const stats = await ask(caller, 'stats', {}, 'st-2');
    assert.equal(typeof stats.body.data.agent.received, 'number');
    assert.equal(typeof stats.body.data.log.total, 'number');
    const level = await ask(caller, 'set_log_level', { level: 'loud' }, 'lvl-bad');
    assert.equal(level.body.status, 'error');
    assert.match(level.body.error, /level must be one of/);
  });

  test('stats takes what hubnlu stats --since takes ("all", a duration, an ISO date), through the same parser; anything else is an error naming since', async () => {
    const before = Date.now();
    const all = await ask(caller, 'stats', { since: 'all' }, 'st-all');
    assert.equal(all.body.status, 'ok', JSON.stringify(all.body));
    assert.equal(all.body.data.log.sinceMs, null, 'all: no time limit');
    const none = await ask(caller, 'stats', {}, 'st-none');
    assert.equal(all.body.data.log.total, none.body.data.log.total, 'all counts what no since counts');
    const upper = await ask(caller, 'stats', { since: ' ALL ' }, 'st-all-upper');
    assert.equal(upper.body.data.log.sinceMs, null, 'as on the command line: any case, spaces around');
    const week = await ask(caller, 'stats', { since: '7d' }, 'st-7d');
    assert.equal(week.body.status, 'ok');
    assert.ok(Math.abs(week.body.data.log.sinceMs - (before - 7 * 24 * 3600 * 1000)) < 60_000, String(week.body.data.log.sinceMs));
    const date = await ask(caller, 'stats', { since: '2026-11-01' }, 'st-date');
    assert.equal(date.body.data.log.sinceMs, Date.parse('2026-11-01'));
    for (const [i, [since, re]] of ([
      ['yesterday', /^since "yesterday": not understood \(expected a duration such as 90s.*\); or "all" for no time limit$/],
      ['24', /^since "24": a number needs a unit, e\.g\. 24m or 24h .*; or "all" for no time limit$/],
      ['2026-02-31', /^since "2026-02-31": not a real date/],
      [24, /^since must be a string: "all", a duration such as "24h" or an ISO date such as "2026-11-01"$/],
      [null, /^since must be a string/],
    ] as const).entries()) {
      const bad = await ask(caller, 'stats', { since }, `st-bad-${i}`);
      assert.equal(bad.body.status, 'error', JSON.stringify(since));
      assert.match(bad.body.error, re);
    }
  });

  test('classify answers at once and stores nothing; store: true logs it as an utterance', async () => {
    const before = rowCount(running.dbPath);
    const r = await ask(caller, 'classify', { text: 'turn off the kitchen lights', tasks: ['intent'] }, 'c-1');
    assert.equal(r.body.status, 'ok');
    assert.equal(r.body.data.intent.name, 'iot_hue_lightoff');
    assert.equal(r.body.data.sentiment, undefined, 'only the tasks asked for');
    assert.ok(r.body.data.models.every((m: { version: string }) => typeof m.version === 'string'));
    const bare = await askBare(caller, 'classify', { text: 'play some jazz' });
    assert.equal(bare.body.status, 'ok');
    assert.ok(bare.body.data.sentiment.label);
    assert.equal(rowCount(running.dbPath), before, 'classify stored a row');

    const stored = await ask(caller, 'classify', { text: 'lock the front door', store: true, id: 'stored-1', siteId: 'hall' }, 'c-store');
    assert.equal(stored.body.data.stored, true);
    assert.ok(await waitFor(() => caller.on('hubnlu/hall/result').some((g) => g.body.id === 'stored-1'), 5000));
    assert.equal(rowCount(running.dbPath), before + 1);

    const bad = await ask(caller, 'classify', { text: '' }, 'c-bad');
    assert.equal(bad.body.status, 'error');
    assert.match(bad.body.error, /text must be a non-empty string/);
  });

  test('classify with store: true of an input the log rejects answers with the rejection, not stored: true', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ text: 'turn on the\u0001 lights' }, 'control_characters'],
      [{ text: 'lights '.repeat(200) }, 'text_too_long'], // within classify's 10,000 characters, over input.maxTextChars
      [{ text: 'turn on the lights', siteId: '../hall' }, 'invalid_site_id'],
    ];
    for (const [i, [body, code]] of cases.entries()) {
      const r = await ask(caller, 'classify', { ...body, store: true }, `c-rejected-${i}`);
      assert.equal(r.body.status, 'error', `${code}: ${JSON.stringify(r.body).slice(0, 200)}`);
      assert.match(r.body.error, new RegExp(`^not stored: ${code}: `));
      assert.equal(r.body.data.stored, undefined);
    }
  });

  test('reload_models and label are off by default: an error response that says how to allow them', async () => {
    for (const command of ['reload_models', 'label']) {
      const r = await ask(caller, command, { id: 'x', intent: 'y' }, `off-${command}`);
      assert.equal(r.body.status, 'error');
      assert.match(r.body.error, new RegExp(`command ${command} is not allowed here; add it to extensions.bridge.allow`));
    }
  });

  test('unknown commands and malformed requests get an error response, never silence', async () => {
    const unknown = await ask(caller, 'self_destruct', {}, 'u-1');
    assert.equal(unknown.body.status, 'error');
    assert.match(unknown.body.error, /unknown command "self_destruct"; known: health_check/);
    assert.deepEqual(unknown.body.data, {});
    const bareUnknown = await askBare(caller, 'self_destruct', '');
    assert.equal(bareUnknown.body.status, 'error');
    for (const payload of ['{"transaction": 1', '[1, 2]', '"info"', 'null']) {
      const r = await askBare(caller, 'info', payload);
      assert.equal(r.body.status, 'error', payload);
      assert.match(r.body.error, /request payload must be a JSON object/);
    }
    // Still answering.
    assert.equal((await ask(caller, 'info', {}, 'after-bad')).body.status, 'ok');
  });
});

describe('bridge over MQTT 5 (mosquitto), every command allowed', { skip: mosquittoPath() ? false : 'mosquitto not installed' }, () => {
  let broker: Mosquitto;
  let running: RunningAgent;
  let caller: BridgeCaller;

  before(async () => {
    broker = new Mosquitto();
    ({ running, caller } = await agentOnMosquitto(broker, 'hubnlu-bridge', { 'extensions.bridge.healthCron': '* * * * * *' }, [`${RES}/#`, 'caller/inbox/#', 'hubnlu/+/result', 'hubnlu/bridge/health']));
  });
  after(async () => {
    await caller?.close();
    await running?.stop();
    await broker?.stop();
  });

  test('every command honours the response topic and correlation data, with and without transaction', async () => {
    const bodies: Record<string, Record<string, unknown>> = {
      health_check: {},
      info: {},
      stats: {},
      classify: { text: 'turn off the kitchen lights' },
      reload_models: {},
      set_log_level: { level: 'silent' },
      label: { id: 'does-not-exist', intent: 'iot_hue_lightoff' },
    };
    let n = 0;
    for (const [command, body] of Object.entries(bodies)) {
      for (const transaction of [`m5-${command}`, undefined]) {
        const correlationData = Buffer.from([0, 1, 2, n++, 255]);
        const responseTopic = `caller/inbox/${command}/${transaction ?? 'bare'}`;
        await caller.send(`${REQ}/${command}`, transaction ? { ...body, transaction } : body, { responseTopic, correlationData });
        assert.ok(await waitFor(() => caller.on(responseTopic).length === 1, 15_000), `no response to ${command} on ${responseTopic}`);
        const got = caller.on(responseTopic)[0];
        assert.deepEqual(got.correlationData, correlationData, `${command}: correlation data not echoed`);
        assert.equal(got.body.transaction, transaction);
        const expected = command === 'label' ? 'error' : 'ok'; // no such input id
        assert.equal(got.body.status, expected, `${command}: ${JSON.stringify(got.body)}`);
      }
    }
    assert.equal(caller.got.filter((g) => g.topic.startsWith(`${RES}/`)).length, 0, 'the response went to the default topic as well');
  });

  test('an utterance with a response topic: the result also goes there, with its correlation data (stored with the input)', async () => {
    const correlationData = Buffer.from('req-7f3a');
    await caller.send('hubnlu/porch/utterance', { text: 'turn off the kitchen lights', id: 'utt-m5' }, { responseTopic: 'caller/inbox/utterance', correlationData });
    assert.ok(await waitFor(() => caller.on('caller/inbox/utterance').length === 1 && caller.on('hubnlu/porch/result').some((g) => g.body.id === 'utt-m5'), 10_000));
    const got = caller.on('caller/inbox/utterance')[0];
    assert.deepEqual(got.correlationData, correlationData);
    assert.equal(got.body.id, 'utt-m5');
    assert.equal(got.body.intent.name, 'iot_hue_lightoff');
    const db = new Database(running.dbPath, { readonly: true });
    const row = db.prepare(`SELECT request FROM inputs WHERE id = 'utt-m5'`).get() as { request: string };
    const outbox = db.prepare(`SELECT topic, properties FROM outbox WHERE properties IS NOT NULL`).all() as Array<{ topic: string; properties: string }>;
    db.close();
    assert.deepEqual(JSON.parse(row.request).response, { topic: 'caller/inbox/utterance', correlationData: correlationData.toString('base64') });
    assert.ok(outbox.some((o) => o.topic === 'caller/inbox/utterance' && JSON.parse(o.properties).correlationData === correlationData.toString('base64')));
  });

  test('label writes the gold columns and keeps the previous label in label_history', async () => {
    await caller.send('hubnlu/office/utterance', { text: 'turn the lights off please', id: 'lab-1' });
    assert.ok(await waitFor(() => caller.on('hubnlu/office/result').some((g) => g.body.id === 'lab-1'), 10_000));
    const first = await ask(caller, 'label', { id: 'lab-1', intent: 'iot_hue_lightoff', sentiment: 'neutral', by: 'alice' }, 'l-1');
    assert.equal(first.body.status, 'ok', JSON.stringify(first.body));
    assert.equal(first.body.data.previous.intent, null);
    const slots = [{ type: 'device_type', value: 'lights' }];
    const second = await ask(caller, 'label', { id: 'lab-1', intent: 'iot_hue_lightoff', slots, by: 'bob' }, 'l-2');
    assert.equal(second.body.data.previous.by, 'alice');
    const db = new Database(running.dbPath, { readonly: true });
    const row = db.prepare(`SELECT seq, gold_intent, gold_slots, gold_sentiment, gold_by, gold_at FROM inputs WHERE id = 'lab-1'`).get() as Record<string, unknown>;
    const history = db.prepare(`SELECT * FROM label_history WHERE input_seq = ? ORDER BY seq`).all(row.seq) as Array<Record<string, unknown>>;
    db.close();
    assert.equal(row.gold_intent, 'iot_hue_lightoff');
    assert.deepEqual(JSON.parse(row.gold_slots as string), [{ type: 'device_type', value: 'lights', raw: 'lights', start: 9, end: 15 }]);
    assert.equal(row.gold_sentiment, 'neutral', 'a field left out keeps its value');
    assert.equal(row.gold_by, 'bob');
    assert.ok(typeof row.gold_at === 'number' && row.gold_at > 0);
    assert.equal(history.length, 1);
    assert.deepEqual(
      { intent: history[0].gold_intent, sentiment: history[0].gold_sentiment, by: history[0].gold_by, replacedBy: history[0].replaced_by },
      { intent: 'iot_hue_lightoff', sentiment: 'neutral', by: 'alice', replacedBy: 'bob' },
    );
    const bad = await ask(caller, 'label', { id: 'lab-1', sentiment: 'ecstatic' }, 'l-bad');
    assert.equal(bad.body.status, 'error');
    assert.match(bad.body.error, /sentiment "ecstatic": expected one of negative, neutral, positive/);
  });

  test('label checks what it stores as `hubnlu label` does: slot offsets inside the text and spanning the value, known names, one input; errors name the field and the fix', async () => {
    const text = 'turn off the kitchen light and the kitchen fan';
    await caller.send('hubnlu/office/utterance', { text, id: 'lab-span' });
    assert.ok(await waitFor(() => caller.on('hubnlu/office/result').some((g) => g.body.id === 'lab-span'), 10_000));
    const refused: Array<[Record<string, unknown>, RegExp]> = [
      [{ slots: [{ type: 'house_place', value: 'garage' }] }, /slot house_place="garage": the value is not in the text/],
      [{ slots: [{ type: 'house_place', value: 'kitchen', start: 50, end: 57 }] }, /slot house_place="kitchen": .*start and end must be whole numbers with 0 ≤ start < end ≤ 46/],
      [{ slots: [{ type: 'house_place', value: 'kitchen', start: 20, end: 13 }] }, /slot house_place="kitchen": .*start and end/],
      [{ slots: [{ type: 'house_place', value: 'kitchen', start: 13.5, end: 20 }] }, /slot house_place="kitchen": .*whole numbers/],
      [{ slots: [{ type: 'house_place', value: 'kitchen', start: 13 }] }, /slot house_place="kitchen": .*give both start and end/],
      [{ slots: [{ type: 'house_place', value: 'kitchen', start: 0, end: 4 }] }, /slot house_place="kitchen": .*spans "turn", not the value "kitchen".*start 13, end 20/],
      [{ slots: [{ type: 'house place', value: 'kitchen' }] }, /slot type "house place"/],
      [{ intent: 'lights off!' }, /intent "lights off!": an intent name is/],
      // Shown by `hubnlu label --history` and `review` in a terminal: an escape sequence there would run in it.
      [{ intent: 'iot_hue_lightoff', by: 'mallory\u001b]52;c;ZWNobyBwd25lZA==\u0007' }, /by must be a short name \(1-64 characters, no control characters\)/],
    ];
    for (const [i, [label, error]] of refused.entries()) {
      const r = await ask(caller, 'label', { id: 'lab-span', ...label }, `span-bad-${i}`);
      assert.equal(r.body.status, 'error', JSON.stringify(label));
      assert.match(r.body.error, error, JSON.stringify(label));
    }
    const missing = await ask(caller, 'label', { id: 'no-such-input', intent: 'iot_hue_lightoff' }, 'span-missing');
    assert.match(missing.body.error, /no logged input with id "no-such-input"/);
    // A rejected input has no text: no label (training and evaluation would never read it).
    await caller.send('hubnlu/office/utterance', { text: 'lights\u0001 off', id: 'lab-rejected' });
    const stored = () => {
      const c = new Database(running.dbPath, { readonly: true });
      try {
        return c.prepare(`SELECT status, text FROM inputs WHERE id = 'lab-rejected'`).get() as { status: string; text: string | null } | undefined;
      } finally {
        c.close();
      }
    };
    assert.ok(await waitFor(() => stored() !== undefined, 10_000));
    assert.deepEqual(stored(), { status: 'rejected', text: null });
    const rejected = await ask(caller, 'label', { id: 'lab-rejected', intent: 'iot_hue_lightoff' }, 'span-rejected');
    assert.equal(rejected.body.status, 'error');
    assert.match(rejected.body.error, /this input has no text \(it was rejected before its text was read\)/);
    // Two inputs with one id (the id is the caller's): refused, naming both by #seq; a #seq picks one.
    for (const text of ['open the blinds', 'close the blinds']) {
      await caller.send('hubnlu/office/utterance', { text, id: 'lab-twice' });
      assert.ok(await waitFor(() => caller.on('hubnlu/office/result').some((g) => g.body.id === 'lab-twice' && g.body.text === text), 10_000));
    }
    const twice = await ask(caller, 'label', { id: 'lab-twice', intent: 'iot_hue_lightoff' }, 'span-twice');
    assert.equal(twice.body.status, 'error');
    const m = /2 inputs have id "lab-twice" \(#(\d+), #(\d+)\); name one by its sequence number, e.g. #\1/.exec(twice.body.error);
    assert.ok(m, twice.body.error);
    const picked = await ask(caller, 'label', { id: `#${m[2]}`, intent: 'iot_hue_lightoff' }, 'span-picked');
    assert.equal(picked.body.status, 'ok', JSON.stringify(picked.body));
    assert.equal(picked.body.data.seq, Number(m[2]));
    let db = new Database(running.dbPath, { readonly: true });
    const seq = (db.prepare(`SELECT seq, gold_at FROM inputs WHERE id = 'lab-span'`).get() as { seq: number; gold_at: number | null });
    db.close();
    assert.equal(seq.gold_at, null, 'a refused label stored nothing');
    // Offsets that span the value are kept (the second "kitchen"); a slot without them is located, as the CLI does; `#seq` names an input.
    const ok = await ask(caller, 'label', { id: `#${seq.seq}`, intent: 'household_fan_off', slots: [{ type: 'house_place', value: 'kitchen', start: 35, end: 42 }, { type: 'device_type', value: 'Light' }] }, 'span-ok');
    assert.equal(ok.body.status, 'ok', JSON.stringify(ok.body));
    assert.ok(ok.body.data.warnings.some((w: string) => /intent household_fan_off is new/.test(w)), JSON.stringify(ok.body.data));
    db = new Database(running.dbPath, { readonly: true });
    const row = db.prepare(`SELECT gold_intent, gold_slots FROM inputs WHERE id = 'lab-span'`).get() as { gold_intent: string; gold_slots: string };
    db.close();
    assert.equal(row.gold_intent, 'household_fan_off');
    assert.deepEqual(JSON.parse(row.gold_slots), [
      { type: 'house_place', value: 'kitchen', raw: 'kitchen', start: 35, end: 42 },
      { type: 'device_type', value: 'Light', raw: 'light', start: 21, end: 26 },
    ]);
    assert.deepEqual(ok.body.data.label.slots, JSON.parse(row.gold_slots));
  });

  test('a request is read as valid UTF-8: a lone surrogate escape becomes U+FFFD before a label is stored; bytes that are not UTF-8 are refused', async () => {
    await caller.send('hubnlu/office/utterance', { text: 'turn the lights on please', id: 'lab-utf8' });
    assert.ok(await waitFor(() => caller.on('hubnlu/office/result').some((g) => g.body.id === 'lab-utf8'), 10_000));
    const name = await ask(caller, 'label', { id: 'lab-utf8', intent: 'iot_\ud800hue' }, 'l-utf8-name');
    assert.match(name.body.error, /intent "iot_\ufffdhue": an intent name is/, 'U+FFFD is no letter: not an intent name');
    const r = await ask(caller, 'label', { id: 'lab-utf8', intent: 'iot_hue_lighton', by: '\udc00bob' }, 'l-utf8');
    assert.equal(r.body.status, 'ok', JSON.stringify(r.body));
    const db = new Database(running.dbPath, { readonly: true });
    const row = db.prepare(`SELECT CAST(gold_intent AS BLOB) AS intent, CAST(gold_by AS BLOB) AS by FROM inputs WHERE id = 'lab-utf8'`).get() as { intent: Buffer; by: Buffer };
    db.close();
    const utf8 = new TextDecoder('utf-8', { fatal: true });
    assert.equal(utf8.decode(row.intent), 'iot_hue_lighton');
    assert.equal(utf8.decode(row.by), '\ufffdbob');
    const before = caller.on(`${RES}/info`).length;
    await caller.client.publishAsync(`${REQ}/info`, Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]), { qos: 1 }); // {"t":"<0xff>"}
    assert.ok(await waitFor(() => caller.on(`${RES}/info`).length > before, 10_000));
    const bad = caller.on(`${RES}/info`)[before];
    assert.equal(bad.body.status, 'error');
    assert.match(bad.body.error, /not valid UTF-8/);
  });

  test('bridge/health follows its cron schedule', async () => {
    const before = caller.on('hubnlu/bridge/health').length;
    assert.ok(await waitFor(() => caller.on('hubnlu/bridge/health').length >= before + 2, 5000));
  });
});

describe('Response Topics hubnlu must not publish to (mosquitto, MQTT 5, reload_models allowed)', { skip: mosquittoPath() ? false : 'mosquitto not installed' }, () => {
  let broker: Mosquitto;
  let running: RunningAgent;
  let caller: BridgeCaller;

  before(async () => {
    broker = new Mosquitto();
    ({ running, caller } = await agentOnMosquitto(broker, 'hubnlu-rt', {}, ['hubnlu/#', 'hermes/#', 'caller/#']));
  });
  after(async () => {
    await caller?.close();
    await running?.stop();
    await broker?.stop();
  });

  test('an utterance or request naming a $ topic, or a topic hubnlu listens to or publishes under, is refused with an error; nothing is published there, nothing run', async () => {
    // `$` topics are the broker's [MQTT-4.7.2-1]: mosquitto refuses the publish and closes hubnlu's connection, and an
    // answer kept in the outbox was refused again after every reconnect. The agent's own topics would make it send a
    // request (reload_models) or a site's result in the caller's name.
    const refused = ['$SYS/hubnlu-test/inbox', '$share/g/inbox', 'hubnlu/bridge/request/reload_models', 'hubnlu/frontdoor/result', 'hubnlu/bridge/state', 'hermes/nlu/query'];
    for (const [i, responseTopic] of refused.entries()) {
      await caller.send('hubnlu/kitchen/utterance', { text: 'turn off the lights', id: `rt-${i}` }, { responseTopic, correlationData: Buffer.from([i]) });
      await caller.send(`${REQ}/info`, { transaction: `rt-${i}` }, { responseTopic, correlationData: Buffer.from([i]) });
    }
    for (const [i, responseTopic] of refused.entries()) {
      assert.ok(await waitFor(() => caller.on('hubnlu/kitchen/error').some((g) => g.body.id === `rt-${i}`), 10_000), `no error for the utterance with Response Topic ${responseTopic}`);
      const error = caller.on('hubnlu/kitchen/error').find((g) => g.body.id === `rt-${i}`)!;
      assert.equal(error.body.code, 'invalid_response_topic', responseTopic);
      assert.match(error.body.message, /Response Topic/);
      assert.ok(await waitFor(() => caller.on(`${RES}/info`).some((g) => g.body.transaction === `rt-${i}`), 10_000), `no error response for the request with Response Topic ${responseTopic}`);
      const response = caller.on(`${RES}/info`).find((g) => g.body.transaction === `rt-${i}`)!;
      assert.equal(response.body.status, 'error', responseTopic);
      assert.match(response.body.error, /Response Topic/);
    }
    // A fence: an utterance with an allowed Response Topic, answered there.
    await caller.send('hubnlu/kitchen/utterance', { text: 'what time is it', id: 'rt-fence' }, { responseTopic: 'caller/inbox/fence' });
    assert.ok(await waitFor(() => caller.on('caller/inbox/fence').length === 1, 10_000), 'an allowed Response Topic was not answered');
    assert.equal(caller.on('hubnlu/kitchen/result').filter((g) => /^rt-\d/.test(String(g.body.id))).length, 0, 'a refused input was answered as well');
    assert.equal(caller.on('hubnlu/bridge/request/reload_models').length, 0, 'hubnlu published to its own request topic');
    assert.equal(caller.on(`${RES}/reload_models`).length, 0, 'reload_models ran on a message hubnlu sent itself');
    assert.equal(caller.on('hubnlu/frontdoor/result').length, 0);
    assert.equal(caller.on('hermes/nlu/query').length, 0);
    assert.ok(caller.on('hubnlu/bridge/state').every((g) => g.body.state === 'online'), 'something other than the state went to bridge/state');
    const db = new Database(running.dbPath, { readonly: true });
    const topics = (db.prepare('SELECT DISTINCT topic FROM outbox').all() as Array<{ topic: string }>).map((r) => r.topic);
    db.close();
    assert.deepEqual(topics.filter((t) => refused.includes(t)), [], 'a refused Response Topic is in the outbox');
  });
});

describe('a retained request (mosquitto)', { skip: mosquittoPath() ? false : 'mosquitto not installed' }, () => {
  let broker: Mosquitto;
  let running: RunningAgent;
  let caller: BridgeCaller;

  before(async () => {
    broker = new Mosquitto();
    await broker.start();
    caller = await BridgeCaller.connect(broker.url, [`${RES}/#`], 5);
    // Left retained on the broker: handed to every new subscriber, so it would run again at each start without a session.
    await caller.client.publishAsync(`${REQ}/reload_models`, JSON.stringify({ transaction: 'stale' }), { qos: 1, retain: true });
    running = await startAgent({ 'mqtt.url': broker.url, 'mqtt.clientId': `hubnlu-retained-${Date.now()}`, 'extensions.bridge.allow': ['info', 'reload_models'] });
  });
  after(async () => {
    await caller?.client.publishAsync(`${REQ}/reload_models`, '', { qos: 1, retain: true });
    await caller?.close();
    await running?.stop();
    await broker?.stop();
  });

  test('is not run when the broker replays it to hubnlu: an error response says why', async () => {
    assert.ok(await waitFor(() => caller.on(`${RES}/reload_models`).length > 0, 10_000), 'no response to the retained request');
    const response = caller.on(`${RES}/reload_models`)[0];
    assert.equal(response.body.status, 'error', JSON.stringify(response.body).slice(0, 200));
    assert.equal(response.body.transaction, 'stale');
    assert.match(response.body.error, /retained/);
  });
});
