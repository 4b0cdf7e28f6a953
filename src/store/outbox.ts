/**
 * The outbox seen from the command line (`hubnlu outbox`): its backlog, the messages the broker refused (migration 6,
 * set aside by the agent's publisher) and putting those back in the queue once the broker allows them.
 *
 * A re-queued row moves to a new `seq` (the row is copied, the old one deleted, in one transaction) instead of having
 * its mark cleared: the running agent's publisher reads the outbox forward from the last seq it sent, so a new seq
 * is the next thing it reads, at its next look (it checks `PRAGMA data_version` every second, see
 * agent/outbox-publisher.ts), with no rewind that could resend messages already acknowledged.
 */
import type { Db } from './database.js';

/** Migration 6 added the refusal columns; an older file (read-only, before the agent migrated it) has none. */
export const REFUSAL_SCHEMA_VERSION = 6;

export interface OutboxCounts {
  /** Waiting for the broker's acknowledgement (sent after the next reconnect when the agent is offline). */
  readonly unpublished: number;
  /** Refused by the broker, set aside until `hubnlu outbox retry`. */
  readonly refused: number;
  readonly published: number;
}

export interface RefusedMessage {
  readonly seq: number;
  readonly topic: string;
  readonly refusedAt: number;
  readonly reasonCode: number;
  readonly reason: string;
  /** Sends before the refusal (counted on failures) */
  readonly attempts: number;
  readonly createdAt: number;
  readonly payload: string;
  /** The input it answers. */
  readonly inputSeq: number;
  readonly inputId: string | null;
  readonly siteId: string | null;
}

export interface Requeued {
  readonly seq: number;
  /** The row's seq in the queue now. */
  readonly newSeq: number;
  readonly topic: string;
}

const schemaVersion = (db: Db): number => db.pragma('user_version', { simple: true }) as number;

export function outboxCounts(db: Db): OutboxCounts {
  if (schemaVersion(db) < REFUSAL_SCHEMA_VERSION) {
    const r = db.prepare(`SELECT count(*) FILTER (WHERE published_at IS NULL) AS unpublished, count(*) FILTER (WHERE published_at IS NOT NULL) AS published FROM outbox`).get() as { unpublished: number; published: number };
    return { unpublished: r.unpublished, refused: 0, published: r.published };
  }
  return db
    .prepare(`
      SELECT count(*) FILTER (WHERE published_at IS NULL AND refused_at IS NULL) AS unpublished,
             count(*) FILTER (WHERE published_at IS NULL AND refused_at IS NOT NULL) AS refused,
             count(*) FILTER (WHERE published_at IS NOT NULL) AS published
      FROM outbox`)
    .get() as OutboxCounts;
}

/** Refused messages, oldest first (at most `limit`). */
export function listRefused(db: Db, opts: { limit?: number } = {}): RefusedMessage[] {
  if (schemaVersion(db) < REFUSAL_SCHEMA_VERSION) return [];
  return db
    .prepare(`
      SELECT o.seq, o.topic, o.refused_at AS refusedAt, o.refused_code AS reasonCode, o.refused_reason AS reason, o.attempts,
             o.created_at AS createdAt, o.payload, o.input_seq AS inputSeq, i.id AS inputId, i.site_id AS siteId
      FROM outbox o LEFT JOIN inputs i ON i.seq = o.input_seq
      WHERE o.published_at IS NULL AND o.refused_at IS NOT NULL
      ORDER BY o.seq LIMIT ?`)
    .all(opts.limit ?? -1) as RefusedMessage[];
}

/** Unpublished, unrefused messages, oldest first (at most `limit`): the backlog. */
export function listUnpublished(db: Db, opts: { limit?: number } = {}): Array<{ seq: number; topic: string; attempts: number; createdAt: number }> {
  const refused = schemaVersion(db) < REFUSAL_SCHEMA_VERSION ? '' : 'AND refused_at IS NULL';
  return db
    .prepare(`SELECT seq, topic, attempts, created_at AS createdAt FROM outbox WHERE published_at IS NULL ${refused} ORDER BY seq LIMIT ?`)
    .all(opts.limit ?? -1) as Array<{ seq: number; topic: string; attempts: number; createdAt: number }>;
}

/**
 * Puts refused messages back in the queue (`seqs`: those; `'all'`: every refused one), in one transaction. Each moves
 * to a new seq with its refusal cleared (see the module comment). Returns what moved and the seqs that named no
 * refused message (unknown, published, or not refused).
 */
export function requeueRefused(db: Db, seqs: readonly number[] | 'all'): { requeued: Requeued[]; notRefused: number[] } {
  const find = db.prepare(`SELECT seq, topic FROM outbox WHERE seq = ? AND published_at IS NULL AND refused_at IS NOT NULL`);
  const all = db.prepare(`SELECT seq, topic FROM outbox WHERE published_at IS NULL AND refused_at IS NOT NULL ORDER BY seq`);
  // The copy keeps everything but the seq and the refusal: its input, payload, properties, creation time and attempts.
  const copy = db.prepare(`
    INSERT INTO outbox (input_seq, topic, payload, qos, retain, created_at, attempts, properties)
    SELECT input_seq, topic, payload, qos, retain, created_at, attempts, properties FROM outbox WHERE seq = ?`);
  const remove = db.prepare(`DELETE FROM outbox WHERE seq = ?`);
  return db.transaction(() => {
    const requeued: Requeued[] = [];
    const notRefused: number[] = [];
    const rows = seqs === 'all' ? (all.all() as Array<{ seq: number; topic: string }>) : [];
    if (seqs !== 'all') {
      for (const seq of new Set(seqs)) {
        const row = find.get(seq) as { seq: number; topic: string } | undefined;
        if (row) rows.push(row);
        else notRefused.push(seq);
      }
    }
    for (const row of rows) {
      const newSeq = Number(copy.run(row.seq).lastInsertRowid);
      remove.run(row.seq);
      requeued.push({ seq: row.seq, newSeq, topic: row.topic });
    }
    return { requeued, notRefused };
  }).immediate();
}
