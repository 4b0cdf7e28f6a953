import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migrate, openDatabase, SchemaTooNewError } from '../../src/store/database.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-db-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string): number => statSync(path).mode & 0o777;

function tables(db: Database.Database): string[] {
  return db.prepare(`SELECT name FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];
}

// Numbers are assigned to parallel branches (issue 8 has 4 while 2 and 3 are elsewhere), so a branch may
// show a gap until they meet; the order and the last number are what migrate() relies on.
test('migrations are numbered in increasing order, starting at 1; SCHEMA_VERSION is the last', () => {
  const versions = MIGRATIONS.map((m) => m.version);
  assert.equal(versions[0], 1);
  assert.ok(versions.every((v, i) => i === 0 || v > versions[i - 1]), versions.join(','));
  assert.equal(SCHEMA_VERSION, versions[versions.length - 1]);
});

test('a new database: schema applied, user_version set, WAL, owner-only file in a new owner-only directory', () => {
  const path = join(dir, 'fresh', 'nested', 'hubnlu.db');
  const db = openDatabase(path);
  try {
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(tables(db), ['inputs', 'label_history', 'log', 'outbox']);
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
    assert.equal(db.pragma('synchronous', { simple: true }), 2, 'FULL by default');
    db.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status) VALUES ('a', 'assigned', 'k', 1, 't', 's', 'pending')`).run();
    assert.equal(mode(path), 0o600);
    // SQLite gives the WAL its database's permissions: the freshest rows are owner-only too.
    assert.ok(existsSync(`${path}-wal`));
    assert.equal(mode(`${path}-wal`), 0o600);
  } finally {
    db.close();
  }
  assert.equal(mode(join(dir, 'fresh')), 0o700);
  assert.equal(mode(join(dir, 'fresh', 'nested')), 0o700);
});

test('synchronous = normal when asked', () => {
  const db = openDatabase(join(dir, 'normal.db'), { synchronous: 'normal' });
  assert.equal(db.pragma('synchronous', { simple: true }), 1);
  db.close();
});

