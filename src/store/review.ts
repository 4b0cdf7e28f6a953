/**
 * The review queue: unlabelled answered inputs, the ones most worth a
 * person's look first, each with the reasons it is there. One SQL pass over
 * the window (window functions give each input its neighbours at the same
 * site); reasons and their weights are applied here:
 *
 *   shadow_disagrees   the shadow model named another intent            3
 *   unknown            the live answer was `unknown`                    3
 *   repeated           the same text again at the same site within
 *                      `repeatWindowMs` (the first answer likely failed)  2.5
 *   negative_after     the next input at the site, within
 *                      `negativeWindowMs`, was negative ("no, not that") 2.5
 *   low_confidence     top confidence below `lowConfidence`             1 + (lowConfidence − c) / lowConfidence
 *   close_top2         top-1 and top-2 within `margin`                  1 + (margin − gap) / margin
 *
 * Ties go to the newer input. Inputs with any gold label are left out.
 */
import type { Db } from './database.js';

export interface ReviewOptions {
  readonly limit: number;
  readonly since?: number;
  /** Below this top confidence an answer is doubtful (default 0.6). */
  readonly lowConfidence?: number;
  /** Top-1 minus top-2 confidence below this is a close call (default 0.15). */
  readonly margin?: number;
  /** The same text at the same site within this many ms is a repeat (default 30 s). */
  readonly repeatWindowMs?: number;
  /** Negative sentiment at the same site within this many ms after a command (default 60 s). */
  readonly negativeWindowMs?: number;
}

export type ReasonCode = 'shadow_disagrees' | 'unknown' | 'repeated' | 'negative_after' | 'low_confidence' | 'close_top2';

export interface ReviewReason {
  readonly code: ReasonCode;
  /** For people: the numbers behind the reason. */
  readonly detail: string;
  readonly weight: number;
}

export interface ReviewItem {
  readonly seq: number;
  readonly id: string;
  readonly receivedAt: number;
  readonly siteId: string;
  readonly lang: string | null;
  readonly text: string;
  readonly intent: string | null;
  readonly confidence: number | null;
  readonly alternatives: ReadonlyArray<{ readonly name: string; readonly confidence: number }>;
  readonly slots: unknown;
  readonly sentiment: string | null;
  readonly model: string | null;
  readonly shadow?: { readonly intent: string | null; readonly model: string | null; readonly confidence: number | null };
  readonly reasons: readonly ReviewReason[];
  readonly score: number;
}

export const REVIEW_DEFAULTS = { lowConfidence: 0.6, margin: 0.15, repeatWindowMs: 30_000, negativeWindowMs: 60_000 } as const;

/** Whether `inputs` has a column (the shadow model's columns arrive with a later migration). */
export function hasColumn(db: Db, table: string, column: string): boolean {
  return (db.prepare(`SELECT name FROM pragma_table_info(?)`).pluck().all(table) as string[]).includes(column);
}

