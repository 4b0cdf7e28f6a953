// The one mapping table between Home Assistant's intents and slots (home-assistant/intents, CC BY 4.0) and
// hubnlu's ontology (HWU64/SLURP scenario_action labels plus the iot_* extensions, see
// the datasets' README). Both directions are read from the same rows:
//   Home Assistant → hubnlu: `hubnluIntentFor()` / `hubnluSlotFor()` (training data from HA templates, issue 11);
//   hubnlu → Home Assistant: `haIntentFor()` / `haSlotFor()` (calling HA's intent API, Home Assistant discovery).
// It ships in the code, not under models/: the models only know hubnlu labels; the table is how the agent and the
// trainer translate, and a model retrained on other data keeps the same table.

/** A condition on one slot of the Home Assistant intent (values as the list's `out` value). */
export interface SlotCondition {
  slot: string;
  /** The slot must be present (any value). */
  present?: true;
  /** Numeric value at least this. */
  atLeast?: number;
  /** Numeric value below this. */
  below?: number;
  /** Value equals one of these (case-insensitive). */
  oneOf?: string[];
}

export interface IntentRow {
  /** Home Assistant intent name, e.g. `HassTurnOn`. */
  ha: string;
  /** Home Assistant entity domain this row applies to; omitted: any domain (a fallback row, listed last). */
  domains?: string[];
  /** All conditions must hold (first matching row wins, so specific rows come first). */
  when?: SlotCondition[];
  /** hubnlu intent label. */
  hubnlu: string;
  /** Why the row is as it is; "HA → hubnlu only" marks rows that are never the canonical reverse row. */
  note?: string;
}

/**
 * Ordered: for HA → hubnlu the first row whose intent, domain and conditions match wins; for hubnlu → HA the
 * first row carrying the hubnlu label is the canonical Home Assistant intent (and its first domain).
 * Intents absent here (HassRespond, HassBroadcast, HassIncreaseTimer, HassDecreaseTimer, HassPauseTimer,
 * HassUnpauseTimer, HassSetVolume (hubnlu has louder/quieter/mute, no absolute level: "Lautstärke auf 80" and
 * "baisse le volume à 80 %" come from the same template), scenes and scripts, HassGetState on sensors and
 * persons) have no hubnlu counterpart.
 */
