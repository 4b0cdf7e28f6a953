/** `input.shareGroup`: the group name, the broker and protocol it needs, and how it reaches the subscriptions. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { sharedFilter, matchTopic } from '../../src/transport/topics.js';
import { sharedSubscriptionRefusal } from '../../src/transport/mqtt-connection.js';
import { runCli } from '../helpers/cli.js';

const BROKER = { 'mqtt.url': 'mqtt://127.0.0.1:1883' };

function problemsOf(overrides: Record<string, unknown>, env: Record<string, string> = {}): readonly string[] {
  try {
    loadConfig({ env, cwd: '/nonexistent', overrides });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

test('a group name with "/", "+" or "#" (or an empty one) is refused, naming the setting and what a name may hold', () => {
  for (const bad of ['a/b', 'hub+nlu', '#', 'x#', '']) {
    const problems = problemsOf({ ...BROKER, 'input.shareGroup': bad });
    assert.equal(problems.length, 1, `${JSON.stringify(bad)}: ${problems.join('\n')}`);
    assert.match(problems[0], /^input\.shareGroup: /);
    if (bad !== '') assert.match(problems[0], /without "\/", "\+" or "#"/);
  }
  assert.deepEqual(problemsOf({ ...BROKER, 'input.shareGroup': 'hubnlu-kitchen_1.a' }), []);
});

test('the environment variable sets it, and `config check` prints the problem and exits 2', () => {
  const { config } = loadConfig({ env: { HUBNLU_MQTT_URL: 'mqtt://127.0.0.1:1883', HUBNLU_INPUT_SHARE_GROUP: 'nlu' }, cwd: '/nonexistent' });
  assert.equal(config.input.shareGroup, 'nlu');
  const r = runCli(['config', 'check'], { env: { HUBNLU_MQTT_URL: 'mqtt://127.0.0.1:1883', HUBNLU_INPUT_SHARE_GROUP: 'a/b' } });
  assert.equal(r.status, 2, r.stdout + r.stderr);
  assert.match(r.stderr, /input\.shareGroup: must match pattern/);
  assert.match(r.stderr, /an MQTT share name may not contain them/);
});

test('shared subscriptions need an external broker and MQTT 5: the embedded broker and protocolVersion 4 are refused with the reason', () => {
  const embedded = problemsOf({ 'input.shareGroup': 'nlu' });
  assert.equal(embedded.length, 1);
  assert.match(embedded[0], /^input\.shareGroup: the embedded broker \(aedes, MQTT 3\.1\.1\) has no shared subscriptions/);
  const v4 = problemsOf({ ...BROKER, 'mqtt.protocolVersion': 4, 'input.shareGroup': 'nlu' });
  assert.equal(v4.length, 1);
  assert.match(v4[0], /^input\.shareGroup: shared subscriptions need mqtt\.protocolVersion: 5/);
  // Without a group, 4 stays allowed.
  assert.deepEqual(problemsOf({ ...BROKER, 'mqtt.protocolVersion': 4 }), []);
});

test('a topic already written as $share/... next to input.shareGroup is refused (it would be shared twice)', () => {
  const problems = problemsOf({ ...BROKER, 'input.shareGroup': 'nlu', 'input.topics': [{ topic: 'hubnlu/+/utterance' }, { topic: '$share/other/sensors/+/text' }] });
  assert.equal(problems.length, 1);
  assert.match(problems[0], /^input\.topics\.1\.topic: already a shared subscription.*"sensors\/\+\/text"/);
});

test('a shared filter routes by the real topic: the site segment is still captured', () => {
  const sub = sharedFilter('hubnlu/+/utterance', 'nlu');
  assert.equal(sub, '$share/nlu/hubnlu/+/utterance');
  assert.deepEqual(matchTopic(sub, 'hubnlu/kitchen/utterance'), ['kitchen']);
  assert.equal(matchTopic(sub, 'hubnlu/kitchen/result'), null);
  assert.equal(sharedFilter('hubnlu/+/utterance', undefined), 'hubnlu/+/utterance');
  assert.equal(sharedFilter('$share/g/x', 'nlu'), '$share/g/x');
});

test('a broker that refuses shared subscriptions is a setup error naming input.shareGroup (exit 78), other refusals are not', () => {
  const subs = ['hubnlu/bridge/request/+', '$share/nlu/hubnlu/+/utterance'];
  const viaSuback = sharedSubscriptionRefusal(subs, [1, 0x9e]);
  assert.ok(viaSuback);
  assert.equal(viaSuback.setting, 'input.shareGroup');
  assert.match(viaSuback.message, /SUBACK 158 Shared Subscriptions not supported for \$share\/nlu\/hubnlu\/\+\/utterance/);
  const viaConnack = sharedSubscriptionRefusal(subs, [], false);
  assert.match(viaConnack?.message ?? '', /CONNACK Shared Subscription Available: 0/);
  assert.equal(sharedSubscriptionRefusal(subs, [1, 1]), undefined);
  assert.equal(sharedSubscriptionRefusal(subs, [0x87, 1]), undefined, 'a refused non-shared topic is not a share-group problem');
  assert.equal(sharedSubscriptionRefusal(['hubnlu/+/utterance'], [0x9e], false), undefined, 'nothing shared, nothing to refuse');
});
