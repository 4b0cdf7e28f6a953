/**
 * Evaluation on the log's labelled inputs, as processes with the real models:
 * `eval --from-log` gives the same report as `eval --data` on the same rows
 * exported, `eval --compare A B` runs McNemar's test on the same rows, and
 * `stats --by-model` gives live accuracy per model version and day.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import Database from 'better-sqlite3';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { readRows } from '../../src/data/rows.js';
import { runCli } from '../helpers/cli.js';
import { seedDatabase, type SeedRow } from '../store/seed.js';

const DAY = 86_400_000;
const day0 = Date.UTC(2026, 10, 10, 9, 0, 0);

/** [text, gold intent, live intent, gold slots] */
const UTTERANCES: Array<[string, string, string, Array<{ type: string; value: string }>?]> = [
  ['turn off the lights in the kitchen', 'iot_hue_lightoff', 'iot_hue_lightoff', [{ type: 'house_place', value: 'kitchen' }]],
  ['switch the bedroom lights on', 'iot_hue_lighton', 'iot_hue_lighton', [{ type: 'house_place', value: 'bedroom' }]],
  ['wake me up at seven tomorrow', 'alarm_set', 'alarm_set', [{ type: 'time', value: 'seven' }, { type: 'date', value: 'tomorrow' }]],
  ['what is the weather like today', 'weather_query', 'weather_query', [{ type: 'date', value: 'today' }]],
  ['play some jazz music', 'play_music', 'play_music', [{ type: 'music_genre', value: 'jazz' }]],
  ['what time is it', 'datetime_query', 'datetime_query'],
  ['turn the volume up', 'audio_volume_up', 'audio_volume_up'],
  ['mute the speakers', 'audio_volume_mute', 'audio_volume_mute'],
  ['tell me a joke', 'general_joke', 'general_joke'],
  ['could you open the garage', 'iot_door_open', 'unknown'],
  ['set the heating to twenty degrees', 'iot_thermostat_set', 'iot_thermostat_set'],
  ['dim the lights in the living room', 'iot_hue_lightdim', 'iot_hue_lightdim', [{ type: 'house_place', value: 'living room' }]],
  ['add milk to my shopping list', 'lists_createoradd', 'lists_createoradd'],
  ['what is on my calendar today', 'calendar_query', 'calendar_query'],
  ['cancel my alarm for tomorrow', 'alarm_remove', 'alarm_set'],
  ['start the vacuum cleaner', 'iot_cleaning', 'iot_cleaning'],
  ['make me a coffee', 'iot_coffee', 'iot_coffee'],
  ['lock the front door', 'iot_door_lock', 'iot_door_lock'],
  ['what is the news today', 'news_query', 'news_query'],
  ['play the radio', 'play_radio', 'play_radio'],
  ['how much is a dollar in euros', 'qa_currency', 'qa_currency'],
  ['turn on the smart plug', 'iot_wemo_on', 'iot_wemo_on'],
  ['is it going to rain tomorrow', 'weather_query', 'weather_query'],
  ['remind me to call mum at five', 'calendar_set', 'calendar_set'],
  ['stop', 'general_commandstop', 'general_commandstop'],
  ['make the lights brighter', 'iot_hue_lightup', 'iot_hue_lightup'],
  ['order a pizza', 'takeaway_order', 'takeaway_order'],
  ['book a taxi to the station', 'transport_taxi', 'transport_taxi'],
  ['turn the heating down', 'iot_thermostat_down', 'iot_thermostat_up'],
  ['what is the temperature in here', 'iot_thermostat_query', 'weather_query'],
];

let dir: string;
let db: string;

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-evallog-'));
  db = join(dir, 'hubnlu.db');
  const rows: SeedRow[] = UTTERANCES.map(([text, gold, live, slots], i) => ({
    id: `u${i}`,
    // The first 10 on day 0 answered by v1, the rest on days 1 and 2 by v2.
    receivedAt: day0 + (i < 10 ? 0 : i < 20 ? DAY : 2 * DAY) + i * 60_000,
    site: 'hall',
    status: 'done',
    text,
    intent: live,
    confidence: 0.8,
    sentiment: 'neutral',
    intentModel: i < 10 ? 'hubnlu-intent@1' : 'hubnlu-intent@2',
    gold: { intent: gold, ...(slots ? { slots } : {}) },
  }));
  // Not labelled: left out of every evaluation.
  rows.push({ id: 'unlabelled', receivedAt: day0 + 5000, site: 'hall', status: 'done', text: 'turn on the lights', intent: 'iot_hue_lighton', confidence: 0.9, intentModel: 'hubnlu-intent@1' });
  seedDatabase(db, rows);
});
after(() => rmSync(dir, { recursive: true, force: true }));

const cli = (...args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 });
const EN = join(packageRoot(), 'models', 'intent');
const DE = join(packageRoot(), 'models', 'de', 'intent');

