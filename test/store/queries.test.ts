import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { openDatabase, SchemaTooNewError, type Db } from '../../src/store/database.js';
import { ALL_TIME, computeStats, LogDatabaseError, nearestRank, openLogDatabase, parseSince, parseSinceOrAll, queryLogs } from '../../src/store/queries.js';
import { seedDatabase, type SeedRow } from './seed.js';

const T0 = Date.UTC(2024, 4, 1, 8, 0, 0);
const MIN = 60_000;
const NEW = { intentModel: 'intent-mini@1.0.0', sentimentModel: 'sentiment-mini@0.3.0' };
const OLD = { intentModel: 'intent-mini@0.9.0', sentimentModel: 'sentiment-mini@0.3.0' };

/**
 * Fourteen rows, one a minute from T0 (row i at T0 + i min):
 * 10 done (latencies inserted out of order: sorted they are 5, 10, …, 50), 2 rejected, 1 error, 1 pending.
 */
const ROWS: SeedRow[] = (
  [
  { site: 'kitchen', status: 'done', intent: 'iot_hue_lightoff', confidence: 0.93, sentiment: 'positive', latencyMs: 30, ...OLD, text: 'turn off the kitchen lights' },
  { site: 'kitchen', status: 'done', intent: 'iot_hue_lightoff', confidence: 0.88, sentiment: 'neutral', latencyMs: 5, ...OLD },
  { site: 'hall', status: 'done', intent: 'weather_query', confidence: 0.71, sentiment: 'neutral', latencyMs: 50, ...NEW },
  { site: 'bedroom', status: 'done', intent: 'unknown', confidence: 0.31, sentiment: 'negative', latencyMs: 15, ...NEW },
  { site: 'kitchen', status: 'rejected', code: 'text_too_long' },
  { site: 'hall', status: 'rejected', code: 'invalid_json' },
  { site: 'hall', status: 'error', code: 'model_error', latencyMs: 999 },
  { site: 'kitchen', status: 'done', intent: 'play_music', confidence: 0.8, sentiment: 'positive', latencyMs: 45, ...NEW },
  { site: 'hall', status: 'done', intent: 'weather_query', confidence: 0.9, sentiment: 'positive', latencyMs: 10, ...NEW },
  { site: 'kitchen', status: 'done', intent: 'iot_hue_lightoff', confidence: 0.97, sentiment: 'positive', latencyMs: 25, ...NEW },
  { site: 'bedroom', status: 'done', intent: 'play_music', confidence: 0.6, sentiment: 'negative', latencyMs: 40, ...NEW },
  { site: 'hall', status: 'done', intent: 'weather_query', confidence: 0.75, sentiment: 'neutral', latencyMs: 20, ...NEW },
  { site: 'kitchen', status: 'done', intent: 'iot_hue_lightoff', confidence: 0.99, sentiment: 'positive', latencyMs: 35, ...NEW },
  { site: 'kitchen', status: 'pending' },
  ] as Array<Omit<SeedRow, 'receivedAt'>>
).map((r, i) => ({ ...r, receivedAt: T0 + i * MIN }));

let dir: string;
let db: Db;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-queries-'));
  const path = join(dir, 'hubnlu.db');
  seedDatabase(path, ROWS);
  db = openLogDatabase(path);
});

