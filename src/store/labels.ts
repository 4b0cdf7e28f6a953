/**
 * Reading what labelling needs: the input a label is for (by payload id or by
 * log sequence number) and every label it has had. Writing goes through
 * `LogStore.label`, the one writer of gold labels (bridge, CLI, review).
 */
import type { Db } from './database.js';

/** `#123` (or `seq:123`) names an input by its log sequence number; anything else is an input id. */
export type InputRef = string | { readonly seq: number };

export function parseInputRef(text: string): InputRef {
  const m = /^(?:#|seq:)(\d+)$/.exec(text.trim());
  return m ? { seq: Number(m[1]) } : text;
}

export function describeRef(ref: InputRef): string {
  return typeof ref === 'string' ? `id ${JSON.stringify(ref)}` : `#${ref.seq}`;
}

export interface LabelTarget {
  readonly seq: number;
  readonly id: string;
  readonly status: string;
  readonly text: string | null;
  readonly lang: string | null;
  readonly siteId: string;
  readonly receivedAt: number;
  readonly intent: string | null;
  readonly confidence: number | null;
  readonly sentiment: string | null;
  readonly intentModel: string | null;
}

export type FindOutcome =
  | { readonly ok: true; readonly target: LabelTarget }
  | { readonly ok: false; readonly code: 'not_found' | 'ambiguous' | 'pending'; readonly message: string; readonly seqs?: readonly number[] };

const COLUMNS = `seq, id, status, text, lang, site_id AS siteId, received_at AS receivedAt, intent, confidence, sentiment, intent_model AS intentModel`;

function outcomeOf(ref: InputRef, rows: readonly LabelTarget[]): FindOutcome {
  if (rows.length === 0) return { ok: false, code: 'not_found', message: `no logged input with ${describeRef(ref)} (hubnlu logs --json shows ids and seq numbers)` };
  const answered = rows.filter((r) => r.status !== 'pending');
  if (answered.length === 0) return { ok: false, code: 'pending', message: `the input with ${describeRef(ref)} has not been answered yet; label it once it has` };
  if (answered.length > 1) {
    const seqs = answered.map((r) => r.seq).sort((a, b) => b - a);
    return { ok: false, code: 'ambiguous', seqs, message: `${answered.length} inputs have ${describeRef(ref)} (${seqs.map((s) => `#${s}`).join(', ')}); name one by its sequence number, e.g. #${seqs[0]}` };
  }
  return { ok: true, target: answered[0] };
}

/**
 * The input a label names. Only answered inputs (done, error, rejected) take
 * labels, as in `LogStore.label`; an id that several inputs share is
 * ambiguous (the message lists their `#seq` so the caller can pick one).
 */
export function findLabelTarget(db: Db, ref: InputRef): FindOutcome {
  return findLabelTargets(db, [ref]).get(keyOf(ref))!;
}

export const keyOf = (ref: InputRef): string => (typeof ref === 'string' ? `id:${ref}` : `#${ref.seq}`);

/**
 * Many at once (an import): ids are not indexed for every input (assigned
 * ids are not), so each lookup alone would scan the table; batches of ids
 * cost one scan each. Keyed by `keyOf(ref)`.
 */
export function findLabelTargets(db: Db, refs: readonly InputRef[], batch = 5000): Map<string, FindOutcome> {
  const found = new Map<string, LabelTarget[]>();
  const ids = [...new Set(refs.filter((r): r is string => typeof r === 'string'))];
  const seqs = [...new Set(refs.filter((r): r is { seq: number } => typeof r !== 'string').map((r) => r.seq))];
  for (const [column, values] of [['id', ids], ['seq', seqs]] as const) {
    for (let i = 0; i < values.length; i += batch) {
      const chunk = values.slice(i, i + batch);
      const rows = db.prepare(`SELECT ${COLUMNS} FROM inputs WHERE ${column} IN (${chunk.map(() => '?').join(',')})`).all(...chunk) as LabelTarget[];
      for (const r of rows) {
        const key = column === 'id' ? `id:${r.id}` : `#${r.seq}`;
        found.set(key, [...(found.get(key) ?? []), r]);
      }
    }
  }
  return new Map(refs.map((ref) => [keyOf(ref), outcomeOf(ref, found.get(keyOf(ref)) ?? [])]));
}

export interface LabelVersion {
  readonly intent: string | null;
  readonly slots: unknown;
  readonly sentiment: string | null;
  readonly by: string | null;
  /** When this label was given (ms since the epoch). */
  readonly at: number | null;
  /** When and by whom a newer label replaced it (absent for the current label). */
  readonly replacedAt?: number;
  readonly replacedBy?: string | null;
}

const parse = (cell: string | null): unknown => {
  if (cell === null) return null;
  try {
    return JSON.parse(cell);
  } catch {
    return cell;
  }
};

/** Every label the input has had, oldest first; the last entry is the current one (absent when it never had one). */
export function labelHistory(db: Db, seq: number): LabelVersion[] {
  // A database from before migration 4 (read-only, so not migrated) has no label_history: only the current label.
  const versioned = db.prepare(`SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'label_history'`).get() !== undefined;
  type Replaced = { gold_intent: string | null; gold_slots: string | null; gold_sentiment: string | null; gold_by: string | null; gold_at: number | null; replaced_at: number; replaced_by: string | null };
  const old = versioned
    ? (db.prepare(`SELECT gold_intent, gold_slots, gold_sentiment, gold_by, gold_at, replaced_at, replaced_by FROM label_history WHERE input_seq = ? ORDER BY seq`).all(seq) as Replaced[])
    : [];
  const out: LabelVersion[] = old.map((r) => ({
    intent: r.gold_intent,
    slots: parse(r.gold_slots),
    sentiment: r.gold_sentiment,
    by: r.gold_by,
    at: r.gold_at,
    replacedAt: r.replaced_at,
    replacedBy: r.replaced_by,
  }));
  const current = db.prepare(`SELECT gold_intent, gold_slots, gold_sentiment, gold_by, gold_at FROM inputs WHERE seq = ?`).get(seq) as
    | { gold_intent: string | null; gold_slots: string | null; gold_sentiment: string | null; gold_by: string | null; gold_at: number | null }
    | undefined;
  if (current && (current.gold_at !== null || current.gold_intent !== null || current.gold_slots !== null || current.gold_sentiment !== null)) {
    out.push({ intent: current.gold_intent, slots: parse(current.gold_slots), sentiment: current.gold_sentiment, by: current.gold_by, at: current.gold_at });
  }
  return out;
}

/** Gold intent labels already in the log (a household's own intents count as known once labelled). */
export function loggedGoldIntents(db: Db): Set<string> {
  return new Set(db.prepare(`SELECT DISTINCT gold_intent FROM inputs WHERE gold_intent IS NOT NULL`).pluck().all() as string[]);
}
