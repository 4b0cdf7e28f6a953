/**
 * Periodic housekeeping for the log database: retention, query-planner
 * statistics and a WAL checkpoint. Only rows that are finished *and* whose
 * messages were all published are ever deleted: retention never loses an
 * unanswered input or an unsent result. Inputs that carry a gold label
 * (`gold_intent`, `gold_slots` or `gold_sentiment`) are kept for ever: they are
 * training data that people made by hand. What pins a row is its current label
 * only: once every gold label was cleared (`hubnlu label --clear-*`, the
 * bridge's `label` with nulls) it is no longer training data (training reads the
 * current `gold_*` columns only), so neither the `gold_at`/`gold_by` the clear
 * left nor its `label_history` rows keep it; retention deletes those history rows
 * with it, in the same transaction (`label_history.input_seq` refers to it).
 * Relabelling instead of clearing keeps it. A message the broker
 * refused (`outbox.refused_at`, migration 6) counts as finished, like a published
 * one: an old input whose only unsent message was refused is deleted with it, so a
 * denied topic does not keep inputs for ever (`hubnlu outbox list --refused` shows
 * them until then).
 *
 * Retention runs on the agent's event loop, next to intake and the MQTT
 * keepalive, so it deletes in small batches (one short transaction each, by
 * the `received_at` index and, for an input's messages, the `outbox.input_seq`
 * index of migration 2) and yields to the event loop between batches: an
 * acknowledgement or a PINGREQ waits at most one batch.
 */
import type { Db, Statement } from './database.js';

export interface MaintenanceResult {
  readonly deletedInputs: number;
  readonly deletedMessages: number;
  /** `label_history` rows deleted with their inputs (inputs whose gold labels were all cleared). */
  readonly deletedHistory: number;
  readonly walPagesCheckpointed: number;
  /** Delete transactions run. */
  readonly batches: number;
  /** The longest batch, ms: how long retention held the event loop at most. */
  readonly longestBatchMs: number;
  /** True when `shouldStop()` ended retention early (the agent is stopping); the next run goes on. */
  readonly stopped: boolean;
  readonly ms: number;
}

export interface MaintenanceOptions {
  /** Delete finished, published inputs without a gold label received more than this many days ago. Absent: delete nothing. */
  readonly retentionDays?: number;
  readonly now?: number;
  /** Inputs examined per transaction, at most (default 250). */
  readonly batchSize?: number;
  /** A transaction stops deleting after this long, ms (default 5): the event loop is held about that long plus the commit. */
  readonly batchMs?: number;
  /** Checked between batches: true ends retention early. */
  readonly shouldStop?: () => boolean;
}

const DEFAULT_BATCH = 250;
const DEFAULT_BATCH_MS = 5;
/**
 * WAL pages between automatic checkpoints while retention runs (SQLite's default is 1,000): a checkpoint runs inside
 * a commit, on the event loop, so smaller ones hold it for less time each.
 */
const RETENTION_AUTOCHECKPOINT = 200;

/** Lets timers, I/O callbacks (MQTT packets) and signal handlers run before the next batch. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

interface RetentionStatements {
  readonly candidates: Statement;
  readonly deleteMessages: Statement;
  readonly deleteHistory: Statement;
  readonly deleteInput: Statement;
}

function prepareRetention(db: Db): RetentionStatements {
  return {
    // Walks the expired range in (received_at, seq) order from a cursor, so rows kept (pending, unsent) are passed once, not rescanned.
    candidates: db.prepare(`
      SELECT seq, received_at AS at,
             status != 'pending' AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.input_seq = i.seq AND o.published_at IS NULL AND o.refused_at IS NULL)
             AND gold_intent IS NULL AND gold_slots IS NULL AND gold_sentiment IS NULL AS eligible
      FROM inputs i
      WHERE received_at < @cutoff AND (received_at, seq) > (@at, @seq)
      ORDER BY received_at, seq LIMIT @limit`),
    deleteMessages: db.prepare(`DELETE FROM outbox WHERE input_seq = ?`),
    // The labels a cleared row once had (by the label_history_input index; none for a row never labelled).
    deleteHistory: db.prepare(`DELETE FROM label_history WHERE input_seq = ?`),
    deleteInput: db.prepare(`DELETE FROM inputs WHERE seq = ?`),
  };
}

export async function runMaintenance(db: Db, opts: MaintenanceOptions = {}): Promise<MaintenanceResult> {
  const started = performance.now();
  let deletedInputs = 0;
  let deletedMessages = 0;
  let deletedHistory = 0;
  let batches = 0;
  let longestBatchMs = 0;
  let stopped = false;
  if (opts.retentionDays !== undefined) {
    const cutoff = (opts.now ?? Date.now()) - opts.retentionDays * 86_400_000;
    const limit = opts.batchSize ?? DEFAULT_BATCH;
    const budgetMs = opts.batchMs ?? DEFAULT_BATCH_MS;
    const s = prepareRetention(db);
    const cursor = { at: Number.MIN_SAFE_INTEGER, seq: 0 };
    // One batch: read the next candidates and delete the eligible ones in the same transaction, so none can change in
    // between; stop early when the time budget is spent. Returns false when the expired range is exhausted.
    const batch = db.transaction((started: number): boolean => {
      const rows = s.candidates.all({ cutoff, at: cursor.at, seq: cursor.seq, limit }) as Array<{ seq: number; at: number; eligible: number }>;
      for (const r of rows) {
        if (r.eligible) {
          deletedMessages += s.deleteMessages.run(r.seq).changes;
          deletedHistory += s.deleteHistory.run(r.seq).changes;
          deletedInputs += s.deleteInput.run(r.seq).changes;
        }
        cursor.at = r.at;
        cursor.seq = r.seq;
        if (performance.now() - started > budgetMs && r !== rows.at(-1)) return true;
      }
      return rows.length === limit;
    });
    const autocheckpoint = db.pragma('wal_autocheckpoint', { simple: true }) as number;
    db.pragma(`wal_autocheckpoint = ${Math.min(autocheckpoint || RETENTION_AUTOCHECKPOINT, RETENTION_AUTOCHECKPOINT)}`);
    try {
      for (;;) {
        if (opts.shouldStop?.()) {
          stopped = true;
          break;
        }
        const t0 = performance.now();
        const more = batch.immediate(t0); // IMMEDIATE: a read upgraded to a write fails at once (SQLITE_BUSY) when the checkpoint thread has moved the WAL on
        batches++;
        longestBatchMs = Math.max(longestBatchMs, performance.now() - t0);
        if (!more) break;
        await yieldToEventLoop();
      }
    } finally {
      db.pragma(`wal_autocheckpoint = ${autocheckpoint}`);
    }
  }
  let walPagesCheckpointed = 0;
  if (!stopped) {
    await yieldToEventLoop();
    // `optimize` analyses at most a few hundred rows per index (analysis_limit), not whole tables.
    db.pragma('analysis_limit = 400');
    db.pragma('optimize');
    await yieldToEventLoop();
    walPagesCheckpointed = checkpointWithoutWaiting(db);
  }
  return { deletedInputs, deletedMessages, deletedHistory, walPagesCheckpointed, batches, longestBatchMs, stopped, ms: performance.now() - started };
}

/**
 * TRUNCATE checkpoint with the busy handler off: a reader (`hubnlu logs` running meanwhile) makes it return at once,
 * partly done, instead of holding the event loop for `busy_timeout` ms. The next run finishes it.
 */
function checkpointWithoutWaiting(db: Db): number {
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 0');
  try {
    const checkpoint = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ checkpointed: number }>;
    return checkpoint[0]?.checkpointed ?? 0;
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
}
