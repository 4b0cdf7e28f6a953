/**
 * Topic safety at the MQTT level: site ids that come from payloads or from the
 * topic itself (`a/b`, `#`, `+`, NUL, 500 characters, spaces, `..`) never
 * become topic structure. A listener subscribed to `#` sees the agent publish
 * only to `hubnlu/<safe segment>/result|error` and its bridge state topic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FaultAgent } from '../helpers/agent-process.js';
import { faultScene, account, LIGHT_BROKER_PERSISTENCE, Publisher, readRows, Tally, type Outgoing } from '../helpers/delivery.js';
import { mosquittoPath } from '../helpers/mosquitto.js';

const HOSTILE_SITE_IDS = ['a/b', '#', '+', 'x\u0000y', 'x'.repeat(500), 'hubnlu/+/result', '/', '', ' ', '..', 'a+b', 'sport#1', '$SYS', 'tab\there', '\u202eevil'];
/** Legal topic segments that are not valid site ids (a NUL, `+` or `#` cannot appear in a publish topic at all). */
const HOSTILE_TOPIC_SEGMENTS = ['a b', 'x'.repeat(500), '..', '.', '$x', 'semi;colon', 'ümlaut-ok', '🙂'];
/** A segment the agent may publish under: letters (and their combining marks), digits, `_`, `.`, `-`, at most 64. */
const SAFE_SEGMENT = /^[\p{L}\p{M}\p{N}_.-]{1,64}$/u;

test('topic safety: hostile site ids never reach a publish topic; a # listener sees only safe topics', { skip: mosquittoPath() ? false : 'mosquitto not installed', timeout: 120_000 }, async (t) => {
  const started = Date.now();
  const { broker, dbPath, clientId, closers } = await faultScene(t, 'topics', { broker: { extraConfig: LIGHT_BROKER_PERSISTENCE } });

  const all = await Tally.connect(broker.url, ['#'], { clientId: `all-${clientId}` });
  closers.push(() => all.close());
  const agent = await FaultAgent.start({ brokerUrl: broker.url, dbPath, clientId });
  closers.push(() => agent.kill('SIGKILL'));
  const publisher = await Publisher.connect(broker.url, { clientId: `pub-${clientId}` });
  closers.push(() => publisher.close());

  const inputs: Outgoing[] = [];
  HOSTILE_SITE_IDS.forEach((siteId, i) => {
    inputs.push({ key: `ts-json-${i}`, topic: 'hubnlu/kitchen/utterance', payload: JSON.stringify({ id: `ts-json-${i}`, text: 'turn off the lights', siteId }) });
    inputs.push({ key: `ts-hermes-${i}`, topic: 'hermes/nlu/query', payload: JSON.stringify({ id: `ts-hermes-${i}`, input: 'turn off the lights', siteId }) });
    inputs.push({ key: `ts-asr-${i}`, topic: 'hermes/asr/textCaptured', payload: JSON.stringify({ id: `ts-asr-${i}`, text: 'turn off the lights', siteId }) });
  });
  HOSTILE_TOPIC_SEGMENTS.forEach((segment, i) => {
    inputs.push({ key: `ts-topic-${i}`, topic: `hubnlu/${segment}/utterance`, payload: 'turn off the lights' });
    inputs.push({ key: `ts-topicjson-${i}`, topic: `hubnlu/${segment}/utterance`, payload: JSON.stringify({ id: `ts-topicjson-${i}`, text: 'turn off the lights' }) });
  });
  // Valid ones, so that the run visibly answers too.
  inputs.push({ key: 'ts-ok-1', topic: 'hubnlu/kitchen/utterance', payload: JSON.stringify({ id: 'ts-ok-1', text: 'turn off the lights' }) });
  inputs.push({ key: 'ts-ok-2', topic: 'hermes/nlu/query', payload: JSON.stringify({ id: 'ts-ok-2', input: 'turn off the lights', siteId: 'living_room' }) });
  const inputTopics = new Set(inputs.map((i) => i.topic));

  await publisher.publishAll(inputs);
  const answered = () => all.resultMessages + all.errorMessages >= inputs.length;
  const settled = await all.settle(answered, { timeoutMs: 30_000 });
  const stopped = await agent.stop();
  const view = readRows(dbPath);

  const agentTopics = [...all.topics.keys()].filter((topic) => !inputTopics.has(topic));
  const unsafe = agentTopics.filter((topic) => {
    if (['hubnlu/bridge/state', 'hubnlu/bridge/info', 'hubnlu/bridge/health'].includes(topic)) return false;
    // The Hermes extension's answers (issue 8): fixed topics, and an intent name the model produced.
    if (['hermes/nlu/intentParsed', 'hermes/nlu/intentNotRecognized', 'hermes/error/nlu'].includes(topic)) return false;
    if (/^hermes\/intent\/[A-Za-z0-9_.-]+$/.test(topic)) return false;
    const parts = topic.split('/');
    return !(parts.length === 3 && parts[0] === 'hubnlu' && SAFE_SEGMENT.test(parts[1]) && (parts[2] === 'result' || parts[2] === 'error'));
  });
  const leaked = agentTopics.filter((topic) => HOSTILE_SITE_IDS.some((s) => s.length > 1 && /[/+#\u0000]/.test(s) && topic.includes(s)));
  const publishProblems = agent.logs.filter((l) => /publish failed|cannot read the outbox|TopicError|wildcard/i.test(JSON.stringify(l)));

  account(t, 'topic-safety', {
    sent: inputs.length,
    rows: view.total,
    rowsByStatus: view.byStatus,
    results: all.resultMessages,
    errors: all.errorMessages,
    duplicates: all.resultDuplicates + all.errorDuplicates,
    missing: inputs.length - (all.resultMessages + all.errorMessages),
    agentTopics: agentTopics.length,
    unsafeTopics: unsafe.length,
    errorCodes: Object.fromEntries(all.errorCodes),
    topics: agentTopics.map((topic) => (topic.length > 40 ? `${topic.slice(0, 37)}...` : topic)).join(','),
    seconds: ((Date.now() - started) / 1000).toFixed(1),
  });

  assert.ok(settled, `only ${all.resultMessages + all.errorMessages} of ${inputs.length} inputs answered`);
  assert.deepEqual(unsafe, [], 'the agent published to a topic outside hubnlu/<safe>/result|error');
  assert.deepEqual(leaked, [], 'a hostile site id appears in a publish topic');
  assert.deepEqual(publishProblems, [], 'the agent tried to publish somewhere it may not');
  assert.ok(agentTopics.every((topic) => !/[+#\u0000]/.test(topic)));
  assert.equal(view.total, inputs.length, 'one row per input');
  assert.ok((all.errorCodes.get('invalid_site_id') ?? 0) > 0, 'no invalid_site_id rejections');
  assert.ok(all.results.has('ts-ok-1') && all.results.has('ts-ok-2'), 'valid inputs were not answered');
  assert.equal(stopped.code, 0);
});
