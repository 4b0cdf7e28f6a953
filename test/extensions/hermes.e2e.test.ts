/**
 * The Hermes NLU service through a real broker, with the payloads Rhasspy sends
 * (rhasspyhermes NluQuery / AsrTextCaptured field names, REFERENCE.md).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { sleep, waitFor } from '../helpers/net.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Hermes NLU service (embedded broker)', () => {
  let running: RunningAgent;
  let rec: Recorder;

  before(async () => {
    running = await startAgent();
    rec = await Recorder.connect(running.brokerUrl, ['hermes/intent/#', 'hermes/nlu/intentParsed', 'hermes/nlu/intentNotRecognized', 'hermes/error/nlu', 'hubnlu/+/result']);
  });
  after(async () => {
    await rec?.close();
    await running?.stop();
  });

  /** Messages on `topic` whose payload has this id (or sessionId, for errors). */
  const on = (topic: string | RegExp, key: string, value: string): Json[] =>
    rec.messages
      .filter((m) => (typeof topic === 'string' ? m.topic === topic : topic.test(m.topic)))
      .map((m): Json => ({ topic: m.topic, ...(JSON.parse(m.payload.toString()) as Json) }))
      .filter((p) => p[key] === value);

  test('nlu/query → intentParsed and hermes/intent/<name> with the Rhasspy fields echoed', async () => {
    const query = {
      input: 'turn off the kitchen lights',
      intentFilter: null,
      id: 'q-1',
      siteId: 'kitchen',
      sessionId: 'sess-1',
      wakewordId: 'porcupine',
      lang: null,
      customData: 'from-dialogue',
      asrConfidence: 0.93,
    };
    await rec.publish('hermes/nlu/query', JSON.stringify(query));
    assert.ok(await waitFor(() => on(/^hermes\/intent\//, 'id', 'q-1').length === 1 && on('hermes/nlu/intentParsed', 'id', 'q-1').length === 1, 5000));
    const intent = on(/^hermes\/intent\//, 'id', 'q-1')[0];
    assert.equal(intent.topic, 'hermes/intent/iot_hue_lightoff');
    assert.equal(intent.input, 'turn off the kitchen lights');
    assert.equal(intent.intent.intentName, 'iot_hue_lightoff');
    assert.ok(intent.intent.confidenceScore > 0 && intent.intent.confidenceScore <= 1);
    assert.equal(intent.siteId, 'kitchen');
    assert.equal(intent.sessionId, 'sess-1');
    assert.equal(intent.customData, 'from-dialogue');
    assert.equal(intent.wakewordId, 'porcupine');
    assert.equal(intent.asrConfidence, 0.93);
    assert.deepEqual(intent.asrTokens, []);
    const place = intent.slots.find((s: Json) => s.slotName === 'house_place');
    assert.ok(place, JSON.stringify(intent.slots));
    assert.equal(place.entity, 'house_place');
    assert.equal(place.rawValue, 'kitchen');
    assert.deepEqual(place.value, { kind: 'Unknown', value: 'kitchen' });
    assert.deepEqual(place.range, { start: 13, end: 20 });
    assert.equal(query.input.slice(place.range.start, place.range.end), 'kitchen');
    assert.ok(place.confidence > 0 && place.confidence <= 1);

    const parsed = on('hermes/nlu/intentParsed', 'id', 'q-1')[0];
    assert.deepEqual(
      { input: parsed.input, intent: parsed.intent, slots: parsed.slots, siteId: parsed.siteId, sessionId: parsed.sessionId },
      { input: intent.input, intent: intent.intent, slots: intent.slots, siteId: 'kitchen', sessionId: 'sess-1' },
    );
    // The native result is published as well (Node-RED, Home Assistant and the log see Hermes traffic too).
    assert.ok(await waitFor(() => on('hubnlu/kitchen/result', 'id', 'q-1').length === 1, 2000));
  });

  test('a number slot has kind Number', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'set the volume to 50', id: 'q-num', siteId: 'den' }));
    assert.ok(await waitFor(() => on(/^hermes\/(intent\/|nlu\/intentNotRecognized)/, 'id', 'q-num').length === 1, 5000));
    const [answer] = on(/^hermes\/intent\//, 'id', 'q-num');
    assert.ok(answer, 'the volume query was not recognised');
    const numbers = answer.slots.filter((s: Json) => typeof s.value.value === 'number');
    assert.ok(numbers.length > 0, JSON.stringify(answer.slots));
    assert.ok(numbers.every((s: Json) => s.value.kind === 'Number'));
  });

  test('intentFilter: the answer is an allowed intent, or intentNotRecognized', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-allow', intentFilter: ['iot_hue_lightoff', 'weather_query'] }));
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-deny', intentFilter: ['weather_query', 'music_query'], sessionId: 's-deny' }));
    assert.ok(await waitFor(() => on(/^hermes\//, 'id', 'q-allow').length >= 1 && on(/^hermes\//, 'id', 'q-deny').length >= 1, 5000));
    assert.equal(on(/^hermes\/intent\//, 'id', 'q-allow')[0]?.topic, 'hermes/intent/iot_hue_lightoff');
    const deny = on(/^hermes\//, 'id', 'q-deny');
    assert.equal(on(/^hermes\/intent\/iot_hue_lightoff$/, 'id', 'q-deny').length, 0, 'a filtered-out intent was published');
    const notRecognized = deny.filter((m) => m.topic === 'hermes/nlu/intentNotRecognized');
    const allowed = deny.filter((m) => /^hermes\/intent\/(weather_query|music_query)$/.test(m.topic));
    assert.equal(notRecognized.length + allowed.length, 1, JSON.stringify(deny));
    if (notRecognized.length === 1) {
      assert.deepEqual(
        { input: notRecognized[0].input, siteId: notRecognized[0].siteId, sessionId: notRecognized[0].sessionId, customData: notRecognized[0].customData },
        { input: 'turn off the kitchen lights', siteId: 'default', sessionId: 's-deny', customData: null },
      );
    }
  });

  test('below the threshold: intentNotRecognized (and no intent message)', async () => {
    // Nothing left after normalisation: confidence 0, below any threshold.
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: '?!', id: 'q-low', siteId: 'hall', sessionId: 's-low', customData: 'x' }));
    assert.ok(await waitFor(() => on('hermes/nlu/intentNotRecognized', 'id', 'q-low').length === 1, 5000));
    const msg = on('hermes/nlu/intentNotRecognized', 'id', 'q-low')[0];
    assert.deepEqual({ input: msg.input, siteId: msg.siteId, sessionId: msg.sessionId, customData: msg.customData }, { input: '?!', siteId: 'hall', sessionId: 's-low', customData: 'x' });
    assert.ok(await waitFor(() => on('hubnlu/hall/result', 'id', 'q-low').length === 1, 2000));
    const native = on('hubnlu/hall/result', 'id', 'q-low')[0];
    assert.equal(native.intent.name, 'unknown');
    assert.equal(on(/^hermes\/(intent\/|nlu\/intentParsed)/, 'id', 'q-low').length, 0);
  });

  test('rejected queries → hermes/error/nlu with error, context, siteId, sessionId; the agent keeps answering', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ siteId: 'attic', sessionId: 's-err-1', id: 'q-err-1' }));
    await rec.publish('hermes/nlu/query', '{"input": "turn on', 1);
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'x'.repeat(5000), siteId: 'attic', sessionId: 's-err-3' }));
    assert.ok(await waitFor(() => rec.messages.filter((m) => m.topic === 'hermes/error/nlu').length >= 3, 5000));
    const errors = rec.messages.filter((m) => m.topic === 'hermes/error/nlu').map((m) => JSON.parse(m.payload.toString()) as Json);
    const missing = errors.find((e) => e.sessionId === 's-err-1')!;
    assert.match(missing.error, /^missing_text: /);
    assert.equal(missing.siteId, 'attic');
    assert.ok(typeof missing.context === 'string' && missing.context.includes('q-err-1'));
    assert.deepEqual(Object.keys(missing).sort(), ['context', 'error', 'sessionId', 'siteId']);
    const invalid = errors.find((e) => /^invalid_json: /.test(e.error))!;
    assert.equal(invalid.siteId, 'default');
    assert.equal(invalid.sessionId, null);
    assert.match(errors.find((e) => e.sessionId === 's-err-3')!.error, /^text_too_long: /);

    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-after' }));
    assert.ok(await waitFor(() => on(/^hermes\/intent\//, 'id', 'q-after').length === 1, 5000));
  });

  test('an empty transcription (what speech-to-text sends for silence) → intentNotRecognized, not only an error: Rhasspy\'s dialogue manager waits for nothing else', async () => {
    // rhasspy-dialogue-hermes forwards every textCaptured as an nlu/query and ends the session on NluIntent or
    // NluIntentNotRecognized only; an error alone would leave the satellite listening until the session timeout.
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: '', id: 'q-empty', siteId: 'porch', sessionId: 's-empty', customData: 'c' }));
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: '  ', siteId: 'porch', sessionId: 's-blank' }));
    assert.ok(await waitFor(() => on('hermes/nlu/intentNotRecognized', 'sessionId', 's-empty').length === 1 && on('hermes/nlu/intentNotRecognized', 'sessionId', 's-blank').length === 1, 5000));
    const empty = on('hermes/nlu/intentNotRecognized', 'sessionId', 's-empty')[0];
    assert.deepEqual(
      { input: empty.input, id: empty.id, siteId: empty.siteId, sessionId: empty.sessionId, customData: empty.customData },
      // customData comes back even though the payload was rejected: Rhasspy apps match their answer by it.
      { input: '', id: 'q-empty', siteId: 'porch', sessionId: 's-empty', customData: 'c' },
    );
    assert.deepEqual(Object.keys(empty).sort(), ['customData', 'id', 'input', 'lang', 'sessionId', 'siteId', 'topic', 'wakewordId'], 'the keys of every intentNotRecognized');
    const blank = on('hermes/nlu/intentNotRecognized', 'sessionId', 's-blank')[0];
    assert.deepEqual({ input: blank.input, id: blank.id, customData: blank.customData }, { input: '', id: null, customData: null }, 'nothing sent, nothing echoed');
    await sleep(200);
    assert.equal(on('hermes/error/nlu', 'sessionId', 's-empty').length, 0, 'an empty input is not an NLU error');
    assert.equal(on(/^hermes\/(intent\/|nlu\/intentParsed)/, 'sessionId', 's-empty').length, 0);
  });

  test('free-form Rhasspy siteIds ("living room", "Küche", "kitchen-1") are answered, echoed exactly; the native topic gets one safe level', async () => {
    const sites = ['living room', 'Küche', 'kitchen-1', 'Salle de séjour (RDC)'];
    for (const [i, siteId] of sites.entries()) {
      await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: `q-site-${i}`, siteId, sessionId: `s-site-${i}`, customData: `cd-${i}` }));
    }
    assert.ok(await waitFor(() => sites.every((_, i) => on(/^hermes\/intent\//, 'id', `q-site-${i}`).length === 1), 5000), JSON.stringify(on('hermes/error/nlu', 'siteId', 'living room')));
    for (const [i, siteId] of sites.entries()) {
      const intent = on(/^hermes\/intent\//, 'id', `q-site-${i}`)[0];
      assert.deepEqual({ siteId: intent.siteId, sessionId: intent.sessionId, customData: intent.customData }, { siteId, sessionId: `s-site-${i}`, customData: `cd-${i}` });
      assert.equal(on('hermes/nlu/intentParsed', 'id', `q-site-${i}`)[0].siteId, siteId);
    }
    assert.ok(await waitFor(() => sites.every((_, i) => on(/^hubnlu\/[^/]+\/result$/, 'id', `q-site-${i}`).length === 1), 2000));
    const nativeTopic = (i: number) => on(/^hubnlu\/[^/]+\/result$/, 'id', `q-site-${i}`)[0].topic as string;
    // Safe ids keep their level; others are escaped, with a hash of the id so that ids escaping alike stay apart.
    assert.equal(nativeTopic(1), 'hubnlu/Küche/result');
    assert.equal(nativeTopic(2), 'hubnlu/kitchen-1/result');
    assert.match(nativeTopic(0), /^hubnlu\/living_room-[0-9a-f]{8}\/result$/);
    assert.match(nativeTopic(3), /^hubnlu\/Salle_de_séjour__RDC_-[0-9a-f]{8}\/result$/);
    // The site column holds the same level (what the log, reports and Home Assistant see).
    const db = new Database(running.dbPath, { readonly: true });
    const site = (db.prepare("SELECT site_id AS s FROM inputs WHERE id = 'q-site-0'").get() as { s: string }).s;
    db.close();
    assert.equal(`hubnlu/${site}/result`, nativeTopic(0));
  });

  test('siteIds that escape alike ("living room", "living+room", "living_room") get different native topics', async () => {
    const sites = ['living room', 'living+room', 'living_room', 'living/room'];
    for (const [i, siteId] of sites.entries()) await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: `q-alike-${i}`, siteId }));
    assert.ok(await waitFor(() => sites.every((_, i) => on(/^hubnlu\/[^/]+\/result$/, 'id', `q-alike-${i}`).length === 1), 5000));
    const topics = sites.map((_, i) => on(/^hubnlu\/[^/]+\/result$/, 'id', `q-alike-${i}`)[0].topic as string);
    assert.equal(new Set(topics).size, sites.length, JSON.stringify(topics));
    assert.equal(topics[2], 'hubnlu/living_room/result');
    // Each topic carried only its own site's result.
    for (const t of topics) assert.equal(rec.messages.filter((m) => m.topic === t && /"id":"q-alike-/.test(m.payload.toString())).length, 1, t);
  });

  test('hostile siteIds: wildcards, "/", "$SYS" are echoed in the Hermes payload but never reach a topic structure; NUL and 10 KB are rejected', async () => {
    const hostile = ['+', '#', '/', '$SYS', '$SYS/broker/#', '../..', '.'];
    for (const [i, siteId] of hostile.entries()) await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: `q-hostile-${i}`, siteId }));
    assert.ok(await waitFor(() => hostile.every((_, i) => on(/^hermes\/intent\//, 'id', `q-hostile-${i}`).length === 1), 5000));
    for (const [i, siteId] of hostile.entries()) {
      assert.equal(on(/^hermes\/intent\//, 'id', `q-hostile-${i}`)[0].siteId, siteId);
      assert.ok(await waitFor(() => on(/^hubnlu\/[^/]+\/result$/, 'id', `q-hostile-${i}`).length === 1, 2000), siteId);
      const topic = on(/^hubnlu\/[^/]+\/result$/, 'id', `q-hostile-${i}`)[0].topic as string;
      const levels = topic.split('/');
      assert.equal(levels.length, 3, `${siteId} → ${topic}`);
      assert.match(levels[1], /^[\p{L}\p{M}\p{N}_.-]{1,55}-[0-9a-f]{8}$/u, `${siteId} → ${topic}`);
    }
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-nul', siteId: 'a\u0000b', sessionId: 's-nul' }));
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-long', siteId: 'x'.repeat(10_000), sessionId: 's-long' }));
    assert.ok(await waitFor(() => on('hermes/error/nlu', 'sessionId', 's-nul').length === 1 && on('hermes/error/nlu', 'sessionId', 's-long').length === 1, 5000));
    assert.match(on('hermes/error/nlu', 'sessionId', 's-nul')[0].error, /^invalid_field: siteId contains control characters/);
    assert.match(on('hermes/error/nlu', 'sessionId', 's-long')[0].error, /^invalid_field: siteId is longer than 128 characters/);
    assert.equal(on('hermes/error/nlu', 'sessionId', 's-long')[0].siteId, 'default');
    await sleep(200);
    // Refused, so not analysed: an error and intentNotRecognized (the dialogue manager's answer), never an intent or a result.
    assert.deepEqual(rec.messages.filter((m) => /q-(nul|long)/.test(m.payload.toString()) && !m.topic.startsWith('hermes/error/')).map((m) => m.topic), ['hermes/nlu/intentNotRecognized', 'hermes/nlu/intentNotRecognized']);
  });

  test('siteIds with an invisible format character (U+200B, U+202E, U+FEFF) or an unpaired surrogate are refused on hermes/error/nlu, never analysed; no format character\'s bytes reach a topic or payload', async () => {
    const invisible = ['kitchen\u200b', '\u202egarage', '\ufeffhall'];
    for (const [i, siteId] of invisible.entries()) {
      await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: `q-cf-${i}`, siteId, sessionId: `s-cf-${i}` }));
    }
    await rec.publish('hermes/nlu/query', '{"input":"turn off the kitchen lights","id":"q-cs","siteId":"attic\\ud800","sessionId":"s-cs"}');
    const sessions = [...invisible.map((_, i) => `s-cf-${i}`), 's-cs'];
    assert.ok(await waitFor(() => sessions.every((s) => on('hermes/error/nlu', 'sessionId', s).length === 1), 5000));
    for (const [i, ch] of ['U\\+200B', 'U\\+202E', 'U\\+FEFF'].entries()) {
      const e = on('hermes/error/nlu', 'sessionId', `s-cf-${i}`)[0];
      assert.match(e.error, new RegExp(`^invalid_field: siteId contains an invisible format character \\(${ch}, Unicode Cf\\)`));
      assert.equal(e.siteId, 'default', 'the refused siteId was echoed');
    }
    assert.match(on('hermes/error/nlu', 'sessionId', 's-cs')[0].error, /^invalid_field: siteId contains an unpaired surrogate \(U\+D800\)/);
    await sleep(200);
    assert.deepEqual(
      [...new Set(rec.messages.filter((m) => /q-(cf-\d|cs)/.test(m.payload.toString()) && !m.topic.startsWith('hermes/error/')).map((m) => m.topic))],
      ['hermes/nlu/intentNotRecognized'],
      'a refused query was analysed',
    );
    assert.equal(rec.messages.filter((m) => /[\u200b\u202e\ufeff]/.test(m.topic + m.payload.toString())).length, 0, 'a format character reached a topic or payload');
  });

  test('every refused query that was a JSON object also gets intentNotRecognized (sessionId, id, customData and siteId as sent, even a refused siteId), so Rhasspy\'s dialogue manager is not left waiting; the siteId never becomes a topic level', async () => {
    const all = await Recorder.connect(running.brokerUrl, ['#']);
    try {
      const refusedSites = ['a\u0000b', 'hall\u0007', 'x'.repeat(129), 'kitchen\u200b', '\u202egarage', 'living room/+/#\u0000'];
      for (const [i, siteId] of refusedSites.entries()) {
        await all.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: `q-nr-${i}`, siteId, sessionId: `s-nr-${i}`, customData: `cd-${i}` }));
      }
      // An unpaired surrogate, exactly as a payload can carry it (an escape JSON.stringify would write too).
      await all.publish('hermes/nlu/query', '{"input":"turn off the kitchen lights","id":"q-nr-sur","siteId":"attic\\ud800","sessionId":"s-nr-sur","customData":"cd-sur"}');
      // Other refusals of a readable query: a siteId that is not a string, a refused sessionId, no input, too deep.
      await all.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-nr-num', siteId: 42, sessionId: 's-nr-num' }));
      await all.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-nr-sess', siteId: 'porch', sessionId: 'bad\u0001session' }));
      await all.publish('hermes/nlu/query', JSON.stringify({ id: 'q-nr-none', siteId: 'den', sessionId: 's-nr-none', customData: 'cd-none' }));
      await all.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'q-nr-deep', siteId: 'den', sessionId: 's-nr-deep', customData: 'cd-deep', meta: { a: { b: { c: { d: { e: { f: { g: { h: 1 } } } } } } } } }));
      // Nothing to answer: not JSON, not an object.
      await all.publish('hermes/nlu/query', '{"input": "turn on", "sessionId": "s-nr-badjson"');
      await all.publish('hermes/nlu/query', JSON.stringify([{ input: 'turn on', sessionId: 's-nr-array' }]));

      const nr = (): Json[] => all.messages.filter((m) => m.topic === 'hermes/nlu/intentNotRecognized').map((m) => JSON.parse(m.payload.toString()) as Json);
      const errorCount = () => all.messages.filter((m) => m.topic === 'hermes/error/nlu' && /"q-nr-|s-nr-/.test(m.payload.toString())).length;
      assert.ok(await waitFor(() => nr().filter((p) => /^q-nr-/.test(p.id ?? '')).length === refusedSites.length + 5 && errorCount() >= refusedSites.length + 7, 5000), JSON.stringify(nr()));
      const answer = (id: string): Json => {
        const found = nr().filter((p) => p.id === id);
        assert.equal(found.length, 1, `${id}: ${JSON.stringify(found)}`);
        return found[0];
      };
      for (const [i, siteId] of refusedSites.entries()) {
        const a = answer(`q-nr-${i}`);
        assert.deepEqual(a, { input: '', id: `q-nr-${i}`, siteId, sessionId: `s-nr-${i}`, customData: `cd-${i}`, wakewordId: null, lang: null }, JSON.stringify(siteId));
      }
      assert.deepEqual({ siteId: answer('q-nr-sur').siteId, sessionId: answer('q-nr-sur').sessionId, customData: answer('q-nr-sur').customData }, { siteId: 'attic\ud800', sessionId: 's-nr-sur', customData: 'cd-sur' });
      assert.deepEqual({ siteId: answer('q-nr-num').siteId, sessionId: answer('q-nr-num').sessionId }, { siteId: 'default', sessionId: 's-nr-num' }, 'a siteId that is not a string');
      assert.deepEqual({ siteId: answer('q-nr-sess').siteId, sessionId: answer('q-nr-sess').sessionId }, { siteId: 'porch', sessionId: 'bad\u0001session' });
      assert.deepEqual({ siteId: answer('q-nr-none').siteId, sessionId: answer('q-nr-none').sessionId, customData: answer('q-nr-none').customData }, { siteId: 'den', sessionId: 's-nr-none', customData: 'cd-none' });
      assert.deepEqual({ siteId: answer('q-nr-deep').siteId, sessionId: answer('q-nr-deep').sessionId, customData: answer('q-nr-deep').customData }, { siteId: 'den', sessionId: 's-nr-deep', customData: 'cd-deep' });
      // Each still gets its error too, saying why (the siteId there stays "default" when it was refused).
      for (const s of refusedSites.map((_, i) => `s-nr-${i}`)) assert.equal(on('hermes/error/nlu', 'sessionId', s)[0]?.siteId, 'default', s);
      await sleep(200);
      assert.equal(nr().filter((p) => p.sessionId === 's-nr-badjson' || p.sessionId === 's-nr-array' || (p.id === null && p.sessionId === null)).length, 0, 'a payload that is not a JSON object was answered');
      // The raw payload bytes: control and format characters and the surrogate escaped, never raw.
      const raw = all.messages.filter((m) => m.topic === 'hermes/nlu/intentNotRecognized' && m.payload.toString().includes('"q-nr-')).map((m) => m.payload.toString());
      assert.ok(raw.some((p) => p.includes('\\u202egarage')) && raw.every((p) => !/[\u0000-\u001f\u200b\u202e]/.test(p)), raw.join('\n'));
      // No topic carries any of these siteIds: only the Hermes answers and the native error of the default site.
      const topics = new Set(all.messages.filter((m) => m.topic !== 'hermes/nlu/query' && /(q|s)-nr-(\d|sur|num)\b/.test(m.payload.toString())).map((m) => m.topic));
      assert.deepEqual([...topics].sort(), ['hermes/error/nlu', 'hermes/nlu/intentNotRecognized', 'hubnlu/default/error'], [...topics].join(', '));
      // Nor does the log's site column.
      const db = new Database(running.dbPath, { readonly: true });
      const sites = db.prepare("SELECT DISTINCT site_id FROM inputs WHERE id IN ('q-nr-0', 'q-nr-1', 'q-nr-2', 'q-nr-3', 'q-nr-4', 'q-nr-5', 'q-nr-sur', 'q-nr-num')").pluck().all();
      db.close();
      assert.deepEqual(sites, ['default']);
    } finally {
      await all.close();
    }
  });

  test('the native utterance path still refuses a payload siteId that is not a safe segment (only Hermes is free-form)', async () => {
    const errors = await Recorder.connect(running.brokerUrl, ['hubnlu/+/error']);
    try {
      await errors.publish('hubnlu/kitchen/utterance', JSON.stringify({ text: 'turn off the kitchen lights', id: 'n-space', siteId: 'living room' }));
      assert.ok(await waitFor(() => errors.json().some((e) => e.id === 'n-space'), 5000));
      const e = errors.json().find((x) => x.id === 'n-space')! as Json;
      assert.equal(e.code ?? e.error?.code, 'invalid_site_id', JSON.stringify(e));
    } finally {
      await errors.close();
    }
  });

  test('a query without id or sessionId: both come back null (what Rhasspy\'s NLU echoes), not an id hubnlu assigned', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', siteId: 'noid-site', customData: 'noid-cd' }));
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: '?!', siteId: 'noid-site', customData: 'noid-low' }));
    assert.ok(await waitFor(() => on(/^hermes\/intent\//, 'customData', 'noid-cd').length === 1 && on('hermes/nlu/intentNotRecognized', 'customData', 'noid-low').length === 1, 5000));
    const intent = on(/^hermes\/intent\//, 'customData', 'noid-cd')[0];
    assert.deepEqual({ id: intent.id, sessionId: intent.sessionId, siteId: intent.siteId }, { id: null, sessionId: null, siteId: 'noid-site' });
    const nr = on('hermes/nlu/intentNotRecognized', 'customData', 'noid-low')[0];
    assert.deepEqual({ input: nr.input, id: nr.id, sessionId: nr.sessionId, siteId: nr.siteId }, { input: '?!', id: null, sessionId: null, siteId: 'noid-site' });
    // The native result still carries the id hubnlu assigned (the log's key).
    assert.ok(await waitFor(() => rec.json((t) => t === 'hubnlu/noid-site/result').some((r) => r.customData === 'noid-cd' && typeof r.id === 'string' && r.id.length > 0), 2000));
  });

  test('an empty query from a free-form site: intentNotRecognized with that siteId and its customData', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: '', siteId: 'living room', sessionId: 's-empty-site', customData: '{"app":"timer"}' }));
    assert.ok(await waitFor(() => on('hermes/nlu/intentNotRecognized', 'sessionId', 's-empty-site').length === 1, 5000));
    const nr = on('hermes/nlu/intentNotRecognized', 'sessionId', 's-empty-site')[0];
    assert.deepEqual({ siteId: nr.siteId, customData: nr.customData, id: nr.id }, { siteId: 'living room', customData: '{"app":"timer"}', id: null });
  });

  test('textCaptured: analysed for the native result (intent + sentiment), no Hermes intent (the dialogue manager asks nlu/query)', async () => {
    await rec.publish('hermes/asr/textCaptured', JSON.stringify({ text: 'turn off the kitchen lights', likelihood: 0.9, seconds: 1.2, siteId: 'kitchen', sessionId: 's-asr', id: 'asr-1' }));
    assert.ok(await waitFor(() => on('hubnlu/kitchen/result', 'id', 'asr-1').length === 1, 5000));
    const native = on('hubnlu/kitchen/result', 'id', 'asr-1')[0];
    assert.equal(native.intent.name, 'iot_hue_lightoff');
    assert.ok(native.sentiment);
    await sleep(200);
    assert.equal(on(/^hermes\//, 'id', 'asr-1').length, 0);
  });
});

