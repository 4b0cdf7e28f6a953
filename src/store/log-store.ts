/**
 * The input log and the outbox. Every statement is prepared once, at
 * construction; the hot path only binds and steps.
 *
 * Delivery contract (issue 4): an input row is committed before the MQTT
 * acknowledgement is sent; a result and its outgoing messages are committed in
 * one transaction; an outgoing message is marked published only on PUBACK.
 */
import { legacyDeliveryKey } from './delivery-key.js';
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
import { wellFormed } from '../util/text-safety.js';

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

/** MQTT 5 properties kept with an outbox row (correlation data as a Buffer here, base64 in the table). */
export interface StoredProperties {
  readonly responseTopic?: string;
  readonly correlationData?: Buffer;
  readonly contentType?: string;
  readonly userProperties?: Readonly<Record<string, string>>;
}

export interface OutgoingMessage {
  readonly topic: string;
  readonly payload: string;
  readonly qos?: 0 | 1 | 2;
  readonly retain?: boolean;
  readonly properties?: StoredProperties;
}

export interface GoldLabel {
  readonly intent?: string | null;
  readonly slots?: unknown;
  readonly sentiment?: string | null;
  readonly by: string;
  readonly at: number;
}

export interface PreviousLabel {
  readonly intent: string | null;
  readonly slots: unknown;
  readonly sentiment: string | null;
  readonly by: string | null;
  readonly at: number | null;
}

export interface Rejection {
  readonly code: string;
  readonly message: string;
}

export interface Completion {
  /** The input's row; ignored (0) when `input` is set: the row is inserted by the same transaction. */
  readonly seq: number;
  /**
   * An input not stored yet (issue 10): `completeMany` inserts it with its result in one transaction (checked for
   * duplicates first, as `recordMany` does), instead of updating a `pending` row. `redelivered`: the broker's DUP flag.
   */
  readonly input?: { readonly row: NewInput; readonly redelivered: boolean };
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
  /** The language the input was analysed as (replaces the payload's tag in `inputs.lang`; absent: left as it was). */
  readonly lang?: string;
  readonly error?: Rejection;
  readonly messages: readonly OutgoingMessage[];
}

