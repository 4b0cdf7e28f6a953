/**
 * Slot F1 as `hubnlu eval` and the issue define it: a predicted slot is correct
 * when a gold slot of the same sentence has the same type and the same
 * normalised value (`normalizeSlotValue`, also applied to gold values);
 * precision, recall and F1 are micro-averaged over all predicted and gold slots.
 * Matching is per sentence and counts duplicates (multiset intersection).
 */
import { normalizeSlotValue, slotKey } from '../model/slot-values.js';

export interface SlotLike {
  readonly type: string;
  /** Raw span text; normalised here. */
  readonly raw: string;
}

export interface SlotCounts {
  tp: number;
  gold: number;
  pred: number;
}

export function emptySlotCounts(): SlotCounts {
  return { tp: 0, gold: 0, pred: 0 };
}

/** Adds one sentence's gold and predicted slots to `counts` (and to `perType` when given). */
export function addSlotCounts(
  counts: SlotCounts,
  gold: readonly SlotLike[],
  pred: readonly SlotLike[],
  perType?: Map<string, SlotCounts>,
): void {
  const bag = new Map<string, number>();
  const bump = (type: string, f: keyof SlotCounts): void => {
    if (!perType) return;
    let c = perType.get(type);
    if (!c) perType.set(type, (c = emptySlotCounts()));
    c[f]++;
  };
  for (const g of gold) {
    const k = slotKey(g.type, normalizeSlotValue(g.type, g.raw));
    bag.set(k, (bag.get(k) ?? 0) + 1);
    counts.gold++;
    bump(g.type, 'gold');
  }
  for (const p of pred) {
    counts.pred++;
    bump(p.type, 'pred');
    const k = slotKey(p.type, normalizeSlotValue(p.type, p.raw));
    const left = bag.get(k) ?? 0;
    if (left > 0) {
      bag.set(k, left - 1);
      counts.tp++;
      bump(p.type, 'tp');
    }
  }
}

export function slotPrf(c: SlotCounts): { precision: number; recall: number; f1: number } {
  const precision = c.pred ? c.tp / c.pred : 0;
  const recall = c.gold ? c.tp / c.gold : 0;
  const f1 = precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0;
  return { precision, recall, f1 };
}
