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
import { DEFAULT_FEATURIZER, checkFeaturizerSettings, featurize, featurizeTokens, negatedTokens, surfaceFeatures, type FeaturizerSettings } from '../../src/model/features.js';
import { tokenize } from '../../src/model/text.js';
import { TextClassifier } from '../../src/model/classifier.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { encodeForTraining, trainClassifier } from '../../src/train/trainer.js';
import { FastTextScorer } from '../../src/train/fasttext.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { RECIPES } from '../../src/train/recipes.js';
import type { LabelledRow } from '../../src/train/data.js';

const SENT: FeaturizerSettings = { ...DEFAULT_FEATURIZER, surface: true, negation: true };

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

test('with the settings on, the cues add features; punctuation now changes the features', () => {
  assert.ok(featurize('I LOVE it!!! :)', SENT).length > featurize('I LOVE it!!! :)', DEFAULT_FEATURIZER).length);
  assert.notDeepEqual(featurize('great!', SENT), featurize('great?', SENT));
  assert.notDeepEqual(featurize('not good', SENT), featurize('good not', SENT));
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
  assert.throws(() => featurizeTokens(tokenize('great!'), SENT), /raw text/);
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
  const trained = trainClassifier({ task: 'sentiment', train: [{ file: 's', rows: SENT_ROWS }], labels: ['negative', 'neutral', 'positive'], featurizer: SENT, fasttext: { dim: 8, epochs: 40, seed: 2 } });
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-sentfeat-'));
  try {
    await writeModelDir(dir, trained, { name: 's', version: '0', threshold: 0, data: [], precision: 'fp32' });
    const clf = await TextClassifier.load(dir);
    assert.equal(clf.manifest.featurizer.surface, true);
    assert.equal(clf.manifest.featurizer.negation, true);
    const sentences = [...SENT_ROWS.map((r) => r.text), 'I do NOT like this!!! :(', 'sooo happy 😍', 'Where?!', '', '?!'];
    const trainerSide = encodeForTraining(sentences, trained.featurizer, trained.remap);
    const scorer = new FastTextScorer(trained.weights);
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
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
