/**
 * The log as a dataset: `hubnlu export`. Each answered input with text
 * becomes one row in the dataset format (`{"text", "intent", "slots",
 * "sentiment"}`, what `hubnlu train --data` and `eval --data` read), the
 * label taken from the gold columns when someone labelled it; the live
 * model's answer stands in for it only when asked (`predicted`), and the row
 * says which (`label_source`). Every row also keeps its `id` and `seq`, so an
 * exported file, corrected by hand, imports back with `hubnlu label --import`.
 */
import type { Db } from '../store/database.js';
import { TASK_SPECS, type TaskName } from '../model/tasks.js';
import { locateSlot } from './log-rows.js';
import type { GoldSlot } from './rows.js';

export interface ExportOptions {
  /** Only rows with a gold label (for `task`, or any gold label without one). */
  readonly labelledOnly?: boolean;
  /** Rows without a gold label carry the live prediction as their label (`label_source: "predicted"`). */
  readonly predicted?: boolean;
  readonly since?: number;
  /** Only this task's label fields, and only rows that have one. */
  readonly task?: TaskName;
}

export interface ExportRow {
  readonly text: string;
  readonly intent?: string;
  readonly slots?: readonly GoldSlot[];
  readonly sentiment?: string;
  /** Where the label fields came from: `gold` (labelled), `predicted` (the live answer), or null (none). */
  readonly label_source: 'gold' | 'predicted' | null;
  readonly source: string;
  readonly id: string;
  readonly seq: number;
  readonly received_at: string;
  readonly site_id: string;
  readonly lang: string | null;
  /** What the live model answered. */
  readonly live: { readonly intent: string | null; readonly confidence: number | null; readonly sentiment: string | null; readonly model: string | null };
  readonly labelled_by?: string | null;
}

interface Raw {
  seq: number;
  id: string;
  received_at: number;
  site_id: string;
  lang: string | null;
  text: string;
  intent: string | null;
  confidence: number | null;
  slots: string | null;
  sentiment: string | null;
  intent_model: string | null;
  gold_intent: string | null;
  gold_slots: string | null;
  gold_sentiment: string | null;
  gold_by: string | null;
}

function slotsFrom(text: string, cell: string | null): GoldSlot[] | undefined {
  if (cell === null) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(cell);
  } catch {
    return undefined;
  }
  if (!Array.isArray(parsed)) return undefined;
  const out: GoldSlot[] = [];
  for (const s of parsed) {
    const located = locateSlot(text, s as Record<string, unknown>);
    // Dataset slots hold the text as written (the tagger's target), not a normalised value.
    if (located) out.push({ ...located, value: text.slice(located.start, located.end) });
  }
  return out;
}

/** The export rows, oldest first. A generator: a large log streams to the file without being held in memory. */
export function* exportRows(db: Db, opts: ExportOptions = {}): Generator<ExportRow> {
  const where = [`status = 'done'`, 'text IS NOT NULL'];
  const params: Record<string, unknown> = {};
  if (opts.since !== undefined) {
    where.push('received_at >= @since');
    params.since = opts.since;
  }
  const goldCols = opts.task ? [`gold_${TASK_SPECS[opts.task].labelField}`] : ['gold_intent', 'gold_sentiment'];
  if (opts.labelledOnly) where.push(`(${goldCols.map((c) => `${c} IS NOT NULL`).join(' OR ')})`);
  const stmt = db.prepare(
    `SELECT seq, id, received_at, site_id, lang, text, intent, confidence, slots, sentiment, intent_model,
            gold_intent, gold_slots, gold_sentiment, gold_by
       FROM inputs WHERE ${where.join(' AND ')} ORDER BY seq`,
  );
  const wantIntent = opts.task === undefined || opts.task === 'intent';
  const wantSentiment = opts.task === undefined || opts.task === 'sentiment';
  for (const r of stmt.iterate(params) as IterableIterator<Raw>) {
    const row: Record<string, unknown> = { text: r.text };
    let source: 'gold' | 'predicted' | null = null;
    if (wantIntent) {
      if (r.gold_intent !== null) {
        row.intent = r.gold_intent;
        const slots = slotsFrom(r.text, r.gold_slots);
        if (slots) row.slots = slots;
        source = 'gold';
      } else if (opts.predicted && !opts.labelledOnly && r.intent !== null) {
        row.intent = r.intent;
        row.slots = slotsFrom(r.text, r.slots) ?? [];
        source ??= 'predicted';
      }
    }
    if (wantSentiment) {
      if (r.gold_sentiment !== null) {
        row.sentiment = r.gold_sentiment;
        source = 'gold';
      } else if (opts.predicted && !opts.labelledOnly && r.sentiment !== null) {
        row.sentiment = r.sentiment;
        source ??= 'predicted';
      }
    }
    // With --task, a row without that task's label is no dataset row for it.
    if (opts.task && row[TASK_SPECS[opts.task].labelField] === undefined && (opts.labelledOnly || opts.predicted)) continue;
    yield {
      ...(row as { text: string }),
      label_source: source,
      source: `log#${r.seq}`,
      id: r.id,
      seq: r.seq,
      received_at: new Date(r.received_at).toISOString(),
      site_id: r.site_id,
      lang: r.lang,
      live: { intent: r.intent, confidence: r.confidence, sentiment: r.sentiment, model: r.intent_model },
      ...(source === 'gold' ? { labelled_by: r.gold_by } : {}),
    };
  }
}

export const CSV_COLUMNS = ['seq', 'id', 'received_at', 'site_id', 'lang', 'text', 'intent', 'slots', 'sentiment', 'label_source', 'live_intent', 'live_confidence', 'live_sentiment', 'model'] as const;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote, a line
 * break or edge spaces, quotes doubled. A field a spreadsheet would run as a
 * formula (starting with = + - @, tab or carriage return) gets a leading `'`
 * (OWASP's advice against CSV injection: utterances come from anyone who may
 * publish to the broker).
 */
export function csvField(value: unknown): string {
  if (value === null || value === undefined) return '';
  let s = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvLine(r: ExportRow): string {
  const cells: Record<(typeof CSV_COLUMNS)[number], unknown> = {
    seq: r.seq,
    id: r.id,
    received_at: r.received_at,
    site_id: r.site_id,
    lang: r.lang,
    text: r.text,
    intent: r.intent,
    slots: r.slots && r.slots.length ? r.slots.map((s) => ({ type: s.type, value: s.value, start: s.start, end: s.end })) : r.slots ? '' : undefined,
    sentiment: r.sentiment,
    label_source: r.label_source,
    live_intent: r.live.intent,
    live_confidence: r.live.confidence,
    live_sentiment: r.live.sentiment,
    model: r.live.model,
  };
  return CSV_COLUMNS.map((c) => csvField(cells[c])).join(',');
}
