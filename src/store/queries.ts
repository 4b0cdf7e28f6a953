/**
 * Read-only queries over the `inputs` table, for people: `hubnlu logs` and
 * `hubnlu stats`. Nothing here writes; the CLI opens the database read-only so
 * it can run next to the agent.
 *
 * Sized for a hub that has logged ~1M inputs: every aggregate is one indexed
 * (`received_at`) or sequential scan in SQLite, and percentiles sort only the
 * latency column, pulled as plain numbers.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { openDatabase, SchemaTooNewError, type Db } from './database.js';
import type { InputStatus } from './log-store.js';
import { SCHEMA_VERSION } from './migrations.js';

export const INPUT_STATUSES: readonly InputStatus[] = ['pending', 'done', 'rejected', 'error'];

/** Raised when a database to read cannot be used; the message names the file and the fix. */
export class LogDatabaseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LogDatabaseError';
  }
}

/**
 * Opens an existing hubnlu database read-only and checks its schema version.
 * Never creates a file: a missing or foreign file is a `LogDatabaseError`, a newer schema a `SchemaTooNewError`.
 */
export function openLogDatabase(path: string): Db {
  if (!existsSync(path)) {
    throw new LogDatabaseError(`${path}: no database there (start the agent once with \`hubnlu run\`, or point --db / storage.path at an existing file)`);
  }
  if (statSync(path).isDirectory()) {
    // SQLite's own word for a directory is "disk I/O error".
    const inside = join(path, 'hubnlu.db');
    throw new LogDatabaseError(`${path}: a directory, not a database file; ${existsSync(inside) ? `did you mean --db ${inside}?` : 'point --db / storage.path at the database file'}`);
  }
  let db: Db | undefined;
  try {
    db = openDatabase(path, { readonly: true });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > SCHEMA_VERSION) throw new SchemaTooNewError(path, version);
    if (version === 0) {
      throw new LogDatabaseError(`${path}: not a hubnlu database (no schema; is --db / storage.path the right file?)`);
    }
    return db;
  } catch (err) {
    db?.close();
    if (err instanceof SchemaTooNewError || err instanceof LogDatabaseError) throw err;
    // SQLITE_NOTADB and friends: say which file, keep SQLite's words.
    throw new LogDatabaseError(`${path}: cannot read the database: ${(err as Error).message} (is it a hubnlu SQLite file?)`);
  }
}

// ---------------------------------------------------------------------------
// --since

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };
const DURATION_RE = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d|w)$/i;
/** ISO 8601 date or date-time; `Date.parse` alone would also accept "1" or "May 5". */
const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))?)?$/i;

/** What is impossible about an ISO date matched by `ISO_RE` (month 13, February 30, hour 24, …), or null. */
function impossibleDate(m: RegExpExecArray): string | null {
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12) return `month ${m[2]} does not exist`;
  const last = new Date(0);
  last.setUTCFullYear(year, month, 0); // day 0 of the next month: the last day of this one (setUTCFullYear keeps years < 100 as they are)
  const days = last.getUTCDate();
  if (day < 1 || day > days) return `${m[1]}-${m[2]} has ${days} days, not ${day}`;
  if (m[4] !== undefined && Number(m[4]) > 23) return `hour ${m[4]} (00–23)`;
  if (m[5] !== undefined && Number(m[5]) > 59) return `minute ${m[5]} (00–59)`;
  if (m[6] !== undefined && Number(m[6]) > 59) return `second ${m[6]} (00–59)`;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return `time zone offset ${m[7]}:${m[8]}`;
  return null;
}

/**
 * `--since` → a cutoff in ms since the epoch: a duration back from `now`
 * (`90s`, `30m`, `1h`, `2d`, `1w`) or an ISO date (`2024-05-01`, UTC) or
 * date-time (`2024-05-01T08:00:00Z`; without an offset it is local time).
 * Throws an `Error` whose message says what is accepted.
 */
