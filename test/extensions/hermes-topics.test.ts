/**
 * The intent name is the last level of `hermes/intent/<intentName>`, which Rhasspy and Snips apps subscribe to by
 * the exact name (rhasspyhermes NluIntent.topic: `hermes/intent/{intent_name}`, no escaping). Only what would change
 * the topic's meaning may be replaced: `/` (a new level), `+` and `#` (wildcards, not allowed in a topic name
 * [MQTT-3.3.2-2]) and NUL [MQTT-1.5.4-2]. Snips names (`user:TurnOn`), spaces and long names are kept.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HermesExtension } from '../../src/extensions/hermes.js';
import type { AnalysedInput } from '../../src/extensions/extension.js';

const hermes = new HermesExtension({} as never, { enabled: true, textCaptured: 'native', queryTasks: ['intent'], intentParsed: false, intent: true, intentNotRecognized: true, error: true });

function topicFor(name: string): string {
  const r: AnalysedInput = {
    input: { id: 'q', siteId: 'default', sessionId: null, lang: null, text: 'x', topic: 'hermes/nlu/query', receivedAt: 0, request: {} },
    analysis: { intent: { name, confidence: 0.9, alternatives: [{ name, confidence: 0.9 }], slots: [] }, models: [] },
    latencyMs: 1,
    unknownThreshold: 0.4,
  };
  const out = hermes.outputs(r);
  assert.equal(out.length, 1);
  assert.equal((JSON.parse(out[0].payload) as { intent: { intentName: string } }).intent.intentName, name, 'the payload keeps the name as it is');
  return out[0].topic;
}

test('hermes/intent/<intentName> keeps every name MQTT allows in one level', () => {
  for (const name of ['iot_hue_lightoff', 'user:TurnOnLight', 'snips-user:setTemperature', 'Licht einschalten', 'Lumière', 'x'.repeat(100), 'a.b', '打开灯']) {
    assert.equal(topicFor(name), `hermes/intent/${name}`, name);
  }
});

test('only "/", "+", "#" and NUL in an intent name are replaced', () => {
  assert.equal(topicFor('lights/on'), 'hermes/intent/lights_on');
  assert.equal(topicFor('a+b#c\u0000d'), 'hermes/intent/a_b_c_d');
  assert.equal(topicFor('..'), 'hermes/intent/..');
});

test('a query the models failed on (stage inference) is answered intentNotRecognized with its sessionId, beside the error', () => {
  const out = hermes.failures({
    input: { id: 'q7', siteId: 'kitchen', sessionId: 's7', topic: 'hermes/nlu/query', receivedAt: 0, excerpt: 'turn on the lights', request: { customData: 'c7' } },
    stage: 'inference',
    code: 'inference_failed',
    message: 'the model failed',
  });
  assert.deepEqual(out.map((m) => m.topic), ['hermes/nlu/intentNotRecognized', 'hermes/error/nlu']);
  const answer = JSON.parse(out[0].payload) as { sessionId: unknown; siteId: unknown; id: unknown; customData: unknown };
  assert.deepEqual([answer.sessionId, answer.siteId, answer.id, answer.customData], ['s7', 'kitchen', 'q7', 'c7']);
});
