/**
 * One rule for which labelled log rows a model is scored on and in which
 * language each is read (src/eval/from-log.ts), used by both `hubnlu eval
 * --from-log` and `hubnlu report`: on a log with German labelled rows beside
 * English ones, the report's figures equal `eval --json`'s, with the
 * configured models (a language router: the German rows read in German) and
 * with one model directory (the German rows left out and counted).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { openDatabase } from '../../src/store/database.js';
import { evaluateLog, selectLogRows } from '../../src/eval/from-log.js';
import { LanguageRouter } from '../../src/model/language-router.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { runCli } from '../helpers/cli.js';
import { seedDatabase, type SeedRow } from '../store/seed.js';

const MODELS = join(packageRoot(), 'models');
const EN = join(MODELS, 'intent');
const t0 = Date.UTC(2026, 10, 10, 9, 0, 0);

/** [text, gold, lang] */
const ROWS: Array<[string, string, string | undefined]> = [
  ['turn off the lights in the kitchen', 'iot_hue_lightoff', 'en'],
  ['wake me up at seven tomorrow', 'alarm_set', 'en'],
  ['what is the weather like today', 'weather_query', 'en'],
  ['play some jazz music', 'play_music', 'en'],
  ['tell me a joke', 'general_joke', undefined],
  ['schalte das licht in der küche aus', 'iot_hue_lightoff', 'de'],
  ['wie wird das wetter morgen', 'weather_query', 'de'],
  ['weck mich morgen um sieben', 'alarm_set', 'de'],
];

let dir: string;
let db: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-fromlog-'));
  db = join(dir, 'hubnlu.db');
  const rows: SeedRow[] = ROWS.map(([text, gold, lang], i) => ({
    id: `r${i}`,
    receivedAt: t0 + i * 60_000,
    site: 'hall',
    status: 'done',
    text,
    lang,
    intent: gold,
    confidence: 0.9,
    intentModel: lang === 'de' ? 'hubnlu-intent-de@1.0.0' : 'hubnlu-intent-en@1.0.0',
    gold: { intent: gold },
  }));
  seedDatabase(db, rows);
});
after(() => rmSync(dir, { recursive: true, force: true }));

test('selectLogRows: a router reads every row in its logged language; one model leaves other languages out, counted', () => {
  const conn = openDatabase(db);
  try {
    const routed = selectLogRows(conn, 'intent', {}, { route: true });
    assert.equal(routed.rows.length, ROWS.length);
    assert.equal(routed.otherLanguage, 0);
    assert.equal(routed.routed, true);
    const en = selectLogRows(conn, 'intent', {}, { route: false, language: 'en-GB' });
    // The row logged without a language is scored by the English model.
    assert.deepEqual(
      en.rows.map((r) => r.text),
      ROWS.filter(([, , l]) => l !== 'de').map(([t]) => t),
    );
    assert.equal(en.otherLanguage, 3);
    assert.equal(en.language, 'en');
    assert.equal(selectLogRows(conn, 'intent', {}, { route: false, language: null }).rows.length, ROWS.length);
  } finally {
    conn.close();
  }
});

test('evaluateLog with a language router: the German rows are read by the German model', async () => {
  const router = await LanguageRouter.load({
    languages: { en: { intent: EN, sentiment: null }, de: { intent: join(MODELS, 'de', 'intent'), sentiment: null } },
    defaultLanguage: 'en',
    langidDir: null,
  });
  const conn = openDatabase(db);
  try {
    const r = await evaluateLog(conn, router, 'intent', {}, { route: true }, { keepPredictions: true, warmup: 0 });
    assert.equal(r.report.n, ROWS.length);
    assert.match(r.report.model.name, /hubnlu-intent-de/);
    // Read as English (the default language, no detection), the German commands would not be these intents.
    const de = r.report.predictions!.filter((p) => ROWS.find(([t]) => t === p.text)![2] === 'de');
    assert.ok(de.filter((p) => p.correct).length >= 2, JSON.stringify(de));
    const en = await ModelRegistry.load({ intentDir: EN, sentimentDir: null });
    try {
      const asEnglish = await evaluateLog(conn, en, 'intent', {}, { route: false, language: null }, { keepPredictions: true, warmup: 0 });
      const deAsEnglish = asEnglish.report.predictions!.filter((p) => ROWS.find(([t]) => t === p.text)![2] === 'de');
      assert.ok(deAsEnglish.filter((p) => p.correct).length < de.filter((p) => p.correct).length, 'the routed rows were not read in German');
    } finally {
      await en.close();
    }
  } finally {
    conn.close();
    await router.close();
  }
});

/** The evaluation a report embeds (`<script id="report-data">`). */
function reportData(file: string): { eval: Record<string, unknown> } {
  const html = readFileSync(file, 'utf8');
  const m = /<script type="application\/json" id="report-data">([\s\S]*?)<\/script>/.exec(html);
  assert.ok(m, 'no embedded report data');
  return JSON.parse(m[1]) as { eval: Record<string, unknown> };
}

test('hubnlu report and eval --from-log --json agree on a multilingual log, with the configured models and with --model', { timeout: 240_000 }, () => {
  const cli = (...args: string[]) => runCli(args, { cwd: dir, timeoutMs: 120_000 });
  for (const model of [[], ['--model', EN]]) {
    const ev = cli('eval', '--from-log', '--json', '--db', db, ...model);
    assert.equal(ev.status, 0, ev.stderr);
    const e = JSON.parse(ev.stdout);
    const out = join(dir, `report${model.length}.html`);
    const rep = cli('report', '--out', out, '--db', db, ...model);
    assert.equal(rep.status, 0, rep.stderr);
    const r = reportData(out).eval;
    for (const k of ['n', 'accuracy', 'macro_f1', 'per_label', 'confused', 'model', 'threshold', 'ece']) assert.deepEqual(r[k], e[k], `${model.join(' ') || 'configured models'}: ${k}`);
    if (model.length === 0) {
      assert.equal(e.n, ROWS.length);
      assert.equal(e.log.language, 'routed');
      assert.equal(e.log.other_language, 0);
    } else {
      assert.equal(e.n, ROWS.length - 3);
      assert.equal(e.log.language, 'en');
      assert.equal(e.log.other_language, 3);
    }
  }
});
