import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  allowedTransition,
  bioTags,
  mixtureParts,
  SlotTagger,
  neighbourConfidences,
  readSlotsManifest,
  spansFromTags,
  viterbiBio,
  viterbiBioCrf,
  slotFromSpan,
  slotsFromSpans,
  transposeTransitions,
} from '../../src/model/slot-tagger.js';
import { DEFAULT_SLOT_FEATURIZER, slotFeatureIds, slotIntentFeatureCount, slotIntentIdsInto, type SlotFeaturizerSettings } from '../../src/model/slot-features.js';
import { mixtureTaggerGraph } from '../../src/model/batch-graph.js';
import { exportSlotTagger, trainSlotTagger } from '../../src/train/tagger.js';
import type { Token } from '../../src/model/text.js';
import type { SlotResult } from '../../src/model/types.js';
import { tokenize } from '../../src/model/text.js';
import { loadManifest } from '../../src/model/manifest.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { packageRoot } from '../../src/util/paths.js';
import { decodeModel, encodeModel } from '../../src/train/onnx-proto.js';
import { datasetFile, needsDatasets } from '../helpers/datasets.js';

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function assertValid(tags: Int32Array): void {
  for (let i = 0; i < tags.length; i++) {
    assert.ok(allowedTransition(i === 0 ? -1 : tags[i - 1], tags[i]), `tag ${tags[i]} after ${i === 0 ? 'start' : tags[i - 1]} at ${i}`);
  }
}

/** Exhaustive best valid path, for small cases. */
function bruteForce(scores: Float32Array, n: number, nTags: number, trans?: Float32Array): { path: number[]; score: number } {
  let best = { path: [] as number[], score: -Infinity };
  const path = new Array<number>(n).fill(0);
  const rec = (i: number, s: number): void => {
    if (i === n) {
      const total = s + (trans ? trans[(nTags + 1) * nTags + path[n - 1]] : 0);
      if (total > best.score) best = { path: [...path], score: total };
      return;
    }
    for (let j = 0; j < nTags; j++) {
      if (!allowedTransition(i === 0 ? -1 : path[i - 1], j)) continue;
      path[i] = j;
      const t = trans ? (i === 0 ? trans[nTags * nTags + j] : trans[path[i - 1] * nTags + j]) : 0;
      rec(i + 1, s + scores[i * nTags + j] + t);
    }
  };
  rec(0, 0);
  return best;
}

test('bioTags lays out O, then B-/I- per type', () => {
  assert.deepEqual(bioTags(['date', 'time']), ['O', 'B-date', 'I-date', 'B-time', 'I-time']);
});

test('constrained Viterbi never emits I-x after O, at the start, or after another type', () => {
  const nTags = bioTags(['a', 'b', 'c']).length;
  const r = rng(7);
  for (let trial = 0; trial < 300; trial++) {
    const n = 1 + Math.floor(r() * 6);
    const scores = new Float32Array(n * nTags);
    // Adversarial: I- tags score highest everywhere, mostly of a type that differs from the neighbours'.
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < nTags; j++) scores[i * nTags + j] = r() * 2 - 1 + (j > 0 && j % 2 === 0 ? 5 + r() * 5 : 0);
    }
    const tags = viterbiBio(scores, n, nTags);
    assertValid(tags);
    const trans = new Float32Array((nTags + 2) * nTags).map(() => r() * 6 - 3);
    const crfTags = viterbiBioCrf(scores, n, nTags, trans);
    assertValid(crfTags);
    if (n <= 4) {
      const pathScore = (p: ArrayLike<number>, t?: Float32Array): number => {
        let s = 0;
        for (let i = 0; i < n; i++) {
          s += scores[i * nTags + p[i]];
          if (t) s += i === 0 ? t[nTags * nTags + p[i]] : t[p[i - 1] * nTags + p[i]];
        }
        return t ? s + t[(nTags + 1) * nTags + p[n - 1]] : s;
      };
      assert.ok(Math.abs(pathScore(tags) - bruteForce(scores, n, nTags).score) < 1e-4, 'viterbiBio finds the best valid path');
      assert.ok(Math.abs(pathScore(crfTags, trans) - bruteForce(scores, n, nTags, trans).score) < 1e-4, 'viterbiBioCrf finds the best valid path');
    }
  }
});

