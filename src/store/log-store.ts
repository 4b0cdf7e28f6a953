/**
 * The input log and the outbox. Every statement is prepared once, at
 * construction; the hot path only binds and steps.
 *
 * Delivery contract (issue 4): an input row is committed before the MQTT
 * acknowledgement is sent; a result and its outgoing messages are committed in
 * one transaction; an outgoing message is marked published only on PUBACK.
 */
import type { Db, Statement } from './database.js';
import { databaseFailure, isFatalDatabaseError, type DatabaseFailure } from './failure.js';

/** How the agent watches the store: a check after each commit, and who to tell of an error no retry can fix. */
export interface StoreGuard {
  /** The database file, for messages. */
  readonly path: string;
  /** Runs after each write commits, before the caller acknowledges anything; throws a DatabaseFailure if the file is gone. */
  readonly afterWrite?: () => void;
  /** Told (before the error is thrown to the caller) of every DatabaseFailure. */
  readonly onFatal?: (err: DatabaseFailure) => void;
}

export type InputStatus = 'pending' | 'done' | 'rejected' | 'error';

export interface NewInput {
  readonly id: string;
  readonly idSource: 'payload' | 'assigned';
  readonly deliveryKey: string;
  readonly receivedAt: number;
  readonly topic: string;
  readonly siteId: string;
  readonly sessionId?: string;
  readonly lang?: string;
  readonly text?: string;
  readonly tasks: readonly string[];
  readonly resultTopic?: string;
  readonly request?: Record<string, unknown>;
  readonly payloadExcerpt?: string;
}

export interface OutgoingMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos?: 0 | 1 | 2;
  readonly retain?: boolean;
}

export interface Rejection {
  readonly code: string;
  readonly message: string;
}

export interface Completion {
  readonly seq: number;
  readonly status: 'done' | 'error';
  readonly completedAt: number;
  readonly intent?: string;
  readonly confidence?: number;
  readonly alternatives?: unknown;
  readonly slots?: unknown;
  readonly sentiment?: string;
  readonly sentimentScore?: number;
  readonly sentimentScores?: unknown;
  readonly intentModel?: string;
  readonly sentimentModel?: string;
  readonly latencyMs: number;
  readonly inferenceMs?: number;
  readonly error?: Rejection;
  readonly messages: readonly OutgoingMessage[];
}

export interface PendingInput {
  readonly seq: number;
  readonly id: string;
  readonly receivedAt: number;
  readonly topic: string;
  readonly siteId: string;
  readonly sessionId: string | null;
  readonly lang: string | null;
  readonly text: string;
  readonly tasks: string[];
  readonly resultTopic: string;
  readonly request: Record<string, unknown>;
  /** `performance.now()` at receipt, for a sub-millisecond latency; absent for inputs resumed after a restart. */
  readonly arrivedAt?: number;
}

export interface OutboxRow {
  readonly seq: number;
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
}

export type RecordOutcome = { readonly seq: number; readonly duplicate: false } | { readonly seq: number; readonly duplicate: true };

const json = (value: unknown): string | null => (value === undefined ? null : JSON.stringify(value));

export class LogStore {
  private readonly insertInput: Statement;
  private readonly findByPayloadId: Statement;
  private readonly findByDeliveryKey: Statement;
  private readonly insertOutbox: Statement;
  private readonly completeInput: Statement;
  private readonly selectPending: Statement;
  private readonly selectUnpublished: Statement;
  private readonly markPublishedStmt: Statement;
  private readonly countAttempt: Statement;

