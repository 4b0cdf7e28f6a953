import { test } from 'node:test';
import assert from 'node:assert/strict';
import { alignTokens, bioSlots, splitBio, type TokenLabel } from '../../src/model/token-spans.js';

test('WordPiece tokens are placed in the original text: case, accents, punctuation, ## continuations', () => {
  const text = 'Turn ON the Café lamps,  please';
  const spans = alignTokens(text, ['turn', 'on', 'the', 'cafe', 'lamp', '##s', ',', 'please'], { wordPiece: true });
  assert.deepEqual(
    spans.map((s) => [text.slice(s.start, s.end), s.continues]),
    [['Turn', false], ['ON', false], ['the', false], ['Café', false], ['lamp', false], ['s', true], [',', false], ['please', false]],
  );
});

test('[UNK] covers one word; a token that is not in the text is left out', () => {
  const text = 'set ☃☃ to 21';
  const spans = alignTokens(text, ['set', '[UNK]', 'to', 'xyz', '21'], { wordPiece: true });
  assert.deepEqual(spans.map((s) => [s.token, text.slice(s.start, s.end)]), [['set', 'set'], ['[UNK]', '☃☃'], ['to', 'to'], ['21', '21']]);
});

test('BPE (Ġ) and SentencePiece (▁) tokens: a word continues where no space precedes', () => {
  const text = 'the kitchens light';
  const bpe = alignTokens(text, ['the', '\u0120kitchen', 's', '\u0120light'], { wordPiece: false });
  assert.deepEqual(bpe.map((s) => [text.slice(s.start, s.end), s.continues]), [['the', false], ['kitchen', false], ['s', true], ['light', false]]);
});

test('splitBio reads B-/I-/S-/E- prefixes, "_" separators and bare types', () => {
  assert.deepEqual(splitBio('B-room'), ['B', 'room']);
  assert.deepEqual(splitBio('I_room'), ['I', 'room']);
  assert.deepEqual(splitBio('S-LOC'), ['B', 'LOC']);
  assert.deepEqual(splitBio('O'), ['O', '']);
  assert.deepEqual(splitBio('PER'), ['I', 'PER']);
});

test('bioSlots: a word takes its first subword\'s label, I- extends, a stray I- starts a span, numbers are normalised', () => {
  const text = 'set the living room lamps to 21 degrees';
  const spans = alignTokens(text, ['set', 'the', 'living', 'room', 'lamp', '##s', 'to', '21', 'degrees'], { wordPiece: true });
  const labels = ['O', 'O', 'B-room', 'I-room', 'B-device', 'O', 'O', 'I-temperature', 'I-temperature'];
  const probs = [0.9, 0.9, 0.8, 0.6, 0.7, 0.1, 0.9, 0.5, 0.7];
  const labelled: TokenLabel[] = spans.map((span, i) => ({ span, label: labels[i], probability: probs[i] }));
  const slots = bioSlots(text, labelled, { room: 'house_place' });
  assert.deepEqual(
    slots.map((s) => ({ type: s.type, raw: s.raw, value: s.value, start: s.start, end: s.end, unit: s.unit, c: Number(s.confidence.toFixed(3)) })),
    [
      { type: 'house_place', raw: 'living room', value: 'living room', start: 8, end: 19, unit: undefined, c: 0.7 },
      { type: 'device', raw: 'lamps', value: 'lamps', start: 20, end: 25, unit: undefined, c: 0.7 },
      { type: 'temperature', raw: '21 degrees', value: 21, start: 29, end: 39, unit: 'degrees', c: 0.6 },
    ],
  );
});