test('spans and slots carry offsets into the original text and normalised values', () => {
  const text = 'Set the Kitchen to twenty one degrees please';
  const tokens = tokenize(text);
  const types = ['house_place', 'temperature'];
  // set the kitchen to 21 degrees please
  const tags = Int32Array.from([0, 0, 1, 0, 3, 4, 0]);
  const spans = spansFromTags(tags, types);
  assert.deepEqual(spans.map((s) => [s.type, s.first, s.last]), [['house_place', 2, 2], ['temperature', 4, 5]]);
  const slots = spans.map((s) => slotFromSpan(text, tokens, s));
  assert.equal(slots[0].raw, 'Kitchen');
  assert.equal(slots[0].value, 'kitchen');
  assert.equal(text.slice(slots[1].start, slots[1].end), 'twenty one degrees');
  assert.equal(slots[1].value, 21);
  assert.equal(slots[1].unit, 'degrees');
});

test('readSlotsManifest names the problem and the fix', () => {
  assert.throws(() => readSlotsManifest('/m', {}), /no `slots` section.*retrain/);
  const ok = {
    slots: { tags: bioTags(['a']), types: ['a'], featurizer: DEFAULT_SLOT_FEATURIZER, files: { model: 'slots.onnx' } },
  };
  assert.equal(readSlotsManifest('/m', ok).types[0], 'a');
  assert.throws(() => readSlotsManifest('/m', { slots: { ...ok.slots, tags: ['O'] } }), /BIO tag set/);
  assert.throws(
    () => readSlotsManifest('/m', { slots: { ...ok.slots, featurizer: { ...DEFAULT_SLOT_FEATURIZER, version: 99 } } }),
    /featurizer version 99/,
  );
  const mixed = (intentMixture: unknown) => ({ slots: { ...ok.slots, intentMixture } });
  assert.deepEqual(readSlotsManifest('/m', mixed({ top: 3, floor: 0.05 })).intentMixture, { top: 3, floor: 0.05 });
  for (const bad of [{ top: 0, floor: 0.05 }, { top: 2.5, floor: 0 }, { top: 3, floor: 1 }, { top: 3 }, 'yes']) {
    assert.throws(() => readSlotsManifest('/m', mixed(bad)), /`slots.intentMixture` must be.*retrain/, JSON.stringify(bad));
  }
});

test('mixtureParts: the likely intents by probability, the rest of the mass on no intent, under the floor left out', () => {
  const m = { top: 3, floor: 0.05 };
  const r = (...xs: [string, number][]) => xs.map(([name, confidence]) => ({ name, confidence }));
  // A sure classifier: the one intent alone, exactly as without the mixture.
  assert.deepEqual(mixtureParts(r(['a', 0.97], ['b', 0.02], ['c', 0.01]), m), [{ intent: 'a', weight: 1 }]);
  // Unsure: two intents and no intent (1 − 0.5 − 0.3 − 0.04 = 0.16 plus c's 0.04 under the floor), summing to 1.
  const parts = mixtureParts(r(['a', 0.5], ['b', 0.3], ['c', 0.04], ['d', 0.03]), m);
  assert.deepEqual(parts.map((p) => p.intent), ['a', 'b', null]);
  assert.ok(Math.abs(parts[0].weight - 0.5) < 1e-12 && Math.abs(parts[1].weight - 0.3) < 1e-12 && Math.abs(parts[2].weight - 0.2) < 1e-12);
  // Only the top `top` intents take part; renormalised when no intent is under the floor.
  const two = mixtureParts(r(['a', 0.6], ['b', 0.38], ['c', 0.02]), { top: 2, floor: 0.05 });
  assert.deepEqual(two.map((p) => p.intent), ['a', 'b']);
  assert.ok(Math.abs(two[0].weight - 0.6 / 0.98) < 1e-12);
  // Nothing likely: no intent alone.
  assert.deepEqual(mixtureParts(r(['a', 0.03], ['b', 0.02]), m), [{ intent: null, weight: 1 }]);
  assert.deepEqual(mixtureParts([], m), [{ intent: null, weight: 1 }]);
});

