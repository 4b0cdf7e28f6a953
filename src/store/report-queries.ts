/**
 * What `hubnlu report` reads from the log besides the labelled rows: the
 * latency of answered inputs and the volume of inputs over time, by status.
 * Read-only; one read transaction, so both come from one snapshot.
 */
import type { Db } from './database.js';
import type { InputStatus } from './log-store.js';
import { INPUT_STATUSES } from './queries.js';

/** Upper edges of the latency histogram's buckets, ms (the last bucket is everything above the last edge). */
export const LATENCY_EDGES_MS: readonly number[] = [0.25, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

export interface Histogram {
  /** Bucket k holds values in (edges[k-1], edges[k]]; the last one values above the last edge. */
  readonly edges: readonly number[];
  readonly counts: readonly number[];
  readonly n: number;
}

export interface VolumePoint {
  /** Bucket start, ms since epoch (UTC). */
  readonly start: number;
  readonly counts: Readonly<Record<InputStatus, number>>;
}

export interface LogFigures {
  /** Receipt to result (`latency_ms`) and model time alone (`inference_ms`) of answered inputs. */
  readonly latency: { readonly endToEnd: Histogram; readonly inference: Histogram };
  readonly volume: { readonly bucket: 'hour' | 'day' | 'week'; readonly points: readonly VolumePoint[] };
  readonly total: number;
}

export function histogram(values: Iterable<number>, edges: readonly number[] = LATENCY_EDGES_MS): Histogram {
  const counts = new Array<number>(edges.length + 1).fill(0);
  let n = 0;
  for (const v of values) {
    let k = 0;
    while (k < edges.length && v > edges[k]) k++;
    counts[k]++;
    n++;
  }
  return { edges, counts, n };
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Hourly up to three days, daily up to 400 days, weekly beyond. */
export function volumeBucket(spanMs: number): { name: 'hour' | 'day' | 'week'; ms: number } {
  if (spanMs <= 3 * DAY) return { name: 'hour', ms: HOUR };
  if (spanMs <= 400 * DAY) return { name: 'day', ms: DAY };
  return { name: 'week', ms: 7 * DAY };
}

/** Latency and volume over the inputs received at or after `sinceMs` (all of them without it). */
export function logFigures(db: Db, sinceMs?: number): LogFigures {
  return db.transaction((): LogFigures => {
    const window = sinceMs === undefined ? '1' : 'received_at >= @since';
    const params = sinceMs === undefined ? {} : { since: sinceMs };
    const pluck = (column: string) =>
      db.prepare(`SELECT ${column} FROM inputs WHERE ${window} AND status = 'done' AND ${column} IS NOT NULL`).pluck().iterate(params) as Iterable<number>;
    const endToEnd = histogram(pluck('latency_ms'));
    const inference = histogram(pluck('inference_ms'));
    const range = db.prepare(`SELECT min(received_at) AS first, max(received_at) AS last, count(*) AS n FROM inputs WHERE ${window}`).get(params) as {
      first: number | null;
      last: number | null;
      n: number;
    };
    if (range.first === null || range.last === null) return { latency: { endToEnd, inference }, volume: { bucket: 'hour', points: [] }, total: 0 };
    const bucket = volumeBucket(range.last - range.first);
    const groups = db
      .prepare(`SELECT CAST(received_at / @bucket AS INTEGER) * @bucket AS start, status, count(*) AS n FROM inputs WHERE ${window} GROUP BY 1, 2 ORDER BY 1`)
      .all({ ...params, bucket: bucket.ms }) as Array<{ start: number; status: InputStatus; n: number }>;
    const byStart = new Map<number, Record<InputStatus, number>>();
    const first = Math.floor(range.first / bucket.ms) * bucket.ms;
    const last = Math.floor(range.last / bucket.ms) * bucket.ms;
    // Every bucket from the first input to the last, empty ones included (at most ~400 by volumeBucket's choice).
    for (let t = first; t <= last; t += bucket.ms) byStart.set(t, Object.fromEntries(INPUT_STATUSES.map((s) => [s, 0])) as Record<InputStatus, number>);
    for (const g of groups) {
      const c = byStart.get(g.start);
      if (c) c[g.status] += g.n;
    }
    return {
      latency: { endToEnd, inference },
      volume: { bucket: bucket.name, points: [...byStart].map(([start, counts]) => ({ start, counts })) },
      total: range.n,
    };
  })();
}
