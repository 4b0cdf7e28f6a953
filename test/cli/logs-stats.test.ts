/** `hubnlu logs` and `hubnlu stats`, run as processes against a real database file. */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { seedDatabase, type SeedRow } from '../store/seed.js';

const MIN = 60_000;
const LONG_TEXT = 'turn off the kitchen lights and then tell me what the weather will be like tomorrow morning in the garden please';

let dir: string;
let db: string;
let now: number;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-logs-'));
  db = join(dir, 'data', 'hubnlu.db');
  now = Date.now();
  const rows: SeedRow[] = [
    { receivedAt: now - 180 * MIN, site: 'kitchen', status: 'done', intent: 'iot_hue_lightoff', confidence: 0.93, sentiment: 'positive', latencyMs: 12, text: LONG_TEXT, intentModel: 'intent@1', sentimentModel: 'sentiment@1' },
    { receivedAt: now - 50 * MIN, site: 'kitchen', status: 'done', intent: 'iot_hue_lightoff', confidence: 0.81, sentiment: 'neutral', latencyMs: 30, intentModel: 'intent@1', sentimentModel: 'sentiment@1' },
    { receivedAt: now - 40 * MIN, site: 'hall', status: 'done', intent: 'weather_query', confidence: 0.77, sentiment: 'neutral', latencyMs: 20, intentModel: 'intent@1', sentimentModel: 'sentiment@1' },
    { receivedAt: now - 30 * MIN, site: 'hall', status: 'rejected', code: 'text_too_long' },
    { receivedAt: now - 20 * MIN, site: 'kitchen', status: 'rejected', code: 'invalid_json', text: '{"text": "oops"' },
    { receivedAt: now - 10 * MIN, site: 'bedroom', status: 'done', intent: 'play_music', confidence: 0.66, sentiment: 'negative', latencyMs: 50, intentModel: 'intent@1', sentimentModel: 'sentiment@1' },
    { receivedAt: now - 5 * MIN, site: 'kitchen', status: 'error', code: 'model_error', latencyMs: 5 },
  ];
  seedDatabase(db, rows);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir });

interface JsonRow {
  siteId: string;
  status: string;
  receivedAt: string;
  intent: { name: string; confidence: number } | null;
  alternatives: unknown;
  sentiment: { label: string } | null;
  error: { code: string } | null;
  latencyMs: number | null;
  text: string | null;
}

