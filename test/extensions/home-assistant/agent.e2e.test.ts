/**
 * Home Assistant discovery through the real agent and real brokers (aedes
 * standing alone, so retained messages outlive an agent; mosquitto when
 * installed): a subscriber playing Home Assistant records the retained configs
 * and validates them field by field against the documented schema; an utterance
 * becomes an event; `homeassistant/status` = `online` brings a republish;
 * switching the extension off (next start with enabled: false) and
 * `removeOnStop` leave no retained config behind.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EmbeddedBroker } from '../../../src/transport/embedded-broker.js';
import { createLogger } from '../../../src/util/logger.js';
import { startAgent, type RunningAgent } from '../../helpers/agent.js';
import { shippedModels } from '../../helpers/extension-context.js';
import { parseConfigTopic, validateConfig } from '../../helpers/ha-discovery.js';
import { Mosquitto, mosquittoPath } from '../../helpers/mosquitto.js';
import { Recorder } from '../../helpers/mqtt.js';
import { sleep, waitFor } from '../../helpers/net.js';

const CONFIG_FILTER = 'homeassistant/+/+/+/config';

interface BrokerCase {
  readonly name: string;
  readonly skip: string | false;
  start(): Promise<{ url: string; protocolVersion: 4 | 5; stop(): Promise<void> }>;
}

const cases: BrokerCase[] = [
  {
    name: 'aedes',
    skip: false,
    start: async () => {
      const broker = new EmbeddedBroker('127.0.0.1', 0, createLogger({ level: 'silent', sync: true }));
      return { url: await broker.start(), protocolVersion: 4, stop: () => broker.stop() };
    },
  },
  {
    name: 'mosquitto',
    skip: mosquittoPath() ? false : 'mosquitto not installed',
    start: async () => {
      const broker = new Mosquitto();
      await broker.start();
      return { url: broker.url, protocolVersion: 5, stop: () => broker.stop() };
    },
  },
];

/** The retained configs a subscriber arriving now is given (what Home Assistant would read at its start). */
async function retainedConfigs(url: string, expectAtLeast: number): Promise<Map<string, string>> {
  const r = await Recorder.connect(url, [CONFIG_FILTER]);
  await waitFor(() => r.messages.length >= expectAtLeast, 3000);
  await sleep(expectAtLeast === 0 ? 300 : 50); // a subscriber expecting none waits a little for stragglers
  await r.close();
  const out = new Map<string, string>();
  for (const m of r.messages) if (m.retain) out.set(m.topic, m.payload.toString());
  return out;
}