export function parseSince(value: string, now: number = Date.now()): number {
  const text = value.trim();
  const expected = 'expected a duration such as 90s, 30m, 1h, 2d or an ISO date such as 2024-05-01 or 2024-05-01T08:00:00Z';
  const duration = DURATION_RE.exec(text);
  if (duration) {
    const amount = Number(duration[1]);
    if (amount <= 0) throw new Error(`since ${JSON.stringify(value)}: the duration must be greater than zero (${expected})`);
    return now - amount * UNIT_MS[duration[2].toLowerCase()];
  }
  const iso = ISO_RE.exec(text);
  if (iso) {
    // Date.parse rolls impossible dates over (2024-02-31 → March 2): check each field first.
    const problem = impossibleDate(iso);
    if (problem) throw new Error(`since ${JSON.stringify(value)}: not a real date: ${problem} (${expected})`);
    const ms = Date.parse(text.replace(' ', 'T'));
    if (Number.isNaN(ms)) throw new Error(`since ${JSON.stringify(value)}: not a real date (${expected})`);
    return ms;
  }
  if (/^\d+(?:\.\d+)?$/.test(text)) {
    throw new Error(`since ${JSON.stringify(value)}: a number needs a unit, e.g. ${text}m or ${text}h (${expected})`);
  }
  throw new Error(`since ${JSON.stringify(value)}: not understood (${expected})`);
}

/**
 * A `since` as users give it, the same everywhere (the CLI's `--since`, the bridge `stats` request): `all` (any
 * case) for no time limit, else what parseSince takes. A sentinel rather than `undefined` so that callers can tell
 * "all" from "not given" (their defaults differ: `hubnlu stats` shows 24 h).
 */
export const ALL_TIME = 'all';
export type Since = number | typeof ALL_TIME;

export function parseSinceOrAll(value: string, now: number = Date.now()): Since {
  if (value.trim().toLowerCase() === ALL_TIME) return ALL_TIME;
  try {
    return parseSince(value, now);
  } catch (err) {
    throw new Error(`${(err as Error).message}; or "all" for no time limit`);
  }
}

// ---------------------------------------------------------------------------
// logs

export interface LogFilter {
  /** Only rows received at or after this time (ms since the epoch). */
  readonly sinceMs?: number;
  readonly site?: string;
  readonly intent?: string;
  readonly status?: InputStatus;
  readonly limit: number;
}

export interface LogEntry {
  readonly seq: number;
  readonly id: string;
  readonly receivedAt: number;
  readonly completedAt: number | null;
  readonly topic: string;
  readonly siteId: string;
  readonly sessionId: string | null;
  readonly lang: string | null;
  readonly text: string | null;
  readonly status: InputStatus;
  readonly tasks: string[];
  readonly intent: { name: string; confidence: number | null } | null;
  readonly alternatives: unknown;
  readonly slots: unknown;
  readonly sentiment: { label: string; score: number | null; scores: unknown } | null;
  readonly models: { intent: string | null; sentiment: string | null };
  readonly latencyMs: number | null;
  readonly inferenceMs: number | null;
  readonly error: { code: string; message: string | null } | null;
  readonly request: unknown;
  readonly payloadExcerpt: string | null;
  readonly gold: { intent: string | null; slots: unknown; sentiment: string | null; by: string | null; at: number | null } | null;
}

interface InputRow {
  seq: number;
  id: string;
  received_at: number;
  completed_at: number | null;
  topic: string;
  site_id: string;
  session_id: string | null;
  lang: string | null;
  text: string | null;
  status: InputStatus;
  tasks: string | null;
  intent: string | null;
  confidence: number | null;
  alternatives: string | null;
  slots: string | null;
  sentiment: string | null;
  sentiment_score: number | null;
  sentiment_scores: string | null;
  intent_model: string | null;
  sentiment_model: string | null;
  latency_ms: number | null;
  inference_ms: number | null;
  error_code: string | null;
  error_message: string | null;
  request: string | null;
  payload_excerpt: string | null;
  gold_intent: string | null;
  gold_slots: string | null;
  gold_sentiment: string | null;
  gold_by: string | null;
  gold_at: number | null;
}

/** A JSON column as a value; a cell that is not JSON (edited by hand in sqlite3) comes back as its text. */
function parseJson(cell: string | null): unknown {
  if (cell === null) return null;
  try {
    return JSON.parse(cell);
  } catch {
    return cell;
  }
}

function toEntry(r: InputRow): LogEntry {
  const hasGold = r.gold_intent !== null || r.gold_slots !== null || r.gold_sentiment !== null;
  const tasks = parseJson(r.tasks);
  return {
    seq: r.seq,
    id: r.id,
    receivedAt: r.received_at,
    completedAt: r.completed_at,
    topic: r.topic,
    siteId: r.site_id,
    sessionId: r.session_id,
    lang: r.lang,
    text: r.text,
    status: r.status,
    tasks: Array.isArray(tasks) ? (tasks as string[]) : [],
    intent: r.intent === null ? null : { name: r.intent, confidence: r.confidence },
    alternatives: parseJson(r.alternatives),
    slots: parseJson(r.slots),
    sentiment: r.sentiment === null ? null : { label: r.sentiment, score: r.sentiment_score, scores: parseJson(r.sentiment_scores) },
    models: { intent: r.intent_model, sentiment: r.sentiment_model },
    latencyMs: r.latency_ms,
    inferenceMs: r.inference_ms,
    error: r.error_code === null ? null : { code: r.error_code, message: r.error_message },
    request: parseJson(r.request),
    payloadExcerpt: r.payload_excerpt,
    gold: hasGold ? { intent: r.gold_intent, slots: parseJson(r.gold_slots), sentiment: r.gold_sentiment, by: r.gold_by, at: r.gold_at } : null,
  };
}