test('re-opening is idempotent: nothing re-applied, rows kept', () => {
  const path = join(dir, 'again.db');
  const first = openDatabase(path);
  first.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status) VALUES ('a', 'assigned', 'k', 1, 't', 's', 'pending')`).run();
  first.close();
  for (let i = 0; i < 2; i++) {
    const db = openDatabase(path);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(migrate(db, path), SCHEMA_VERSION);
    assert.equal(db.prepare('SELECT count(*) FROM inputs').pluck().get(), 1);
    db.close();
  }
});

test('a database from a newer hubnlu is refused, and left untouched', () => {
  const path = join(dir, 'future.db');
  const raw = new Database(path);
  raw.exec('CREATE TABLE inputs (x)');
  raw.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  raw.close();
  assert.throws(
    () => openDatabase(path),
    (err: Error) => err instanceof SchemaTooNewError && err.message.includes(path) && err.message.includes(`version ${SCHEMA_VERSION + 1}`) && /upgrade hubnlu/.test(err.message),
  );
  const check = new Database(path, { readonly: true });
  assert.equal(check.pragma('user_version', { simple: true }), SCHEMA_VERSION + 1);
  assert.deepEqual(tables(check), ['inputs']);
  check.close();
});

test('an old file at version 0 (empty) is migrated', () => {
  const empty = join(dir, 'empty.db');
  writeFileSync(empty, ''); // zero bytes: SQLite treats it as a new database
  const db = openDatabase(empty);
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(tables(db), ['inputs', 'label_history', 'log', 'outbox']);
  db.close();

  const v0 = join(dir, 'v0.db');
  const raw = new Database(v0);
  raw.exec('CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES (\'kept\')');
  assert.equal(raw.pragma('user_version', { simple: true }), 0);
  raw.close();
  const migrated = openDatabase(v0);
  assert.equal(migrated.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.deepEqual(tables(migrated), ['inputs', 'label_history', 'log', 'notes', 'outbox']);
  assert.equal(migrated.prepare('SELECT text FROM notes').pluck().get(), 'kept');
  migrated.close();
});

test('read-only open of a missing file fails and creates nothing', () => {
  const path = join(dir, 'not-there', 'hubnlu.db');
  assert.throws(() => openDatabase(path, { readonly: true }), /no database yet/);
  assert.equal(existsSync(join(dir, 'not-there')), false);
});

test('migration 2: a version 1 file gains the outbox.input_seq index, and retention uses it', async () => {
  const path = join(dir, 'v1-migration2.db');
  const raw = new Database(path);
  raw.exec(MIGRATIONS[0].sql);
  raw.pragma('user_version = 1');
  raw.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status) VALUES ('a', 'payload', 'k', 1, 't', 's', 'done')`).run();
  assert.equal(raw.prepare(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox' AND sql LIKE '%input_seq%'`).pluck().get(), 0);
  raw.close();

  const db = openDatabase(path);
  try {
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    const index = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND name = 'outbox_input_seq'`).pluck().get();
    assert.equal(index, 'outbox_input_seq');
    assert.deepEqual(
      (db.pragma('index_info(outbox_input_seq)') as Array<{ name: string }>).map((c) => c.name),
      ['input_seq'],
    );
    const plan = (db.prepare('EXPLAIN QUERY PLAN DELETE FROM outbox WHERE input_seq = ?').all(1) as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    assert.match(plan, /USING (COVERING )?INDEX outbox_input_seq/, plan);
    assert.equal(db.prepare('SELECT id FROM inputs').pluck().get(), 'a', 'rows kept');
  } finally {
    db.close();
  }
});

/** A file as hubnlu left it at schema `version`: migration 1's tables, `extraSql` (e.g. migration 2's index), two rows. */
function oldFile(name: string, version: number, extraSql = ''): string {
  const path = join(dir, name);
  const raw = new Database(path);
  raw.exec(MIGRATIONS.find((m) => m.version === 1)!.sql);
  if (extraSql) raw.exec(extraSql);
  raw.pragma(`user_version = ${version}`);
  const insert = raw.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, text, status) VALUES (?, 'payload', ?, ?, ?, ?, 'hi', 'done')`);
  insert.run('req-1', 'k1', 1, 'hubnlu/garage/utterance', 'garage');
  insert.run('req-2', 'k2', 2, 'hubnlu/garage/utterance', 'garage');
  assert.throws(() => insert.run('req-1', 'k3', 3, 'hubnlu/hall/utterance', 'hall'), /UNIQUE/, 'version 1 makes a payload id unique for ever');
  raw.close();
  return path;
}

const indexes = (db: Database.Database): string[] =>
  db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inputs' AND name NOT LIKE 'sqlite_%' ORDER BY name`).pluck().all() as string[];

for (const [label, version, extraSql] of [
  ['version 1', 1, ''],
  ['version 2 (migration 2: an index on outbox.input_seq)', 2, 'CREATE INDEX IF NOT EXISTS outbox_input_seq ON outbox (input_seq);'],
] as const) {
  test(`a ${label} file migrates to ${SCHEMA_VERSION}: rows kept, payload ids no longer unique for ever, a scoped index instead`, () => {
    const path = oldFile(`v${version}.db`, version, extraSql);
    const db = openDatabase(path);
    try {
      assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
      assert.deepEqual(db.prepare('SELECT id, site_id FROM inputs ORDER BY seq').all(), [
        { id: 'req-1', site_id: 'garage' },
        { id: 'req-2', site_id: 'garage' },
      ]);
      const names = indexes(db);
      assert.ok(!names.includes('inputs_payload_id'), names.join());
      assert.ok(names.includes('inputs_payload_scope'), names.join());
      // The same id from another site is now a second row.
      db.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status) VALUES ('req-1', 'payload', 'k3', 3, 'hubnlu/hall/utterance', 'hall', 'pending')`).run();
      assert.equal(db.prepare(`SELECT count(*) FROM inputs WHERE id = 'req-1'`).pluck().get(), 2);
      if (version === 2) {
        const outboxIndexes = db.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'outbox'`).pluck().all();
        assert.ok(outboxIndexes.includes('outbox_input_seq'), 'migration 2 left alone');
      }
      const plan = db.prepare(`EXPLAIN QUERY PLAN SELECT seq FROM inputs WHERE id = 'req-1' AND id_source = 'payload' AND site_id = 'hall' AND topic = 't' AND received_at >= 0`).all();
      assert.match(JSON.stringify(plan), /inputs_payload_scope/, 'the dedupe lookup uses the scoped index');
    } finally {
      db.close();
    }
  });
}

