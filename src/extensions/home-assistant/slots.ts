import type { SlotResult } from '../../model/types.js';

/** Slots as an object, the shape Home Assistant's own intents carry (`{area: "kitchen", domain: "light"}`). The first value of a type wins. */
export function slotObject(slots: readonly SlotResult[]): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const slot of slots) if (!(slot.type in out)) out[slot.type] = slot.value;
  return out;
}
