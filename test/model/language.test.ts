/** Language codes, the "unsure → default" rule, and the shipped langid model. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { countLetters, decide, LanguageDetector, LANGUAGES, normalizeLang } from '../../src/model/language.js';
import { defaultModelDir } from '../../src/model/manifest.js';
import { packageRoot } from '../../src/util/paths.js';

test('normalizeLang: region variants share a model, Chinese keeps its script, junk is null', () => {
  const cases: [string, string | null][] = [
    ['de-DE', 'de'],
    ['de_AT', 'de'],
    ['EN-gb', 'en'],
    ['fr', 'fr'],
    ['zh', 'zh-cn'],
    ['zh-CN', 'zh-cn'],
    ['zh-Hans', 'zh-cn'],
    ['zh-Hans-CN', 'zh-cn'],
    ['zh-TW', 'zh-tw'],
    ['zh-Hant-HK', 'zh-tw'],
    ['xx', 'xx'],
    ['', null],
    ['12', null],
    ['en us', null],
  ];
  for (const [input, want] of cases) assert.equal(normalizeLang(input), want, input);
});

test('decide: the default wins when unsure, short Latin text needs more letters, Han text is evidence at any length', () => {
  const ranked = (name: string, p: number) => [
    { name, confidence: p },
    { name: 'en', confidence: 1 - p },
  ];
  assert.deepEqual(decide(ranked('de', 0.95), 'en', 0.8, 'mach das licht aus', 7).lang, 'de');
  assert.equal(decide(ranked('de', 0.95), 'en', 0.8, 'mach das licht aus', 7).sure, true);
  const unsure = decide(ranked('de', 0.7), 'en', 0.8, 'mach das licht aus', 7);
  assert.equal(unsure.lang, 'en');
  assert.equal(unsure.sure, false);
  assert.equal(decide(ranked('de', 0.99), 'en', 0.8, 'Jen.', 7).lang, 'en', 'a name is not evidence');
  assert.equal(decide(ranked('zh-cn', 0.99), 'en', 0.8, '关灯', 7).lang, 'zh-cn');
  assert.equal(decide(ranked('de', 0.99), 'en', 0.8, '?! 42', 0).lang, 'en', 'no letters: the default');
  // The default language as top label is taken at any confidence.
  assert.equal(decide([{ name: 'en', confidence: 0.3 }, { name: 'de', confidence: 0.25 }], 'en', 0.8, 'hm okay then', 7).sure, true);
  // A non-English default: English then needs the threshold like any other language.
  assert.equal(decide(ranked('en', 0.6), 'de', 0.8, 'turn off the lights', 7).lang, 'de');
});

let det: LanguageDetector;
before(async () => {
  det = await LanguageDetector.load(join(packageRoot(), 'models', 'langid'), { defaultLanguage: 'en' });
});
after(() => det?.dispose());

test('the shipped langid model knows the five languages and reads short commands in each', async () => {
  assert.deepEqual([...det.labels].sort(), [...LANGUAGES].sort());
  assert.ok(det.threshold > 0.5 && det.threshold < 1, `threshold ${det.threshold}`);
  const cases: [string, string][] = [
    ['turn off the kitchen lights', 'en'],
    ['mach das licht im wohnzimmer aus', 'de'],
    ['schalte die heizung im bad ein', 'de'],
    ['éteins la lumière du salon', 'fr'],
    ['ferme les volets de la chambre', 'fr'],
    ['apaga la luz de la cocina', 'es'],
    ['enciende el ventilador del salón', 'es'],
    ['把客厅的灯关掉', 'zh-cn'],
    ['打开卧室的空调', 'zh-cn'],
  ];
  for (const [text, lang] of cases) {
    const d = await det.detect(text);
    assert.equal(d.lang, lang, `${text}: ${JSON.stringify(d.ranked.slice(0, 2))}`);
    assert.equal(d.sure, true);
  }
  // Names and interjections stay with the default language.
  for (const text of ['Jen.', 'Hmph.', 'indie', 'Umm?']) assert.equal((await det.detect(text)).lang, 'en', text);
});

test('a directory holding another task is refused, naming the setting', async () => {
  await assert.rejects(LanguageDetector.load(defaultModelDir('intent'), { defaultLanguage: 'en' }), /task "intent".*models\.langid/);
  await assert.rejects(LanguageDetector.load(join(packageRoot(), 'models', 'langid'), { defaultLanguage: 'en', threshold: 1.5 }), /models\.detectThreshold/);
});

test('countLetters counts what /\\p{L}/gu matches (ASCII by code, the rest by the regex), up to its cap', () => {
  const samples = ['', '?! 42', 'Jen.', 'mach das licht aus', '关灯', 'Straße ÄÖÜ', 'naïve café', 'e\u0301', '𝒳𝒳 😂😂', '\ud83d lone', 'x\ude02y', '١٢٣ ab', 'ΣΑΣ мама', 'ǅ ⅷ'];
  let ascii = '';
  for (let c = 0; c < 0x80; c++) ascii += String.fromCharCode(c);
  samples.push(ascii);
  for (const s of samples) {
    const want = s.match(/\p{L}/gu)?.length ?? 0;
    assert.equal(countLetters(s), want, JSON.stringify(s));
    for (const cap of [0, 1, 3, 7]) assert.equal(countLetters(s, cap), Math.min(want, cap), `${JSON.stringify(s)} cap ${cap}`);
  }
});
