/**
 * What the bridge `label` request's intent-name lookup costs on a large log (agent.ts labelVocabulary: "is this
 * intent, unknown to every model, already a gold label in the log?"). Builds a real log of `--rows` inputs (default
 * 1,000,000) with the test seeding helper (thin rows: a real log's rows also carry results and requests, so a full
 * scan there reads more pages than here), labels one in `--label-every` of them, and times the agent's query for a
 * name that is absent (the usual case for a new intent: every labelled row is looked at, or every row without an
 * index) and for one that is present. Opening the file runs the migrations, so the timing after a migration includes
 * its index, and the time that migration took on the big file is printed too.
 *
 *   npm run build && nice -n 19 node dist/bench/gold-intent-lookup.js [--rows 1000000] [--label-every 1000] [--repeat 9]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import Database from 'better-sqlite3';
import { openDatabase } from '../src/store/database.js';
import { MIGRATIONS } from '../src/store/migrations.js';
import { seedBulk } from '../test/store/seed.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
}

const rows = arg('rows', 1_000_000);
const labelEvery = arg('label-every', 1000);
const repeat = arg('repeat', 9);
const QUERY = 'SELECT 1 FROM inputs WHERE gold_intent = ? LIMIT 1';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dir = mkdtempSync(join(tmpdir(), 'hubnlu-gold-lookup-'));
try {
  const path = join(dir, 'log.db');
  const latest = Math.max(...MIGRATIONS.map((m) => m.version));
  let t = process.hrtime.bigint();
  seedBulk(path, { total: rows, expired: 0, oldAt: 0, recentAt: 1_700_000_000_000 });
  const seedS = Number(process.hrtime.bigint() - t) / 1e9;
  // Labels written straight (as LogStore.label would leave them), on a copy of the rows the agent reads.
  const raw = new Database(path);
  raw.prepare(`UPDATE inputs SET gold_intent = 'intent_' || (seq % 37), gold_by = 'bench', gold_at = received_at WHERE seq % ? = 0`).run(labelEvery);
  const labelled = raw.prepare('SELECT count(*) FROM inputs WHERE gold_intent IS NOT NULL').pluck().get() as number;
  // Time how long the newest migration takes on this file: undo its index (if it adds one) and let openDatabase redo it.
  const indexes = raw.prepare(`SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'inputs' AND sql LIKE '%gold_intent%'`).pluck().all() as string[];
  for (const name of indexes) raw.exec(`DROP INDEX ${name}`);
  if (indexes.length > 0) raw.pragma(`user_version = ${latest - 1}`);
  raw.close();
  t = process.hrtime.bigint();
  const db = openDatabase(path, { synchronous: 'normal' });
  const openMs = Number(process.hrtime.bigint() - t) / 1e6;
  try {
    const stmt = db.prepare(QUERY);
    const plan = (db.prepare(`EXPLAIN QUERY PLAN ${QUERY}`).all('x') as Array<{ detail: string }>).map((r) => r.detail).join('; ');
    const time = (name: string): { median: number; min: number; max: number } => {
      stmt.get(name); // warm the page cache
      const ms: number[] = [];
      for (let i = 0; i < repeat; i++) {
        const s = process.hrtime.bigint();
        stmt.get(name);
        ms.push(Number(process.hrtime.bigint() - s) / 1e6);
      }
      return { median: median(ms), min: Math.min(...ms), max: Math.max(...ms) };
    };
    const absent = time('never_logged_intent');
    const present = time('intent_5');
    const out = {
      date: new Date().toISOString(),
      loadavg: loadavg().map((x) => x.toFixed(2)),
      rows,
      labelled,
      schemaVersion: db.pragma('user_version', { simple: true }),
      seedSeconds: Number(seedS.toFixed(1)),
      openWithMigrationMs: indexes.length > 0 ? Number(openMs.toFixed(1)) : null,
      plan,
      absentMs: absent,
      presentMs: present,
      repeat,
    };
    console.log(JSON.stringify(out, null, 2));
  } finally {
    db.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