export const INTENT_TABLE: readonly IntentRow[] = [
  // Lights.
  { ha: 'HassTurnOn', domains: ['light'], hubnlu: 'iot_hue_lighton' },
  { ha: 'HassTurnOff', domains: ['light'], hubnlu: 'iot_hue_lightoff' },
  { ha: 'HassLightSet', when: [{ slot: 'color', present: true }], hubnlu: 'iot_hue_lightchange' },
  { ha: 'HassLightSet', when: [{ slot: 'brightness', atLeast: 100 }], hubnlu: 'iot_hue_lightup', note: 'brightness to the maximum' },
  { ha: 'HassLightSet', when: [{ slot: 'brightness', present: true }], hubnlu: 'iot_hue_lightdim', note: 'brightness to a level below the maximum' },
  { ha: 'HassGetState', domains: ['light'], hubnlu: 'iot_lights_query' },
  // Doors, gates, blinds (covers) and locks. In Home Assistant HassTurnOn opens a cover and locks a lock.
  { ha: 'HassTurnOn', domains: ['cover'], hubnlu: 'iot_door_open' },
  { ha: 'HassTurnOff', domains: ['cover'], hubnlu: 'iot_door_close' },
  { ha: 'HassTurnOn', domains: ['lock'], hubnlu: 'iot_door_lock' },
  { ha: 'HassTurnOff', domains: ['lock'], hubnlu: 'iot_door_unlock' },
  { ha: 'HassGetState', domains: ['cover', 'lock'], hubnlu: 'iot_door_query' },
  // Climate.
  { ha: 'HassClimateSetTemperature', hubnlu: 'iot_thermostat_set' },
  { ha: 'HassClimateGetTemperature', hubnlu: 'iot_thermostat_query' },
  { ha: 'HassTurnOn', domains: ['climate'], hubnlu: 'iot_thermostat_on' },
  { ha: 'HassTurnOff', domains: ['climate'], hubnlu: 'iot_thermostat_off' },
  // Vacuum.
  { ha: 'HassVacuumStart', hubnlu: 'iot_cleaning' },
  { ha: 'HassVacuumReturnToBase', hubnlu: 'iot_cleaning', note: 'hubnlu has one cleaning label; HA → hubnlu only' },
  // Other switchable devices (switches, fans, valves, media players, anything named): the generic plug label.
  { ha: 'HassTurnOn', domains: ['switch', 'fan', 'valve', 'media_player', 'input_boolean', 'humidifier'], hubnlu: 'iot_wemo_on' },
  { ha: 'HassTurnOff', domains: ['switch', 'fan', 'valve', 'media_player', 'input_boolean', 'humidifier'], hubnlu: 'iot_wemo_off' },
  // Timers (hubnlu's alarm_* labels cover alarms and timers).
  { ha: 'HassStartTimer', hubnlu: 'alarm_set' },
  { ha: 'HassCancelTimer', hubnlu: 'alarm_remove' },
  { ha: 'HassCancelAllTimers', hubnlu: 'alarm_remove', note: 'HA → hubnlu only' },
  { ha: 'HassTimerStatus', hubnlu: 'alarm_query' },
  // Media.
  { ha: 'HassMediaSearchAndPlay', hubnlu: 'play_music' },
  { ha: 'HassMediaUnpause', hubnlu: 'play_music', note: 'HA → hubnlu only' },
  { ha: 'HassMediaPause', hubnlu: 'music_settings' },
  { ha: 'HassMediaNext', hubnlu: 'music_settings', note: 'HA → hubnlu only' },
  { ha: 'HassMediaPrevious', hubnlu: 'music_settings', note: 'HA → hubnlu only' },
  // Lists.
  { ha: 'HassListAddItem', hubnlu: 'lists_createoradd' },
  { ha: 'HassShoppingListAddItem', hubnlu: 'lists_createoradd', note: 'HA → hubnlu only' },
  { ha: 'HassListCompleteItem', hubnlu: 'lists_remove' },
  { ha: 'HassShoppingListCompleteItem', hubnlu: 'lists_remove', note: 'HA → hubnlu only' },
  // Everything else.
  { ha: 'HassGetWeather', hubnlu: 'weather_query' },
  { ha: 'HassGetCurrentTime', hubnlu: 'datetime_query' },
  { ha: 'HassGetCurrentDate', hubnlu: 'datetime_query', note: 'HA → hubnlu only' },
  { ha: 'HassNevermind', hubnlu: 'general_commandstop' },
];

export interface SlotRow {
  /** Home Assistant slot name, e.g. `area`. */
  ha: string;
  /** hubnlu slot type. */
  hubnlu: string;
  /** Only for these HA intents; omitted: any. */
  intents?: string[];
  /** Not when the slot's value is one of these (e.g. the `domain` slot saying "lights"). */
  exceptValues?: string[];
}

