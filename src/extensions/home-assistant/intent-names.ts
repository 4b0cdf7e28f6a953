/**
 * Intent names as events carry them: the model's own labels, or Home
 * Assistant's intent names (`HassTurnOff` with `area`/`name`/`domain` slots)
 * read from the one mapping table between Home Assistant and hubnlu
 * (src/corpus/ha-intents.ts, also used to train from Home Assistant's
 * templates), so an automation can act on an event without a translation layer.
 */
import { haIntentFor, haSlotFor } from '../../corpus/ha-intents.js';
import { UNKNOWN_INTENT, type SlotResult } from '../../model/types.js';
import { slotObject } from './slots.js';

export interface NamedIntent {
  readonly name: string;
  readonly slots: Record<string, string | number>;
}

export interface IntentNamer {
  name(intent: string, slots: readonly SlotResult[]): NamedIntent;
  /** The event types for a model's labels (no duplicates, model order, no `unknown`). */
  eventTypes(labels: readonly string[]): string[];
}

export const nativeNamer: IntentNamer = {
  name: (intent, slots) => ({ name: intent, slots: slotObject(slots) }),
  eventTypes: (labels) => unique(labels),
};

/**
 * Labels the table maps take its canonical Home Assistant intent, their slots
 * Home Assistant's slot names, and the domain the row targets (`iot_hue_lightoff`
 * → `HassTurnOff`, `domain: light`). Labels and slot types it does not map keep
 * hubnlu's names.
 */
export const homeAssistantNamer: IntentNamer = {
  name(intent, slots) {
    const mapped = haIntentFor(intent);
    if (!mapped) return { name: intent, slots: slotObject(slots) };
    const named: Record<string, string | number> = {};
    for (const slot of slots) {
      const name = haSlotFor(slot.type) ?? slot.type;
      if (!(name in named)) named[name] = slot.value;
    }
    // The domain the hubnlu label implies wins over a tagged one: it is what the label means.
    return { name: mapped.intent, slots: mapped.domain ? { ...named, domain: mapped.domain } : named };
  },
  eventTypes: (labels) => unique(labels.map((l) => haIntentFor(l)?.intent ?? l)),
};

function unique(labels: readonly string[]): string[] {
  return [...new Set(labels.filter((l) => l !== UNKNOWN_INTENT))];
}
