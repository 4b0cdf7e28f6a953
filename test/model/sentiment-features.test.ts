/**
 * The raw-text sentiment cues of the shared featurizer (settings `surface`
 * and `negation`): what they emit, that they stay off for the intent
 * featurizer and for manifests written before they existed, and that the
 * trainer, the runtime classifier and the registry compute identical inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_FEATURIZER, checkFeaturizerSettings, featurize, featurizeTokens, lexiconFeatures, negatedTokens, parseVaderLexicon, surfaceFeatures, type FeaturizerSettings } from '../../src/model/features.js';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { loadManifest } from '../../src/model/manifest.js';
import { tokenize } from '../../src/model/text.js';
import { TextClassifier } from '../../src/model/classifier.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { encodeForTraining, trainClassifier } from '../../src/train/trainer.js';
import { FastTextScorer } from '../../src/train/fasttext.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { RECIPES } from '../../src/train/recipes.js';
import type { LabelledRow } from '../../src/data/rows.js';

const LEX = new Map<string, number>([['love', 3.2], ['good', 1.9], ['bad', -2.5], ['hate', -2.7], ['great', 3.1], ['awful', -2.0], ['sad', -2.1]]);
const SENT: FeaturizerSettings = {
  ...DEFAULT_FEATURIZER,
  surface: true,
  negation: true,
  lexicon: { file: 'lexicon.json', entries: LEX.size, source: 'test', licence: 'test' },
};

function lex(text: string): string[] {
  const out: string[] = [];
  lexiconFeatures(text, tokenize(text), LEX, (n) => out.push(n));
  return out;
}

function cues(text: string): string[] {
  const out: string[] = [];
  surfaceFeatures(text, tokenize(text), (n) => out.push(n), (w) => out.push(`word:${w}`));
  return out;
}

function negated(text: string): string[] {
  const out: string[] = [];
  negatedTokens(text, tokenize(text), (t) => out.push(t.norm));
  return out;
}

test('surface cues fire on punctuation, caps, elongation, emoticons and emoji that tokenize() drops', () => {
  const c = cues('I LOVE it!!! :)');
  for (const want of ['!', '!!', 'caps', 'emo+', 'emo+:)']) assert.ok(c.includes(want), `${want} in ${c.join(' | ')}`);
  assert.ok(!c.includes('?'));
  const q = cues('Where?!');
  for (const want of ['!', '?', '?!', 'end!']) assert.ok(q.includes(want), `${want} in ${q.join(' | ')}`);
  assert.ok(cues('well...').includes('...'));
  assert.ok(cues('well…').includes('...'));
  assert.ok(cues('Fine.').includes('end.'));
  assert.ok(cues('sooo goooood').includes('word:good'));
  assert.ok(cues('sooo goooood').includes('elong'));
  assert.ok(cues('that was sad :(').includes('emo-'));
  assert.ok(cues('xD <3').filter((x) => x === 'emo+').length === 2);
  const e = cues('haha 😂 ❤');
  for (const want of ['emoji 😂', 'emoji-class laugh', 'emoji ❤', 'emoji-class love']) assert.ok(e.includes(want), `${want} in ${e.join(' | ')}`);
  // Not emoticons: clock times, URLs; "I" alone is not a caps word.
  assert.deepEqual(cues('meet at 10:30 http://t.co/x').filter((x) => x.startsWith('emo')), []);
  assert.ok(!cues('I think so').includes('caps'));
});

test('negation scope runs from the negator to the next clause punctuation of the raw text or "but"', () => {
  assert.deepEqual(negated('This is not good, but fine'), ['good']);
  assert.deepEqual(negated("I don't like it. Great."), ['like', 'it']);
  assert.deepEqual(negated('I don’t like it but I love you'), ['like', 'it']);
  assert.deepEqual(negated('No, thank you'), []);
  assert.deepEqual(negated('never ever again'), ['ever', 'again']);
  assert.deepEqual(negated('it was good'), []);
});

test('lexicon cues: valence buckets, flipped inside a negation scope, and the sentence total', () => {
  assert.deepEqual(lex('I love it'), ['lex+3', 'lexsum+3']);
  assert.deepEqual(lex('not good, bad'), ['lex-2', 'lex-3', 'lexsum-3']);
  assert.deepEqual(lex('baaaad'), ['lex-3', 'lexsum-3']); // elongated: looked up with runs squeezed to one letter
  assert.deepEqual(lex('turn on the lights'), ['lex none']);
  assert.ok(lex('love it but hate this').includes('lex mixed'));
  // VADER's file format: words only (emoticons are the surface cues' job), zero valence dropped.
  const parsed = parseVaderLexicon(':)\t2.0\t0.6\t[2]\nlove\t3.2\t0.4\t[3]\ndon\'t\t-0.3\t0.1\t[0]\nmeh\t0\t0\t[0]\n');
  assert.deepEqual([...parsed.entries()], [['love', 3.2], ["don't", -0.3]]);
  assert.throws(() => featurizeTokens(tokenize('good'), SENT, 'good'), /lexicon/);
});

test('with the settings on, the cues add features; punctuation now changes the features', () => {
  assert.ok(featurize('I LOVE it!!! :)', SENT, LEX).length > featurize('I LOVE it!!! :)', DEFAULT_FEATURIZER).length);
  assert.equal(featurize('great!', { ...SENT, cueWeight: 5 }, LEX).length - featurize('great', { ...SENT, cueWeight: 5 }, LEX).length, 5); // one more cue ('!'; 'end!' replaces 'end'), counted 5×
  assert.notDeepEqual(featurize('great!', SENT, LEX), featurize('great?', SENT, LEX));
  assert.notDeepEqual(featurize('not good', SENT, LEX), featurize('good not', SENT, LEX));
});

test('the intent featurizer and older manifests are unaffected: settings off ⇒ the features of tokens alone', () => {
  assert.equal(DEFAULT_FEATURIZER.surface, undefined);
  assert.equal(DEFAULT_FEATURIZER.negation, undefined);
  assert.equal(RECIPES.intent.featurizer.surface, undefined);
  assert.equal(RECIPES.intent.featurizer.negation, undefined);
  for (const t of ['Turn OFF the lights!!! :)', "don't set the alarm, please", 'set the heating to twenty one degrees']) {
    assert.deepEqual(featurize(t, DEFAULT_FEATURIZER), featurizeTokens(tokenize(t), DEFAULT_FEATURIZER));
    assert.deepEqual(featurize(t, { ...DEFAULT_FEATURIZER, surface: false, negation: false }), featurizeTokens(tokenize(t), DEFAULT_FEATURIZER));
  }
  assert.deepEqual(checkFeaturizerSettings(DEFAULT_FEATURIZER), []);
  assert.deepEqual(checkFeaturizerSettings(SENT), []);
  assert.match(checkFeaturizerSettings({ ...DEFAULT_FEATURIZER, surface: 'yes' }).join('\n'), /featurizer\.surface/);
});

test('raw-text settings without the raw text fail loudly instead of silently differing from training', () => {
  assert.throws(() => featurizeTokens(tokenize('great!'), SENT, undefined, LEX), /raw text/);
  assert.throws(() => featurizeTokens(tokenize('great!'), { ...DEFAULT_FEATURIZER, negation: true }), /raw text/);
});

const SENT_ROWS: LabelledRow[] = [];
for (const [label, texts] of Object.entries({
  positive: ['I LOVE it!!! :)', 'this is great', 'sooo good 😂', 'wonderful day <3', 'not bad at all, really nice', 'best thing ever!'],
  negative: ['I hate it :(', 'this is not good.', 'awful... just awful', 'WHY?! this is terrible', "I don't like it, sad", 'worst day 😭'],
  neutral: ['turn on the lights', 'the meeting is at three.', 'what time is it?', 'set a timer', 'it is on the table', 'ok'],
})) {
  for (const text of texts) SENT_ROWS.push({ text, label, slots: [], source: 'tiny-sentiment' });
}

test('sentiment cues: trainer, runtime classifier and registry compute identical inputs and logits', async () => {
  const trained = trainClassifier({ task: 'sentiment', train: [{ file: 's', rows: SENT_ROWS }], labels: ['negative', 'neutral', 'positive'], featurizer: SENT, lexicon: LEX, fasttext: { dim: 8, epochs: 40, seed: 2 } });
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-sentfeat-'));
  try {
    await writeModelDir(dir, trained, { name: 's', version: '0', threshold: 0, data: [], precision: 'fp32' });
    const clf = await TextClassifier.load(dir);
    assert.equal(clf.manifest.featurizer.surface, true);
    assert.equal(clf.manifest.featurizer.negation, true);
    const sentences = [...SENT_ROWS.map((r) => r.text), 'I do NOT like this!!! :(', 'sooo happy 😍', 'Where?!', '', '?!'];
    const trainerSide = encodeForTraining(sentences, trained.featurizer, trained.remap, LEX);
    const scorer = new FastTextScorer(trained.weights);
    // The lexicon ships in the model directory and is what the runtime reads.
    assert.deepEqual(JSON.parse(readFileSync(join(dir, 'lexicon.json'), 'utf8')), Object.fromEntries(LEX));
    assert.equal(loadManifest(dir).featurizer.lexicon?.entries, LEX.size);
    const reg = await ModelRegistry.load({ intentDir: null, sentimentDir: dir });
    try {
      for (let i = 0; i < sentences.length; i++) {
        const runtime = clf.encode(tokenize(sentences[i]), sentences[i]);
        assert.deepEqual([...runtime.rows], [...trainerSide[i].rows], sentences[i]);
        assert.equal(runtime.count, trainerSide[i].count, sentences[i]);
        const onnx = await clf.logits(runtime);
        const js = scorer.logits(trainerSide[i].rows, trainerSide[i].count, new Float32Array(3));
        for (let c = 0; c < 3; c++) assert.ok(Math.abs(onnx[c] - js[c]) < 1e-4, `${sentences[i]} class ${c}: ${onnx[c]} vs ${js[c]}`);
        // The registry (what the agent calls) passes the raw text through.
        const a = await reg.analyze(sentences[i], ['sentiment']);
        const direct = await clf.classify(tokenize(sentences[i]), sentences[i]);
        assert.equal(a.sentiment!.label, direct.ranked[0].name, sentences[i]);
        assert.ok(Math.abs(a.sentiment!.score - direct.ranked[0].confidence) < 1e-9, sentences[i]);
      }
      // Punctuation alone now moves the scores (it did not before: tokenize() drops it).
      const plain = await clf.classify(tokenize('I love it'), 'I love it');
      const loud = await clf.classify(tokenize('I LOVE it!!! :)'), 'I LOVE it!!! :)');
      assert.notDeepEqual([...plain.logits], [...loud.logits]);
    } finally {
      await reg.close();
      await clf.dispose();
    }
    // A directory whose lexicon disagrees with its manifest, or lacks it, refuses to load.
    writeFileSync(join(dir, 'lexicon.json'), '{"love": 3}');
    await assert.rejects(TextClassifier.load(dir), /entries/);
    rmSync(join(dir, 'lexicon.json'));
    assert.ok(!existsSync(join(dir, 'lexicon.json')));
    assert.throws(() => loadManifest(dir), /featurizer\.lexicon\.file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the cue shortcuts (issue 10) decide as the expressions they replace: caps, elongation, scope breaks, emoji', () => {
  // The expressions as written before: raw-text caps test, the elongation regex, the scope-break regex.
  const caps = (raw: string) => raw.length >= 2 && raw === raw.toUpperCase() && raw !== raw.toLowerCase();
  const elongated = (w: string) => /(\p{L})\1\1/u.test(w);
  const words = [
    'OK', 'ok', 'Ok', 'A', 'NOOO', 'sooo', 'soo', 'LOVE', 'ÄRGER', 'ärger', 'ÄrGER', 'STRAẞE', 'İSTANBUL', 'ǅA', 'ΣΑΣ',
    'aaa', 'aaaa', 'a1aaa', '𝒳𝒳𝒳', '𝒳𝒳', 'x𝒳𝒳𝒳y', 'ééé', 'e\u0301e\u0301e\u0301', '111', 'DON\'T', 'don\'t', 'WOW!!!',
    '客客客', '哈哈哈哈', 'ЖЖЖ', 'ǅǅǅ', 'HTTP2', 'A1', '1A', 'ŉŉŉ',
  ];
  for (const w of words) {
    const text = `well ${w} then`;
    const tokens = tokenize(text);
    const got: string[] = [];
    const squeezed: string[] = [];
    surfaceFeatures(text, tokens, (c) => got.push(c), (x) => squeezed.push(x));
    const words = tokens.filter((t) => !t.isNumber);
    assert.equal(got.filter((c) => c === 'caps').length, words.filter((t) => caps(text.slice(t.start, t.end))).length, `caps of ${JSON.stringify(w)}`);
    assert.equal(got.filter((c) => c === 'elong').length, words.filter((t) => elongated(t.norm)).length, `elongation of ${JSON.stringify(w)}`);
  }
  // Every scope-break character ends a negation scope, other punctuation does not.
  for (const ch of [...'.,!?;:()[]"…', '-', "'", '/', '*', '&', '\u2014', '。']) {
    const text = `i do not like it ${ch} good movie`;
    const tokens = tokenize(text);
    const negated: number[] = [];
    negatedTokens(text, tokens, (_t, i) => negated.push(i));
    const breaks = /[.,!?;:()[\]"…]/.test(ch);
    assert.equal(negated.includes(tokens.findIndex((t) => t.norm === 'good')), !breaks, JSON.stringify(ch));
  }
  // Emoji are found in text that leaves ASCII, none in ASCII text (no ASCII character is Extended_Pictographic).
  const emoji = (text: string) => {
    const got: string[] = [];
    surfaceFeatures(text, tokenize(text), (c) => got.push(c), () => {});
    return got.filter((c) => c.startsWith('emoji '));
  };
  assert.deepEqual(emoji('great :) <3 ^_^'), []);
  assert.deepEqual(emoji('great 😂 ©'), ['emoji 😂', 'emoji ©']);
});
