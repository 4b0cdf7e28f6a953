/**
 * The log's labelled inputs as dataset rows: what `hubnlu eval --from-log`,
 * `hubnlu report`, `hubnlu export` and household retraining read. A row is
 * the same `LabelledRow` a dataset file gives, plus what the live model said
 * at the time (for comparisons and reports).
 *
 * Gold slots come from label requests as `{type, value, raw?, start?, end?}`;
 * a slot without offsets is located in the text by `raw`, else by its value
 * (first match, case-insensitive). One that cannot be found is left out and
 * counted, never guessed.
 */
import type { Db } from '../store/database.js';
import { TASK_SPECS, type TaskName } from '../model/tasks.js';
import type { GoldSlot, LabelledRow } from './rows.js';

export interface LoggedRow extends LabelledRow {
  /** The log's sequence number and the input's id. */
  readonly seq: number;
  readonly id: string;
  readonly receivedAt: number;
  readonly siteId: string;
  readonly lang: string | null;
  /** What the live model answered, and which model (`name@version`). */
  readonly live: { readonly label: string | null; readonly confidence: number | null; readonly model: string | null };
  readonly labelledBy: string | null;
  readonly labelledAt: number | null;
  /** What the shadow model (models.shadow) answered for this input, when it did (`inputs.shadow_*`). */
  readonly shadow?: { readonly label: string | null; readonly model: string };
}

export interface LogRowFilter {
  /** Inputs received at or after this time (ms since epoch). */
  readonly since?: number;
  /** Only inputs the live model `name@version` (or just `name`) answered. */
  readonly model?: string;
  readonly lang?: string;
  readonly site?: string;
}

export interface LogRows {
  readonly rows: LoggedRow[];
  /** Gold slots left out because their text could not be found in the utterance. */
  readonly unlocatedSlots: number;
}

interface RawSlot {
  type?: unknown;
  value?: unknown;
  raw?: unknown;
  start?: unknown;
  end?: unknown;
}

/**
 * A gold slot with offsets in `text`, or null when it cannot be located. Offsets are used when they span the slot's
 * `raw` text (or, without one, its value; case aside); offsets that fit the text but span something else (written
 * by hand, off by one) are not trusted, and the slot is looked for by `raw`, then by value.
 */
export function locateSlot(text: string, s: RawSlot): GoldSlot | null {
  if (typeof s.type !== 'string' || (typeof s.value !== 'string' && typeof s.value !== 'number')) return null;
  const value = String(s.value);
  if (typeof s.start === 'number' && typeof s.end === 'number' && Number.isInteger(s.start) && Number.isInteger(s.end) && s.start >= 0 && s.end <= text.length && s.start < s.end) {
    const written = typeof s.raw === 'string' && s.raw ? s.raw : value;
    if (text.slice(s.start, s.end).toLowerCase() === written.toLowerCase()) return { type: s.type, value, start: s.start, end: s.end };
  }
  const lower = text.toLowerCase();
  for (const needle of [typeof s.raw === 'string' ? s.raw : null, value]) {
    if (!needle) continue;
    const at = lower.indexOf(needle.toLowerCase());
    if (at >= 0) return { type: s.type, value, start: at, end: at + needle.length };
  }
  return null;
}

/** Labelled inputs for `task`, oldest first. Rows without a gold label for the task are not returned. */
export function labelledRowsFromLog(db: Db, task: TaskName, filter: LogRowFilter = {}): LogRows {
  const spec = TASK_SPECS[task];
  const gold = `gold_${spec.labelField}`;
  const liveLabel = spec.resultField;
  const liveConfidence = task === 'intent' ? 'confidence' : 'sentiment_score';
  const liveModel = `${task}_model`;
  const where = [`${gold} IS NOT NULL`, `text IS NOT NULL`];
  const params: Record<string, unknown> = {};
  if (filter.since !== undefined) {
    where.push('received_at >= @since');
    params.since = filter.since;
  }
  if (filter.model !== undefined) {
    where.push(filter.model.includes('@') ? `${liveModel} = @model` : `${liveModel} LIKE @model || '@%'`);
    params.model = filter.model;
  }
  if (filter.lang !== undefined) {
    where.push('lang = @lang');
    params.lang = filter.lang;
  }
  if (filter.site !== undefined) {
    where.push('site_id = @site');
    params.site = filter.site;
  }
  // The shadow columns arrive with migration 5; a read-only database from before has none.
  const shadowed = (db.prepare(`SELECT count(*) FROM pragma_table_info('inputs') WHERE name = 'shadow_model'`).pluck().get() as number) > 0;
  const shadowCols = shadowed ? `, shadow_${spec.resultField} AS shadow_label, shadow_model` : '';
  const raw = db
    .prepare(
      `SELECT seq, id, received_at, site_id, lang, text, ${gold} AS gold, gold_slots, gold_by, gold_at,
              ${liveLabel} AS live_label, ${liveConfidence} AS live_confidence, ${liveModel} AS live_model${shadowCols}
         FROM inputs WHERE ${where.join(' AND ')} ORDER BY seq`,
    )
    .all(params) as Array<Record<string, unknown>>;
  let unlocatedSlots = 0;
  const rows = raw.map((r): LoggedRow => {
    const text = r.text as string;
    const slots: GoldSlot[] = [];
    if (spec.hasSlots && typeof r.gold_slots === 'string') {
      const parsed = JSON.parse(r.gold_slots) as unknown;
      for (const s of Array.isArray(parsed) ? (parsed as RawSlot[]) : []) {
        const located = locateSlot(text, s);
        // Dataset slots hold the text as written (what the tagger trains on, and what readRows checks), not the value
        // as the labeller typed it ("kitchen" for "Kitchen", 21 for "21 degrees"), as in `hubnlu export`.
        if (located) slots.push({ ...located, value: text.slice(located.start, located.end) });
        else unlocatedSlots++;
      }
    }
    return {
      text,
      label: r.gold as string,
      slots,
      source: `log#${r.seq as number}`,
      seq: r.seq as number,
      id: r.id as string,
      receivedAt: r.received_at as number,
      siteId: r.site_id as string,
      lang: (r.lang as string | null) ?? null,
      live: {
        label: (r.live_label as string | null) ?? null,
        confidence: (r.live_confidence as number | null) ?? null,
        model: (r.live_model as string | null) ?? null,
      },
      labelledBy: (r.gold_by as string | null) ?? null,
      labelledAt: (r.gold_at as number | null) ?? null,
      ...(typeof r.shadow_model === 'string' ? { shadow: { label: (r.shadow_label as string | null) ?? null, model: r.shadow_model } } : {}),
    };
  });
  return { rows, unlocatedSlots };
}