// The shipped model sets intentMixture, so this runs the mixture form: equal to rounding (parts are summed in another order).
test('tagMixtures on the shipped English tagger: one part is `tag`, equal parts of one intent are that intent, a batch is each alone', async () => {
  const dir = join(packageRoot(), 'models', 'intent');
  const manifest = loadManifest(dir);
  const tagger = await SlotTagger.load(dir, manifest);
  try {
    const texts = ['set the heating to twenty one degrees in the kitchen', 'what is the weather in paris tomorrow', 'email john about the meeting at 5 pm', '?!'];
    const intents = ['iot_thermostat_set', 'weather_query', 'email_sendemail', null];
    for (let i = 0; i < texts.length; i++) {
      const tokens = tokenize(texts[i]);
      const alone = await tagger.tag(texts[i], tokens, intents[i]);
      const [one] = await tagger.tagMixtures([{ text: texts[i], tokens, parts: [{ intent: intents[i], weight: 1 }] }]);
      assertSameSlots(one, alone, texts[i]);
      const [halves] = await tagger.tagMixtures([{ text: texts[i], tokens, parts: [{ intent: intents[i], weight: 0.5 }, { intent: intents[i], weight: 0.5 }] }]);
      assertSameSlots(halves, alone, `halves: ${texts[i]}`);
    }
    const inputs = texts.map((text, i) => ({ text, tokens: tokenize(text), parts: [{ intent: intents[i], weight: 0.6 }, { intent: null, weight: 0.25 }, { intent: 'calendar_set', weight: 0.15 }] }));
    const batch = await tagger.tagMixtures(inputs);
    assert.ok(batch[0].some((s) => s.type === 'house_place'), JSON.stringify(batch[0]));
    for (let i = 0; i < inputs.length; i++) assertSameSlots(batch[i], (await tagger.tagMixtures([inputs[i]]))[0], texts[i]);
  } finally {
    await tagger.dispose();
  }
});