test('migration 4 on a version-1 file: outbox rows keep their data and gain a null properties column; label_history appears', () => {
  const path = join(dir, 'v1-migration4.db');
  const raw = new Database(path);
  raw.exec(MIGRATIONS[0].sql);
  raw.pragma('user_version = 1');
  raw.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status, gold_intent, gold_by, gold_at) VALUES ('old', 'payload', 'k', 1, 't', 's', 'done', 'x', 'eve', 5)`).run();
  raw.prepare(`INSERT INTO outbox (input_seq, topic, payload, created_at) VALUES (1, 'hubnlu/s/result', '{}', 1)`).run();
  raw.close();
  const db = openDatabase(path);
  try {
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(db.prepare('SELECT topic, payload, properties FROM outbox').get(), { topic: 'hubnlu/s/result', payload: '{}', properties: null });
    assert.deepEqual(db.prepare(`SELECT gold_intent, gold_by, gold_at FROM inputs WHERE id = 'old'`).get(), { gold_intent: 'x', gold_by: 'eve', gold_at: 5 });
    assert.equal(db.prepare('SELECT count(*) FROM label_history').pluck().get(), 0);
  } finally {
    db.close();
  }
});

test('migration 7 on a version-6 file with rows: rows kept, a partial index of the labelled rows\' gold intents, which the bridge label\'s lookup uses', () => {
  const path = join(dir, 'v6-migration7.db');
  const raw = new Database(path);
  for (const m of MIGRATIONS.filter((m) => m.version <= 6)) raw.exec(m.sql);
  raw.pragma('user_version = 6');
  const add = raw.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, text, status, gold_intent, gold_by, gold_at) VALUES (?, 'payload', ?, ?, 'hubnlu/k/utterance', 'k', 'hi', 'done', ?, ?, ?)`);
  for (let i = 1; i <= 50; i++) add.run(`in-${i}`, `k-${i}`, i, i % 10 === 0 ? `household_${i % 20}` : null, i % 10 === 0 ? 'ann' : null, i % 10 === 0 ? i : null);
  const before = raw.prepare('SELECT * FROM inputs ORDER BY seq').all();
  raw.close();

  const db = openDatabase(path);
  try {
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.ok(SCHEMA_VERSION >= 7);
    assert.deepEqual(db.prepare('SELECT * FROM inputs ORDER BY seq').all(), before, 'rows changed by the migration');
    const sql = db.prepare(`SELECT sql FROM sqlite_master WHERE type = 'index' AND name = 'inputs_gold_intent'`).pluck().get() as string;
    assert.match(sql, /ON inputs \(gold_intent\) WHERE gold_intent IS NOT NULL/);
    // The agent's query (agent.ts labelVocabulary) searches the index instead of scanning every input.
    const lookup = 'SELECT 1 FROM inputs WHERE gold_intent = ? LIMIT 1';
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${lookup}`).all('x') as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    assert.match(plan, /USING (COVERING )?INDEX inputs_gold_intent/, plan);
    assert.deepEqual(db.prepare(lookup).get('household_10'), { 1: 1 });
    assert.equal(db.prepare(lookup).get('household_3'), undefined);
    // Partial: only labelled rows are in it.
    const listed = (db.pragma('index_list(inputs)') as Array<{ name: string; partial: number }>).find((i) => i.name === 'inputs_gold_intent');
    assert.equal(listed?.partial, 1);
    // The CLI's list of logged intents (store/labels.ts) is answered from it too.
    const distinct = (db.prepare(`EXPLAIN QUERY PLAN SELECT DISTINCT gold_intent FROM inputs WHERE gold_intent IS NOT NULL`).all() as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    assert.match(distinct, /INDEX inputs_gold_intent/, distinct);
  } finally {
    db.close();
  }
});
