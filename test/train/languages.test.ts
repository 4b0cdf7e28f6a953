import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sourceInfo } from '../../src/train/sources.js';
import { parseAfinnJson } from '../../src/train/pipeline.js';
import { LANGUAGES, languageSentimentRecipe, LANGUAGE_INTENT_RECIPE } from '../../src/train/languages.js';
import { RECIPES } from '../../src/train/recipes.js';
import { zhSentimentRows } from '../../src/corpus/zh-sentiment.js';

test('generated training files name their source and licence; unknown files stay user data', () => {
  assert.match(sourceInfo('/tmp/x/ha-intents-de.train.jsonl').licence, /CC BY 4\.0.*Home Assistant intents/);
  assert.match(sourceInfo('umsab-fr.val.out-of-scope.jsonl').source, /xlm-t.*fr.*out-of-scope/);
  assert.match(sourceInfo('out-of-scope-zh-cn.train.jsonl').licence, /^Apache-2\.0 \(hubnlu\)$/);
  assert.match(sourceInfo('eval/handwritten/es.jsonl').source, /hand-written/);
  assert.equal(sourceInfo('mydata.jsonl').licence, 'unknown (user data)');
  assert.equal(sourceInfo('hwu64.train.jsonl').licence, 'CC BY 4.0');
});

test('AFINN JSON lexicons keep single tokens only, folded like the tokenizer', () => {
  const lex = parseAfinnJson(JSON.stringify({ Abenteuer: 2, 'nicht gut': -2, 不好: -2, ok: 0, schlecht: -3 }));
  assert.deepEqual([...lex.entries()].sort(), [['abenteuer', 2], ['schlecht', -3]]);
});

test('language recipes leave the English ones alone; only de/fr/es get a word list', () => {
  assert.equal(RECIPES.intent.fasttext.dim, 64);
  assert.equal(RECIPES.sentiment.lexicon?.package, 'vader-sentiment');
  assert.equal(LANGUAGE_INTENT_RECIPE.selfTraining, null);
  for (const lang of LANGUAGES) {
    const r = languageSentimentRecipe(lang);
    assert.equal(r.lexicon === null, lang === 'zh-cn', lang);
    assert.equal(r.featurizer.negation, undefined, 'the negation list is English');
  }
});

test('Chinese weak sentiment rows are seeded, balanced and labelled by the word list', () => {
  const a = zhSentimentRows(1, ['打开客厅的灯'], 200);
  assert.deepEqual(a, zhSentimentRows(1, ['打开客厅的灯'], 200));
  const by = (l: string): number => a.filter((r) => r.sentiment === l).length;
  assert.ok(by('positive') > 150 && by('negative') > 150 && by('neutral') >= 2);
});