test('eval --from-log: the same metrics and JSON as eval --data on the same rows exported', { timeout: 180_000 }, () => {
  const file = join(dir, 'labelled.jsonl');
  const ex = cli('export', '--labelled-only', '--task', 'intent', '--out', file, '--db', db);
  assert.equal(ex.status, 0, ex.stderr);
  assert.equal(readRows(file, 'intent').rows.length, UTTERANCES.length);

  const fromLog = cli('eval', '--from-log', '--model', EN, '--json', '--db', db);
  assert.equal(fromLog.status, 0, fromLog.stderr);
  const fromFile = cli('eval', '--data', file, '--model', EN, '--json');
  assert.equal(fromFile.status, 0, fromFile.stderr);
  const a = JSON.parse(fromLog.stdout);
  const b = JSON.parse(fromFile.stdout);
  assert.equal(a.n, UTTERANCES.length);
  for (const k of ['n', 'accuracy', 'macro_f1', 'macro_recall', 'slot_f1', 'slot_counts', 'ece', 'rejected', 'accepted_accuracy', 'per_label', 'confused', 'model', 'threshold']) {
    assert.deepEqual(a[k], b[k], k);
  }
  assert.ok(a.slot_counts.gold >= 7, `gold slots ${a.slot_counts.gold}`);
  assert.ok(a.accuracy > 0.6, `accuracy ${a.accuracy}`);
  assert.deepEqual(a.log, { database: db, since: null, labelled: 30, scored: 30, other_language: 0, language: 'en', unlocated_slots: 0 });

  // --since keeps the newer rows only.
  const since = cli('eval', '--from-log', '--since', new Date(day0 + DAY).toISOString(), '--model', EN, '--json', '--db', db);
  assert.equal(since.status, 0, since.stderr);
  assert.equal(JSON.parse(since.stdout).n, 20);
  const text = cli('eval', '--from-log', '--model', EN, '--no-per-label', '--db', db);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /intent model hubnlu-intent-en@.*: 30 utterances[\s\S]*labelled inputs from .*hubnlu\.db: 30 scored/);

  assert.equal(cli('eval', '--from-log', '--data', file).status, 2);
  assert.equal(cli('eval', '--model', EN).status, 2);
  const none = cli('eval', '--from-log', '--since', '2099-01-01', '--model', EN, '--db', db);
  assert.equal(none.status, 3);
  assert.match(none.stderr, /no labelled intent inputs in the log since 2099/);
});

test('eval --compare A B: McNemar on the same rows, and the utterances where they differ', { timeout: 180_000 }, () => {
  // The German model on English commands: a model clearly worse than the English one.
  const r = cli('eval', '--compare', DE, EN, '--from-log', '--json', '--db', db);
  assert.equal(r.status, 0, r.stderr);
  const c = JSON.parse(r.stdout);
  assert.equal(c.n, 30);
  assert.equal(c.a.dir, DE);
  assert.equal(c.b.dir, EN);
  assert.equal(c.a.accuracy, c.accuracyA);
  assert.equal(c.b.accuracy, c.accuracyB);
  assert.ok(c.accuracyB > c.accuracyA, `${c.accuracyB} vs ${c.accuracyA}`);
  const m = c.mcnemar;
  assert.equal(m.onlyA + m.onlyB + m.bothRight + m.bothWrong, 30);
  assert.equal(Math.round(c.accuracyB * 30), m.onlyB + m.bothRight);
  assert.ok(m.p < 0.05, `p ${m.p}`);
  assert.equal(c.bBetter, true);
  assert.ok(c.differences.length >= m.onlyA + m.onlyB);
  assert.ok(c.differences.every((d: { text: string; a: string; b: string }) => d.a !== d.b && UTTERANCES.some(([t]) => t === d.text)));
  assert.equal(c.differences[0].right, 'b');

  const text = cli('eval', '--compare', DE, EN, '--from-log', '--differences', '3', '--db', db);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /McNemar {7}only A right \d+, only B right \d+/);
  assert.match(text.stdout, /the difference is significant at 0\.05: B is better/);
  assert.match(text.stdout, /utterances where they differ \(first 3; --json has all\)/);
  assert.equal(text.stdout.split('\n').filter((l) => /^ {4}(B right|A right|neither)/.test(l)).length, 3);

  // Same model twice: nothing differs, p = 1.
  const same = cli('eval', '--compare', EN, EN, '--from-log', '--json', '--db', db);
  const s = JSON.parse(same.stdout);
  assert.equal(s.mcnemar.p, 1);
  assert.equal(s.differences.length, 0);
  assert.equal(cli('eval', '--compare', EN, '--from-log', '--db', db).status, 2);
});