test('a model whose manifest sets slots.intentMixture: the registry tags over the ranked intents; the intent result is unchanged', async () => {
  const src = join(packageRoot(), 'models', 'intent');
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-mixture-'));
  try {
    cpSync(src, dir, { recursive: true });
    const m = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    m.slots.intentMixture = { top: 3, floor: 0.05 };
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify(m, null, 2));
    delete m.slots.intentMixture;
    const plainDir = mkdtempSync(join(tmpdir(), 'hubnlu-mixture-plain-'));
    cpSync(src, plainDir, { recursive: true });
    writeFileSync(join(plainDir, 'manifest.json'), JSON.stringify(m, null, 2));
    const mixed = await ModelRegistry.load({ intentDir: dir, sentimentDir: null });
    const plain = await ModelRegistry.load({ intentDir: plainDir, sentimentDir: null });
    const tagger = await SlotTagger.load(dir, loadManifest(dir));
    try {
      const texts = ['turn on the lights in the bedroom', 'what is the weather in paris tomorrow', 'play something by adele', 'remind me about the dentist on friday', 'the cosmos', 'tell me about tomorrow in london'];
      const all = await mixed.analyzeMany(texts.map((text) => ({ text, tasks: ['intent'] })));
      for (let i = 0; i < texts.length; i++) {
        const a = (await mixed.analyze(texts[i], ['intent'])).intent!;
        const b = (await plain.analyze(texts[i], ['intent'])).intent!;
        assert.equal(a.name, b.name);
        assert.equal(a.confidence, b.confidence);
        assert.deepEqual(a.alternatives, b.alternatives);
        const want = (await tagger.tagMixtures([{ text: texts[i], tokens: tokenize(texts[i]), parts: mixtureParts(a.alternatives, { top: 3, floor: 0.05 }) }]))[0];
        assert.deepEqual(a.slots, want, texts[i]);
        assert.deepEqual(all[i].intent!.slots.map((s) => [s.type, s.raw]), want.map((s) => [s.type, s.raw]), `analyzeMany: ${texts[i]}`);
        // Without the setting: the accepted intent only (none under the threshold), as before.
        assertSameSlots(b.slots, await tagger.tag(texts[i], tokenize(texts[i]), b.name === 'unknown' ? null : b.name), texts[i]);
      }
    } finally {
      await mixed.close();
      await plain.close();
      await tagger.dispose();
      rmSync(plainDir, { recursive: true, force: true });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});


/** Texts with the registry's rankings on the shipped English model: slurp.devel (mostly sure) and meld.dev (mostly unsure). */
async function rankedTexts(count: number): Promise<{ text: string; tokens: Token[]; ranked: ScoredLabelList }[]> {
  const read = (f: string): string[] => readFileSync(datasetFile(f), 'utf8').split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { text: string }).text);
  const texts = [...read('intent/slurp.devel.jsonl').slice(0, count), ...read('sentiment/meld.dev.jsonl').slice(0, count / 2), 'x', '', '?! …'];
  const registry = await ModelRegistry.load({ intentDir: join(packageRoot(), 'models', 'intent'), sentimentDir: null });
  try {
    const out = [];
    for (const text of texts) out.push({ text, tokens: tokenize(text), ranked: (await registry.analyze(text, ['intent'])).intent!.alternatives });
    return out;
  } finally {
    await registry.close();
  }
}
type ScoredLabelList = Parameters<typeof mixtureParts>[0];

/** `a` and `b` agree to float rounding (the mixture form sums the same terms in another order). */
function assertScoresClose(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, what);
  for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-4 * Math.max(1, Math.abs(b[i])), `${what}: score ${i} ${a[i]} vs ${b[i]}`);
}

/** Slots without their confidences, and the confidences apart (compared to rounding). */
function assertSameSlots(a: readonly SlotResult[], b: readonly SlotResult[], what: string): void {
  assert.deepEqual(a.map(({ confidence: _, ...x }) => x), b.map(({ confidence: _, ...x }) => x), what);
  a.forEach((x, i) => assert.ok(Math.abs(x.confidence - b[i].confidence) < 1e-4, `${what}: confidence ${x.confidence} vs ${b[i].confidence}`));
}

/** The file's scores mixed as the slow path does: each part's rows through the file as written, Σ weight × scores. */
async function fileMixture(file: SlotTagger, tokens: readonly Token[], parts: ReturnType<typeof mixtureParts>): Promise<Float32Array> {
  const nTags = file.section.tags.length;
  const out = new Float32Array(tokens.length * nTags);
  for (const p of parts) {
    const s = await file.rawScores(tokens, p.intent);
    for (let j = 0; j < out.length; j++) out[j] += p.weight * s[j];
  }
  return out;
}

