/**
 * The caps that bound what one text can cost (issue 7, defect 11): tokens per
 * text, characters per token, feature ids per text, for the intent
 * featurizer, the sentiment featurizer (raw-text cues, lexicon) and the slot
 * tagger. That the caps leave training texts alone is tested by the
 * identical-output tests of features / sentiment-features / slot-features and
 * was checked over every dataset text (README, "Limits on one text").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_FEATURIZER, MAX_FEATURES, featurize, featurizeTokens, type FeaturizerSettings } from '../../src/model/features.js';
import { DEFAULT_SLOT_FEATURIZER, slotFeatureIds } from '../../src/model/slot-features.js';
import { MAX_TOKEN_CHARS, MAX_TOKENS, tokenize } from '../../src/model/text.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { loadLexicon } from '../../src/model/classifier.js';
import { REPO_ROOT } from '../helpers/cli.js';

const SENTIMENT_DIR = join(REPO_ROOT, 'models', 'sentiment');
const sentimentSettings = (JSON.parse(readFileSync(join(SENTIMENT_DIR, 'manifest.json'), 'utf8')) as { featurizer: FeaturizerSettings }).featurizer;
const lexicon = loadLexicon(join(SENTIMENT_DIR, sentimentSettings.lexicon!.file), sentimentSettings.lexicon!.entries);

const fill = (unit: string, chars = 100_000): string => unit.repeat(Math.ceil(chars / unit.length)).slice(0, chars);
const LONG_TEXTS: Record<string, string> = {
  words: fill('turn off the kitchen lights and set the heating to twenty one degrees please! '),
  'one word': fill('a'),
  emoji: fill('😀'),
  emoticons: fill(':) '),
  'numbers and punctuation': fill('12, 13!? '),
  'elongated caps': fill('SOOOO GOOOD '),
};

test('the caps are the documented numbers', () => {
  assert.equal(MAX_TOKENS, 256);
  assert.equal(MAX_TOKEN_CHARS, 1024);
  assert.equal(MAX_FEATURES, 16384);
});

test('tokenize keeps at most 256 tokens, each norm at most 1024 characters, offsets into the whole text', () => {
  for (const [name, text] of Object.entries(LONG_TEXTS)) {
    const tokens = tokenize(text);
    assert.ok(tokens.length <= 256, `${name}: ${tokens.length} tokens`);
    for (const t of tokens) {
      assert.ok(t.norm.length <= 1024, `${name}: a token of ${t.norm.length} characters`);
      assert.ok(t.start >= 0 && t.end <= text.length && t.start < t.end);
    }
  }
  const word = tokenize(LONG_TEXTS['one word']);
  assert.equal(word.length, 1);
  assert.deepEqual([word[0].start, word[0].end], [0, 100_000], 'the offsets still span the whole word');
  // A cut never splits a surrogate pair.
  const [emojiWord] = tokenize('a' + '𝒜'.repeat(2000));
  assert.ok(!/[\ud800-\udbff]$/.test(emojiWord.norm));
  // Below the caps nothing changes.
  assert.deepEqual(tokenize('Turn OFF the lights, twenty one degrees').map((t) => t.norm), ['turn', 'off', 'the', 'lights', '21', 'degrees']);
});

test('featurizers emit at most 16,384 ids per text, raw-text cues and lexicon included', () => {
  for (const [name, text] of Object.entries(LONG_TEXTS)) {
    const intentIds = featurize(text, DEFAULT_FEATURIZER);
    assert.ok(intentIds.length <= 16384, `${name}: intent featurizer gave ${intentIds.length}`);
    const sentimentIds = featurizeTokens(tokenize(text), sentimentSettings, text, lexicon);
    assert.ok(sentimentIds.length <= 16384, `${name}: sentiment featurizer gave ${sentimentIds.length}`);
    assert.ok(sentimentIds.length > 0);
  }
  // The raw-text cue loops stop with the budget: 100,000 emoji are not 200,000 cues.
  const emoji = featurizeTokens(tokenize(LONG_TEXTS.emoji), sentimentSettings, LONG_TEXTS.emoji, lexicon);
  assert.equal(emoji.length, 16384);
});

test('the slot tagger sees at most 256 token rows', () => {
  for (const [name, text] of Object.entries(LONG_TEXTS)) {
    const ids = slotFeatureIds(tokenize(text), 'iot_hue_lightoff', DEFAULT_SLOT_FEATURIZER);
    assert.ok(ids.length <= 256 * DEFAULT_SLOT_FEATURIZER.maxFeatures, `${name}: ${ids.length / DEFAULT_SLOT_FEATURIZER.maxFeatures} rows`);
  }
});

test('the shipped models answer a 100,000-character text from its first 256 tokens', async () => {
  const registry = await ModelRegistry.load();
  try {
    const text = LONG_TEXTS.words;
    const analysis = await registry.analyze(text, ['intent', 'sentiment']);
    assert.ok(analysis.sentiment);
    const tokens = tokenize(text);
    const lastEnd = tokens[tokens.length - 1].end;
    for (const slot of analysis.intent!.slots) assert.ok(slot.end <= lastEnd, `a slot past the last read token: ${JSON.stringify(slot)}`);
  } finally {
    await registry.close();
  }
});