test('stats --by-model: live accuracy per model version and UTC day', () => {
  const r = runCli(['stats', '--by-model', '--json', '--db', db], { cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.labelled, 30);
  const expected = (from: number, to: number) => UTTERANCES.slice(from, to).filter(([, g, l]) => g === l).length;
  assert.deepEqual(
    s.models.map((m: { model: string; n: number; correct: number }) => [m.model, m.n, m.correct]),
    [
      ['hubnlu-intent@1', 10, expected(0, 10)],
      ['hubnlu-intent@2', 20, expected(10, 30)],
    ],
  );
  assert.deepEqual(
    s.models[1].days.map((d: { day: string; n: number; correct: number }) => [d.day, d.n, d.correct]),
    [
      ['2026-11-11', 10, expected(10, 20)],
      ['2026-11-12', 10, expected(20, 30)],
    ],
  );
  const text = runCli(['stats', '--by-model', '--db', db], { cwd: dir });
  assert.match(text.stdout, /hubnlu-intent@1: 90\.0% \(9\/10\)/);
  assert.match(text.stdout, /2026-11-12 +80\.0% +8\/10/);
  // A shadow model beside v2 (the inputs of days 1 and 2): right on all 20, where the live model got 17; one input it
  // answered for sentiment only (no shadow intent) is not counted.
  const shadowed = join(dir, 'shadow.db');
  copyFileSync(db, shadowed);
  const w = new Database(shadowed);
  w.prepare(`UPDATE inputs SET shadow_intent = gold_intent, shadow_model = 'cand-intent@3+cand-sentiment@1' WHERE gold_intent IS NOT NULL AND intent_model = 'hubnlu-intent@2'`).run();
  w.prepare(`UPDATE inputs SET shadow_sentiment = 'neutral', shadow_model = 'cand-sentiment@1' WHERE id = 'u0'`).run();
  w.close();
  const sh = runCli(['stats', '--by-model', '--json', '--db', shadowed], { cwd: dir });
  assert.equal(sh.status, 0, sh.stderr);
  const live = expected(10, 30);
  const [{ p, ...comparison }, ...more] = JSON.parse(sh.stdout).shadow;
  assert.deepEqual([comparison, ...more], [
    { model: 'cand-intent@3+cand-sentiment@1', n: 20, shadow: { n: 20, correct: 20, accuracy: 1 }, live: { n: 20, correct: live, accuracy: live / 20 }, onlyShadow: 20 - live, onlyLive: 0 },
  ]);
  assert.ok(Math.abs(p - 0.25) < 1e-9, `McNemar exact p for 3 against 0: ${p}`);
  assert.match(runCli(['stats', '--by-model', '--db', shadowed], { cwd: dir }).stdout, /shadow cand-intent@3\+cand-sentiment@1: 100\.0% \(20\/20\) against live 85\.0% \(17\/20\) on the same inputs\n  only the shadow right 3, only live right 0; McNemar p 0\.250 \(no significant difference\)/);
  assert.deepEqual(JSON.parse(runCli(['stats', '--by-model', '--json', '--db', db], { cwd: dir }).stdout).shadow, []);

  // A window with no labelled input: said so, exit 3 as eval --from-log (nothing matched); the JSON still printed.
  for (const json of [true, false]) {
    const none = runCli(['stats', '--by-model', '--since', '2099-01-01', ...(json ? ['--json'] : []), '--db', db], { cwd: dir });
    assert.equal(none.status, 3, none.stderr);
    assert.match(none.stderr, /no labelled intent inputs in the log since 2099-01-01/);
    if (json) assert.deepEqual(JSON.parse(none.stdout).models, []);
  }
});

test('a --model directory of the other task: the message names --model and the fix, not the models.intent setting', { timeout: 120_000 }, () => {
  const SENTIMENT = join(packageRoot(), 'models', 'sentiment');
  const data = join(dir, 'rows.jsonl');
  writeFileSync(data, `${JSON.stringify({ text: 'turn off the lights', intent: 'iot_hue_lightoff' })}\n`);
  const runs = [
    ['eval', '--task', 'intent', '--data', data, '--model', SENTIMENT],
    ['eval', '--from-log', '--model', SENTIMENT, '--db', db],
    ['report', '--out', join(dir, 'r.html'), '--data', data, '--model', SENTIMENT, '--db', db],
    ['report', '--out', join(dir, 'r.html'), '--from-log', '--model', SENTIMENT, '--db', db],
  ];
  for (const args of runs) {
    const r = cli(...args);
    assert.equal(r.status, 1, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /manifest\.json says task "sentiment", but --model gives it as the intent model; pass --task sentiment, or an intent model directory as --model/, args.join(' '));
    assert.doesNotMatch(r.stderr, /models\.intent/, args.join(' '));
  }
  const compare = cli('eval', '--compare', EN, SENTIMENT, '--data', data);
  assert.match(compare.stderr, /but --compare gives it as the intent model/);
});