test('the shipped tagger in its mixture form gives the file\'s mixed scores and slots, alone and in batches', needsDatasets, async () => {
  const dir = join(packageRoot(), 'models', 'intent');
  const manifest = loadManifest(dir) as unknown as { slots: Record<string, unknown> };
  const { intentMixture: _m, ...plain } = manifest.slots;
  const mixture = { top: 3, floor: 0.05 };
  const file = await SlotTagger.load(dir, { ...manifest, slots: plain });
  const fast = await SlotTagger.load(dir, { ...manifest, slots: { ...plain, intentMixture: mixture } });
  const asWritten = await SlotTagger.load(dir, { ...manifest, slots: { ...plain, intentMixture: mixture } }, { mixtureGraph: false });
  try {
    assert.equal(file.mixtureGraph, false, 'a model without intentMixture runs its file as written');
    assert.equal(asWritten.mixtureGraph, false);
    assert.equal(fast.mixtureGraph, true);
    const inputs = (await rankedTexts(400)).map((x) => ({ text: x.text, tokens: x.tokens, parts: mixtureParts(x.ranked, mixture) }));
    const byParts = new Map<number, number>();
    for (const x of inputs) byParts.set(x.parts.length, (byParts.get(x.parts.length) ?? 0) + 1);
    assert.ok([1, 2, 3, 4].every((p) => (byParts.get(p) ?? 0) >= 10), `sentences by part count: ${JSON.stringify([...byParts])}`);
    for (const x of inputs) {
      if (x.tokens.length === 0) continue;
      assertScoresClose(await fast.mixtureScores([x]), await fileMixture(file, x.tokens, x.parts), x.text);
      assertSameSlots((await fast.tagMixtures([x]))[0], (await asWritten.tagMixtures([x]))[0], x.text);
    }
    // Batches: sentences with different numbers of parts (and empty ones) in one call, each as alone.
    for (let i = 0; i < inputs.length; i += 7) {
      const batch = inputs.slice(i, i + 7);
      const together = await fast.tagMixtures(batch);
      const alone = await asWritten.tagMixtures(batch);
      batch.forEach((x, k) => assertSameSlots(together[k], alone[k], `batch ${i}: ${x.text}`));
    }
    // One part: `tag` and `tagMany` through the mixture form are the file's.
    for (const x of inputs.slice(0, 100)) {
      const intent = x.parts[0].intent;
      assertSameSlots(await fast.tag(x.text, x.tokens, intent), await file.tag(x.text, x.tokens, intent), x.text);
      if (x.tokens.length > 0) assertScoresClose(await fast.rawScores(x.tokens, intent), await file.rawScores(x.tokens, intent), x.text);
    }
  } finally {
    await Promise.all([file.dispose(), fast.dispose(), asWritten.dispose()]);
  }
});

test('the mixture form falls back to each part\'s whole row when a token\'s features overflow the row', needsDatasets, async () => {
  // The shipped file with the scenario features on too: 7 intent-dependent ids, so long words' rows overflow 28 and
  // the featurizer drops ids past it (the scores are meaningless for slots, but both ways must give the same ones).
  const dir = join(packageRoot(), 'models', 'intent');
  const manifest = loadManifest(dir) as unknown as { slots: { featurizer: SlotFeaturizerSettings } & Record<string, unknown> };
  const featurizer = { ...manifest.slots.featurizer, scenario: true };
  const slots = { ...manifest.slots, featurizer, intentMixture: { top: 3, floor: 0.05 } };
  const fast = await SlotTagger.load(dir, { ...manifest, slots });
  const file = await SlotTagger.load(dir, { ...manifest, slots }, { mixtureGraph: false });
  try {
    assert.equal(fast.mixtureGraph, true);
    const K = featurizer.maxFeatures;
    const KI = slotIntentFeatureCount(featurizer);
    let overflowing = 0;
    let fitting = 0;
    const inputs = (await rankedTexts(120)).filter((x) => x.tokens.length > 0).map((x) => ({ text: x.text, tokens: x.tokens, parts: mixtureParts(x.ranked, { top: 3, floor: 0.05 }) }));
    for (const x of inputs) {
      const fits = slotIntentIdsInto(x.tokens, x.parts.map((p) => p.intent), featurizer, new Int32Array(x.tokens.length * K), new Int32Array(x.tokens.length * x.parts.length * KI), fast['classes']);
      if (fits) fitting++;
      else overflowing++;
      assertScoresClose(await fast.mixtureScores([x]), await fileMixture(file, x.tokens, x.parts), x.text);
    }
    assert.ok(overflowing > 10 && fitting > 10, `${overflowing} overflowing, ${fitting} fitting`);
    // A batch with both kinds goes the whole-row way as one call.
    const batch = inputs.slice(0, 12);
    const scores = await fast.mixtureScores(batch);
    let at = 0;
    const nTags = fast.section.tags.length;
    for (const x of batch) {
      const n = x.tokens.length;
      assertScoresClose(scores.subarray(at * nTags, (at + n) * nTags), await fileMixture(file, x.tokens, x.parts), `batch: ${x.text}`);
      at += n;
    }
    assert.equal(slotFeatureIds(batch[0].tokens, null, featurizer, fast['classes']).length, batch[0].tokens.length * K);
  } finally {
    await Promise.all([fast.dispose(), file.dispose()]);
  }
});

