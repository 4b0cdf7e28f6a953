/**
 * Home Assistant MQTT discovery payloads (home-assistant.io, integrations/mqtt,
 * event.mqtt, sensor.mqtt, binary_sensor.mqtt). Pure functions: the extension
 * decides when to publish, this file decides what.
 *
 * One device per agent; its entities:
 * - `event` "Intent": one event per recognised intent, `event_types` = the intent model's labels
 *   (or their Home Assistant names); the other keys of each event message become attributes.
 * - sensors "Last intent", "Last sentiment" (from each result), "Inputs per minute",
 *   "Latency p99", "Errors" (from the health snapshot, periodically);
 * - `binary_sensor` "Connectivity" on `<base>/bridge/state`.
 *
 * Full key names, not abbreviations: a few hundred bytes per retained config
 * buys payloads a reader can check against the documentation.
 */
import type { OutboundMessage } from '../extension.js';

export type Component = 'event' | 'sensor' | 'binary_sensor';

/** `[a-zA-Z0-9_-]`: the characters Home Assistant allows in node and object ids. */
export const HA_ID_RE = /^[a-zA-Z0-9_-]+$/;

/** Makes a client id (which may hold `.`) a valid node id. */
export function toHaId(value: string): string {
  const id = value.replace(/[^a-zA-Z0-9_-]/g, '_');
  return id === '' ? '_' : id;
}

export interface DiscoveryOptions {
  readonly discoveryPrefix: string;
  /** `mqtt.baseTopic`: state topics live under it. */
  readonly baseTopic: string;
  readonly clientId: string;
  readonly deviceName?: string;
  /** hubnlu's version (device `sw_version`, origin `sw_version`). */
  readonly version: string;
  /** The intent model that answers, e.g. `hubnlu-intent-en 1.0.0` (device `model`). */
  readonly intentModel?: string;
  readonly eventTypes: readonly string[];
}

/** Topics the extension publishes state on (under the base topic). */
export interface StateTopics {
  /** Events, not retained (a retained event would fire again whenever Home Assistant resubscribes). */
  readonly event: string;
  /** Last recognised intent (retained). */
  readonly lastIntent: string;
  /** Last sentiment (retained). */
  readonly lastSentiment: string;
  /** Periodic figures from the health snapshot (retained). */
  readonly stats: string;
  /** Retained list of the config topics this agent published (for removal after switching off). */
  readonly published: string;
  /** The agent's availability topic. */
  readonly bridgeState: string;
}

export function stateTopics(baseTopic: string): StateTopics {
  const ha = `${baseTopic}/homeassistant`;
  return {
    event: `${ha}/intent`,
    lastIntent: `${ha}/last_intent`,
    lastSentiment: `${ha}/last_sentiment`,
    stats: `${ha}/stats`,
    published: `${ha}/discovery`,
    bridgeState: `${baseTopic}/bridge/state`,
  };
}

interface EntitySpec {
  readonly component: Component;
  readonly objectId: string;
  readonly config: Record<string, unknown>;
  /** Whether the entity follows `bridge/state` as its availability. */
  readonly available: boolean;
}

