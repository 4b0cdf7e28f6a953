/**
 * Intent names as events carry them: the model's own labels, or Home
 * Assistant's intent names (`HassTurnOff` with `area`/`name`/`domain` slots)
 * through the mapping table shipped with the model (src/data/ha-intents.ts), so
 * an automation can act on an event without a translation layer.
 */
import type { SlotResult } from '../../model/types.js';
import { HA_INTENTS, HA_SLOT_NAMES, type HaIntentMapping } from '../../data/ha-intents.js';
import { slotObject } from './slots.js';

export interface NamedIntent {
  readonly name: string;
  readonly slots: Record<string, string | number>;
}

export interface IntentNamer {
  name(intent: string, slots: readonly SlotResult[]): NamedIntent;
  /** The event types for a model's labels (no duplicates, model order). */
  eventTypes(labels: readonly string[]): string[];
}

export const nativeNamer: IntentNamer = {
  name: (intent, slots) => ({ name: intent, slots: slotObject(slots) }),
  eventTypes: (labels) => unique(labels),
};

export function homeAssistantNamer(
  table: readonly HaIntentMapping[] = HA_INTENTS,
  slotNames: Readonly<Record<string, string>> = HA_SLOT_NAMES,
): IntentNamer {
  const byIntent = new Map(table.map((m) => [m.intent, m]));
  return {
    name(intent, slots) {
      const mapping = byIntent.get(intent);
      if (!mapping) return { name: intent, slots: slotObject(slots) };
      const named: Record<string, string | number> = {};
      for (const slot of slots) {
        const name = mapping.slots?.[slot.type] ?? slotNames[slot.type];
        if (name && !(name in named)) named[name] = slot.value;
      }
      // Fixed slots say what the hubnlu intent implies (iot_hue_lightoff: domain light); they win over tagged ones.
      return { name: mapping.haIntent, slots: { ...named, ...mapping.fixedSlots } };
    },
    eventTypes: (labels) => unique(labels.map((l) => byIntent.get(l)?.haIntent ?? l)),
  };
}

function unique(labels: readonly string[]): string[] {
  return [...new Set(labels.filter((l) => l !== 'unknown'))];
}
