/**
 * Periodic housekeeping for the log database: retention, query-planner
 * statistics and a WAL checkpoint. Only rows that are finished *and* whose
 * messages were all published are ever deleted: retention never loses an
 * unanswered input or an unsent result.
 */
import type { Db } from './database.js';

export interface MaintenanceResult {
  readonly deletedInputs: number;
  readonly deletedMessages: number;
  readonly walPagesCheckpointed: number;
  readonly ms: number;
}

export function runMaintenance(db: Db, opts: { retentionDays?: number; now?: number } = {}): MaintenanceResult {
  const started = performance.now();
  let deletedInputs = 0;
  let deletedMessages = 0;
  if (opts.retentionDays !== undefined) {
    const cutoff = (opts.now ?? Date.now()) - opts.retentionDays * 86_400_000;
    db.transaction(() => {
      const expired = `SELECT seq FROM inputs i WHERE i.received_at < @cutoff AND i.status != 'pending'
                       AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.input_seq = i.seq AND o.published_at IS NULL)`;
      deletedMessages = db.prepare(`DELETE FROM outbox WHERE input_seq IN (${expired})`).run({ cutoff }).changes;
      deletedInputs = db.prepare(`DELETE FROM inputs WHERE seq IN (${expired})`).run({ cutoff }).changes;
    })();
  }
  db.pragma('optimize');
  const checkpoint = db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ checkpointed: number }>;
  return { deletedInputs, deletedMessages, walPagesCheckpointed: checkpoint[0]?.checkpointed ?? 0, ms: performance.now() - started };
}
