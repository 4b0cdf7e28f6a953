/** `extensions.homeAssistant`: Home Assistant MQTT discovery (issue 8). */
import type { Static } from '@sinclair/typebox';
import { Type } from '../../config/type.js';

export const homeAssistantSettings = Type.Object(
  {
    enabled: Type.Boolean({
      default: false,
      description:
        'Publish Home Assistant MQTT discovery: one device with an event entity for intents, sensors and a connectivity sensor. Set back to false to remove the entities at the next start.',
      hint: 'true or false',
    }),
    discoveryPrefix: Type.String({
      default: 'homeassistant',
      pattern: '^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$',
      description: "Home Assistant's discovery prefix (its MQTT `discovery_prefix`).",
      hint: 'segments of letters, digits, "_" or "-" separated by "/", e.g. "homeassistant"',
    }),
    statusTopic: Type.String({
      default: 'homeassistant/status',
      pattern: '^[^+#\\u0000]+$',
      description: "Home Assistant's birth topic: on `online` there, discovery is republished after a short random delay.",
      hint: 'a topic without + or #, e.g. "homeassistant/status"',
    }),
    deviceName: Type.Optional(
      Type.String({ minLength: 1, maxLength: 64, description: 'Device name in Home Assistant. Absent: `hubnlu <mqtt.clientId>`.', hint: 'a short name, e.g. "Kitchen hub NLU"' }),
    ),
    intentNames: Type.Union([Type.Literal('native'), Type.Literal('homeassistant')], {
      default: 'native',
      description:
        "Event types: the intent model's own labels (`native`), or Home Assistant's intent names (`HassTurnOff` with `area`/`name`/`domain` slots) where the mapping table (src/corpus/ha-intents.ts) has one (`homeassistant`).",
      hint: 'native or homeassistant',
    }),
    republishDelayMinMs: Type.Integer({
      default: 1000,
      minimum: 0,
      maximum: 600000,
      description: 'Least delay before republishing discovery after Home Assistant announces itself online.',
      hint: 'milliseconds between 0 and 600000, e.g. 1000',
    }),
    republishDelayMaxMs: Type.Integer({
      default: 5000,
      minimum: 0,
      maximum: 600000,
      description: 'Greatest such delay; the delay is random in between so a house of devices does not answer in one burst.',
      hint: 'milliseconds, at least republishDelayMinMs, e.g. 5000',
    }),
    statsIntervalSeconds: Type.Integer({
      default: 60,
      minimum: 1,
      maximum: 86400,
      description: 'How often the inputs-per-minute, p99-latency and error-count sensors are updated.',
      hint: 'seconds between 1 and 86400, e.g. 60',
    }),
    removeOnStop: Type.Boolean({
      default: false,
      description: 'Remove the entities when hubnlu stops (e.g. before retiring a hub). Off: they stay, unavailable while hubnlu is down.',
      hint: 'true or false',
    }),
  },
  { default: {}, additionalProperties: false },
);

export type HomeAssistantConfig = Static<typeof homeAssistantSettings>;

/** Checks TypeBox cannot express; named like schema errors (the setting, then the fix). */
export function checkHomeAssistantSettings(s: HomeAssistantConfig): string[] {
  return s.republishDelayMaxMs < s.republishDelayMinMs
    ? [`extensions.homeAssistant.republishDelayMaxMs: ${s.republishDelayMaxMs} is below republishDelayMinMs ${s.republishDelayMinMs} (make it at least as large)`]
    : [];
}
