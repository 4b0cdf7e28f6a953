import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DEFAULT_SLOT_FEATURIZER,
  HashedWordClasses,
  SlotFeatureRemap,
  mixShape,
  mixStr,
  slotFeatureIds,
  slotIntentFeatureCount,
  slotIntentIdsInto,
  wordShape,
  type SlotFeaturizerSettings,
} from '../../src/model/slot-features.js';
import { loadManifest } from '../../src/model/manifest.js';
import { packageRoot } from '../../src/util/paths.js';
import { SlotTagger } from '../../src/model/slot-tagger.js';
import { tokenize } from '../../src/model/text.js';
import { exportSlotTagger, rowLookup, trainingFeatureRows, trainSlotTagger, type IntentRow } from '../../src/train/tagger.js';
import { datasetFile, needsDatasets } from '../helpers/datasets.js';

const SENTENCES: [string, string | null][] = [
  ['turn on the kitchen lights', 'iot_hue_lighton'],
  ['set the living room to twenty one degrees', 'iot_thermostat_set'],
  ['Set the Living-Room to 21°C!', 'iot_thermostat_set'],
  ['wake me at 6:30 am tomorrow', 'alarm_set'],
  ['play adele on spotify', null],
  ['make the attic lights purple', 'unknown'],
  ['réveille-moi à sept heures', 'alarm_set'],
  ['x', 'iot_hue_lighton'],
];

function rows(): IntentRow[] {
  return [
    { text: 'turn on the kitchen lights', intent: 'iot_hue_lighton', slots: [{ type: 'house_place', start: 12, end: 19 }] },
    { text: 'set the living room to twenty one degrees', intent: 'iot_thermostat_set', slots: [{ type: 'house_place', start: 8, end: 19 }, { type: 'temperature', start: 23, end: 41 }] },
    { text: 'wake me at six am tomorrow', intent: 'alarm_set', slots: [{ type: 'time', start: 11, end: 17 }, { type: 'date', start: 18, end: 26 }] },
    { text: 'play adele', intent: 'play_music', slots: [{ type: 'artist_name', start: 5, end: 10 }] },
  ];
}

test('feature ids are in [1, buckets], padded with 0, deterministic', () => {
  for (const [text, intent] of SENTENCES) {
    const tokens = tokenize(text);
    const a = slotFeatureIds(tokens, intent);
    const b = slotFeatureIds(tokens, intent);
    assert.deepEqual(a, b);
    assert.equal(a.length, tokens.length * DEFAULT_SLOT_FEATURIZER.maxFeatures);
    for (let t = 0; t < tokens.length; t++) {
      const row = a.subarray(t * DEFAULT_SLOT_FEATURIZER.maxFeatures, (t + 1) * DEFAULT_SLOT_FEATURIZER.maxFeatures);
      let seenPad = false;
      for (const id of row) {
        if (id === 0) seenPad = true;
        else {
          assert.ok(!seenPad, 'padding only at the end of a token row');
          assert.ok(id >= 1 && id <= DEFAULT_SLOT_FEATURIZER.buckets, `id ${id} in range`);
        }
      }
    }
  }
});

test('spelled-out and digit numbers give the same features; the intent changes them', () => {
  const a = slotFeatureIds(tokenize('set it to twenty one degrees'), 'iot_thermostat_set');
  const b = slotFeatureIds(tokenize('set it to 21 degrees'), 'iot_thermostat_set');
  assert.deepEqual(a, b);
  const c = slotFeatureIds(tokenize('set it to 21 degrees'), 'alarm_set');
  const none = slotFeatureIds(tokenize('set it to 21 degrees'), null);
  assert.notDeepEqual(b, c);
  assert.notDeepEqual(b, none);
  // Without an intent, exactly the intent features are missing.
  const K = DEFAULT_SLOT_FEATURIZER.maxFeatures;
  const nz = (x: Int32Array, t: number): number[] => [...x.subarray(t * K, (t + 1) * K)].filter((v) => v !== 0);
  for (let t = 0; t < 5; t++) for (const id of nz(none, t)) assert.ok(nz(b, t).includes(id));
});

test('word shapes', () => {
  assert.equal(wordShape('21'), 'dd');
  assert.equal(wordShape('2021'), 'dd');
  assert.equal(wordShape("o'clock"), "x'xx");
  assert.equal(wordShape('6:30'), 'd:dd');
});