/** What the shadow model (models.shadow) answered for an input already answered live. */
export interface ShadowResult {
  readonly seq: number;
  readonly intent?: string;
  readonly confidence?: number;
  readonly sentiment?: string;
  /** `name@version`, intent and sentiment models joined by `+`. */
  readonly model: string;
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

/** The input an outbox row answers, as `markRefused` returns it (for the error notice). */
export interface RefusedInput {
  readonly id: string;
  readonly siteId: string;
  readonly sessionId: string | null;
  readonly topic: string;
  readonly receivedAt: number;
  readonly text: string | null;
}

export interface OutboxRow {
  readonly seq: number;
  readonly topic: string;
  readonly payload: string;
  readonly qos: 0 | 1 | 2;
  readonly retain: boolean;
  readonly properties?: StoredProperties;
}

function encodeProperties(p: StoredProperties | undefined): string | null {
  if (!p) return null;
  const out: Record<string, unknown> = {};
  if (p.responseTopic) out.responseTopic = p.responseTopic;
  if (p.correlationData) out.correlationData = p.correlationData.toString('base64');
  if (p.contentType) out.contentType = p.contentType;
  if (p.userProperties) out.userProperties = p.userProperties;
  return Object.keys(out).length > 0 ? JSON.stringify(out) : null;
}

function decodeProperties(text: string | null): StoredProperties | undefined {
  if (!text) return undefined;
  const p = JSON.parse(text) as { responseTopic?: string; correlationData?: string; contentType?: string; userProperties?: Record<string, string> };
  return {
    responseTopic: p.responseTopic,
    correlationData: p.correlationData !== undefined ? Buffer.from(p.correlationData, 'base64') : undefined,
    contentType: p.contentType,
    userProperties: p.userProperties,
  };
}

/** Why an input was recognised as one already stored: a broker redelivery (DUP flag), or a payload id repeated within the window. */
export type DuplicateReason = 'redelivery' | 'payload_id';

/** One input for `recordMany`: accepted (pending), or rejected with its error messages. */
export interface NewEntry {
  readonly input: NewInput;
  readonly redelivered: boolean;
  readonly rejection?: Rejection;
  readonly messages?: readonly OutgoingMessage[];
}

export type RecordOutcome =
  | { readonly seq: number; readonly duplicate: false }
  | { readonly seq: number; readonly duplicate: true; readonly reason: DuplicateReason };

export interface LogStoreOptions extends Partial<StoreGuard> {
  /**
   * How long a payload `id` marks a repeat of the same request (same topic, site and content), in ms.
   * 0: payload ids never deduplicate (broker redeliveries still do). Default 600 000 (`input.dedupeWindowSeconds`).
   */
  readonly dedupeWindowMs?: number;
}

export const DEFAULT_DEDUPE_WINDOW_MS = 600_000;

/** Every stored string is valid UTF-8: lone surrogates (which SQLite would store as invalid bytes) become U+FFFD. */
const safe = (value: string | undefined | null): string | null => (value === undefined || value === null ? null : wellFormed(value));

const json = (value: unknown): string | null => (value === undefined ? null : wellFormed(JSON.stringify(value)));

/** A result's columns, in the order `completeInput` and `insertAnswered` list them (intent … inference_ms). */
const resultParams = (c: Completion): unknown[] => [
  c.intent ?? null,
  c.confidence ?? null,
  json(c.alternatives),
  json(c.slots),
  c.sentiment ?? null,
  c.sentimentScore ?? null,
  json(c.sentimentScores),
  c.intentModel ?? null,
  c.sentimentModel ?? null,
  c.latencyMs,
  c.inferenceMs ?? null,
];

export class LogStore {
  private readonly insertInput: Statement;
  private readonly findByPayloadId: Statement;
  private readonly findByDeliveryKey: Statement;
  private readonly insertOutbox: Statement;
  private readonly completeInput: Statement;
  private readonly insertAnswered: Statement;
  private readonly selectPending: Statement;
  private readonly selectUnpublished: Statement;
  private readonly markPublishedStmt: Statement;
  private readonly countAttempt: Statement;
  private readonly countUnpublished: Statement;
  private readonly markRefusedStmt: Statement;
  private readonly countRefusedStmt: Statement;
  private readonly refusalInput: Statement;
  private readonly dataVersion: Statement;
  private lastDataVersion?: number;
  private readonly findForLabel: Statement;
  private readonly findForLabelBySeq: Statement;
  private readonly keepLabel: Statement;
  private readonly writeLabel: Statement;
  private readonly writeShadow: Statement;

  private readonly dedupeWindowMs: number;
  private readonly guard: StoreGuard;
  /** One transaction function for every write: `db.transaction()` builds four wrappers each call (issue 10). */
  private readonly immediate: (fn: () => unknown) => unknown;