function entities(topics: StateTopics, eventTypes: readonly string[]): EntitySpec[] {
  return [
    {
      component: 'event',
      objectId: 'intent',
      available: true,
      config: { name: 'Intent', state_topic: topics.event, event_types: [...eventTypes], icon: 'mdi:account-voice' },
    },
    {
      component: 'sensor',
      objectId: 'last_intent',
      available: true,
      config: {
        name: 'Last intent',
        state_topic: topics.lastIntent,
        value_template: '{{ value_json.intent }}',
        json_attributes_topic: topics.lastIntent,
        icon: 'mdi:message-text',
      },
    },
    {
      component: 'sensor',
      objectId: 'last_sentiment',
      available: true,
      config: {
        name: 'Last sentiment',
        state_topic: topics.lastSentiment,
        value_template: '{{ value_json.sentiment }}',
        json_attributes_topic: topics.lastSentiment,
        device_class: 'enum',
        options: ['negative', 'neutral', 'positive'],
        icon: 'mdi:emoticon-outline',
      },
    },
    {
      component: 'sensor',
      objectId: 'inputs_per_minute',
      available: true,
      config: {
        name: 'Inputs per minute',
        state_topic: topics.stats,
        value_template: '{{ value_json.inputs_per_minute }}',
        unit_of_measurement: 'inputs/min',
        state_class: 'measurement',
        icon: 'mdi:speedometer',
      },
    },
    {
      component: 'sensor',
      objectId: 'latency_p99',
      available: true,
      config: {
        name: 'Latency p99',
        state_topic: topics.stats,
        // Null before the first result: Jinja renders "None", which Home Assistant's MQTT sensor reads as unknown.
        value_template: '{{ value_json.latency_p99_ms }}',
        unit_of_measurement: 'ms',
        device_class: 'duration',
        state_class: 'measurement',
        entity_category: 'diagnostic',
      },
    },
    {
      component: 'sensor',
      objectId: 'errors',
      available: true,
      config: {
        name: 'Errors',
        state_topic: topics.stats,
        value_template: '{{ value_json.errors }}',
        // Counts since the agent started: total_increasing takes the reset at a restart as a new cycle.
        state_class: 'total_increasing',
        entity_category: 'diagnostic',
        icon: 'mdi:alert-circle-outline',
      },
    },
    {
      component: 'binary_sensor',
      objectId: 'connectivity',
      // Reads bridge/state itself; with availability on the same topic it would show
      // "unavailable" instead of "off" when the Last Will fires (Zigbee2MQTT's bridge
      // connection_state entity leaves availability out for the same reason).
      available: false,
      config: {
        name: 'Connectivity',
        state_topic: topics.bridgeState,
        value_template: '{{ value_json.state }}',
        payload_on: 'online',
        payload_off: 'offline',
        device_class: 'connectivity',
        entity_category: 'diagnostic',
      },
    },
  ];
}

export interface DiscoveryMessage extends OutboundMessage {
  readonly component: Component;
  readonly objectId: string;
}

/** Every entity's retained discovery config. */
export function discoveryMessages(opts: DiscoveryOptions): DiscoveryMessage[] {
  const nodeId = toHaId(opts.clientId);
  const topics = stateTopics(opts.baseTopic);
  const device: Record<string, unknown> = {
    identifiers: [`hubnlu_${nodeId}`],
    name: opts.deviceName ?? `hubnlu ${opts.clientId}`,
    manufacturer: 'hubnlu',
    model: opts.intentModel ? `hubnlu (${opts.intentModel})` : 'hubnlu',
    sw_version: opts.version,
  };
  const origin = { name: 'hubnlu', sw_version: opts.version };
  const availability = [
    { topic: topics.bridgeState, value_template: '{{ value_json.state }}', payload_available: 'online', payload_not_available: 'offline' },
  ];
  return entities(topics, opts.eventTypes).map((e) => {
    const payload: Record<string, unknown> = {
      ...e.config,
      unique_id: `${nodeId}_${e.objectId}`,
      device,
      origin,
    };
    if (e.available) payload.availability = availability;
    return {
      component: e.component,
      objectId: e.objectId,
      topic: configTopic(opts.discoveryPrefix, e.component, nodeId, e.objectId),
      payload: JSON.stringify(payload),
      qos: 1,
      retain: true,
    };
  });
}

/**
 * Whether `topic` is the config topic of one of hubnlu's entities, under any prefix and node id (an old prefix or
 * client id). The retained record is read back from the broker, where anyone allowed to publish under the base topic
 * could have written it: hubnlu empties only what it could have published, never another device's config, a
 * wildcard or a `$` topic.
 */
export function isEntityConfigTopic(topic: string): boolean {
  const levels = topic.split('/');
  if (levels.length < 5 || topic.startsWith('$') || /[+#\u0000]/.test(topic) || levels[levels.length - 1] !== 'config') return false;
  const [component, nodeId, objectId] = levels.slice(-4, -1);
  return HA_ID_RE.test(nodeId) && ENTITY_KEYS.has(`${component}/${objectId}`);
}

/** `<component>/<object_id>` of every entity. */
const ENTITY_KEYS = new Set(entities(stateTopics(''), []).map((e) => `${e.component}/${e.objectId}`));

/** `<prefix>/<component>/<node_id>/<object_id>/config`. */
export function configTopic(prefix: string, component: Component, nodeId: string, objectId: string): string {
  for (const id of [nodeId, objectId]) {
    if (!HA_ID_RE.test(id)) throw new Error(`Home Assistant id ${JSON.stringify(id)} must match [a-zA-Z0-9_-]`);
  }
  return `${prefix}/${component}/${nodeId}/${objectId}/config`;
}

/** An empty retained payload deletes the entity (and clears the broker's retained config). */
export function removalMessage(topic: string): OutboundMessage {
  return { topic, payload: '', qos: 1, retain: true };
}