after(() => {
  db?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('queryLogs', () => {
  test('returns rows newest first, limited', () => {
    const all = queryLogs(db, { limit: 100 });
    assert.equal(all.length, 14);
    assert.deepEqual(
      all.map((e) => e.receivedAt),
      ROWS.map((r) => r.receivedAt).reverse(),
    );
    const three = queryLogs(db, { limit: 3 });
    assert.deepEqual(three.map((e) => e.receivedAt), [T0 + 13 * MIN, T0 + 12 * MIN, T0 + 11 * MIN]);
  });

  test('filters by site, intent, status and since, alone and together', () => {
    const kitchen = queryLogs(db, { site: 'kitchen', limit: 100 });
    assert.equal(kitchen.length, 7);
    assert.ok(kitchen.every((e) => e.siteId === 'kitchen'));

    const weather = queryLogs(db, { intent: 'weather_query', limit: 100 });
    assert.deepEqual(weather.map((e) => e.intent?.confidence), [0.75, 0.9, 0.71]);

    const rejected = queryLogs(db, { status: 'rejected', limit: 100 });
    assert.deepEqual(rejected.map((e) => e.error?.code), ['invalid_json', 'text_too_long']);

    const recent = queryLogs(db, { sinceMs: T0 + 10 * MIN, limit: 100 });
    assert.deepEqual(recent.map((e) => e.receivedAt), [T0 + 13 * MIN, T0 + 12 * MIN, T0 + 11 * MIN, T0 + 10 * MIN]);

    const lightsInKitchenLately = queryLogs(db, { site: 'kitchen', intent: 'iot_hue_lightoff', status: 'done', sinceMs: T0 + MIN, limit: 100 });
    assert.deepEqual(lightsInKitchenLately.map((e) => e.intent?.confidence), [0.99, 0.97, 0.88]);

    assert.deepEqual(queryLogs(db, { intent: 'nope', limit: 100 }), []);
    assert.deepEqual(queryLogs(db, { site: 'hall', status: 'pending', limit: 100 }), []);
  });

  test('parses the JSON columns and shapes each row', () => {
    const [first] = queryLogs(db, { sinceMs: T0, site: 'kitchen', intent: 'iot_hue_lightoff', limit: 100 }).slice(-1);
    assert.equal(first.text, 'turn off the kitchen lights');
    assert.equal(first.status, 'done');
    assert.deepEqual(first.intent, { name: 'iot_hue_lightoff', confidence: 0.93 });
    assert.deepEqual(first.alternatives, [{ name: 'iot_hue_lightoff', confidence: 0.93 }]);
    assert.deepEqual(first.slots, []);
    assert.deepEqual(first.tasks, ['intent', 'sentiment']);
    assert.equal(first.sentiment?.label, 'positive');
    assert.deepEqual(first.sentiment?.scores, { negative: 0.1, neutral: 0.1, positive: 0.8 });
    assert.deepEqual(first.models, { intent: 'intent-mini@0.9.0', sentiment: 'sentiment-mini@0.3.0' });
    assert.equal(first.latencyMs, 30);
    assert.equal(first.error, null);
    assert.equal(first.gold, null);
    assert.equal(typeof (first.request as { meta: { n: number } }).meta.n, 'number');

    const [rejection] = queryLogs(db, { status: 'rejected', site: 'kitchen', limit: 1 });
    assert.deepEqual(rejection.error, { code: 'text_too_long', message: 'rejected: text_too_long' });
    assert.equal(rejection.text, null);
    assert.equal(rejection.payloadExcerpt, 'bad payload');
    assert.equal(rejection.intent, null);
  });

  test('refuses a limit below one', () => {
    assert.throws(() => queryLogs(db, { limit: 0 }), RangeError);
  });
});

describe('computeStats', () => {
  test('counts, distributions, percentiles, errors and models over everything', () => {
    const s = computeStats(db, { topIntents: 2 });
    assert.equal(s.total, 14);
    assert.deepEqual(s.byStatus, { pending: 1, done: 10, rejected: 2, error: 1 });
    assert.equal(s.firstReceivedAt, T0);
    assert.equal(s.lastReceivedAt, T0 + 13 * MIN);

    assert.equal(s.intents.total, 10);
    assert.equal(s.intents.distinct, 4);
    assert.deepEqual(s.intents.top, [
      { name: 'iot_hue_lightoff', count: 4, share: 0.4 },
      { name: 'weather_query', count: 3, share: 0.3 },
    ]);
    assert.equal(s.intents.otherCount, 3); // play_music 2 + unknown 1

    assert.equal(s.sentiment.total, 10);
    assert.deepEqual(s.sentiment.labels, [
      { label: 'positive', count: 5, share: 0.5 },
      { label: 'neutral', count: 3, share: 0.3 },
      { label: 'negative', count: 2, share: 0.2 },
    ]);

    // Done latencies sorted: 5 10 15 20 25 30 35 40 45 50. Nearest rank: p50 → rank 5, p90 → rank 9, p99 → rank 10.
    // The error row's 999 ms is not a result and must not count.
    assert.deepEqual(s.latencyMs, { count: 10, p50: 25, p90: 45, p99: 50, max: 50, mean: 27.5 });

    assert.equal(s.errors.count, 3);
    assert.equal(s.errors.rejected, 2);
    assert.equal(s.errors.failed, 1);
    assert.equal(s.errors.rate, 3 / 14);
    assert.deepEqual(s.errors.byCode, [
      { code: 'invalid_json', count: 1 },
      { code: 'model_error', count: 1 },
      { code: 'text_too_long', count: 1 },
    ]);

    assert.deepEqual(s.models, [
      { intent: 'intent-mini@1.0.0', sentiment: 'sentiment-mini@0.3.0', count: 8 },
      { intent: 'intent-mini@0.9.0', sentiment: 'sentiment-mini@0.3.0', count: 2 },
    ]);
  });

  test('a window counts only rows received in it', () => {
    // Rows 7..13: play_music 45, weather 10, lights 25, play_music 40, weather 20, lights 35, pending.
    const s = computeStats(db, { sinceMs: T0 + 7 * MIN });
    assert.equal(s.sinceMs, T0 + 7 * MIN);
    assert.equal(s.total, 7);
    assert.deepEqual(s.byStatus, { pending: 1, done: 6, rejected: 0, error: 0 });
    assert.equal(s.firstReceivedAt, T0 + 7 * MIN);
    // Sorted 10 20 25 35 40 45: p50 → rank 3 = 25, p90 → rank ⌈5.4⌉ = 6 = 45.
    assert.deepEqual(s.latencyMs, { count: 6, p50: 25, p90: 45, p99: 45, max: 45, mean: 175 / 6 });
    assert.deepEqual(
      s.intents.top.map((t) => [t.name, t.count]),
      [['iot_hue_lightoff', 2], ['play_music', 2], ['weather_query', 2]],
    );
    assert.equal(s.errors.rate, 0);
    assert.deepEqual(s.errors.byCode, []);
  });

  test('an empty window gives zeros and nulls, not NaN', () => {
    const s = computeStats(db, { sinceMs: T0 + 1000 * MIN });
    assert.equal(s.total, 0);
    assert.equal(s.firstReceivedAt, null);
    assert.equal(s.errors.rate, 0);
    assert.deepEqual(s.latencyMs, { count: 0, p50: null, p90: null, p99: null, max: null, mean: null });
    assert.deepEqual(s.intents, { total: 0, distinct: 0, top: [], otherCount: 0 });
  });
});

test('nearestRank picks observed values by rank ⌈p·n⌉', () => {
  const hundred = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(nearestRank(hundred, 50), 50);
  assert.equal(nearestRank(hundred, 99), 99);
  assert.equal(nearestRank(hundred, 100), 100);
  assert.equal(nearestRank([7], 1), 7);
  assert.equal(nearestRank([7], 99), 7);
  assert.equal(nearestRank([], 50), null);
});

describe('parseSince', () => {
  const now = Date.UTC(2024, 4, 2, 12, 0, 0);
  test('durations count back from now', () => {
    assert.equal(parseSince('90s', now), now - 90_000);
    assert.equal(parseSince('30m', now), now - 30 * 60_000);
    assert.equal(parseSince('1h', now), now - 3_600_000);
    assert.equal(parseSince('2d', now), now - 2 * 86_400_000);
    assert.equal(parseSince('1.5h', now), now - 5_400_000);
    assert.equal(parseSince(' 1H ', now), now - 3_600_000);
  });

  test('ISO dates and date-times are absolute', () => {
    assert.equal(parseSince('2024-05-01', now), Date.UTC(2024, 4, 1));
    assert.equal(parseSince('2024-05-01T08:00:00Z', now), Date.UTC(2024, 4, 1, 8));
    assert.equal(parseSince('2024-05-01T08:00:00+02:00', now), Date.UTC(2024, 4, 1, 6));
  });

  test('anything else is refused with a message that says what is accepted', () => {
    for (const bad of ['', 'abc', 'yesterday', '1 hour', '-1h', '1y', 'May 5']) {
      assert.throws(() => parseSince(bad, now), /expected a duration such as 90s, 30m, 1h, 2d or an ISO date/, bad);
    }
    assert.throws(() => parseSince('90', now), /a number needs a unit, e\.g\. 90m or 90h/);
    assert.throws(() => parseSince('0h', now), /greater than zero/);
    assert.throws(() => parseSince('2024-13-45', now), /not a real date/);
  });
});

describe('parseSinceOrAll (the CLI\'s --since and the bridge stats request\'s since)', () => {
  const now = Date.UTC(2024, 4, 2, 12, 0, 0);
  test('"all" in any case is no time limit; anything else is parseSince, its errors naming "all" too', () => {
    for (const all of ['all', 'ALL', ' All ']) assert.equal(parseSinceOrAll(all, now), ALL_TIME);
    assert.equal(parseSinceOrAll('7d', now), now - 7 * 86_400_000);
    assert.equal(parseSinceOrAll('2024-05-01', now), Date.UTC(2024, 4, 1));
    assert.throws(() => parseSinceOrAll('forever', now), /^Error: since "forever": not understood \(expected a duration .*\); or "all" for no time limit$/);
  });
});

describe('openLogDatabase', () => {
  test('refuses a missing file without creating it', () => {
    const path = join(dir, 'nowhere', 'missing.db');
    assert.throws(() => openLogDatabase(path), (err: Error) => err instanceof LogDatabaseError && err.message.includes(path) && /hubnlu run/.test(err.message));
    assert.equal(existsSync(path), false);
    assert.equal(existsSync(join(dir, 'nowhere')), false);
  });

  test('refuses a file that is not SQLite, and an SQLite file without our schema', () => {
    const text = join(dir, 'notes.txt');
    writeFileSync(text, 'not a database at all, just some words that fill the header page');
    assert.throws(() => openLogDatabase(text), (err: Error) => err instanceof LogDatabaseError && /cannot read the database/.test(err.message));
    const foreign = join(dir, 'foreign.db');
    const raw = new Database(foreign);
    raw.exec('CREATE TABLE t (x)');
    raw.close();
    assert.throws(() => openLogDatabase(foreign), /not a hubnlu database/);
  });

  test('refuses a schema newer than this build', () => {
    const path = join(dir, 'future.db');
    openDatabase(path).close();
    const raw = new Database(path);
    raw.pragma('user_version = 999');
    raw.close();
    assert.throws(() => openLogDatabase(path), SchemaTooNewError);
  });

  test('opens read-only: writes fail', () => {
    assert.throws(() => db.prepare(`DELETE FROM inputs`).run(), /readonly/i);
  });
});