  constructor(
    private readonly db: Db,
    opts: LogStoreOptions = {},
  ) {
    this.dedupeWindowMs = opts.dedupeWindowMs ?? DEFAULT_DEDUPE_WINDOW_MS;
    this.guard = { path: opts.path ?? 'database', afterWrite: opts.afterWrite, onFatal: opts.onFatal };
    this.immediate = db.transaction((fn: () => unknown) => fn()).immediate;
    this.insertInput = db.prepare(`
      INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, session_id, lang, text, tasks,
                          result_topic, request, status, payload_excerpt, error_code, error_message, completed_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`); // positional (issue 10): no parameter object per row
    // The same request again: same payload id, topic, site and content (text, or for a rejection the payload excerpt),
    // received within the window. Served by the partial index inputs_payload_scope (migration 3).
    // max(seq) rather than ORDER BY seq DESC LIMIT 1: the same row, without a sorter set up for every input (issue 10).
    this.findByPayloadId = db.prepare(`
      SELECT max(seq) AS seq FROM inputs
      WHERE id = ? AND id_source = 'payload' AND site_id = ? AND topic = ? AND received_at >= ?
        AND text IS ? AND payload_excerpt IS ?`);
    this.findByDeliveryKey = db.prepare(`SELECT seq FROM inputs WHERE delivery_key = ? ORDER BY seq DESC LIMIT 1`);
    this.insertOutbox = db.prepare(`
      INSERT INTO outbox (input_seq, topic, payload, qos, retain, created_at, properties) VALUES (?, ?, ?, ?, ?, ?, ?)`);
    this.completeInput = db.prepare(`
      UPDATE inputs SET status = ?, completed_at = ?, intent = ?, confidence = ?,
        alternatives = ?, slots = ?, sentiment = ?, sentiment_score = ?,
        sentiment_scores = ?, intent_model = ?, sentiment_model = ?,
        latency_ms = ?, inference_ms = ?, error_code = ?, error_message = ?,
        lang = COALESCE(?, lang)
      WHERE seq = ? AND status = 'pending'`); // positional, in this order (completeMany)
    // An input and its result in one row at once (completeMany with `input`): the pending index is never touched.
    this.insertAnswered = db.prepare(`
      INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, session_id, lang, text, tasks,
                          result_topic, request, status, payload_excerpt, error_code, error_message, completed_at,
                          intent, confidence, alternatives, slots, sentiment, sentiment_score, sentiment_scores,
                          intent_model, sentiment_model, latency_ms, inference_ms)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
    this.selectPending = db.prepare(`
      SELECT seq, id, received_at AS receivedAt, topic, site_id AS siteId, session_id AS sessionId, lang, text, tasks,
             result_topic AS resultTopic, request
      FROM inputs WHERE status = 'pending' AND seq > ? ORDER BY seq LIMIT ?`);
    this.selectUnpublished = db.prepare(`
      SELECT seq, topic, payload, qos, retain, properties FROM outbox WHERE published_at IS NULL AND refused_at IS NULL AND seq > ? ORDER BY seq LIMIT ?`);
    // One row a run, in one transaction per batch: a single `WHERE seq IN (SELECT value FROM json_each(?))` was measured
    // slower (p50 0.15-0.26 vs 0.04 ms for a batch of 5, issue 10).
    this.markPublishedStmt = db.prepare(`UPDATE outbox SET published_at = ? WHERE seq = ?`);
    this.countAttempt = db.prepare(`UPDATE outbox SET attempts = attempts + 1 WHERE seq = ?`);
    this.countUnpublished = db.prepare(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND refused_at IS NULL`);
    // Migration 6: a row the broker refused is set aside (not published, not resent) until `hubnlu outbox retry`.
    this.markRefusedStmt = db.prepare(`UPDATE outbox SET refused_at = ?, refused_code = ?, refused_reason = ? WHERE seq = ? AND published_at IS NULL`);
    this.countRefusedStmt = db.prepare(`SELECT count(*) AS n FROM outbox WHERE published_at IS NULL AND refused_at IS NOT NULL`);
    this.refusalInput = db.prepare(`
      SELECT i.id, i.site_id AS siteId, i.session_id AS sessionId, i.topic, i.received_at AS receivedAt, i.text
      FROM outbox o JOIN inputs i ON i.seq = o.input_seq WHERE o.seq = ?`);
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.findForLabel = db.prepare(`
      SELECT seq, gold_intent AS intent, gold_slots AS slots, gold_sentiment AS sentiment, gold_by AS by, gold_at AS at
      FROM inputs WHERE id = ? AND status IN ('done', 'error', 'rejected') ORDER BY seq DESC LIMIT 2`);
    this.findForLabelBySeq = db.prepare(`
      SELECT seq, gold_intent AS intent, gold_slots AS slots, gold_sentiment AS sentiment, gold_by AS by, gold_at AS at
      FROM inputs WHERE seq = ? AND status IN ('done', 'error', 'rejected')`);
    this.keepLabel = db.prepare(`
      INSERT INTO label_history (input_seq, gold_intent, gold_slots, gold_sentiment, gold_by, gold_at, replaced_at, replaced_by)
      SELECT seq, gold_intent, gold_slots, gold_sentiment, gold_by, gold_at, @at, @by FROM inputs WHERE seq = @seq`);
    this.writeLabel = db.prepare(`
      UPDATE inputs SET gold_intent = @intent, gold_slots = @slots, gold_sentiment = @sentiment, gold_by = @by, gold_at = @at WHERE seq = @seq`);
    this.writeShadow = db.prepare(`
      UPDATE inputs SET shadow_intent = @intent, shadow_confidence = @confidence, shadow_sentiment = @sentiment, shadow_model = @model WHERE seq = @seq`);
  }

