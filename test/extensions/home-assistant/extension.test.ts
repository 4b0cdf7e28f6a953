/**
 * The Home Assistant extension with an in-memory context: discovery payloads
 * validated key by key against the documented schema, event and state
 * messages from real model output, republish on Home Assistant's birth
 * message, removal.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { homeAssistantSettings, type HomeAssistantConfig } from '../../../src/extensions/home-assistant/settings.js';
import { HomeAssistantExtension } from '../../../src/extensions/home-assistant/extension.js';
import { toHaId } from '../../../src/extensions/home-assistant/discovery.js';
import type { AnalysedInput, OutboundMessage } from '../../../src/extensions/extension.js';
import { ModelRegistry } from '../../../src/model/registry.js';
import { haIntentFor } from '../../../src/corpus/ha-intents.js';
import { health, memoryContext, shippedModels } from '../../helpers/extension-context.js';
import { parseConfigTopic, validateConfig } from '../../helpers/ha-discovery.js';
import { waitFor } from '../../helpers/net.js';

export function haSettings(overrides: Partial<HomeAssistantConfig> = {}): HomeAssistantConfig {
  return { ...(Value.Default(homeAssistantSettings, {}) as HomeAssistantConfig), enabled: true, republishDelayMinMs: 10, republishDelayMaxMs: 30, ...overrides };
}

const configs = (published: readonly OutboundMessage[], prefix = 'homeassistant') =>
  published.filter((m) => m.topic.startsWith(`${prefix}/`) && m.topic.endsWith('/config'));

let registry: ModelRegistry;
before(async () => {
  registry = await ModelRegistry.load();
});
after(async () => {
  await registry.close();
});

async function analysed(text: string, siteId = 'kitchen'): Promise<AnalysedInput> {
  const analysis = await registry.analyze(text, ['intent', 'sentiment']);
  return {
    input: { id: `id-${text.length}`, siteId, sessionId: null, lang: null, text, topic: `hubnlu/${siteId}/utterance`, receivedAt: Date.now(), request: {} },
    analysis,
    latencyMs: 1.25,
    unknownThreshold: registry.unknownThreshold,
  };
}

describe('discovery payloads', () => {
  test('every config matches the documented schema of its component, with device, origin and availability', async () => {
    const t = memoryContext({ version: '9.8.7', clientId: 'hubnlu.kitchen' });
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    await ext.start();
    await ext.stop();
    const msgs = configs(t.published);
    const components = msgs.map((m) => parseConfigTopic(m.topic, 'homeassistant'));
    assert.deepEqual(
      components.map((c) => `${c.component}/${c.objectId}`).sort(),
      ['binary_sensor/connectivity', 'event/intent', 'sensor/errors', 'sensor/inputs_per_minute', 'sensor/last_intent', 'sensor/last_sentiment', 'sensor/latency_p99'],
    );
    const uniqueIds = new Set<string>();
    for (const [i, m] of msgs.entries()) {
      const { component, nodeId, objectId } = components[i];
      assert.equal(nodeId, 'hubnlu_kitchen', 'the client id (with its "." replaced) is the node id');
      assert.equal(m.retain, true, `${m.topic} must be retained`);
      assert.equal(m.qos, 1);
      const payload = JSON.parse(m.payload) as Record<string, unknown>;
      validateConfig(component, payload, m.topic);
      assert.equal(payload.unique_id, `hubnlu_kitchen_${objectId}`);
      uniqueIds.add(payload.unique_id as string);
      assert.deepEqual(payload.device, {
        identifiers: ['hubnlu_hubnlu_kitchen'],
        name: 'hubnlu hubnlu.kitchen',
        manufacturer: 'hubnlu',
        model: `hubnlu (${shippedModels().refs[0].name} ${shippedModels().refs[0].version})`,
        sw_version: '9.8.7',
      });
      assert.deepEqual(payload.origin, { name: 'hubnlu', sw_version: '9.8.7' });
      if (objectId === 'connectivity') {
        assert.equal(payload.availability, undefined, 'connectivity reads bridge/state itself: off, not unavailable');
        assert.equal(payload.state_topic, 'hubnlu/bridge/state');
        assert.equal(payload.payload_on, 'online');
        assert.equal(payload.payload_off, 'offline');
        assert.equal(payload.device_class, 'connectivity');
      } else {
        assert.deepEqual(payload.availability, [
          { topic: 'hubnlu/bridge/state', value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' },
        ]);
      }
    }
    assert.equal(uniqueIds.size, msgs.length, 'unique ids are unique');
  });

  test('event_types are the intent model labels (native names), without unknown', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    await ext.start();
    await ext.stop();
    const event = JSON.parse(configs(t.published).find((m) => m.topic === 'homeassistant/event/hubnlu/intent/config')!.payload);
    assert.deepEqual(event.event_types, shippedModels().labels.intent);
    assert.equal(event.state_topic, 'hubnlu/homeassistant/intent');
  });

  test('with intentNames homeassistant, mapped labels become Home Assistant intent names, the rest stay', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ intentNames: 'homeassistant' }) });
    await ext.start();
    await ext.stop();
    const event = JSON.parse(configs(t.published).find((m) => m.topic.includes('/event/'))!.payload);
    const labels = shippedModels().labels.intent;
    assert.deepEqual(event.event_types, [...new Set(labels.map((l) => haIntentFor(l)?.intent ?? l))]);
    for (const name of ['HassTurnOn', 'HassTurnOff', 'HassLightSet', 'HassClimateSetTemperature', 'HassGetWeather']) assert.ok(event.event_types.includes(name), name);
    assert.ok(!event.event_types.includes('iot_hue_lightoff'));
    assert.ok(event.event_types.includes('qa_factoid'), 'labels without a Home Assistant counterpart keep their names');
  });

  test('the prefix, base topic and device name are configurable; ids stay within [a-zA-Z0-9_-]', async () => {
    const t = memoryContext({ baseTopic: 'house/nlu', clientId: 'a.b-c_d' });
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ discoveryPrefix: 'ha/disc', deviceName: 'Hall NLU' }) });
    await ext.start();
    await ext.stop();
    const msgs = configs(t.published, 'ha/disc');
    assert.equal(msgs.length, 7);
    for (const m of msgs) {
      const { component } = parseConfigTopic(m.topic, 'ha/disc');
      const payload = JSON.parse(m.payload);
      validateConfig(component, payload, m.topic);
      assert.equal(payload.device.name, 'Hall NLU');
      assert.match(payload.unique_id, /^a_b-c_d_[a-z0-9_]+$/);
      for (const a of payload.availability ?? []) assert.equal(a.topic, 'house/nlu/bridge/state');
    }
    assert.equal(toHaId('x.y/z'), 'x_y_z');
  });

  test('start publishes the record of its config topics and the stats', async () => {
    const t = memoryContext();
    t.setHealth(health({ inputsPerMinute: 42, latencyMs: { p50: 1, p90: 2, p99: 3.3333 }, counts: { ...health().counts, rejected: 2, failed: 3 } }));
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    await ext.start();
    await ext.stop();
    const record = t.published.find((m) => m.topic === 'hubnlu/homeassistant/discovery')!;
    assert.equal(record.retain, true);
    assert.deepEqual(JSON.parse(record.payload).topics, configs(t.published).map((m) => m.topic));
    const stats = t.published.find((m) => m.topic === 'hubnlu/homeassistant/stats')!;
    assert.deepEqual(JSON.parse(stats.payload), { inputs_per_minute: 42, latency_p99_ms: 3.333, errors: 5, processed: 8, connected: true });
  });

  test('disabled: publishes nothing at start and subscribes only to its record', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ enabled: false }) });
    assert.deepEqual(ext.topics(), ['hubnlu/homeassistant/discovery']);
    await ext.start();
    assert.deepEqual(ext.outputs(await analysed('turn off the kitchen lights')), []);
    await ext.stop();
    assert.deepEqual(t.published, []);
  });
});

describe('state messages', () => {
  test('a recognised intent yields an event with event_type and attributes, and the last intent/sentiment', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    const result = await analysed('turn off the kitchen lights');
    const out = ext.outputs(result);
    const event = out.find((m) => m.topic === 'hubnlu/homeassistant/intent')!;
    assert.equal(event.retain, false, 'events are not retained (Home Assistant would fire them again on resubscribe)');
    const e = JSON.parse(event.payload);
    assert.equal(e.event_type, 'iot_hue_lightoff');
    assert.ok(shippedModels().labels.intent.includes(e.event_type));
    assert.deepEqual(e.slots, { house_place: 'kitchen' });
    assert.equal(e.site, 'kitchen');
    assert.equal(e.text, 'turn off the kitchen lights');
    assert.equal(e.id, result.input.id);
    assert.equal(e.confidence, Number(result.analysis.intent!.confidence.toFixed(4)));
    assert.equal(e.sentiment, result.analysis.sentiment!.label);
    const last = JSON.parse(out.find((m) => m.topic === 'hubnlu/homeassistant/last_intent')!.payload);
    assert.equal(last.intent, 'iot_hue_lightoff');
    const sentiment = out.find((m) => m.topic === 'hubnlu/homeassistant/last_sentiment')!;
    assert.equal(sentiment.retain, true);
    assert.equal(JSON.parse(sentiment.payload).sentiment, result.analysis.sentiment!.label);
  });

  test('Home Assistant names: HassTurnOff with area and domain; HassClimateSetTemperature with temperature', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ intentNames: 'homeassistant' }) });
    const off = JSON.parse(ext.outputs(await analysed('turn off the kitchen lights')).find((m) => m.topic.endsWith('/intent'))!.payload);
    assert.equal(off.event_type, 'HassTurnOff');
    assert.equal(off.intent, 'iot_hue_lightoff', 'the native label stays as an attribute');
    assert.deepEqual(off.slots, { area: 'kitchen', domain: 'light' });
    const lamp = JSON.parse(ext.outputs(await analysed('turn off the lamp in the bedroom')).find((m) => m.topic.endsWith('/intent'))!.payload);
    assert.deepEqual(lamp.slots, { name: 'lamp', area: 'bedroom', domain: 'light' });
    const heat = JSON.parse(ext.outputs(await analysed('set the thermostat to 21 degrees')).find((m) => m.topic.endsWith('/intent'))!.payload);
    assert.equal(heat.event_type, 'HassClimateSetTemperature');
    assert.equal(heat.slots.temperature, 21);
  });

  test('an unknown intent yields no event, but updates the last intent', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    const result = await analysed('purple monkey dishwasher');
    const forced: AnalysedInput = { ...result, analysis: { ...result.analysis, intent: { ...result.analysis.intent!, name: 'unknown' } } };
    const out = ext.outputs(forced);
    assert.equal(out.find((m) => m.topic.endsWith('/intent')), undefined);
    assert.equal(JSON.parse(out.find((m) => m.topic.endsWith('/last_intent'))!.payload).intent, 'unknown');
  });

  test('a swapped intent model republishes discovery with the new labels', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    await ext.start();
    const before = configs(t.published).length;
    const { refs, labels } = shippedModels();
    const newRefs = [{ ...refs[0], version: '2.0.0' }, refs[1]];
    t.setModels(newRefs, { ...labels, intent: ['lights_on', 'lights_off'] });
    const result = await analysed('turn on the lights');
    ext.outputs({ ...result, analysis: { ...result.analysis, models: newRefs } });
    assert.ok(await waitFor(() => configs(t.published).length >= before * 2, 2000), 'discovery was not republished');
    const event = JSON.parse(configs(t.published).filter((m) => m.topic.includes('/event/')).at(-1)!.payload);
    assert.deepEqual(event.event_types, ['lights_on', 'lights_off']);
    assert.match(event.device.model, /2\.0\.0/);
    await ext.stop();
  });
});

describe('birth message and removal', () => {
  test('homeassistant/status online republishes after a delay within the bounds; offline does not', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ republishDelayMinMs: 150, republishDelayMaxMs: 150 }) });
    await ext.start();
    const first = configs(t.published).length;
    await ext.handle({ topic: 'homeassistant/status', payload: Buffer.from('offline'), qos: 1, redelivered: false });
    const at = Date.now();
    await ext.handle({ topic: 'homeassistant/status', payload: Buffer.from('online'), qos: 1, redelivered: false });
    assert.equal(configs(t.published).length, first, 'handle() returns before the republish (acknowledgements are not held up)');
    assert.ok(await waitFor(() => configs(t.published).length === first * 2, 3000));
    assert.ok(Date.now() - at >= 140, 'republished before the configured least delay');
    await ext.stop();
  });

  test('stop cancels a pending republish', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ republishDelayMinMs: 100, republishDelayMaxMs: 100 }) });
    await ext.start();
    const first = t.published.length;
    await ext.handle({ topic: 'homeassistant/status', payload: Buffer.from('online'), qos: 1, redelivered: false });
    await ext.stop();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(t.published.length, first);
  });

  test('removeOnStop empties every config and the record', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ removeOnStop: true }) });
    await ext.start();
    const topics = configs(t.published).map((m) => m.topic);
    t.published.length = 0;
    await ext.stop();
    assert.deepEqual(t.published.filter((m) => m.topic.endsWith('/config')).map((m) => [m.topic, m.payload, m.retain]), topics.map((tp) => [tp, '', true]));
    assert.ok(t.published.some((m) => m.topic === 'hubnlu/homeassistant/discovery' && m.payload === '' && m.retain));
  });

  test('disabled: a record left by an earlier run empties the configs it names, then itself', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings({ enabled: false }) });
    await ext.start();
    const old = ['homeassistant/event/hubnlu/intent/config', 'homeassistant/sensor/hubnlu/errors/config'];
    await ext.handle({ topic: 'hubnlu/homeassistant/discovery', payload: Buffer.from(JSON.stringify({ topics: old })), qos: 1, redelivered: false });
    assert.deepEqual(t.published.map((m) => [m.topic, m.payload, m.retain]), [...old.map((tp) => [tp, '', true]), ['hubnlu/homeassistant/discovery', '', true]]);
    await ext.handle({ topic: 'hubnlu/homeassistant/discovery', payload: Buffer.from(''), qos: 1, redelivered: false });
    await ext.handle({ topic: 'hubnlu/homeassistant/discovery', payload: Buffer.from('{not json'), qos: 1, redelivered: false });
    assert.equal(t.published.length, 3, 'an empty or malformed record changes nothing');
    await ext.stop();
  });

  test('enabled: a record naming configs of an old prefix empties only those', async () => {
    const t = memoryContext();
    const ext = new HomeAssistantExtension(t.ctx, { settings: haSettings() });
    await ext.start();
    const current = configs(t.published).map((m) => m.topic);
    t.published.length = 0;
    const record = { topics: [...current, 'oldprefix/event/hubnlu/intent/config'] };
    await ext.handle({ topic: 'hubnlu/homeassistant/discovery', payload: Buffer.from(JSON.stringify(record)), qos: 1, redelivered: false });
    assert.deepEqual(t.published.map((m) => [m.topic, m.payload]), [['oldprefix/event/hubnlu/intent/config', '']]);
    await ext.stop();
  });
});

describe('settings', () => {
  test('extensions.homeAssistant defaults; a max delay below the min is refused with the fix', async () => {
    const { loadConfig, ConfigError } = await import('../../../src/config/load.js');
    const { config } = loadConfig({ env: {}, overrides: {} });
    assert.equal(config.extensions.homeAssistant.enabled, false);
    assert.equal(config.extensions.homeAssistant.discoveryPrefix, 'homeassistant');
    assert.throws(
      () => loadConfig({ env: {}, overrides: { 'extensions.homeAssistant.republishDelayMinMs': 5000, 'extensions.homeAssistant.republishDelayMaxMs': 10 } }),
      (err: unknown) => err instanceof ConfigError && /extensions\.homeAssistant\.republishDelayMaxMs: .*at least as large/.test(String((err as Error).message) + JSON.stringify(err)),
    );
    assert.throws(
      () => loadConfig({ env: { HUBNLU_EXTENSIONS_HOME_ASSISTANT_DISCOVERY_PREFIX: 'home/#' } }),
      (err: unknown) => err instanceof ConfigError && /extensions\.homeAssistant\.discoveryPrefix/.test(String((err as Error).message) + JSON.stringify(err)),
    );
  });
});