/** The newest rows matching every given filter, newest first. */
export function queryLogs(db: Db, filter: LogFilter): LogEntry[] {
  if (!Number.isInteger(filter.limit) || filter.limit < 1) throw new RangeError(`limit must be a whole number >= 1 (got ${filter.limit})`);
  const where: string[] = [];
  const params: unknown[] = [];
  if (filter.sinceMs !== undefined) {
    where.push('received_at >= ?');
    params.push(filter.sinceMs);
  }
  if (filter.site !== undefined) {
    where.push('site_id = ?');
    params.push(filter.site);
  }
  if (filter.intent !== undefined) {
    where.push('intent = ?');
    params.push(filter.intent);
  }
  if (filter.status !== undefined) {
    where.push('status = ?');
    params.push(filter.status);
  }
  const sql = `SELECT * FROM inputs ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY received_at DESC, seq DESC LIMIT ?`;
  const rows = db.prepare(sql).all(...params, filter.limit) as InputRow[];
  return rows.map(toEntry);
}

// ---------------------------------------------------------------------------
// stats

export interface StatsOptions {
  readonly sinceMs?: number;
  /** How many intents to list by name; the rest are summed in `intents.otherCount`. Default 10. */
  readonly topIntents?: number;
}

export interface Share {
  readonly count: number;
  /** count / the total it is a share of, 0..1. */
  readonly share: number;
}

export interface Stats {
  readonly sinceMs: number | null;
  readonly total: number;
  readonly byStatus: Record<InputStatus, number>;
  readonly firstReceivedAt: number | null;
  readonly lastReceivedAt: number | null;
  /** Over `done` rows that carry an intent (inputs that ran the intent task). */
  readonly intents: {
    readonly total: number;
    readonly distinct: number;
    readonly top: ReadonlyArray<{ readonly name: string } & Share>;
    readonly otherCount: number;
  };
  /** Over `done` rows that carry a sentiment label. */
  readonly sentiment: { readonly total: number; readonly labels: ReadonlyArray<{ readonly label: string } & Share> };
  /** Over `done` rows; nearest-rank percentiles (each is a latency that was observed), ms. */
  readonly latencyMs: {
    readonly count: number;
    readonly p50: number | null;
    readonly p90: number | null;
    readonly p99: number | null;
    readonly max: number | null;
    readonly mean: number | null;
  };
  /** `rejected` + `error` rows; `rate` is their share of all rows in the window. */
  readonly errors: {
    readonly count: number;
    readonly rate: number;
    readonly rejected: number;
    readonly failed: number;
    readonly byCode: ReadonlyArray<{ readonly code: string; readonly count: number }>;
  };
  /** Rows per combination of model versions (rows that ran no model are not counted). */
  readonly models: ReadonlyArray<{ readonly intent: string | null; readonly sentiment: string | null; readonly count: number }>;
}

/**
 * Nearest-rank percentile of an ascending array: the smallest value with at
 * least p% of the values at or below it (rank ⌈p/100·n⌉, 1-based).
 */