  /**
   * Finds an earlier row for the same input: for a broker redelivery (which
   * carries the DUP flag [MQTT-3.3.1-1]) the same delivery key, whenever it was
   * stored; otherwise the same payload `id` from the same topic and site, with
   * the same content, within the dedupe window. A payload id is the
   * publisher's name for one request, not a key for ever: the same `req-1`
   * from two sites, a button that always sends the same id, or an id reused
   * for a different text are each a new input.
   */
  findDuplicate(
    input: Pick<NewInput, 'id' | 'idSource' | 'deliveryKey' | 'topic' | 'siteId' | 'receivedAt' | 'text' | 'payloadExcerpt'>,
    redelivered: boolean,
  ): { seq: number; reason: DuplicateReason } | undefined {
    if (redelivered) {
      // A key of the format before store/delivery-key.ts (stored by an earlier version) is looked up too.
      const legacy = legacyDeliveryKey(input.deliveryKey);
      const row = (this.findByDeliveryKey.get(input.deliveryKey) ?? (legacy !== input.deliveryKey ? this.findByDeliveryKey.get(legacy) : undefined)) as { seq: number } | undefined;
      if (row) return { seq: row.seq, reason: 'redelivery' };
    }
    if (input.idSource === 'payload' && this.dedupeWindowMs > 0) {
      const row = this.findByPayloadId.get(
        safe(input.id),
        safe(input.siteId),
        safe(input.topic),
        input.receivedAt - this.dedupeWindowMs,
        safe(input.text),
        safe(input.payloadExcerpt),
      ) as { seq: number | null };
      if (row.seq !== null) return { seq: row.seq, reason: 'payload_id' };
    }
    return undefined;
  }

  /** Records an accepted input as `pending`; commits before returning. */
  recordInput(input: NewInput, redelivered = false): RecordOutcome {
    return this.writeTx('storing an input', (): RecordOutcome => this.insertAccepted(input, redelivered));
  }

  /** Records a rejected input and its error messages in one transaction. */
  recordRejection(input: NewInput, rejection: Rejection, messages: readonly OutgoingMessage[], redelivered = false): RecordOutcome {
    return this.writeTx('storing a rejected input', (): RecordOutcome => this.insertRejected(input, rejection, messages, redelivered));
  }

  /**
   * Group commit (issue 10): records accepted and rejected inputs, in order, in one transaction; commits
   * before returning. A duplicate within the batch is found like one stored earlier (the transaction sees its own rows).
   */
  recordMany(entries: readonly NewEntry[]): RecordOutcome[] {
    return this.writeTx(entries.length === 1 ? 'storing an input' : `storing ${entries.length} inputs`, (): RecordOutcome[] =>
      entries.map((e) => (e.rejection ? this.insertRejected(e.input, e.rejection, e.messages ?? [], e.redelivered) : this.insertAccepted(e.input, e.redelivered))),
    );
  }

  private insertAccepted(input: NewInput, redelivered: boolean): RecordOutcome {
    const existing = this.findDuplicate(input, redelivered);
    if (existing !== undefined) return { seq: existing.seq, duplicate: true, reason: existing.reason };
    const info = this.insertInput.run(...this.inputParams(input, 'pending', null, null, null));
    return { seq: Number(info.lastInsertRowid), duplicate: false };
  }

  private insertRejected(input: NewInput, rejection: Rejection, messages: readonly OutgoingMessage[], redelivered: boolean): RecordOutcome {
    const existing = this.findDuplicate(input, redelivered);
    if (existing !== undefined) return { seq: existing.seq, duplicate: true, reason: existing.reason };
    const info = this.insertInput.run(...this.inputParams(input, 'rejected', rejection.code, safe(rejection.message), input.receivedAt));
    const seq = Number(info.lastInsertRowid);
    for (const m of messages) this.insertOutbox.run(seq, m.topic, wellFormed(m.payload), m.qos ?? 1, m.retain ? 1 : 0, input.receivedAt, encodeProperties(m.properties));
    return { seq, duplicate: false };
  }