test('trained taggers, int8 and fp32, run in the mixture form with their files\' scores; a file of another shape runs as written', async () => {
  const rows = [
    { text: 'turn on the kitchen lights', intent: 'iot_hue_lighton', slots: [{ type: 'house_place', start: 12, end: 19 }] },
    { text: 'set the living room to twenty one degrees', intent: 'iot_thermostat_set', slots: [{ type: 'house_place', start: 8, end: 19 }, { type: 'temperature', start: 23, end: 41 }] },
    { text: 'wake me at six am tomorrow', intent: 'alarm_set', slots: [{ type: 'time', start: 11, end: 17 }, { type: 'date', start: 18, end: 26 }] },
    { text: 'play adele', intent: 'play_music', slots: [{ type: 'artist_name', start: 5, end: 10 }] },
  ];
  const m = trainSlotTagger(rows, { epochs: 3, dim: 8, minCount: 1, seed: 5 });
  const texts = ['turn off the kitchen lights', 'wake me at seven', 'play adele in the living room', 'x'];
  const parts = [
    [{ intent: 'iot_hue_lighton', weight: 0.5 }, { intent: 'alarm_set', weight: 0.3 }, { intent: null, weight: 0.2 }],
    [{ intent: 'unknown', weight: 0.7 }, { intent: 'play_music', weight: 0.3 }],
    [{ intent: 'play_music', weight: 1 }],
  ];
  for (const precision of ['int8', 'fp32'] as const) {
    const dir = mkdtempSync(join(tmpdir(), `hubnlu-mixgraph-${precision}-`));
    try {
      const { section } = await exportSlotTagger(m, dir, { precision, intentMixture: { top: 3, floor: 0.05 } });
      assert.notEqual(mixtureTaggerGraph(new Uint8Array(readFileSync(join(dir, 'slots.onnx')))), null, precision);
      const fast = await SlotTagger.load(dir, { slots: section });
      const file = await SlotTagger.load(dir, { slots: section }, { mixtureGraph: false });
      try {
        assert.equal(fast.mixtureGraph, true, precision);
        for (const text of texts) {
          for (const p of parts) {
            const tokens = tokenize(text);
            assertScoresClose(await fast.mixtureScores([{ tokens, parts: p }]), await fileMixture(file, tokens, p), `${precision}: ${text}`);
          }
        }
      } finally {
        await Promise.all([fast.dispose(), file.dispose()]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  // Not a tagger file (a classifier), or a tagger whose layers the rewrite does not know: null, and the tagger runs
  // each part through the file as written.
  const classifier = new Uint8Array(readFileSync(join(packageRoot(), 'models', 'intent', 'model.onnx')));
  assert.equal(mixtureTaggerGraph(classifier), null);
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-mixgraph-other-'));
  try {
    const { section } = await exportSlotTagger(m, dir, { intentMixture: { top: 3, floor: 0.05 } });
    const model = decodeModel(new Uint8Array(readFileSync(join(dir, 'slots.onnx'))));
    // A second activation after the first (Relu twice: the same scores, a shape the rewrite does not take).
    const relu = model.graph.nodes.find((n) => n.opType === 'Relu')!;
    const gemm = model.graph.nodes.find((n) => n.opType === 'Gemm')!;
    model.graph.nodes.splice(model.graph.nodes.indexOf(gemm), 0, { ...relu, name: 'again', inputs: [relu.outputs[0]], outputs: ['again'], attributes: new Map() });
    gemm.inputs[0] = 'again';
    writeFileSync(join(dir, 'slots.onnx'), encodeModel(model));
    assert.equal(mixtureTaggerGraph(new Uint8Array(readFileSync(join(dir, 'slots.onnx')))), null);
    const tagger = await SlotTagger.load(dir, { slots: section });
    try {
      assert.equal(tagger.mixtureGraph, false);
      const tokens = tokenize(texts[0]);
      const [slots] = await tagger.tagMixtures([{ text: texts[0], tokens, parts: parts[0] }]);
      assert.ok(Array.isArray(slots));
    } finally {
      await tagger.dispose();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('neighbour confidences are probabilities that grow with the chosen tag\'s score', () => {
  const nTags = bioTags(['a', 'b']).length;
  const r = rng(5);
  for (let trial = 0; trial < 100; trial++) {
    const n = 1 + Math.floor(r() * 6);
    const scores = Float32Array.from({ length: n * nTags }, () => r() * 6 - 3);
    const trans = Float32Array.from({ length: (nTags + 2) * nTags }, () => r() * 4 - 2);
    const tags = viterbiBioCrf(scores, n, nTags, trans);
    const out = new Float32Array(n * nTags);
    neighbourConfidences(scores, n, nTags, trans, tags, out);
    // With the transposed matrix (the runtime's) the confidences are the same numbers.
    const viaTranspose = new Float32Array(n * nTags);
    neighbourConfidences(scores, n, nTags, trans, tags, viaTranspose, transposeTransitions(trans, nTags));
    assert.deepEqual(viaTranspose, out);
    for (let t = 0; t < n; t++) {
      const c = out[t * nTags + tags[t]];
      assert.ok(c > 0 && c <= 1, `confidence ${c}`);
      // Raising the chosen tag's emission raises its confidence.
      const bumped = scores.slice();
      bumped[t * nTags + tags[t]] += 2;
      const out2 = new Float32Array(n * nTags);
      neighbourConfidences(bumped, n, nTags, trans, tags, out2);
      assert.ok(out2[t * nTags + tags[t]] >= c - 1e-7);
    }
  }
  // One token, two allowed tags (O and B-a/B-b: I- cannot start): scores 0 vs ln 3 → 3/(1+3+1).
  const one = Float32Array.from([0, Math.log(3), 5, 0, 5]);
  const out = new Float32Array(nTags);
  neighbourConfidences(one, 1, nTags, new Float32Array((nTags + 2) * nTags), Int32Array.from([1]), out);
  assert.ok(Math.abs(out[1] - 3 / 5) < 1e-6, String(out[1]));
});

test('a unit said after a tagged number joins the slot, unless another slot starts there', () => {
  const text = 'Set the hall to 21°C';
  const tokens = tokenize(text); // set the hall to 21 ° c
  const types = ['house_place', 'temperature'];
  const slots = slotsFromSpans(text, tokens, spansFromTags(Int32Array.from([0, 0, 1, 0, 3, 0, 0]), types));
  assert.deepEqual(slots.map((s) => [s.type, s.raw, s.value, s.unit]), [['house_place', 'hall', 'hall', undefined], ['temperature', '21°C', 21, 'celsius']]);
  // "°" tagged as a slot of its own (adversarial): the number's slot stops before it.
  const other = slotsFromSpans(text, tokens, spansFromTags(Int32Array.from([0, 0, 1, 0, 3, 1, 0]), types));
  assert.deepEqual(other.map((s) => s.raw), ['hall', '21', '°']);
});