describe('Hermes outputs can be switched off; textCaptured: intent', () => {
  test('intentParsed off, textCaptured answered the Hermes way', async () => {
    const running = await startAgent({ 'extensions.hermes.intentParsed': false, 'extensions.hermes.textCaptured': 'intent' });
    const rec = await Recorder.connect(running.brokerUrl, ['hermes/#']);
    try {
      await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', id: 'off-1' }));
      await rec.publish('hermes/asr/textCaptured', JSON.stringify({ text: 'turn off the kitchen lights', id: 'off-2', siteId: 'kitchen' }));
      const ids = () => rec.json((t) => t.startsWith('hermes/intent/')).map((p) => p.id);
      assert.ok(await waitFor(() => ids().includes('off-1') && ids().includes('off-2'), 5000));
      await sleep(200);
      assert.equal(rec.messages.filter((m) => m.topic === 'hermes/nlu/intentParsed').length, 0);
    } finally {
      await rec.close();
      await running.stop();
    }
  });
});

describe('intentFilter uses the unknown threshold of the language model that answered', () => {
  // The shipped models all suggest 0.4; a copy of the German one suggests 0.01 (its manifest's calibration.threshold),
  // so a German alternative between the two is allowed by German's threshold and refused by English's.
  let running: RunningAgent;
  let rec: Recorder;
  const answers = (id: string): Json[] =>
    rec.messages
      .filter((m) => m.topic !== 'hermes/nlu/query')
      .map((m): Json => ({ topic: m.topic, ...(JSON.parse(m.payload.toString()) as Json) }))
      .filter((p) => p.id === id);

  before(async () => {
    const de = join(mkdtempSync(join(tmpdir(), 'hubnlu-de-')), 'intent');
    cpSync('models/de/intent', de, { recursive: true });
    const manifest = JSON.parse(readFileSync(join(de, 'manifest.json'), 'utf8')) as Json;
    assert.equal(manifest.calibration.threshold, 0.4, 'the shipped German threshold this test assumes');
    manifest.calibration.threshold = 0.01;
    writeFileSync(join(de, 'manifest.json'), JSON.stringify(manifest));
    running = await startAgent({ 'models.languages': { en: { intent: 'models/intent', sentiment: 'models/sentiment' }, de: { intent: de, sentiment: 'models/de/sentiment' } } });
    rec = await Recorder.connect(running.brokerUrl, ['hermes/#', 'hubnlu/+/result']);
  });
  after(async () => {
    await rec?.close();
    await running?.stop();
  });

  test('a German query: the best allowed alternative passes German\'s threshold (0.01), not English\'s (0.4)', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'wie wird das wetter morgen', lang: 'de', id: 'de-1', intentFilter: ['iot_door_open'] }));
    assert.ok(await waitFor(() => answers('de-1').some((a) => a.topic.startsWith('hermes/intent/') || a.topic === 'hermes/nlu/intentNotRecognized') && answers('de-1').some((a) => a.topic.endsWith('/result')), 10_000));
    // The premise, from the native result (unfiltered alternatives): the allowed intent lies between the two thresholds.
    const native = answers('de-1').find((a) => a.topic.endsWith('/result'))!;
    assert.equal(native.lang, 'de');
    const door = (native.alternatives as Json[]).find((a) => a.name === 'iot_door_open');
    assert.ok(door && door.confidence >= 0.01 && door.confidence < 0.4, JSON.stringify(native.alternatives));
    const hermes = answers('de-1').filter((a) => a.topic.startsWith('hermes/'));
    assert.deepEqual(hermes.map((a) => a.topic).sort(), ['hermes/intent/iot_door_open', 'hermes/nlu/intentParsed'], JSON.stringify(hermes));
    assert.equal(hermes[0].intent.confidenceScore, Number(door.confidence.toFixed(4)));
  });

  test('an English query keeps English\'s threshold (0.4): an allowed alternative below it is not recognised', async () => {
    await rec.publish('hermes/nlu/query', JSON.stringify({ input: 'turn off the kitchen lights', lang: 'en', id: 'en-1', intentFilter: ['iot_hue_lighton'] }));
    assert.ok(await waitFor(() => answers('en-1').some((a) => a.topic.startsWith('hermes/intent/') || a.topic === 'hermes/nlu/intentNotRecognized') && answers('en-1').some((a) => a.topic.endsWith('/result')), 10_000));
    const native = answers('en-1').find((a) => a.topic.endsWith('/result'))!;
    const on = (native.alternatives as Json[]).find((a) => a.name === 'iot_hue_lighton');
    assert.ok(!on || on.confidence < 0.4, JSON.stringify(native.alternatives));
    assert.deepEqual(answers('en-1').filter((a) => a.topic.startsWith('hermes/')).map((a) => a.topic), ['hermes/nlu/intentNotRecognized']);
  });
});