  /**
   * Stores results and queues their messages, all in one transaction. A completion that carries its `input` (not
   * stored yet) inserts that input with its result, unless it is a duplicate of a stored input (then nothing is
   * stored for it). Returns each completion's row: its `seq`, and whether it was such a duplicate.
   */
  completeMany(completions: readonly Completion[], queued?: OutboxRow[]): RecordOutcome[] {
    return this.writeTx('storing results', () =>
      completions.map((c): RecordOutcome => {
        if (c.input) {
          const existing = this.findDuplicate(c.input.row, c.input.redelivered);
          if (existing !== undefined) return { seq: existing.seq, duplicate: true, reason: existing.reason };
          const seq = Number(this.insertAnswered.run(...this.answeredParams(c.input.row, c)).lastInsertRowid);
          this.queueMessages(seq, c, queued);
          return { seq, duplicate: false };
        }
        const changed = this.completeInput.run(c.status, c.completedAt, ...resultParams(c), c.error?.code ?? null, safe(c.error?.message), c.lang ?? null, c.seq).changes;
        // Already completed (a resumed inference racing its first run): queue nothing twice.
        if (changed > 0) this.queueMessages(c.seq, c, queued);
        return { seq: c.seq, duplicate: false };
      }),
    );
  }

  private queueMessages(seq: number, c: Completion, queued: OutboxRow[] | undefined): void {
    for (const m of c.messages) {
      const payload = wellFormed(m.payload);
      const properties = encodeProperties(m.properties);
      const qos = m.qos ?? 1;
      const info = this.insertOutbox.run(seq, m.topic, payload, qos, m.retain ? 1 : 0, c.completedAt, properties);
      // As `unpublished()` would read it back.
      queued?.push({ seq: Number(info.lastInsertRowid), topic: m.topic, payload, qos, retain: m.retain === true, properties: decodeProperties(properties) });
    }
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
    const rows = this.read('reading the outbox', () => this.selectUnpublished.all(afterSeq, limit)) as Array<{ seq: number; topic: string; payload: string; qos: number; retain: number; properties: string | null }>;
    return rows.map((r) => ({
      seq: r.seq,
      topic: r.topic,
      payload: r.payload,
      qos: r.qos as 0 | 1 | 2,
      retain: r.retain === 1,
      properties: decodeProperties(r.properties),
    }));
  }

  /** Outbox rows not yet acknowledged by the broker and not refused by it (a queue depth for health reports). */
  unpublishedCount(): number {
    return (this.read('counting the outbox', () => this.countUnpublished.get()) as { n: number }).n;
  }

  /** Outbox rows the broker refused, waiting for `hubnlu outbox retry` (health reports them apart from the backlog). */
  refusedCount(): number {
    return (this.read('counting refused messages', () => this.countRefusedStmt.get()) as { n: number }).n;
  }

  /**
   * Sets an outbox row aside as refused by the broker (a definite PUBACK reason code, transport/publish-refusal.ts):
   * it is no longer read by `unpublished()`, so it is not resent after a reconnect. Returns the input it answers (for
   * the error notice), or undefined when the row is gone or already published.
   */
  markRefused(seq: number, at: number, code: number, reason: string): RefusedInput | undefined {
    return this.writeTx('marking a message refused', () => {
      if (this.markRefusedStmt.run(at, code, reason, seq).changes === 0) return undefined;
      return this.refusalInput.get(seq) as RefusedInput | undefined;
    });
  }

  /**
   * Whether another connection (another process: `hubnlu outbox retry`, `hubnlu label`) committed to the database
   * since the last call: `PRAGMA data_version`, which reads no table. The first call only records it.
   */
  changedElsewhere(): boolean {
    const version = this.read('checking for other writers', () => this.dataVersion.get()) as number;
    const changed = this.lastDataVersion !== undefined && version !== this.lastDataVersion;
    this.lastDataVersion = version;
    return changed;
  }

