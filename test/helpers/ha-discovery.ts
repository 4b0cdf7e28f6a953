/**
 * Home Assistant's documented MQTT discovery schema, as far as hubnlu's
 * entities use it (home-assistant.io: integrations/mqtt, event.mqtt,
 * sensor.mqtt, binary_sensor.mqtt), and a validator that checks a config
 * payload key by key: every key documented for its component, the right type,
 * required keys present, no abbreviations mixed in, ids in [a-zA-Z0-9_-].
 */
import assert from 'node:assert/strict';

type Check = (value: unknown, path: string) => void;

const str: Check = (v, p) => assert.equal(typeof v, 'string', `${p} must be a string`);
const bool: Check = (v, p) => assert.equal(typeof v, 'boolean', `${p} must be a boolean`);
const int: Check = (v, p) => assert.ok(Number.isInteger(v), `${p} must be an integer`);
const template: Check = (v, p) => {
  str(v, p);
  assert.match(v as string, /\{\{.*\}\}/, `${p} must be a template`);
};
const oneOf =
  (...allowed: string[]): Check =>
  (v, p) =>
    assert.ok(allowed.includes(v as string), `${p} is ${JSON.stringify(v)}, not one of ${allowed.join(', ')}`);
const listOf =
  (item: Check, minItems = 0): Check =>
  (v, p) => {
    assert.ok(Array.isArray(v), `${p} must be a list`);
    assert.ok((v as unknown[]).length >= minItems, `${p} needs at least ${minItems} item(s)`);
    (v as unknown[]).forEach((x, i) => item(x, `${p}[${i}]`));
  };
const mapping =
  (keys: Record<string, Check>, required: string[] = []): Check =>
  (v, p) => {
    assert.ok(v !== null && typeof v === 'object' && !Array.isArray(v), `${p} must be a mapping`);
    for (const r of required) assert.ok(r in (v as object), `${p}.${r} is required`);
    for (const [k, x] of Object.entries(v as object)) {
      assert.ok(k in keys, `${p}.${k} is not a documented key`);
      keys[k](x, `${p}.${k}`);
    }
  };
const haId: Check = (v, p) => {
  str(v, p);
  assert.match(v as string, /^[a-zA-Z0-9_-]+$/, `${p} must match [a-zA-Z0-9_-]`);
};

/** integrations/mqtt "Using availability topics". */
const availabilityItem = mapping({ topic: str, payload_available: str, payload_not_available: str, value_template: template }, ['topic']);

/** integrations/mqtt device registry mapping. */
const device = mapping(
  {
    identifiers: (v, p) => (Array.isArray(v) ? listOf(str, 1)(v, p) : str(v, p)),
    connections: listOf(listOf(str, 2)),
    configuration_url: str,
    hw_version: str,
    manufacturer: str,
    model: str,
    model_id: str,
    name: str,
    serial_number: str,
    suggested_area: str,
    sw_version: str,
    via_device: str,
  },
  [],
);

/** integrations/mqtt "Adding information about the origin of a discovery message": name required. */
const origin = mapping({ name: str, sw_version: str, support_url: str }, ['name']);

/** Options every MQTT entity accepts. */
const common: Record<string, Check> = {
  availability: listOf(availabilityItem, 1),
  availability_mode: oneOf('all', 'any', 'latest'),
  availability_template: template,
  availability_topic: str,
  device,
  enabled_by_default: bool,
  encoding: str,
  entity_category: oneOf('config', 'diagnostic'),
  entity_picture: str,
  icon: (v, p) => {
    str(v, p);
    assert.match(v as string, /^mdi:[a-z0-9-]+$/, `${p} must be an mdi: icon`);
  },
  json_attributes_template: template,
  json_attributes_topic: str,
  name: str,
  origin,
  payload_available: str,
  payload_not_available: str,
  qos: int,
  unique_id: haId,
};