describe('hubnlu logs', () => {
  test('--json: every row, newest first, JSON columns parsed, ISO times', () => {
    const r = cli('logs', '--db', db, '--json');
    assert.equal(r.status, 0, r.stderr);
    const rows = JSON.parse(r.stdout) as JsonRow[];
    assert.equal(rows.length, 7);
    assert.deepEqual(
      rows.map((x) => x.status),
      ['error', 'done', 'rejected', 'rejected', 'done', 'done', 'done'],
    );
    const times = rows.map((x) => Date.parse(x.receivedAt));
    assert.deepEqual(times, [...times].sort((a, b) => b - a));
    assert.equal(times[6], now - 180 * MIN);
    const oldest = rows[6];
    assert.deepEqual(oldest.intent, { name: 'iot_hue_lightoff', confidence: 0.93 });
    assert.deepEqual(oldest.alternatives, [{ name: 'iot_hue_lightoff', confidence: 0.93 }]);
    assert.equal(oldest.sentiment?.label, 'positive');
    assert.equal(oldest.text, LONG_TEXT);
    assert.deepEqual(rows[0].error, { code: 'model_error', message: 'the model failed' });
  });

  test('--site kitchen: an aligned table of that site only, fitting 100 columns', () => {
    const r = cli('logs', '--db', db, '--site', 'kitchen');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n');
    assert.match(lines[0], /^TIME +SITE +STATUS +INTENT \/ ERROR +SENT +LAT +TEXT$/);
    assert.equal(lines.length, 1 + 4);
    for (const line of lines.slice(1)) assert.match(line, /^\d\d-\d\d \d\d:\d\d:\d\d {2}kitchen /);
    for (const line of lines) assert.ok(Array.from(line).length <= 100, `too wide (${line.length}): ${line}`);
    // Columns line up: STATUS starts at the same place in every row.
    const statusAt = lines[0].indexOf('STATUS');
    assert.deepEqual(lines.slice(1).map((l) => l.slice(statusAt).split(' ')[0]), ['error', 'rejected', 'done', 'done']);
    assert.match(lines[1], /model_error/);
    assert.match(lines[3], /iot_hue_lightoff 0\.81 +neu +30ms/);
    assert.match(lines[4], /iot_hue_lightoff 0\.93 +pos +12ms +turn off the kitchen\b.*[^ ]…$/, 'long text cut with an ellipsis');
    assert.ok(!r.stdout.includes('hall'));
  });

  test('--status rejected: error codes, and the payload excerpt where there is no text', () => {
    const r = cli('logs', '--db', db, '--status', 'rejected');
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.trimEnd().split('\n').slice(1);
    assert.equal(lines.length, 2);
    assert.match(lines[0], /kitchen +rejected +invalid_json .*\{"text": "oops"/);
    assert.match(lines[1], /hall +rejected +text_too_long/);
  });

  test('--since and --limit narrow the rows', () => {
    const recent = JSON.parse(cli('logs', '--db', db, '--since', '1h', '--json').stdout) as JsonRow[];
    assert.equal(recent.length, 6);
    const two = cli('logs', '--db', db, '--limit', '2', '--json');
    assert.deepEqual((JSON.parse(two.stdout) as JsonRow[]).map((x) => x.siteId), ['kitchen', 'bedroom']);
    const table = cli('logs', '--db', db, '--limit', '2');
    assert.match(table.stderr, /the newest 2; --limit shows more/);
  });

  test('nothing matches: exit 3 with a message on stderr (JSON mode prints [])', () => {
    const r = cli('logs', '--db', db, '--intent', 'nope');
    assert.equal(r.status, 3);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no inputs match \(intent "nope"\)/);
    const json = cli('logs', '--db', db, '--intent', 'nope', '--json');
    assert.equal(json.status, 3);
    assert.deepEqual(JSON.parse(json.stdout), []);
  });

  test('the database comes from storage.path when --db is absent, relative to the working directory', () => {
    const r = runCli(['logs', '--json', '--site', 'hall'], { cwd: dir, env: { HUBNLU_STORAGE_PATH: 'data/hubnlu.db' } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal((JSON.parse(r.stdout) as JsonRow[]).length, 2);
  });

  test('a missing database: exit 1, a clear message, and no file created', () => {
    const missing = join(dir, 'missing.db');
    const r = cli('logs', '--db', missing);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /missing\.db: no database there \(start the agent once/);
    assert.equal(existsSync(missing), false);
    const viaConfig = runCli(['logs'], { cwd: dir, env: { HUBNLU_STORAGE_PATH: 'elsewhere/hubnlu.db' } });
    assert.equal(viaConfig.status, 1);
    assert.match(viaConfig.stderr, /elsewhere\/hubnlu\.db: no database there/);
  });

  test('a directory as --db (the data directory instead of the file in it): named, with the file it holds', () => {
    const data = join(dir, 'data');
    for (const command of ['logs', 'stats', 'export']) {
      const r = cli(command, '--db', data);
      assert.equal(r.status, 1, r.stderr);
      assert.ok(r.stderr.includes(`${data}: a directory, not a database file; did you mean --db ${join(data, 'hubnlu.db')}?`), r.stderr);
      assert.doesNotMatch(r.stderr, /disk I\/O error/);
    }
    const label = cli('label', '#1', '--intent', 'x', '--db', data);
    assert.equal(label.status, 1, label.stderr);
    assert.match(label.stderr, /a directory, not a database file/);
    mkdirSync(join(dir, 'empty-dir'));
    const empty = cli('logs', '--db', join(dir, 'empty-dir'));
    assert.equal(empty.status, 1);
    assert.match(empty.stderr, /empty-dir: a directory, not a database file; point --db \/ storage\.path at the database file/);
  });

  test('bad arguments are usage errors (exit 2) that say what is expected', () => {
    const status = cli('logs', '--db', db, '--status', 'bogus');
    assert.equal(status.status, 2);
    assert.match(status.stderr, /Allowed choices are pending, done, rejected, error/);
    const since = cli('logs', '--db', db, '--since', 'yesterday');
    assert.equal(since.status, 2);
    assert.match(since.stderr, /expected a duration such as 90s, 30m, 1h, 2d/);
    const limit = cli('logs', '--db', db, '--limit', '0');
    assert.equal(limit.status, 2);
    assert.match(limit.stderr, /expected a whole number >= 1/);
  });
});

describe('hubnlu stats', () => {
  test('--json: counts and percentiles match the seeded rows', () => {
    const r = cli('stats', '--db', db, '--json');
    assert.equal(r.status, 0, r.stderr);
    const s = JSON.parse(r.stdout) as Record<string, any>;
    assert.equal(s.database, db);
    assert.equal(s.total, 7);
    assert.deepEqual(s.byStatus, { pending: 0, done: 4, rejected: 2, error: 1 });
    // Done latencies 12, 20, 30, 50 (the error's 5 ms is no result): nearest rank p50 → 2nd, p90 and p99 → 4th.
    assert.deepEqual(s.latencyMs, { count: 4, p50: 20, p90: 50, p99: 50, max: 50, mean: 28 });
    assert.deepEqual(s.intents.top, [
      { name: 'iot_hue_lightoff', count: 2, share: 0.5 },
      { name: 'play_music', count: 1, share: 0.25 },
      { name: 'weather_query', count: 1, share: 0.25 },
    ]);
    assert.equal(s.errors.count, 3);
    assert.equal(s.errors.rate, 3 / 7);
    assert.deepEqual(s.errors.byCode, [
      { code: 'invalid_json', count: 1 },
      { code: 'model_error', count: 1 },
      { code: 'text_too_long', count: 1 },
    ]);
    assert.deepEqual(s.sentiment.labels.map((x: { label: string; count: number }) => [x.label, x.count]), [['neutral', 2], ['negative', 1], ['positive', 1]]);
    assert.deepEqual(s.models, [{ intent: 'intent@1', sentiment: 'sentiment@1', count: 4 }]);
    assert.equal(Date.parse(s.firstReceivedAt), now - 180 * MIN);
    assert.equal(Date.parse(s.lastReceivedAt), now - 5 * MIN);
    assert.ok(Math.abs(Date.parse(s.since) - (now - 24 * 60 * MIN)) < 60_000, 'the default window is 24 h');
  });

  test('--since narrows the window; --since all has no start', () => {
    const hour = JSON.parse(cli('stats', '--db', db, '--since', '1h', '--json').stdout) as Record<string, any>;
    assert.equal(hour.total, 6);
    assert.deepEqual(hour.latencyMs, { count: 3, p50: 30, p90: 50, p99: 50, max: 50, mean: 100 / 3 });
    const all = JSON.parse(cli('stats', '--db', db, '--since', 'all', '--json').stdout) as Record<string, any>;
    assert.equal(all.since, null);
    assert.equal(all.total, 7);
  });

  test('human summary', () => {
    const r = cli('stats', '--db', db);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^status +done 4 · rejected 2 · error 1 · pending 0$/m);
    assert.match(r.stdout, /^errors +3 \(42\.9%\): invalid_json 1, model_error 1, text_too_long 1$/m);
    assert.match(r.stdout, /^latency +p50 20\.0 ms · p90 50\.0 ms · p99 50\.0 ms · max 50\.0 ms · mean 28\.0 ms \(4 results\)$/m);
    assert.match(r.stdout, /^ +iot_hue_lightoff +2 +50\.0%$/m);
  });

  test('an empty window is not an error', () => {
    const r = cli('stats', '--db', db, '--since', '1m');
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /inputs +0 \(nothing logged in this window/);
  });

  test('a missing database: exit 1', () => {
    const r = cli('stats', '--db', join(dir, 'nope', 'missing.db'), '--json');
    assert.equal(r.status, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /no database there/);
  });
});

test('a site id stored with invisible characters (a log from before the parser refused them) is shown with them spelled out', () => {
  const own = mkdtempSync(join(tmpdir(), 'hubnlu-cli-logs-cf-'));
  try {
    const path = join(own, 'hubnlu.db');
    // U+202E right-to-left override would reverse the rest of the terminal line (the SITE column is 16 wide).
    seedDatabase(path, [{ receivedAt: Date.now() - MIN, site: 'a\u202eb', status: 'done', intent: 'play_music', confidence: 0.9, latencyMs: 5 }]);
    const r = runCli(['logs', '--db', path]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /a<U\+202E>b /);
    assert.doesNotMatch(r.stdout, /\u202e/u);
    // --json keeps the stored value exactly (a program reads it, not a terminal).
    const json = JSON.parse(runCli(['logs', '--json', '--db', path]).stdout) as Array<{ siteId: string }>;
    assert.equal(json[0].siteId, 'a\u202eb');
  } finally {
    rmSync(own, { recursive: true, force: true });
  }
});
