/**
 * The language router over real (tiny, trained here) per-language model
 * directories and the shipped langid model: which language wins, what a
 * language without a model answers, load errors.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LanguageRouter, UNSUPPORTED_LANGUAGE } from '../../src/model/language-router.js';
import { packageRoot } from '../../src/util/paths.js';
import { trainClassifier } from '../../src/train/trainer.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import type { LabelledRow } from '../../src/data/rows.js';
import { tinyDataset } from '../train/tiny-data.js';

let root: string;
let enIntent: string;
let enSentiment: string;
let deIntent: string;
const langid = join(packageRoot(), 'models', 'langid');

const rows = (pairs: [string, string][]): LabelledRow[] => pairs.map(([text, label]) => ({ text, label, slots: [], source: 'test' }));

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hubnlu-router-'));
  enIntent = join(root, 'en-intent');
  enSentiment = join(root, 'en-sentiment');
  deIntent = join(root, 'de-intent');
  const en = trainClassifier({ task: 'intent', train: [tinyDataset()], fasttext: { epochs: 8, seed: 1 } });
  await writeModelDir(enIntent, en, { name: 'tiny-en', version: '0.0.1', threshold: 0.3, data: [] });
  const sent = trainClassifier({
    task: 'sentiment',
    train: [{ file: 's', rows: rows([['i love it', 'positive'], ['great', 'positive'], ['i hate it', 'negative'], ['awful', 'negative'], ['the box is blue', 'neutral'], ['it is tuesday', 'neutral']]) }],
    labels: ['negative', 'neutral', 'positive'],
    fasttext: { epochs: 100, seed: 1 },
  });
  await writeModelDir(enSentiment, sent, { name: 'tiny-sent-en', version: '0.0.1', threshold: 0, data: [] });
  const de = trainClassifier({
    task: 'intent',
    train: [
      {
        file: 'de',
        rows: rows([
          ['mach das licht aus', 'iot_hue_lightoff'],
          ['schalte das licht aus', 'iot_hue_lightoff'],
          ['licht im wohnzimmer aus', 'iot_hue_lightoff'],
          ['mach das licht an', 'iot_hue_lighton'],
          ['schalte das licht ein', 'iot_hue_lighton'],
          ['licht in der küche an', 'iot_hue_lighton'],
        ]),
      },
    ],
    fasttext: { epochs: 60, seed: 1 },
  });
  await writeModelDir(deIntent, de, { name: 'tiny-de', version: '0.0.1', language: 'de', threshold: 0.3, data: [] });
});

after(() => rmSync(root, { recursive: true, force: true }));

const load = (extra: Partial<Parameters<typeof LanguageRouter.load>[0]> = {}) =>
  LanguageRouter.load({
    languages: { en: { intent: enIntent, sentiment: enSentiment }, 'de-DE': { intent: deIntent, sentiment: null } },
    defaultLanguage: 'en',
    langidDir: langid,
    ...extra,
  });

test('detection routes German to the German model and English to the English one; the result records the language', async () => {
  const r = await load();
  try {
    assert.deepEqual([...r.languages].sort(), ['de', 'en'], 'config keys are normalised (de-DE → de)');
    const de = await r.analyze('mach das licht im wohnzimmer aus', ['intent']);
    assert.equal(de.lang, 'de');
    assert.equal(de.langSource, 'detected');
    assert.equal(de.intent?.name, 'iot_hue_lightoff');
    assert.deepEqual(de.models.map((m) => m.name), ['tiny-de', 'hubnlu-langid']);
    assert.equal(de.reason, undefined);
    const en = await r.analyze('turn off the kitchen lights', ['intent', 'sentiment']);
    assert.equal(en.lang, 'en');
    assert.equal(en.intent?.name, 'iot_hue_lightoff');
    assert.ok(en.sentiment);
    assert.deepEqual(en.models.map((m) => m.name), ['tiny-en', 'tiny-sent-en', 'hubnlu-langid']);
    // Unsure (a name) → the default language, recorded as such.
    const name = await r.analyze('Hmph.', ['intent']);
    assert.equal(name.lang, 'en');
    assert.equal(name.langSource, 'default');
  } finally {
    await r.close();
    await r.close();
  }
  await assert.rejects(r.analyze('x', ['intent']), /closed/);
});

test('the caller\'s language wins over detection, normalised; a route hint is recorded as route', async () => {
  const r = await load();
  try {
    const forced = await r.analyze('mach das licht aus', ['intent'], { lang: 'en-US', langSource: 'payload' });
    assert.equal(forced.lang, 'en');
    assert.equal(forced.langSource, 'payload');
    assert.equal(forced.models[0].name, 'tiny-en', 'no detection ran');
    assert.equal(forced.models.length, 1);
    const route = await r.analyze('turn the light off', ['intent'], { lang: 'DE', langSource: 'route' });
    assert.equal(route.lang, 'de');
    assert.equal(route.langSource, 'route');
    assert.equal(route.models[0].name, 'tiny-de');
  } finally {
    await r.close();
  }
});

test('a language without models: intent unknown with reason unsupported_language, no sentiment guess', async () => {
  const r = await load();
  try {
    const xx = await r.analyze('turn off the kitchen lights', ['intent', 'sentiment'], { lang: 'xx', langSource: 'payload' });
    assert.equal(xx.lang, 'xx');
    assert.equal(xx.reason, UNSUPPORTED_LANGUAGE);
    assert.equal(xx.intent?.name, 'unknown');
    assert.equal(xx.intent?.confidence, 0);
    assert.deepEqual(xx.intent?.alternatives, []);
    assert.equal(xx.sentiment, undefined);
    assert.deepEqual(xx.models, []);
    // German has an intent model but no sentiment model: intent answers, sentiment is left out, and the reason says why.
    const de = await r.analyze('mach das licht aus', ['intent', 'sentiment'], { lang: 'de' });
    assert.equal(de.intent?.name, 'iot_hue_lightoff');
    assert.equal(de.sentiment, undefined);
    assert.equal(de.reason, UNSUPPORTED_LANGUAGE);
    // Detected French with no French models: unknown, not an English guess.
    const fr = await r.analyze('éteins la lumière du salon', ['intent']);
    assert.equal(fr.lang, 'fr');
    assert.equal(fr.intent?.name, 'unknown');
    assert.equal(fr.reason, UNSUPPORTED_LANGUAGE);
  } finally {
    await r.close();
  }
});

test('without a langid model every input without a language is the default language', async () => {
  const r = await load({ langidDir: null });
  try {
    assert.equal(r.hasDetector, false);
    const a = await r.analyze('mach das licht im wohnzimmer aus', ['intent']);
    assert.equal(a.lang, 'en');
    assert.equal(a.langSource, 'default');
    assert.equal(a.models.some((m) => m.task === 'langid'), false);
  } finally {
    await r.close();
  }
});

test('load errors name the setting', async () => {
  await assert.rejects(load({ defaultLanguage: 'fr' }), /models\.defaultLanguage is fr.*models\.languages\.fr/);
  await assert.rejects(load({ defaultLanguage: '1' }), /not a language tag/);
  await assert.rejects(
    LanguageRouter.load({ languages: { de: { intent: deIntent, sentiment: null }, 'de-AT': { intent: deIntent, sentiment: null } }, defaultLanguage: 'de', langidDir: null }),
    /two entries name the language de/,
  );
  await assert.rejects(load({ langidDir: enIntent }), /task "intent".*models\.langid/);
});

test('a model whose manifest names another language than the one it is configured for fails the start (eager and lazy)', async () => {
  for (const lazy of [false, true]) {
    await assert.rejects(
      load({ lazy, languages: { en: { intent: enIntent, sentiment: enSentiment }, de: { intent: enIntent, sentiment: null } } }),
      (e: Error) => {
        assert.match(e.message, /^models\.languages\.de\.intent: .*en-intent holds a model for en \(manifest\.json language "en"\), not de; /);
        assert.match(e.message, /list it under models\.languages\.en/);
        return true;
      },
      `lazy: ${lazy}`,
    );
  }
  // English comes from models.intent unless models.languages names it: the message says so.
  await assert.rejects(load({ languages: { en: { intent: deIntent, sentiment: null } } }), /^Error: models\.languages\.en\.intent \(or models\.intent\): .*de-intent holds a model for de/);
  // A tag the manifest writes differently is the same language.
  const router = await load({ languages: { en: { intent: enIntent, sentiment: null }, 'de-AT': { intent: deIntent, sentiment: null } } });
  await router.close();
});

test('lazy: other languages load at their first input, with the same answers; labels and model versions are known before', async () => {
  const eager = await load();
  const lazy = await load({ lazy: true });
  try {
    assert.deepEqual(lazy.loadedLanguages, ['en'], 'only the default language is loaded at start');
    assert.deepEqual([...lazy.languages].sort(), ['de', 'en']);
    assert.deepEqual(lazy.loadedModels(), eager.loadedModels(), 'the deferred language is listed from its manifest');
    assert.deepEqual(lazy.labels('intent'), eager.labels('intent'));
    const text = 'mach das licht im wohnzimmer aus';
    // Two inputs at once share one load.
    const [a, b] = await Promise.all([lazy.analyze(text, ['intent']), lazy.analyze(text, ['intent'])]);
    assert.deepEqual(lazy.loadedLanguages, ['en', 'de']);
    const want = await eager.analyze(text, ['intent']);
    assert.deepEqual(a, want);
    assert.deepEqual(b, want);
  } finally {
    await eager.close();
    await lazy.close();
  }
});

test('lazy: a deferred directory with the wrong task fails the start, as an eager one does', async () => {
  await assert.rejects(load({ lazy: true, languages: { en: { intent: enIntent, sentiment: null }, de: { intent: enSentiment, sentiment: null } } }), /task "sentiment".*intent model/);
});
