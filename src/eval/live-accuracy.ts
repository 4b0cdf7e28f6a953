/**
 * Live accuracy per model version over time (`hubnlu stats --by-model`):
 * for each labelled input, was the answer the live model published the gold
 * label? Grouped by the model that answered (`name@version`) and by UTC day.
 * The live answer is what users got, so an intent below the unknown threshold
 * counts as `unknown` (wrong unless the gold label is `unknown` too).
 */
import type { LoggedRow } from '../data/log-rows.js';
import { mcnemar } from './compare.js';

export interface AccuracyCell {
  readonly n: number;
  readonly correct: number;
  readonly accuracy: number;
}

export interface ModelAccuracy extends AccuracyCell {
  readonly model: string;
  readonly first: number;
  readonly last: number;
  /** One entry per UTC day with labelled inputs, oldest first. */
  readonly days: ReadonlyArray<AccuracyCell & { readonly day: string }>;
}

const cell = (n: number, correct: number): AccuracyCell => ({ n, correct, accuracy: n ? correct / n : 0 });

/** Models in the order they first answered; rows without a recorded model count under `(unknown model)`. */
export function liveAccuracyByModel(rows: readonly LoggedRow[]): ModelAccuracy[] {
  const byModel = new Map<string, { first: number; last: number; n: number; correct: number; days: Map<string, { n: number; correct: number }> }>();
  for (const r of rows) {
    const model = r.live.model ?? '(unknown model)';
    const ok = r.live.label === r.label;
    const day = new Date(r.receivedAt).toISOString().slice(0, 10);
    let m = byModel.get(model);
    if (!m) byModel.set(model, (m = { first: r.receivedAt, last: r.receivedAt, n: 0, correct: 0, days: new Map() }));
    m.first = Math.min(m.first, r.receivedAt);
    m.last = Math.max(m.last, r.receivedAt);
    m.n++;
    if (ok) m.correct++;
    const d = m.days.get(day) ?? { n: 0, correct: 0 };
    d.n++;
    if (ok) d.correct++;
    m.days.set(day, d);
  }
  return [...byModel]
    .sort((a, b) => a[1].first - b[1].first)
    .map(([model, m]) => ({
      model,
      first: m.first,
      last: m.last,
      ...cell(m.n, m.correct),
      days: [...m.days].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([day, d]) => ({ day, ...cell(d.n, d.correct) })),
    }));
}

/** The shadow model beside the live one on the same labelled inputs (those it answered). */
export interface ShadowComparison {
  /** The shadow model (`name@version`, intent and sentiment joined by `+`). */
  readonly model: string;
  /** Labelled inputs the shadow answered for this task. */
  readonly n: number;
  readonly shadow: AccuracyCell;
  /** The live answers on the same inputs. */
  readonly live: AccuracyCell;
  /** Inputs only the shadow, or only the live model, got right. */
  readonly onlyShadow: number;
  readonly onlyLive: number;
  /** McNemar's two-sided p on those two counts (compare.ts), 1 when they are equal or both 0. */
  readonly p: number;
}

/** Per shadow model, in the order it first answered: its accuracy and the live model's on the same inputs. */
export function shadowAccuracy(rows: readonly LoggedRow[]): ShadowComparison[] {
  const byModel = new Map<string, { shadow: boolean[]; live: boolean[] }>();
  for (const r of rows) {
    if (!r.shadow || r.shadow.label === null) continue; // no shadow answer for this task
    let m = byModel.get(r.shadow.model);
    if (!m) byModel.set(r.shadow.model, (m = { shadow: [], live: [] }));
    m.shadow.push(r.shadow.label === r.label);
    m.live.push(r.live.label === r.label);
  }
  return [...byModel].map(([model, m]) => {
    const test = mcnemar(m.shadow, m.live);
    const right = (xs: boolean[]) => xs.filter(Boolean).length;
    return { model, n: m.shadow.length, shadow: cell(m.shadow.length, right(m.shadow)), live: cell(m.live.length, right(m.live)), onlyShadow: test.onlyA, onlyLive: test.onlyB, p: test.p };
  });
}
