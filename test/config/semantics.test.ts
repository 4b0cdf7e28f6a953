import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.js';

function problemsOf(overrides: Record<string, unknown>): readonly string[] {
  try {
    loadConfig({ env: {}, cwd: '/nonexistent', overrides });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('a bad maintenance schedule is refused with an example of a good one', () => {
  const problems = problemsOf({ 'storage.maintenanceCron': 'every night' });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^storage\.maintenanceCron: not a valid cron expression.*30 3 \* \* \*/);
});

test('password and passwordFile together, a missing CA file and a lone client key are each named', () => {
  const problems = problemsOf({ 'mqtt.url': 'mqtts://broker.local:8883', 'mqtt.password': 'x', 'mqtt.passwordFile': '/nope/pw', 'mqtt.tls.ca': '/nope/ca.crt', 'mqtt.tls.key': '/nope/k.key' });
  const paths = problems.map((p) => p.split(':')[0]).sort();
  assert.deepEqual(paths, ['mqtt.password', 'mqtt.passwordFile', 'mqtt.tls.ca', 'mqtt.tls.cert', 'mqtt.tls.key']);
});

test('a result topic with a wildcard is refused', () => {
  const problems = problemsOf({ 'input.topics': [{ topic: 'a/+/b', resultTopic: 'out/#' }] });
  assert.ok(problems.some((p) => p.startsWith('input.topics.0.resultTopic: contains a wildcard')), problems.join('\n'));
});

test('topics that would fail only at run time are refused at start, each naming the setting and the fix', () => {
  // An unknown placeholder threw for every input (held unacknowledged, never answered); a `$` topic is the broker's
  // (mosquitto refuses the publish and closes the connection); a malformed filter is refused by the broker's SUBACK.
  const placeholder = problemsOf({ 'input.topics': [{ topic: 'hubnlu/+/utterance', resultTopic: '{baseTopic}/{site}/result' }] });
  assert.ok(placeholder.some((p) => /^input\.topics\.0\.resultTopic: unknown placeholder \{site\}.*\{baseTopic\}.*\{siteId\}/.test(p)), placeholder.join('\n'));
  const dollar = problemsOf({ 'input.topics': [{ topic: 'hubnlu/+/utterance', resultTopic: '$SYS/{siteId}/result' }], 'mqtt.baseTopic': '$hubnlu' });
  assert.ok(dollar.some((p) => p.startsWith('input.topics.0.resultTopic: starts with "$"')), dollar.join('\n'));
  assert.ok(dollar.some((p) => p.startsWith('mqtt.baseTopic: starts with "$"')), dollar.join('\n'));
  for (const topic of ['hubnlu/#/utterance', 'hubnlu/kitchen+/utterance', 'hubnlu/k#']) {
    const filter = problemsOf({ 'input.topics': [{ topic }] });
    assert.ok(filter.some((p) => p.startsWith('input.topics.0.topic: not a valid topic filter')), `${topic}: ${filter.join('\n')}`);
  }
  assert.deepEqual(problemsOf({ 'input.topics': [{ topic: 'hubnlu/+/utterance', resultTopic: 'out/{siteId}/{baseTopic}' }, { topic: 'sensors/#' }, { topic: '$share/g/hubnlu/+/x' }] }), []);
});

test('an input filter that takes in what hubnlu publishes is refused: each answer would come back as an input, without end', () => {
  // hubnlu/# took in hubnlu/default/error: each error was rejected (no text), which published the next error (no id, so no dedupe).
  for (const [topics, own] of [
    [[{ topic: 'hubnlu/#' }], 'hubnlu/+/result'],
    [[{ topic: 'hubnlu/+/+' }], 'hubnlu/+/result'],
    [[{ topic: '$share/g/hubnlu/kitchen/error' }], 'hubnlu/+/error'],
    [[{ topic: 'hubnlu/+/utterance' }, { topic: 'answers/#', format: 'text' }], 'answers/+'],
  ] as const) {
    const problems = problemsOf({ 'input.topics': topics.map((t, i) => (i === 0 && topics.length === 2 ? { ...t, resultTopic: 'answers/{siteId}' } : t)) });
    const n = topics.length - 1;
    assert.ok(problems.some((p) => p.startsWith(`input.topics.${n}.topic: takes in topics hubnlu publishes itself (${own})`)), `${JSON.stringify(topics)}: ${problems.join('\n')}`);
  }
  assert.deepEqual(problemsOf({ 'input.topics': [{ topic: 'hubnlu/+/utterance' }, { topic: 'hubnlu/+/sensor/#' }, { topic: 'sensors/#' }] }), []);
});

test('extension settings are checked like the rest: a bad health schedule, an unknown command, Hermes query tasks without intent', () => {
  const problems = problemsOf({ 'extensions.bridge.healthCron': 'hourly' });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^extensions\.bridge\.healthCron: not a valid cron expression.*\*\/10 \* \* \* \*/);
  const more = problemsOf({ 'extensions.bridge.allow': ['info', 'self_destruct'], 'extensions.hermse': {} });
  assert.ok(more.some((p) => p.startsWith('extensions.bridge.allow.1:') && p.includes('health_check')), more.join('\n'));
  assert.ok(more.some((p) => p.startsWith('extensions.hermse: unknown setting (did you mean extensions.hermes?')), more.join('\n'));
  assert.deepEqual(problemsOf({ 'extensions.hermes.queryTasks': ['sentiment'] }), [
    'extensions.hermes.queryTasks: must include intent (a Hermes answer is an intent), e.g. [intent] or [intent, sentiment]',
  ]);
});