  constructor(
    private readonly db: Db,
    private readonly guard: StoreGuard = { path: 'database' },
  ) {
    this.insertInput = db.prepare(`
      INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, session_id, lang, text, tasks,
                          result_topic, request, status, payload_excerpt, error_code, error_message, completed_at)
      VALUES (@id, @idSource, @deliveryKey, @receivedAt, @topic, @siteId, @sessionId, @lang, @text, @tasks,
              @resultTopic, @request, @status, @payloadExcerpt, @errorCode, @errorMessage, @completedAt)`);
    this.findByPayloadId = db.prepare(`SELECT seq FROM inputs WHERE id = ? AND id_source = 'payload'`);
    this.findByDeliveryKey = db.prepare(`SELECT seq FROM inputs WHERE delivery_key = ? ORDER BY seq DESC LIMIT 1`);
    this.insertOutbox = db.prepare(`
      INSERT INTO outbox (input_seq, topic, payload, qos, retain, created_at) VALUES (?, ?, ?, ?, ?, ?)`);
    this.completeInput = db.prepare(`
      UPDATE inputs SET status = @status, completed_at = @completedAt, intent = @intent, confidence = @confidence,
        alternatives = @alternatives, slots = @slots, sentiment = @sentiment, sentiment_score = @sentimentScore,
        sentiment_scores = @sentimentScores, intent_model = @intentModel, sentiment_model = @sentimentModel,
        latency_ms = @latencyMs, inference_ms = @inferenceMs, error_code = @errorCode, error_message = @errorMessage
      WHERE seq = @seq AND status = 'pending'`);
    this.selectPending = db.prepare(`
      SELECT seq, id, received_at AS receivedAt, topic, site_id AS siteId, session_id AS sessionId, lang, text, tasks,
             result_topic AS resultTopic, request
      FROM inputs WHERE status = 'pending' AND seq > ? ORDER BY seq LIMIT ?`);
    this.selectUnpublished = db.prepare(`
      SELECT seq, topic, payload, qos, retain FROM outbox WHERE published_at IS NULL AND seq > ? ORDER BY seq LIMIT ?`);
    this.markPublishedStmt = db.prepare(`UPDATE outbox SET published_at = ? WHERE seq = ?`);
    this.countAttempt = db.prepare(`UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?`);
  }

  /**
   * Finds an earlier row for the same input: the same payload `id`, or (for a
   * broker redelivery, which carries the DUP flag [MQTT-3.3.1-1]) the same delivery key.
   */
  findDuplicate(input: Pick<NewInput, 'id' | 'idSource' | 'deliveryKey'>, redelivered: boolean): number | undefined {
    if (input.idSource === 'payload') {
      const row = this.findByPayloadId.get(input.id) as { seq: number } | undefined;
      if (row) return row.seq;
    }
    if (redelivered) {
      const row = this.findByDeliveryKey.get(input.deliveryKey) as { seq: number } | undefined;
      if (row) return row.seq;
    }
    return undefined;
  }

  /** Records an accepted input as `pending`; commits before returning. */
  recordInput(input: NewInput, redelivered = false): RecordOutcome {
    return this.write('storing an input', () => this.db.transaction((): RecordOutcome => {
      const existing = this.findDuplicate(input, redelivered);
      if (existing !== undefined) return { seq: existing, duplicate: true };
      const info = this.insertInput.run(this.inputParams(input, 'pending'));
      return { seq: Number(info.lastInsertRowid), duplicate: false };
    })());
  }

  /** Records a rejected input and its error messages in one transaction. */
  recordRejection(input: NewInput, rejection: Rejection, messages: readonly OutgoingMessage[], redelivered = false): RecordOutcome {
    return this.write('storing a rejected input', () => this.db.transaction((): RecordOutcome => {
      const existing = this.findDuplicate(input, redelivered);
      if (existing !== undefined) return { seq: existing, duplicate: true };
      const info = this.insertInput.run({
        ...this.inputParams(input, 'rejected'),
        errorCode: rejection.code,
        errorMessage: rejection.message,
        completedAt: input.receivedAt,
      });
      const seq = Number(info.lastInsertRowid);
      for (const m of messages) this.insertOutbox.run(seq, m.topic, m.payload, m.qos ?? 1, m.retain ? 1 : 0, input.receivedAt);
      return { seq, duplicate: false };
    })());
  }