const SCHEMAS: Record<string, { keys: Record<string, Check>; required: string[] }> = {
  event: {
    keys: { ...common, state_topic: str, event_types: listOf(str, 1), device_class: oneOf('button', 'doorbell', 'motion'), value_template: template },
    required: ['state_topic', 'event_types'],
  },
  sensor: {
    keys: {
      ...common,
      state_topic: str,
      value_template: template,
      unit_of_measurement: str,
      device_class: str,
      state_class: oneOf('measurement', 'measurement_angle', 'total', 'total_increasing'),
      options: listOf(str, 1),
      expire_after: int,
      force_update: bool,
      suggested_display_precision: int,
      last_reset_value_template: template,
    },
    required: ['state_topic'],
  },
  binary_sensor: {
    keys: {
      ...common,
      state_topic: str,
      value_template: template,
      payload_on: str,
      payload_off: str,
      device_class: str,
      expire_after: int,
      force_update: bool,
      off_delay: int,
    },
    required: ['state_topic'],
  },
};

/** The documented abbreviations that would stand for keys we write in full; a payload must not mix both. */
export const ABBREVIATIONS = ['avty', 'avty_t', 'dev', 'o', 'stat_t', 'val_tpl', 'uniq_id', 'unit_of_meas', 'stat_cla', 'dev_cla', 'ent_cat', 'json_attr_t', 'pl_on', 'pl_off', 'pl_avail', 'pl_not_avail', 'evt_typ', 'ops', 'ic'];

export interface ParsedTopic {
  readonly prefix: string;
  readonly component: string;
  readonly nodeId: string;
  readonly objectId: string;
}

/** `<prefix>/<component>/<node_id>/<object_id>/config`, node and object ids in [a-zA-Z0-9_-]. */
export function parseConfigTopic(topic: string, prefix: string): ParsedTopic {
  assert.ok(topic.startsWith(`${prefix}/`), `${topic} is not under ${prefix}/`);
  const rest = topic.slice(prefix.length + 1).split('/');
  assert.equal(rest.length, 4, `${topic}: expected <component>/<node_id>/<object_id>/config`);
  const [component, nodeId, objectId, last] = rest;
  assert.equal(last, 'config');
  assert.ok(component in SCHEMAS, `${topic}: component ${component} is not one hubnlu publishes`);
  haId(nodeId, `${topic} node_id`);
  haId(objectId, `${topic} object_id`);
  return { prefix, component, nodeId, objectId };
}

/** Validates one discovery config against its component's documented schema. */
export function validateConfig(component: string, payload: Record<string, unknown>, where: string): void {
  for (const abbr of ABBREVIATIONS) assert.ok(!(abbr in payload), `${where}: abbreviation ${abbr} mixed with full keys`);
  const schema = SCHEMAS[component];
  assert.ok(schema, `${where}: unknown component ${component}`);
  mapping(schema.keys, schema.required)(payload, where);
  // "device … only works through MQTT discovery and when unique_id is set" (integrations/mqtt).
  if ('device' in payload) assert.ok('unique_id' in payload, `${where}: device needs unique_id`);
  // sensor.mqtt: options only for device_class enum, which takes neither a unit nor a state class.
  if (component === 'sensor' && payload.device_class === 'enum') {
    assert.ok(Array.isArray(payload.options), `${where}: enum sensor needs options`);
    assert.ok(!('unit_of_measurement' in payload) && !('state_class' in payload), `${where}: enum sensor with unit or state_class`);
  } else if (component === 'sensor') {
    assert.ok(!('options' in payload), `${where}: options without device_class enum`);
  }
  // sensor device class duration: units d, h, min, s, ms.
  if (payload.device_class === 'duration') assert.ok(['d', 'h', 'min', 's', 'ms'].includes(payload.unit_of_measurement as string), `${where}: duration unit`);
  if (component === 'binary_sensor' && payload.device_class !== undefined) {
    assert.ok(['connectivity', 'problem', 'running', 'update', 'power', 'plug'].includes(payload.device_class as string), `${where}: binary_sensor device_class`);
  }
}