test('trainer and runtime turn the same tokens into identical model rows', async () => {
  const m = trainSlotTagger(rows(), { epochs: 1, dim: 4, minCount: 1 });
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-slotfeat-'));
  try {
    const { section } = await exportSlotTagger(m, dir);
    const tagger = await SlotTagger.load(dir, { slots: section });
    try {
      const lookup = rowLookup(m.kept);
      let known = 0;
      for (const [text, intent] of SENTENCES) {
        const tokens = tokenize(text);
        // The runtime maps the `unknown` intent to none, as the registry passes it.
        const train = trainingFeatureRows(tokens, intent === 'unknown' ? null : intent, m.featurizer, lookup);
        const run = tagger.featureRows(tokens, intent);
        assert.deepEqual([...run].map(Number), [...train], text);
        known += [...train].filter((r) => r > 0).length;
      }
      assert.ok(known > 20, 'the sentences share features with the training rows');
    } finally {
      await tagger.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('the remap round-trips through its compact encoding and rejects damaged files', () => {
  const kept = Uint32Array.from([3, 17, 18, 4000, 1 << 21, (1 << 22) - 1]);
  const remap = new SlotFeatureRemap(kept);
  const bytes = remap.encode();
  assert.ok(bytes.length < kept.length * 4, 'smaller than raw uint32');
  const back = SlotFeatureRemap.decode(bytes);
  assert.deepEqual(back.kept, kept);
  assert.equal(back.row(17), 2);
  assert.equal(back.row(5), 0);
  assert.equal(back.row(0), 0);
  assert.deepEqual([...back.apply(Int32Array.from([4000, 0, 9]))], [4n, 0n, 0n]);
  // applyInto writes the same rows at an offset of a larger int64 input and leaves the rest alone.
  const into = new BigInt64Array(6).fill(-7n);
  back.applyInto(Int32Array.from([(1 << 22) - 1, 3, 0]), into, 2);
  assert.deepEqual([...into], [-7n, -7n, 6n, 1n, 0n, -7n]);
  assert.throws(() => SlotFeatureRemap.decode(bytes.subarray(0, bytes.length - 1)), /truncated/);
  assert.throws(() => new SlotFeatureRemap(Uint32Array.from([5, 5])), /ascending/);
});

test('the word-shape hash (no shape string built, issue 10) equals hashing wordShape() for every kind of character', () => {
  const words = [
    '', 'a', 'light', "o'clock", '21', '21.5', '7pm', 'abc123def', 'aaa', '111', "''''", '%', '°c', 'x', 'd', 'dx',
    'café', 'über', 'straße', '客厅', '二十一', 'ΑΒΓ', 'мама', 'naïve', 'e\u0301e\u0301e\u0301', '٣٣٣', '١٢', 'a٣b',
    '😂', '😂😂😂', 'a😂b', '𝒳𝒳𝒳', '\ud83d', 'x\ude02y', '\u00a0\u00a0\u00a0', 'ǅ', 'ⅷ', 'x'.repeat(50), '9'.repeat(40),
  ];
  for (const w of words) {
    for (const h of [0x811c9dc5, 12345, 0xffffffff | 0]) assert.equal(mixShape(h, w), mixStr(h, wordShape(w)), JSON.stringify(w));
  }
});

// Issue 13: distributional word classes as tagger features.
const CLASS_TSV = ['the\t0\t3\t300', 'kitchen\t1\t5\t7', 'bedroom\t1\t5\t8', 'adele\t2\t9\t1000', 'play\t3\t10\t12', ''].join('\n');

test('the word class table round-trips through its compact encoding and rejects damaged files', () => {
  const t = HashedWordClasses.fromTsv(CLASS_TSV, [0, 2]);
  assert.equal(t.classOf('kitchen', 0), 1);
  assert.equal(t.classOf('adele', 1), 1000);
  assert.equal(t.classOf('bedroom', 1), 8);
  assert.equal(t.classOf('zanzibar', 0), -1);
  const bytes = t.encode();
  const back = HashedWordClasses.decode(bytes);
  assert.deepEqual([...back.keys], [...t.keys]);
  assert.deepEqual([...back.classes], [...t.classes]);
  // Granularity 0 fits a byte, granularity 1 needs two: 2 varints + 2 widths + keys + 5 × 3 class bytes.
  assert.equal(back.granularities, 2);
  assert.throws(() => HashedWordClasses.decode(bytes.subarray(0, bytes.length - 1)), /wrong file length/);
  assert.throws(() => HashedWordClasses.fromWords([['x', [70000]]], 1), /class ids in \[0, 65535\]/);
});

test('word class features: absent, the ids are unchanged; present, the class of a word the training never saw is a feature', () => {
  const table = HashedWordClasses.fromTsv(CLASS_TSV, [0, 1, 2]);
  const wc = { ...DEFAULT_SLOT_FEATURIZER, wordClasses: { file: 'slots.classes', granularities: 3, intentGranularity: 0 } };
  const K = DEFAULT_SLOT_FEATURIZER.maxFeatures;
  for (const [text, intent] of SENTENCES) {
    const tokens = tokenize(text);
    const plain = slotFeatureIds(tokens, intent);
    const withClasses = slotFeatureIds(tokens, intent, wc, table);
    // The class features come after every other feature of a token.
    for (let t = 0; t < tokens.length; t++) {
      const a = [...plain.subarray(t * K, (t + 1) * K)].filter((v) => v !== 0);
      const b = [...withClasses.subarray(t * K, (t + 1) * K)].filter((v) => v !== 0);
      assert.deepEqual(b.slice(0, a.length), a, text);
      assert.ok(b.length > a.length, `${text}: class features added`);
    }
  }
  assert.throws(() => slotFeatureIds(tokenize('play adele'), null, wc), /word class table slots.classes was not loaded/);
  // Two words in the same classes share their class features: "bedroom" and "kitchen" after "the".
  const a = slotFeatureIds(tokenize('the kitchen'), null, wc, table);
  const b = slotFeatureIds(tokenize('the bedroom'), null, wc, table);
  const c = slotFeatureIds(tokenize('the adele'), null, wc, table);
  const shared = (x: Int32Array, y: Int32Array): number => [...x.subarray(K, 2 * K)].filter((v) => v !== 0 && y.subarray(K, 2 * K).includes(v)).length;
  assert.ok(shared(a, b) > shared(a, c), 'same-class words share more features');
  // The measured options (class bigrams, classes at ±2) add features after the shipped ones and change none of them.
  const more = { ...wc, wordClasses: { ...wc.wordClasses, bigrams: true, window2: true } };
  const tokens = tokenize('set the kitchen to twenty degrees');
  const shipped = slotFeatureIds(tokens, 'iot_thermostat_set', wc, table);
  const extra = slotFeatureIds(tokens, 'iot_thermostat_set', more, table);
  for (let t = 0; t < tokens.length; t++) {
    const x = [...shipped.subarray(t * K, (t + 1) * K)].filter((v) => v !== 0);
    const y = [...extra.subarray(t * K, (t + 1) * K)].filter((v) => v !== 0);
    assert.deepEqual(y.slice(0, x.length), x);
    assert.ok(y.length > x.length);
  }
});

test('with word classes, trainer and runtime give identical rows and the exported table is part of the model', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-slotclasses-'));
  try {
    const tsv = join(dir, 'classes.tsv');
    writeFileSync(tsv, CLASS_TSV);
    const m = trainSlotTagger(rows(), { epochs: 1, dim: 4, minCount: 1, wordClasses: { source: tsv, columns: [0, 2], intentGranularity: 0 } });
    assert.deepEqual(m.featurizer.wordClasses, { file: 'slots.classes', granularities: 2, intentGranularity: 0 });
    assert.equal(m.featurizer.version, 2, 'a hubnlu without word classes refuses the model');
    const out = join(dir, 'model');
    const { section, bytes } = await exportSlotTagger(m, out);
    assert.equal(section.files.classes, 'slots.classes');
    assert.ok(readdirSync(out).includes('slots.classes'));
    assert.equal(bytes.total, bytes.model + bytes.remap + bytes.transitions + bytes.classes!);
    const tagger = await SlotTagger.load(out, { slots: section });
    try {
      const lookup = rowLookup(m.kept);
      for (const [text, intent] of SENTENCES) {
        const tokens = tokenize(text);
        const train = trainingFeatureRows(tokens, intent === 'unknown' ? null : intent, m.featurizer, lookup, m.classes);
        assert.deepEqual([...tagger.featureRows(tokens, intent)].map(Number), [...train], text);
      }
    } finally {
      await tagger.dispose();
    }
    // A manifest that names word classes but no table file is refused with the fix.
    const { classes: _c, ...noClasses } = section.files;
    await assert.rejects(SlotTagger.load(out, { slots: { ...section, files: noClasses } }), /`slots.files.classes` is missing; retrain/);
    await assert.rejects(SlotTagger.load(out, { slots: { ...section, featurizer: { ...section.featurizer, version: 1 } } }), /featurizer version 1 is not 2 \(with word classes\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

// 300 slurp.devel requests (the public datasets: test/helpers/datasets.ts).
test('slotIntentIdsInto: the shared ids once and each intent\'s own are the ids slotFeatureIdsInto gives under that intent', needsDatasets, () => {
  const shippedDir = join(packageRoot(), 'models', 'intent');
  const shipped = (loadManifest(shippedDir) as unknown as { slots: { featurizer: SlotFeaturizerSettings } }).slots.featurizer;
  const classes = HashedWordClasses.decode(new Uint8Array(readFileSync(join(shippedDir, 'slots.classes'))));
  const devel = readFileSync(datasetFile('intent', 'slurp.devel.jsonl'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .slice(0, 300)
    .map((l) => (JSON.parse(l) as { text: string }).text);
  const texts = [...SENTENCES.map(([t]) => t), ...devel, 'supercalifragilistic', 'extraordinarily'];
  const intentSets: (string | null)[][] = [['iot_hue_lighton'], ['alarm_set', null, 'calendar_set'], [null], ['weather_query', 'qa_factoid', 'play_music', null]];
  // The shipped settings (word classes, paired with the intent), the defaults, the scenario too, and rows too short
  // for every feature (some tokens overflow: the split must say so).
  const settings: [string, SlotFeaturizerSettings, HashedWordClasses | undefined][] = [
    ['shipped', shipped, classes],
    ['defaults', DEFAULT_SLOT_FEATURIZER, undefined],
    ['scenario', { ...shipped, scenario: true, maxFeatures: 32 }, classes],
    ['short rows', { ...DEFAULT_SLOT_FEATURIZER, maxFeatures: 20 }, undefined],
  ];
  for (const [name, s, table] of settings) {
    const K = s.maxFeatures;
    const KI = slotIntentFeatureCount(s);
    let split = 0;
    let whole = 0;
    for (const text of texts) {
      const tokens = tokenize(text);
      for (const intents of intentSets) {
        const shared = new Int32Array(tokens.length * K);
        const parts = new Int32Array(tokens.length * intents.length * KI);
        const ok = slotIntentIdsInto(tokens, intents, s, shared, parts, table);
        // Refused exactly when some token's ids with no intent and an intent's would not fit in a row.
        const alone = slotFeatureIds(tokens, null, s, table);
        const tooMany = tokens.some((_, i) => alone.subarray(i * K, (i + 1) * K).filter((x) => x !== 0).length + KI > K);
        assert.equal(ok, !tooMany, `${name}: "${text}"`);
        if (!ok) {
          whole++;
          continue;
        }
        // What the tagger sums for each token under each intent: the same ids, in any order.
        const full = intents.map((intent) => slotFeatureIds(tokens, intent, s, table));
        split++;
        for (let i = 0; i < tokens.length; i++) {
          const sharedRow = [...shared.subarray(i * K, (i + 1) * K)].filter((x) => x !== 0);
          assert.ok(sharedRow.length <= K - KI, `${name}: "${text}" token ${i}: ${sharedRow.length} shared ids`);
          for (let p = 0; p < intents.length; p++) {
            const own = [...parts.subarray((i * intents.length + p) * KI, (i * intents.length + p + 1) * KI)].filter((x) => x !== 0);
            assert.equal(own.length, intents[p] ? KI : 0, `${name}: "${text}" token ${i} intent ${intents[p]}`);
            const want = [...full[p].subarray(i * K, (i + 1) * K)].filter((x) => x !== 0).sort((a, b) => a - b);
            assert.deepEqual([...sharedRow, ...own].sort((a, b) => a - b), want, `${name}: "${text}" token ${i} intent ${intents[p]}`);
          }
        }
      }
    }
    // The shipped settings always fit (28 ids at most with an intent; 31 with the scenario); rows of 20 often do not.
    if (name !== 'short rows') assert.equal(whole, 0, `${name}: ${whole} refused`);
    if (name === 'short rows') assert.ok(whole > 100, `short rows: only ${whole} refused`);
    assert.ok(split > 100, `${name}: only ${split} split`);
  }
});