export function reviewQueue(db: Db, opts: ReviewOptions): ReviewItem[] {
  const low = opts.lowConfidence ?? REVIEW_DEFAULTS.lowConfidence;
  const margin = opts.margin ?? REVIEW_DEFAULTS.margin;
  const repeatMs = opts.repeatWindowMs ?? REVIEW_DEFAULTS.repeatWindowMs;
  const negativeMs = opts.negativeWindowMs ?? REVIEW_DEFAULTS.negativeWindowMs;
  const shadow = hasColumn(db, 'inputs', 'shadow_intent');
  const shadowCols = shadow ? ', shadow_intent, shadow_model, shadow_confidence' : '';
  const since = opts.since !== undefined ? 'AND received_at >= @since' : '';
  // One window (one sort by site and time) for every neighbour column; the normalised text computed once a row.
  const rows = db
    .prepare(
      `WITH base AS (
         SELECT seq, id, received_at, site_id, lang, text, intent, confidence, alternatives, slots, sentiment, intent_model,
                gold_at, gold_intent, gold_sentiment ${shadowCols}, lower(trim(text)) AS norm
           FROM inputs WHERE status = 'done' AND text IS NOT NULL ${since}
       ), w AS (
         SELECT *,
                LAG(norm) OVER site AS prev_norm, LAG(received_at) OVER site AS prev_at, LAG(seq) OVER site AS prev_seq,
                LEAD(norm) OVER site AS next_norm, LEAD(received_at) OVER site AS next_at, LEAD(seq) OVER site AS next_seq,
                LEAD(sentiment) OVER site AS next_sentiment, LEAD(text) OVER site AS next_text,
                -- One input in between ("open the garage", "no", "open the garage"): a repeat too.
                LAG(norm, 2) OVER site AS prev2_norm, LAG(received_at, 2) OVER site AS prev2_at, LAG(seq, 2) OVER site AS prev2_seq,
                LEAD(norm, 2) OVER site AS next2_norm, LEAD(received_at, 2) OVER site AS next2_at, LEAD(seq, 2) OVER site AS next2_seq
           FROM base WINDOW site AS (PARTITION BY site_id ORDER BY received_at, seq)
       )
       SELECT *,
              json_extract(alternatives, '$[0].confidence') AS top1,
              json_extract(alternatives, '$[1].confidence') AS top2
         FROM w
        WHERE gold_at IS NULL AND gold_intent IS NULL AND gold_sentiment IS NULL
          AND (intent = 'unknown'
               OR confidence < @low
               OR (next_norm = norm AND next_at - received_at <= @repeatMs)
               OR (prev_norm = norm AND received_at - prev_at <= @repeatMs)
               OR (next2_norm = norm AND next2_at - received_at <= @repeatMs)
               OR (prev2_norm = norm AND received_at - prev2_at <= @repeatMs)
               OR (next_sentiment = 'negative' AND next_at - received_at <= @negativeMs AND intent IS NOT NULL AND intent <> 'unknown')
               ${shadow ? 'OR (shadow_intent IS NOT NULL AND intent IS NOT NULL AND shadow_intent <> intent)' : ''}
               OR (json_extract(alternatives, '$[0].confidence') - json_extract(alternatives, '$[1].confidence')) < @margin)`,
    )
    .all({ ...(opts.since !== undefined ? { since: opts.since } : {}), low, margin, repeatMs, negativeMs }) as Array<Record<string, unknown>>;

  const items = rows.map((r): ReviewItem => {
    const reasons: ReviewReason[] = [];
    const intent = r.intent as string | null;
    const confidence = r.confidence as number | null;
    const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;
    if (shadow && r.shadow_intent !== null && intent !== null && r.shadow_intent !== intent) {
      reasons.push({ code: 'shadow_disagrees', detail: `the shadow model${r.shadow_model ? ` ${r.shadow_model as string}` : ''} said ${r.shadow_intent as string}`, weight: 3 });
    }
    if (intent === 'unknown') reasons.push({ code: 'unknown', detail: 'the live answer was unknown', weight: 3 });
    // The nearest repeat after, else the nearest before (the next input, or the one after it).
    const at = r.received_at as number;
    const after = [1, 2].map((k) => (k === 1 ? [r.next_norm, r.next_at, r.next_seq] : [r.next2_norm, r.next2_at, r.next2_seq])).find(([n, t]) => n === r.norm && (t as number) - at <= repeatMs);
    const before = [1, 2].map((k) => (k === 1 ? [r.prev_norm, r.prev_at, r.prev_seq] : [r.prev2_norm, r.prev2_at, r.prev2_seq])).find(([n, t]) => n === r.norm && at - (t as number) <= repeatMs);
    if (after) {
      reasons.push({ code: 'repeated', detail: `said again ${seconds((after[1] as number) - at)} later at the same site (#${after[2] as number})`, weight: 2.5 });
    } else if (before) {
      reasons.push({ code: 'repeated', detail: `a repeat of #${before[2] as number}, ${seconds(at - (before[1] as number))} earlier at the same site`, weight: 2.5 });
    }
    if (r.next_sentiment === 'negative' && (r.next_at as number) - (r.received_at as number) <= negativeMs && intent !== null && intent !== 'unknown') {
      reasons.push({ code: 'negative_after', detail: `followed ${seconds((r.next_at as number) - (r.received_at as number))} later by a negative ${JSON.stringify(r.next_text)} (#${r.next_seq as number})`, weight: 2.5 });
    }
    if (confidence !== null && confidence < low) reasons.push({ code: 'low_confidence', detail: `confidence ${confidence.toFixed(2)} < ${low}`, weight: 1 + (low - confidence) / low });
    const top1 = r.top1 as number | null;
    const top2 = r.top2 as number | null;
    if (top1 !== null && top2 !== null && top1 - top2 < margin) {
      reasons.push({ code: 'close_top2', detail: `top two ${(top1).toFixed(2)} and ${top2.toFixed(2)} (margin ${(top1 - top2).toFixed(2)} < ${margin})`, weight: 1 + (margin - (top1 - top2)) / margin });
    }
    let alternatives: ReviewItem['alternatives'] = [];
    try {
      const parsed = JSON.parse((r.alternatives as string | null) ?? '[]') as unknown;
      if (Array.isArray(parsed)) alternatives = parsed.filter((a) => typeof a?.name === 'string' && typeof a.confidence === 'number');
    } catch {
      // a hand-edited cell: no alternatives
    }
    let slots: unknown = null;
    try {
      slots = JSON.parse((r.slots as string | null) ?? 'null');
    } catch {
      slots = null;
    }
    return {
      seq: r.seq as number,
      id: r.id as string,
      receivedAt: r.received_at as number,
      siteId: r.site_id as string,
      lang: r.lang as string | null,
      text: r.text as string,
      intent,
      confidence,
      alternatives,
      slots,
      sentiment: r.sentiment as string | null,
      model: r.intent_model as string | null,
      ...(shadow ? { shadow: { intent: r.shadow_intent as string | null, model: r.shadow_model as string | null, confidence: r.shadow_confidence as number | null } } : {}),
      reasons: reasons.sort((a, b) => b.weight - a.weight),
      score: reasons.reduce((s, x) => s + x.weight, 0),
    };
  });
  return items.filter((i) => i.reasons.length > 0).sort((a, b) => b.score - a.score || b.receivedAt - a.receivedAt || b.seq - a.seq).slice(0, opts.limit);
}