for (const c of cases) {
  describe(`Home Assistant discovery via the agent and ${c.name}`, { skip: c.skip }, () => {
    let broker: Awaited<ReturnType<BrokerCase['start']>>;
    let running: RunningAgent | undefined;
    const clientId = `hubnlu-ha-${c.name}`;

    const agentWith = (ha: Record<string, unknown>) =>
      startAgent({
        'mqtt.url': broker.url,
        'mqtt.protocolVersion': broker.protocolVersion,
        'mqtt.clientId': clientId,
        ...Object.fromEntries(Object.entries(ha).map(([k, v]) => [`extensions.homeAssistant.${k}`, v])),
      });

    before(async () => {
      broker = await c.start();
    });
    after(async () => {
      await running?.stop();
      await broker?.stop();
    });

    test('retained configs validate field by field; event_types are the model labels', async () => {
      running = await agentWith({ enabled: true, republishDelayMinMs: 20, republishDelayMaxMs: 60 });
      assert.ok(running.info.extensions.includes('homeAssistant'));
      const configs = await retainedConfigs(broker.url, 7);
      assert.equal(configs.size, 7, `expected 7 retained configs, got ${[...configs.keys()].join(', ')}`);
      const nodeId = clientId;
      for (const [topic, raw] of configs) {
        const { component, nodeId: node, objectId } = parseConfigTopic(topic, 'homeassistant');
        assert.equal(node, nodeId);
        const payload = JSON.parse(raw) as Record<string, unknown>;
        validateConfig(component, payload, topic);
        assert.equal(payload.unique_id, `${nodeId}_${objectId}`);
        assert.deepEqual((payload.device as Record<string, unknown>).identifiers, [`hubnlu_${nodeId}`]);
        assert.equal((payload.origin as Record<string, unknown>).name, 'hubnlu');
        if (component !== 'binary_sensor') {
          assert.deepEqual(payload.availability, [
            { topic: 'hubnlu/bridge/state', value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' },
          ]);
        }
        if (component === 'event') assert.deepEqual(payload.event_types, shippedModels().labels.intent);
      }
      // The availability topic the configs name carries what their value_template reads.
      const state = await Recorder.connect(broker.url, ['hubnlu/bridge/state']);
      assert.ok(await waitFor(() => state.messages.length > 0, 3000));
      assert.equal(JSON.parse(state.messages[0].payload.toString()).state, 'online');
      await state.close();
    });

    test('an utterance becomes an event with the attributes; last intent is retained', async () => {
      const ha = await Recorder.connect(broker.url, ['hubnlu/homeassistant/intent', 'hubnlu/homeassistant/last_intent', 'hubnlu/homeassistant/stats']);
      await ha.publish('hubnlu/kitchen/utterance', JSON.stringify({ text: 'turn off the kitchen lights', id: 'ha-e2e-1' }));
      assert.ok(await waitFor(() => ha.messages.some((m) => m.topic === 'hubnlu/homeassistant/intent'), 5000), 'no event');
      const event = JSON.parse(ha.messages.find((m) => m.topic === 'hubnlu/homeassistant/intent')!.payload.toString());
      assert.equal(event.event_type, 'iot_hue_lightoff');
      assert.deepEqual(event.slots, { house_place: 'kitchen' });
      assert.equal(event.site, 'kitchen');
      assert.equal(event.id, 'ha-e2e-1');
      assert.equal(event.text, 'turn off the kitchen lights');
      assert.equal(typeof event.confidence, 'number');
      assert.ok(['negative', 'neutral', 'positive'].includes(event.sentiment));
      await ha.close();
      const late = await Recorder.connect(broker.url, ['hubnlu/homeassistant/last_intent', 'hubnlu/homeassistant/stats']);
      assert.ok(await waitFor(() => late.messages.length >= 2, 3000));
      const last = late.messages.find((m) => m.topic.endsWith('/last_intent'))!;
      assert.equal(last.retain, true);
      assert.equal(JSON.parse(last.payload.toString()).intent, 'iot_hue_lightoff');
      const stats = JSON.parse(late.messages.find((m) => m.topic.endsWith('/stats'))!.payload.toString());
      for (const k of ['inputs_per_minute', 'errors']) assert.equal(typeof stats[k], 'number', k);
      await late.close();
    });

    test('homeassistant/status online republishes every config', async () => {
      const ha = await Recorder.connect(broker.url, [CONFIG_FILTER]);
      assert.ok(await waitFor(() => ha.messages.length >= 7, 3000));
      const before = ha.messages.length;
      await ha.publish('homeassistant/status', 'online');
      assert.ok(await waitFor(() => ha.messages.length >= before + 7, 3000), 'configs not republished');
      const again = ha.messages.slice(before);
      assert.deepEqual(new Set(again.map((m) => m.topic)), new Set(ha.messages.slice(0, 7).map((m) => m.topic)));
      for (const m of again) validateConfig(m.topic.split('/')[1], JSON.parse(m.payload.toString()), m.topic);
      await ha.close();
    });

    test('switched off: the next start with enabled false removes every config', async () => {
      await running!.stop();
      running = undefined;
      assert.equal((await retainedConfigs(broker.url, 7)).size, 7, 'a plain stop keeps the entities');
      const watcher = await Recorder.connect(broker.url, [CONFIG_FILTER]);
      await waitFor(() => watcher.messages.length >= 7, 3000);
      running = await agentWith({ enabled: false });
      assert.ok(!running.info.extensions.includes('homeAssistant'), 'built to clean up, not listed as enabled');
      assert.ok(await waitFor(() => watcher.messages.filter((m) => m.payload.length === 0).length >= 7, 5000), 'configs not emptied');
      await watcher.close();
      assert.equal((await retainedConfigs(broker.url, 0)).size, 0);
      const record = await Recorder.connect(broker.url, ['hubnlu/homeassistant/discovery']);
      await sleep(200);
      assert.equal(record.messages.filter((m) => m.retain).length, 0, 'the record of published configs is cleared too');
      await record.close();
      await running.stop();
      running = undefined;
    });

    test('removeOnStop removes every config when the agent stops', async () => {
      running = await agentWith({ enabled: true, removeOnStop: true });
      assert.equal((await retainedConfigs(broker.url, 7)).size, 7);
      await running.stop();
      running = undefined;
      assert.equal((await retainedConfigs(broker.url, 0)).size, 0);
    });

    test("a record hubnlu did not write empties only configs of hubnlu's own entities: other devices' stay, odd topics are skipped", async () => {
      // Anyone who may publish under the base topic can write the record; it must not become a way to delete any
      // retained config on the broker, nor to make hubnlu publish to a wildcard or `$` topic.
      const others = { 'homeassistant/light/0xlamp/light/config': '{"name":"Lamp"}', 'homeassistant/sensor/0xthermo/temperature/config': '{"name":"Temperature"}' };
      const old = 'homeassistant/sensor/hubnlu_old/last_intent/config';
      const device = await Recorder.connect(broker.url, []);
      for (const [topic, payload] of Object.entries({ ...others, [old]: '{"name":"Last intent"}' })) await device.client.publishAsync(topic, payload, { qos: 1, retain: true });
      const record = { topics: [...Object.keys(others), 'homeassistant/sensor/+/errors/config', '$SYS/sensor/x/errors/config', old] };
      await device.client.publishAsync('hubnlu/homeassistant/discovery', JSON.stringify(record), { qos: 1, retain: true });
      await device.close();
      running = await agentWith({ enabled: false });
      assert.ok(await waitFor(async () => !(await retainedConfigs(broker.url, 2)).has(old), 5000), "the old hubnlu entity's config was not emptied");
      const left = await retainedConfigs(broker.url, 2);
      assert.deepEqual(Object.fromEntries(left), others, "another device's config was emptied");
      await running.stop();
      running = undefined;
      const cleanup = await Recorder.connect(broker.url, []);
      for (const topic of Object.keys(others)) await cleanup.client.publishAsync(topic, '', { qos: 1, retain: true });
      await cleanup.close();
    });

    test('answers in another language do not republish discovery: only a swapped model does', async () => {
      running = await agentWith({ enabled: true });
      const watcher = await Recorder.connect(broker.url, [CONFIG_FILTER, 'hubnlu/+/result']);
      const configs = () => watcher.messages.filter((m) => m.topic.endsWith('/config'));
      assert.ok(await waitFor(() => configs().length >= 7, 5000));
      await sleep(200);
      const atStart = configs().length;
      const texts = [
        ['mach das licht in der küche an', 'de'],
        ['turn on the kitchen lights', 'en'],
        ['schalte das licht aus', 'de'],
        ['turn off the lights', 'en'],
      ];
      for (const [i, [text, lang]] of texts.entries()) {
        await watcher.publish('hubnlu/kitchen/utterance', JSON.stringify({ text, lang, id: `lang-${i}` }));
        assert.ok(await waitFor(() => watcher.messages.some((m) => m.topic === 'hubnlu/kitchen/result' && JSON.parse(m.payload.toString()).id === `lang-${i}`), 10_000));
      }
      await sleep(300);
      assert.equal(configs().length - atStart, 0, 'discovery was republished for an answer in another language');
      await watcher.close();
      await running.stop();
      running = undefined;
    });

    test('a burst of online messages on homeassistant/status brings one republish, not one each', async () => {
      running = await agentWith({ enabled: true, republishDelayMinMs: 300, republishDelayMaxMs: 400 });
      const ha = await Recorder.connect(broker.url, [CONFIG_FILTER]);
      assert.ok(await waitFor(() => ha.messages.length >= 7, 5000));
      await sleep(200);
      const before = ha.messages.length;
      for (let i = 0; i < 20; i++) await ha.publish('homeassistant/status', 'online');
      assert.ok(await waitFor(() => ha.messages.length >= before + 7, 5000), 'configs not republished');
      await sleep(1000); // past every delay the burst could have scheduled
      assert.equal(ha.messages.length - before, 7, 'one republish of the 7 configs');
      await ha.publish('homeassistant/status', 'online');
      assert.ok(await waitFor(() => ha.messages.length >= before + 14, 5000), 'a later online is answered again');
      await ha.close();
      await running.stop();
      running = undefined;
    });
  });
}