  /**
   * Sets the gold labels of the answered input with this payload id (or this log
   * sequence number, `{seq}`: ids may repeat); the labels it had before (if any)
   * are kept in `label_history`. One transaction.
   */
  label(id: string | { readonly seq: number }, gold: GoldLabel): { ok: true; seq: number; previous: PreviousLabel } | { ok: false; code: 'not_found' | 'ambiguous' } {
    return this.writeTx('storing a label', () => {
      const rows = (typeof id === 'string' ? this.findForLabel.all(id) : this.findForLabelBySeq.all(id.seq)) as Array<{ seq: number; intent: string | null; slots: string | null; sentiment: string | null; by: string | null; at: number | null }>;
      if (rows.length === 0) return { ok: false as const, code: 'not_found' as const };
      if (rows.length > 1) return { ok: false as const, code: 'ambiguous' as const };
      const row = rows[0];
      const previous: PreviousLabel = { intent: row.intent, slots: row.slots ? JSON.parse(row.slots) : null, sentiment: row.sentiment, by: row.by, at: row.at };
      if (row.at !== null || row.intent !== null || row.slots !== null || row.sentiment !== null) this.keepLabel.run({ seq: row.seq, at: gold.at, by: gold.by });
      // A field left out keeps its current gold value; null clears it.
      this.writeLabel.run({
        seq: row.seq,
        intent: gold.intent === undefined ? row.intent : gold.intent,
        slots: gold.slots === undefined ? row.slots : gold.slots === null ? null : JSON.stringify(gold.slots),
        sentiment: gold.sentiment === undefined ? row.sentiment : gold.sentiment,
        by: gold.by,
        at: gold.at,
      });
      return { ok: true as const, seq: row.seq, previous };
    });
  }

  /** Stores shadow predictions beside the live results (one transaction); never touches status or the outbox. */
  recordShadow(results: readonly ShadowResult[]): void {
    if (results.length === 0) return;
    this.writeTx('storing shadow predictions', () => {
      for (const r of results) {
        this.writeShadow.run({ seq: r.seq, intent: safe(r.intent), confidence: r.confidence ?? null, sentiment: safe(r.sentiment), model: safe(r.model) });
      }
    });
  }

  markPublished(seqs: readonly number[], at: number): void {
    if (seqs.length === 0) return;
    this.writeTx('marking messages published', () => {
      for (const seq of seqs) this.markPublishedStmt.run(at, seq);
    });
  }

  noteAttempt(seq: number): void {
    this.write('counting a publish attempt', () => this.countAttempt.run(seq));
  }

  /**
   * A `write` in one transaction, BEGIN IMMEDIATE: it takes the write lock first (waiting up to busy_timeout), instead of
   * reading and then upgrading, which SQLite refuses at once (SQLITE_BUSY, no wait) when the WAL changed under the
   * read, e.g. after the checkpoint thread (checkpointer.ts) has copied all of it back.
   */
  private writeTx<T>(doing: string, fn: () => T): T {
    return this.write(doing, () => this.immediate(fn) as T);
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

  /** The values of `insertInput`, in its column order. */
  private inputParams(input: NewInput, status: InputStatus, errorCode: string | null, errorMessage: string | null, completedAt: number | null): unknown[] {
    return [
      safe(input.id),
      input.idSource,
      input.deliveryKey,
      input.receivedAt,
      safe(input.topic),
      safe(input.siteId),
      safe(input.sessionId),
      safe(input.lang),
      safe(input.text),
      JSON.stringify(input.tasks),
      safe(input.resultTopic),
      input.request && Object.keys(input.request).length > 0 ? json(input.request) : null,
      status,
      safe(input.payloadExcerpt),
      errorCode,
      errorMessage,
      completedAt,
    ];
  }

  /** The values of `insertAnswered`: the input's columns, then its result's (`lang`: the one it was analysed as). */
  private answeredParams(input: NewInput, c: Completion): unknown[] {
    const params = this.inputParams(c.lang ? { ...input, lang: c.lang } : input, c.status, c.error?.code ?? null, safe(c.error?.message), c.completedAt);
    params.push(...resultParams(c));
    return params;
  }
}