/** Ordered like INTENT_TABLE. HA slots absent here (state, item, response-only slots) are dropped. */
export const SLOT_TABLE: readonly SlotRow[] = [
  { ha: 'area', hubnlu: 'house_place' },
  { ha: 'floor', hubnlu: 'house_place' },
  { ha: 'name', hubnlu: 'device_type' },
  { ha: 'device_class', hubnlu: 'device_type' },
  { ha: 'domain', hubnlu: 'device_type', exceptValues: ['light', 'scene', 'script'] },
  { ha: 'color', hubnlu: 'color_type' },
  { ha: 'brightness', hubnlu: 'change_amount' },
  { ha: 'position', hubnlu: 'change_amount' },
  { ha: 'volume_level', hubnlu: 'change_amount' },
  { ha: 'temperature', hubnlu: 'temperature' },
  // Timer durations: the hours/minutes/seconds pieces (and their unit words) form one `time` span.
  { ha: 'hours', hubnlu: 'time' },
  { ha: 'minutes', hubnlu: 'time' },
  { ha: 'seconds', hubnlu: 'time' },
  { ha: 'start_hours', hubnlu: 'time' },
  { ha: 'start_minutes', hubnlu: 'time' },
  { ha: 'start_seconds', hubnlu: 'time' },
  { ha: 'search_query', hubnlu: 'song_name' },
];

/** Timer names say which timer, not which device: `name` in timer intents has no hubnlu slot. */
const NAME_NOT_DEVICE = new Set(['HassStartTimer', 'HassCancelTimer', 'HassTimerStatus', 'HassIncreaseTimer',
  'HassDecreaseTimer', 'HassPauseTimer', 'HassUnpauseTimer', 'HassCancelAllTimers']);

export interface HaCall {
  intent: string;
  /** Entity domain (from the entity a name refers to, requires_context, or the template's fixed `domain` slot). */
  domain?: string;
  /** Slot name → value (the list's `out` value). */
  slots: Record<string, string | number>;
}

function conditionHolds(c: SlotCondition, slots: HaCall['slots']): boolean {
  const v = slots[c.slot];
  if (v === undefined) return false;
  if (c.present) return true;
  if (c.oneOf) return c.oneOf.some((o) => o.toLowerCase() === String(v).toLowerCase());
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return false;
  if (c.atLeast !== undefined && n < c.atLeast) return false;
  if (c.below !== undefined && n >= c.below) return false;
  return true;
}

/** HA → hubnlu: the hubnlu label for a Home Assistant intent call, or undefined when hubnlu has none. */
export function hubnluIntentFor(call: HaCall): string | undefined {
  for (const row of INTENT_TABLE) {
    if (row.ha !== call.intent) continue;
    if (row.domains && (call.domain === undefined || !row.domains.includes(call.domain))) continue;
    if (row.when && !row.when.every((c) => conditionHolds(c, call.slots))) continue;
    return row.hubnlu;
  }
  return undefined;
}

/** HA → hubnlu: the hubnlu slot type for an HA slot in an intent, or undefined when it is dropped. */
export function hubnluSlotFor(haSlot: string, haIntent: string, value?: string | number): string | undefined {
  if (haSlot === 'name' && NAME_NOT_DEVICE.has(haIntent)) return undefined;
  for (const row of SLOT_TABLE) {
    if (row.ha !== haSlot) continue;
    if (row.intents && !row.intents.includes(haIntent)) continue;
    if (row.exceptValues && value !== undefined && row.exceptValues.includes(String(value))) return undefined;
    return row.hubnlu;
  }
  return undefined;
}

/** hubnlu → HA: the canonical Home Assistant intent (and domain to target) for a hubnlu label. */
export function haIntentFor(hubnlu: string): { intent: string; domain?: string } | undefined {
  const row = INTENT_TABLE.find((r) => r.hubnlu === hubnlu);
  if (!row) return undefined;
  return row.domains ? { intent: row.ha, domain: row.domains[0] } : { intent: row.ha };
}

/** hubnlu → HA: the Home Assistant slot name for a hubnlu slot type (the first row carrying it). */
export function haSlotFor(hubnluSlot: string): string | undefined {
  return SLOT_TABLE.find((r) => r.hubnlu === hubnluSlot)?.ha;
}

/** Every hubnlu intent label some Home Assistant intent maps to (the label set of the language models). */
export function mappedHubnluIntents(): string[] {
  return [...new Set(INTENT_TABLE.map((r) => r.hubnlu))].sort();
}