export function nearestRank(sorted: ArrayLike<number>, p: number): number | null {
  if (sorted.length === 0) return null;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

const ratio = (n: number, of: number): number => (of === 0 ? 0 : n / of);

/** Most frequent first; ties by name so the output is stable. */
function byCountDesc(counts: Map<string, number>): Array<{ key: string; count: number }> {
  return [...counts].map(([key, count]) => ({ key, count })).sort((a, b) => b.count - a.count || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

export function computeStats(db: Db, opts: StatsOptions = {}): Stats {
  // One read transaction: every figure comes from the same snapshot while the agent keeps writing (WAL).
  return db.transaction(() => statsIn(db, opts))();
}

function statsIn(db: Db, opts: StatsOptions): Stats {
  const since = opts.sinceMs ?? null;
  const topN = opts.topIntents ?? 10;
  // `? IS NULL OR received_at >= ?` would stop SQLite from using the received_at index; build the clause instead.
  const window = since === null ? '1' : 'received_at >= @since';
  const params = since === null ? {} : { since };
  const all = <T>(sql: string): T[] => db.prepare(sql).all(params) as T[];
  const get = <T>(sql: string): T => db.prepare(sql).get(params) as T;

  // One grouped scan yields every count; the groups (statuses × intents × labels × codes × model versions)
  // number in the hundreds, so folding them in JS is cheap; one sort of the table instead of five.
  const groups = all<{ status: InputStatus; intent: string | null; sentiment: string | null; code: string | null; intentModel: string | null; sentimentModel: string | null; n: number }>(
    `SELECT status, intent, sentiment, error_code AS code, intent_model AS intentModel, sentiment_model AS sentimentModel, count(*) AS n
     FROM inputs WHERE ${window} GROUP BY 1, 2, 3, 4, 5, 6`,
  );
  const byStatus: Record<InputStatus, number> = { pending: 0, done: 0, rejected: 0, error: 0 };
  const intentCounts = new Map<string, number>();
  const sentimentCounts = new Map<string, number>();
  const codeCounts = new Map<string, number>();
  const modelCounts = new Map<string, { intent: string | null; sentiment: string | null; count: number }>();
  const add = (map: Map<string, number>, key: string, n: number) => map.set(key, (map.get(key) ?? 0) + n);
  for (const g of groups) {
    byStatus[g.status] += g.n;
    if (g.status === 'done' && g.intent !== null) add(intentCounts, g.intent, g.n);
    if (g.status === 'done' && g.sentiment !== null) add(sentimentCounts, g.sentiment, g.n);
    if ((g.status === 'rejected' || g.status === 'error') && g.code !== null) add(codeCounts, g.code, g.n);
    if (g.intentModel !== null || g.sentimentModel !== null) {
      const key = JSON.stringify([g.intentModel, g.sentimentModel]);
      const entry = modelCounts.get(key) ?? { intent: g.intentModel, sentiment: g.sentimentModel, count: 0 };
      entry.count += g.n;
      modelCounts.set(key, entry);
    }
  }
  const total = byStatus.pending + byStatus.done + byStatus.rejected + byStatus.error;
  // Two scalar subqueries: each is one index probe, where min() and max() in one SELECT would scan the index.
  const range = get<{ first: number | null; last: number | null }>(
    `SELECT (SELECT min(received_at) FROM inputs WHERE ${window}) AS first, (SELECT max(received_at) FROM inputs WHERE ${window}) AS last`,
  );

  const intentRows = byCountDesc(intentCounts);
  const intentTotal = intentRows.reduce((s, r) => s + r.count, 0);
  const top = intentRows.slice(0, topN).map((r) => ({ name: r.key, count: r.count, share: ratio(r.count, intentTotal) }));
  const sentimentRows = byCountDesc(sentimentCounts);
  const sentimentTotal = sentimentRows.reduce((s, r) => s + r.count, 0);

  // Only the latency column crosses into JS, as plain numbers, sorted once as a typed array.
  const latencies = Float64Array.from(
    db
      .prepare(`SELECT latency_ms FROM inputs WHERE ${window} AND status = 'done' AND latency_ms IS NOT NULL`)
      .pluck()
      .all(params) as number[],
  ).sort();
  let sum = 0;
  for (const x of latencies) sum += x;

  const errorCount = byStatus.rejected + byStatus.error;
  return {
    sinceMs: since,
    total,
    byStatus,
    firstReceivedAt: range.first,
    lastReceivedAt: range.last,
    intents: { total: intentTotal, distinct: intentRows.length, top, otherCount: intentTotal - top.reduce((s, r) => s + r.count, 0) },
    sentiment: { total: sentimentTotal, labels: sentimentRows.map((r) => ({ label: r.key, count: r.count, share: ratio(r.count, sentimentTotal) })) },
    latencyMs: {
      count: latencies.length,
      p50: nearestRank(latencies, 50),
      p90: nearestRank(latencies, 90),
      p99: nearestRank(latencies, 99),
      max: latencies.length ? latencies[latencies.length - 1] : null,
      mean: latencies.length ? sum / latencies.length : null,
    },
    errors: {
      count: errorCount,
      rate: ratio(errorCount, total),
      rejected: byStatus.rejected,
      failed: byStatus.error,
      byCode: byCountDesc(codeCounts).map((r) => ({ code: r.key, count: r.count })),
    },
    models: [...modelCounts.values()].sort((a, b) => b.count - a.count),
  };
}