  /** Stores results and queues their messages, all in one transaction. */
  completeMany(completions: readonly Completion[]): void {
    this.write('storing results', () => this.db.transaction(() => {
      for (const c of completions) {
        const changed = this.completeInput.run({
          seq: c.seq,
          status: c.status,
          completedAt: c.completedAt,
          intent: c.intent ?? null,
          confidence: c.confidence ?? null,
          alternatives: json(c.alternatives),
          slots: json(c.slots),
          sentiment: c.sentiment ?? null,
          sentimentScore: c.sentimentScore ?? null,
          sentimentScores: json(c.sentimentScores),
          intentModel: c.intentModel ?? null,
          sentimentModel: c.sentimentModel ?? null,
          latencyMs: c.latencyMs,
          inferenceMs: c.inferenceMs ?? null,
          errorCode: c.error?.code ?? null,
          errorMessage: c.error?.message ?? null,
        }).changes;
        // Already completed (a resumed inference racing its first run): queue nothing twice.
        if (changed === 0) continue;
        for (const m of c.messages) this.insertOutbox.run(c.seq, m.topic, m.payload, m.qos ?? 1, m.retain ? 1 : 0, c.completedAt);
      }
    })());
  }

  pending(afterSeq: number, limit: number): PendingInput[] {
    const rows = this.read('reading unanswered inputs', () => this.selectPending.all(afterSeq, limit)) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      seq: r.seq as number,
      id: r.id as string,
      receivedAt: r.receivedAt as number,
      topic: r.topic as string,
      siteId: r.siteId as string,
      sessionId: (r.sessionId as string | null) ?? null,
      lang: (r.lang as string | null) ?? null,
      text: (r.text as string | null) ?? '',
      tasks: JSON.parse((r.tasks as string) || '[]') as string[],
      resultTopic: r.resultTopic as string,
      request: r.request ? (JSON.parse(r.request as string) as Record<string, unknown>) : {},
    }));
  }

  unpublished(afterSeq: number, limit: number): OutboxRow[] {
    const rows = this.read('reading the outbox', () => this.selectUnpublished.all(afterSeq, limit)) as Array<{ seq: number; topic: string; payload: string; qos: number; retain: number }>;
    return rows.map((r) => ({ seq: r.seq, topic: r.topic, payload: r.payload, qos: r.qos as 0 | 1 | 2, retain: r.retain === 1 }));
  }

  markPublished(seqs: readonly number[], at: number): void {
    if (seqs.length === 0) return;
    this.write('marking messages published', () =>
      this.db.transaction(() => {
        for (const seq of seqs) this.markPublishedStmt.run(at, seq);
      })(),
    );
  }

  noteAttempt(seq: number): void {
    this.write('counting a publish attempt', () => this.countAttempt.run(seq));
  }

  /** A write: an error no retry can fix becomes a DatabaseFailure (told to the guard); after the commit, the guard's check. */
  private write<T>(doing: string, fn: () => T): T {
    const result = this.read(doing, fn);
    try {
      this.guard.afterWrite?.();
    } catch (err) {
      throw this.fatal(err, doing);
    }
    return result;
  }

  private read<T>(doing: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw isFatalDatabaseError(err) ? this.fatal(err, doing) : err;
    }
  }

  private fatal(err: unknown, doing: string): DatabaseFailure {
    const failure = databaseFailure(err, this.guard.path, doing);
    this.guard.onFatal?.(failure);
    return failure;
  }

  private inputParams(input: NewInput, status: InputStatus): Record<string, unknown> {
    return {
      id: input.id,
      idSource: input.idSource,
      deliveryKey: input.deliveryKey,
      receivedAt: input.receivedAt,
      topic: input.topic,
      siteId: input.siteId,
      sessionId: input.sessionId ?? null,
      lang: input.lang ?? null,
      text: input.text ?? null,
      tasks: JSON.stringify(input.tasks),
      resultTopic: input.resultTopic ?? null,
      request: input.request && Object.keys(input.request).length > 0 ? JSON.stringify(input.request) : null,
      status,
      payloadExcerpt: input.payloadExcerpt ?? null,
      errorCode: null,
      errorMessage: null,
      completedAt: null,
    };
  }
}
