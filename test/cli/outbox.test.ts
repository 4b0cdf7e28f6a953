/** `hubnlu outbox list|retry` as a user runs them: separate processes on real SQLite files (the agent's side: test/faults/refused-result). */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { runCli } from '../helpers/cli.js';
import { openDatabase } from '../../src/store/database.js';
import { MIGRATIONS, SCHEMA_VERSION } from '../../src/store/migrations.js';
import { LogStore } from '../../src/store/log-store.js';

let dir: string;
let db: string;
const seqs: Record<string, number> = {};
const NOW = Date.UTC(2026, 11, 2, 5);

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-outbox-'));
  db = join(dir, 'hubnlu.db');
  const conn = openDatabase(db, { synchronous: 'normal' });
  const store = new LogStore(conn);
  for (const [id, site] of [['k-1', 'kitchen'], ['g-1', 'garage'], ['g-2', 'garage'], ['k-2', 'kitchen']] as const) {
    const seq = store.recordInput({ id, idSource: 'payload', deliveryKey: id, receivedAt: NOW, topic: `hubnlu/${site}/utterance`, siteId: site, text: 'hi', tasks: ['intent'] }).seq;
    const queued: Parameters<LogStore['completeMany']>[1] = [];
    store.completeMany([{ seq, status: 'done', completedAt: NOW, latencyMs: 1, messages: [{ topic: `hubnlu/${site}/result`, payload: JSON.stringify({ id }) }] }], queued);
    seqs[id] = queued[0].seq;
  }
  store.markPublished([seqs['k-1']], NOW);
  store.markRefused(seqs['g-1'], NOW + 1, 0x87, 'Not authorized');
  store.markRefused(seqs['g-2'], NOW + 2, 0x87, 'Not authorized');
  conn.close();
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli([...args, '--db', db], { cwd: dir });

test('outbox list: counts, then the refused results with their reason; --json; --unpublished shows the backlog', () => {
  const text = cli('outbox', 'list');
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /waiting 1 · refused 2 · published 1/);
  assert.match(text.stdout, new RegExp(`#${seqs['g-1']} .*0x87 Not authorized  hubnlu/garage/result  id g-1  site garage`));
  const json = JSON.parse(cli('outbox', 'list', '--refused', '--json').stdout) as { counts: unknown; refused: Array<Record<string, unknown>> };
  assert.deepEqual(json.counts, { unpublished: 1, refused: 2, published: 1 });
  assert.deepEqual(json.refused.map((r) => [r.seq, r.reasonCode, r.reason, r.id]), [[seqs['g-1'], 135, 'Not authorized', 'g-1'], [seqs['g-2'], 135, 'Not authorized', 'g-2']]);
  const waiting = cli('outbox', 'list', '--unpublished');
  assert.equal(waiting.status, 0, waiting.stderr);
  assert.match(waiting.stdout, new RegExp(`#${seqs['k-2']} .*hubnlu/kitchen/result`));
  assert.equal(cli('outbox', 'list', '--refused', '--unpublished').status, 2);
});

test('outbox retry: usage errors exit 2; a seq that is not refused exits 3; named seqs move to new seqs, --all takes the rest', () => {
  assert.equal(cli('outbox', 'retry').status, 2);
  assert.equal(cli('outbox', 'retry', '--all', String(seqs['g-1'])).status, 2);
  assert.equal(cli('outbox', 'retry', 'x1').status, 2);
  const notRefused = cli('outbox', 'retry', String(seqs['k-2']), '999');
  assert.equal(notRefused.status, 3);
  assert.match(notRefused.stderr, new RegExp(`not a refused message .*#${seqs['k-2']}, #999`));

  const one = cli('outbox', 'retry', `#${seqs['g-1']}`);
  assert.equal(one.status, 0, one.stderr);
  assert.match(one.stdout, new RegExp(`re-queued #${seqs['g-1']} as #${seqs['k-2'] + 1}  hubnlu/garage/result`));
  assert.match(one.stdout, /no agent is running .*: they are sent when it next starts/);
  const rest = JSON.parse(cli('outbox', 'retry', '--all', '--json').stdout) as { requeued: Array<{ seq: number }>; agentRunning: boolean };
  assert.deepEqual(rest.requeued.map((r) => r.seq), [seqs['g-2']]);
  assert.equal(rest.agentRunning, false);
  assert.equal(cli('outbox', 'retry', '--all').status, 3);
  assert.equal(cli('outbox', 'list', '--refused').status, 3);
  const c = new Database(db, { readonly: true });
  try {
    assert.deepEqual(c.prepare('SELECT count(*) FROM outbox WHERE published_at IS NULL AND refused_at IS NULL').pluck().get(), 3);
  } finally {
    c.close();
  }
});

test('a version-5 database (before migration 6): list reads it (nothing refused), retry migrates it when no agent holds it', () => {
  const old = join(dir, 'v5.db');
  const raw = new Database(old);
  for (const m of MIGRATIONS.filter((m) => m.version <= 5)) raw.exec(m.sql);
  raw.pragma('user_version = 5');
  raw.prepare(`INSERT INTO inputs (id, id_source, delivery_key, received_at, topic, site_id, status) VALUES ('a', 'payload', 'k', 1, 't', 's', 'done')`).run();
  raw.prepare(`INSERT INTO outbox (input_seq, topic, payload, created_at) VALUES (1, 'hubnlu/s/result', '{}', 1)`).run();
  raw.close();
  const listed = runCli(['outbox', 'list', '--json', '--db', old], { cwd: dir });
  assert.equal(listed.status, 0, listed.stderr);
  assert.deepEqual((JSON.parse(listed.stdout) as { counts: unknown }).counts, { unpublished: 1, refused: 0, published: 0 });
  assert.equal(runCli(['outbox', 'retry', '--all', '--db', old], { cwd: dir }).status, 3);
  const c = new Database(old, { readonly: true });
  try {
    assert.equal(c.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  } finally {
    c.close();
  }
});
