/**
 * Numbered schema migrations. `PRAGMA user_version` holds the number of the last
 * one applied; each runs in its own transaction. Never edit a released
 * migration: add the next one.
 */
export interface Migration {
  readonly version: number;
  readonly description: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'inputs log, outbox',
    sql: `
      CREATE TABLE inputs (
        seq              INTEGER PRIMARY KEY AUTOINCREMENT,
        id               TEXT NOT NULL,                 -- the payload's id, or a UUID hubnlu assigned
        id_source        TEXT NOT NULL CHECK (id_source IN ('payload', 'assigned')),
        delivery_key     TEXT NOT NULL,                 -- hash of topic, MQTT packet id and payload: spots broker redeliveries
        received_at      INTEGER NOT NULL,              -- ms since epoch
        completed_at     INTEGER,
        topic            TEXT NOT NULL,
        site_id          TEXT NOT NULL,
        session_id       TEXT,
        lang             TEXT,
        text             TEXT,
        tasks            TEXT NOT NULL DEFAULT '[]',    -- JSON array of task names
        result_topic     TEXT,
        request          TEXT,                          -- JSON: fields to echo (customData, intentFilter, meta, ...)
        status           TEXT NOT NULL CHECK (status IN ('pending', 'done', 'rejected', 'error')),
        intent           TEXT,
        confidence       REAL,
        alternatives     TEXT,                          -- JSON [{name, confidence}]
        slots            TEXT,                          -- JSON [{type, value, raw, start, end, confidence}]
        sentiment        TEXT,
        sentiment_score  REAL,
        sentiment_scores TEXT,                          -- JSON {negative, neutral, positive}
        intent_model     TEXT,                          -- name@version
        sentiment_model  TEXT,
        latency_ms       REAL,                          -- receipt to result, ms
        inference_ms     REAL,                          -- model time alone, ms
        error_code       TEXT,
        error_message    TEXT,
        payload_excerpt  TEXT,
        gold_intent      TEXT,                          -- labels added later by people (review, import)
        gold_slots       TEXT,
        gold_sentiment   TEXT,
        gold_by          TEXT,
        gold_at          INTEGER
      );
      CREATE UNIQUE INDEX inputs_payload_id ON inputs (id) WHERE id_source = 'payload';
      CREATE INDEX inputs_delivery_key ON inputs (delivery_key);
      CREATE INDEX inputs_received_at ON inputs (received_at);
      CREATE INDEX inputs_pending ON inputs (status) WHERE status = 'pending';

      CREATE TABLE outbox (
        seq          INTEGER PRIMARY KEY AUTOINCREMENT,
        input_seq    INTEGER NOT NULL REFERENCES inputs (seq),
        topic        TEXT NOT NULL,
        payload      TEXT NOT NULL,
        qos          INTEGER NOT NULL DEFAULT 1,
        retain       INTEGER NOT NULL DEFAULT 0,
        created_at   INTEGER NOT NULL,
        published_at INTEGER,
        attempts     INTEGER NOT NULL DEFAULT 0
      );
      CREATE INDEX outbox_unpublished ON outbox (seq) WHERE published_at IS NULL;

      CREATE VIEW log AS
        SELECT seq, id, strftime('%Y-%m-%dT%H:%M:%fZ', received_at / 1000.0, 'unixepoch') AS received,
               site_id, status, text, intent, round(confidence, 3) AS confidence, sentiment,
               round(latency_ms, 2) AS latency_ms, error_code, intent_model, sentiment_model, topic
        FROM inputs;
    `,
  },
  {
    version: 2,
    description: 'index outbox.input_seq: retention deletes an input\'s messages by it (without it each delete scans the outbox)',
    sql: `
      CREATE INDEX IF NOT EXISTS outbox_input_seq ON outbox (input_seq);
    `,
  },
  {
    version: 3,
    description: 'payload ids are scoped to topic and site, deduplicated within a time window (not unique for ever)',
    sql: `
      DROP INDEX IF EXISTS inputs_payload_id;
      CREATE INDEX inputs_payload_scope ON inputs (id, site_id, topic, received_at) WHERE id_source = 'payload';
    `,
  },
  {
    version: 4,
    description: 'outbox MQTT 5 properties; label history (issue 8)',
    sql: `
      -- JSON {responseTopic?, correlationData? (base64), contentType?, userProperties?}: sent on MQTT 5 connections.
      ALTER TABLE outbox ADD COLUMN properties TEXT;

      -- Every gold label an input had before it was relabelled (the current one stays in inputs.gold_*).
      CREATE TABLE label_history (
        seq            INTEGER PRIMARY KEY AUTOINCREMENT,
        input_seq      INTEGER NOT NULL REFERENCES inputs (seq),
        gold_intent    TEXT,
        gold_slots     TEXT,
        gold_sentiment TEXT,
        gold_by        TEXT,
        gold_at        INTEGER,
        replaced_at    INTEGER NOT NULL,                -- ms since epoch, when a newer label replaced this one
        replaced_by    TEXT
      );
      CREATE INDEX label_history_input ON label_history (input_seq);
    `,
  },
  {
    version: 5,
    description: 'shadow model predictions beside the live ones (issue 9)',
    sql: `
      -- What the configured shadow model (models.shadow) answered, written after the live result was committed.
      ALTER TABLE inputs ADD COLUMN shadow_intent TEXT;       -- the shadow's intent ("unknown" below its threshold)
      ALTER TABLE inputs ADD COLUMN shadow_confidence REAL;   -- its top intent confidence
      ALTER TABLE inputs ADD COLUMN shadow_sentiment TEXT;
      ALTER TABLE inputs ADD COLUMN shadow_model TEXT;        -- name@version (intent+sentiment joined by '+')
    `,
  },
  {
    version: 6,
    description: 'outbox rows the broker refused (a dead-letter mark): not resent until `hubnlu outbox retry`',
    sql: `
      -- Set when the broker answered the message's PUBLISH with a definite refusal (an MQTT 5 PUBACK reason code such as
      -- 0x87 Not authorized) on an open connection; NULL otherwise. A refused row is not published and not resent.
      ALTER TABLE outbox ADD COLUMN refused_at INTEGER;       -- ms since epoch
      ALTER TABLE outbox ADD COLUMN refused_code INTEGER;     -- the reason code (135 = 0x87)
      ALTER TABLE outbox ADD COLUMN refused_reason TEXT;      -- its MQTT 5 name, e.g. "Not authorized"

      -- What the publisher reads (unsent and not refused), and the few refused rows (health, hubnlu outbox).
      DROP INDEX IF EXISTS outbox_unpublished;
      CREATE INDEX outbox_unsent ON outbox (seq) WHERE published_at IS NULL AND refused_at IS NULL;
      CREATE INDEX outbox_refused ON outbox (seq) WHERE published_at IS NULL AND refused_at IS NOT NULL;
    `,
  },
  {
    version: 7,
    description: 'an index of the labelled inputs\' gold intents (the bridge label\'s "is this intent already logged?")',
    sql: `
      -- A bridge label naming an intent no model knows asks whether the log already holds it as a gold label
      -- (agent.ts labelVocabulary): without an index a full scan of inputs on the event loop, 200 ms at 1,000,000 rows.
      -- Partial: only labelled rows are in it, so it stays tiny and unlabelled inputs cost nothing to write.
      CREATE INDEX inputs_gold_intent ON inputs (gold_intent) WHERE gold_intent IS NOT NULL;
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;
