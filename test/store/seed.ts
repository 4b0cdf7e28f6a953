/** Builds real hubnlu databases for the query and CLI tests, through the same LogStore the agent writes with. */
import { openDatabase } from '../../src/store/database.js';
import { LogStore, type NewInput } from '../../src/store/log-store.js';

export interface SeedRow {
  readonly receivedAt: number;
  readonly site: string;
  readonly status: 'done' | 'rejected' | 'error' | 'pending';
  readonly text?: string;
  readonly id?: string;
  readonly intent?: string;
  readonly confidence?: number;
  readonly sentiment?: 'negative' | 'neutral' | 'positive';
  readonly latencyMs?: number;
  readonly code?: string;
  readonly intentModel?: string;
  readonly sentimentModel?: string;
  /** The live top three (default: the intent alone) and slots (default: none). */
  readonly alternatives?: ReadonlyArray<{ name: string; confidence: number }>;
  readonly slots?: readonly unknown[];
  readonly lang?: string;
  /** A gold label, written through LogStore.label after the result. */
  readonly gold?: { intent?: string; sentiment?: string; slots?: unknown; by?: string };
}

let counter = 0;

function newInput(r: SeedRow): NewInput {
  counter++;
  return {
    id: r.id ?? `seed-${counter}`,
    idSource: r.id ? 'payload' : 'assigned',
    deliveryKey: `key-${counter}`,
    receivedAt: r.receivedAt,
    topic: `hubnlu/${r.site}/utterance`,
    siteId: r.site,
    lang: r.lang,
    text: r.status === 'rejected' ? undefined : (r.text ?? `utterance ${counter}`),
    tasks: ['intent', 'sentiment'],
    resultTopic: `hubnlu/${r.site}/result`,
    request: { meta: { n: counter } },
    payloadExcerpt: r.status === 'rejected' ? (r.text ?? 'bad payload') : undefined,
  };
}

/** Writes `rows` into the database at `path` (created if absent) and closes it. */
export function seedDatabase(path: string, rows: readonly SeedRow[]): void {
  const db = openDatabase(path);
  try {
    const store = new LogStore(db);
    for (const r of rows) {
      const input = newInput(r);
      if (r.status === 'rejected') {
        const code = r.code ?? 'invalid_json';
        store.recordRejection(input, { code, message: `rejected: ${code}` }, [{ topic: `hubnlu/${r.site}/error`, payload: JSON.stringify({ code }) }]);
        continue;
      }
      const { seq } = store.recordInput(input);
      if (r.status === 'pending') continue;
      const scores = { negative: 0.1, neutral: 0.1, positive: 0.1, [r.sentiment ?? 'neutral']: 0.8 };
      store.completeMany([
        {
          seq,
          status: r.status,
          completedAt: r.receivedAt + Math.round(r.latencyMs ?? 0),
          intent: r.status === 'done' ? r.intent : undefined,
          confidence: r.status === 'done' ? r.confidence : undefined,
          alternatives: r.status === 'done' && r.intent ? (r.alternatives ?? [{ name: r.intent, confidence: r.confidence ?? 1 }]) : undefined,
          slots: r.status === 'done' ? (r.slots ?? []) : undefined,
          sentiment: r.status === 'done' ? r.sentiment : undefined,
          sentimentScore: r.status === 'done' && r.sentiment ? 0.8 : undefined,
          sentimentScores: r.status === 'done' && r.sentiment ? scores : undefined,
          intentModel: r.status === 'done' ? r.intentModel : undefined,
          sentimentModel: r.status === 'done' ? r.sentimentModel : undefined,
          latencyMs: r.latencyMs ?? 0,
          error: r.status === 'error' ? { code: r.code ?? 'model_error', message: 'the model failed' } : undefined,
          messages: [{ topic: `hubnlu/${r.site}/result`, payload: '{}' }],
        },
      ]);
      if (r.gold) store.label({ seq }, { ...r.gold, by: r.gold.by ?? 'seed', at: r.receivedAt + 1000 });
    }
  } finally {
    db.close();
  }
}

export interface BulkSeed {
  readonly total: number;
  /** Rows 0 .. expired-1 are received `oldAt` (+ their index, ms), the rest `recentAt` (+ index). */
  readonly expired: number;
  readonly oldAt: number;
  readonly recentAt: number;
  /** Every `pendingEvery`-th expired row is left pending (unanswered, no message). 0: none. */
  readonly pendingEvery?: number;
  /** Every `unsentEvery`-th expired row (not pending) keeps an unpublished message. 0: none. */
  readonly unsentEvery?: number;
  readonly site?: string;
}

/**
 * Writes `total` rows (and one outbox message per finished row) straight into the tables with one SQL statement
 * each, in one transaction: 100,000 rows in about a second. Ids are `bulk-<n>`, n from 0. Closes the database.
 */
export function seedBulk(path: string, s: BulkSeed): void {
  const db = openDatabase(path, { synchronous: 'normal' });
  try {
    const site = s.site ?? 'bulk';
    db.transaction(() => {
      db.prepare(
        `WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < @total)
         INSERT INTO inputs (id, id_source, delivery_key, received_at, completed_at, topic, site_id, text, tasks, result_topic, status, intent, confidence, latency_ms)
         SELECT 'bulk-' || i, 'payload', 'bulk-key-' || i,
                CASE WHEN i < @expired THEN @oldAt + i ELSE @recentAt + i END,
                CASE WHEN i < @expired AND @pendingEvery > 0 AND i % @pendingEvery = 0 THEN NULL ELSE CASE WHEN i < @expired THEN @oldAt + i ELSE @recentAt + i END END,
                'hubnlu/' || @site || '/utterance', @site, 'turn on the lights number ' || i, '["intent","sentiment"]', 'hubnlu/' || @site || '/result',
                CASE WHEN i < @expired AND @pendingEvery > 0 AND i % @pendingEvery = 0 THEN 'pending' ELSE 'done' END,
                CASE WHEN i < @expired AND @pendingEvery > 0 AND i % @pendingEvery = 0 THEN NULL ELSE 'lights_on' END,
                0.9, 3.5
         FROM n`,
      ).run({ total: s.total, expired: s.expired, oldAt: s.oldAt, recentAt: s.recentAt, pendingEvery: s.pendingEvery ?? 0, site });
      db.prepare(
        `INSERT INTO outbox (input_seq, topic, payload, created_at, published_at, attempts)
         SELECT seq, result_topic, '{"id":"' || id || '","intent":{"name":"lights_on"}}', completed_at,
                CASE WHEN @unsentEvery > 0 AND CAST(substr(id, 6) AS INTEGER) < @expired AND CAST(substr(id, 6) AS INTEGER) % @unsentEvery = 0 THEN NULL ELSE completed_at END,
                1
         FROM inputs WHERE status = 'done' AND id LIKE 'bulk-%' ORDER BY seq`,
      ).run({ unsentEvery: s.unsentEvery ?? 0, expired: s.expired });
    })();
  } finally {
    db.close();
  }
}
