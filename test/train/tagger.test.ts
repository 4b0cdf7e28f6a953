import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tokenize } from '../../src/model/text.js';
import { SlotTagger, allowedTransition } from '../../src/model/slot-tagger.js';
import {
  bioTagIds,
  exportSlotTagger,
  forwardScores,
  pseudoLabel,
  rowLookup,
  slotTypesOf,
  tagWithWeights,
  trainingFeatureRows,
  trainSlotTagger,
  trainSlotsIntoModelDir,
  type IntentRow,
  type SlotTaggerWeights,
} from '../../src/train/tagger.js';
import { BioCrf, pathScore } from '../../src/train/tagger-crf.js';

/** Builds a dataset row, computing offsets the way the dataset files do (text.slice(start, end) === value). */
function row(text: string, intent: string, slots: [string, string][]): IntentRow {
  let from = 0;
  return {
    text,
    intent,
    slots: slots.map(([type, value]) => {
      const start = text.indexOf(value, from);
      if (start < 0) throw new Error(`"${value}" not in "${text}"`);
      from = start + value.length;
      return { type, value, start, end: start + value.length };
    }),
  };
}

const PLACES = ['kitchen', 'bedroom', 'living room', 'hallway', 'garage', 'bathroom'];
const COLORS = ['red', 'blue', 'green', 'warm white'];
const TEMPS = ['twenty one degrees', '72 degrees', 'nineteen', '68'];

/** A small, varied smart-home set: enough to fit in seconds. */
function tinyRows(): IntentRow[] {
  const rows: IntentRow[] = [];
  for (const p of PLACES) {
    rows.push(row(`turn on the ${p} lights`, 'iot_hue_lighton', [['house_place', p]]));
    rows.push(row(`switch off the lights in the ${p}`, 'iot_hue_lightoff', [['house_place', p]]));
    for (const t of TEMPS) rows.push(row(`set the ${p} to ${t}`, 'iot_thermostat_set', [['house_place', p], ['temperature', t]]));
    for (const c of COLORS) rows.push(row(`make the ${p} lights ${c}`, 'iot_hue_lightchange', [['house_place', p], ['color_type', c]]));
  }
  rows.push(row('what time is it', 'datetime_query', []));
  rows.push(row('wake me up at seven am tomorrow', 'alarm_set', [['time', 'seven am'], ['date', 'tomorrow']]));
  rows.push(row('set an alarm for six am on friday', 'alarm_set', [['time', 'six am'], ['date', 'friday']]));
  return rows;
}

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'hubnlu-slots-'));
}

let cached: SlotTaggerWeights | null = null;
function tinyModel(): SlotTaggerWeights {
  cached ??= trainSlotTagger(tinyRows(), { epochs: 15, dim: 16, minCount: 1, seed: 3, lr: 0.05 });
  return cached;
}

test('BIO mapping follows the dataset offsets, including merged number words and boundaries inside tokens', () => {
  const types = new Map([['temperature', 0], ['house_place', 1], ['time', 2], ['business_name', 3]]);
  const r1 = row('set the living room to twenty one degrees', 'iot_thermostat_set', [['house_place', 'living room'], ['temperature', 'twenty one degrees']]);
  const t1 = tokenize(r1.text); // set the living room to 21 degrees
  assert.deepEqual([...bioTagIds(t1, r1.slots!, types)], [0, 0, 3, 4, 0, 1, 2]);
  // Slot "tomorrow" inside the token "tomorrow's" (mindmeld): the token takes the slot.
  const r2 = { text: "what's tomorrow's weather", intent: 'weather_query', slots: [{ type: 'time', value: 'tomorrow', start: 7, end: 15 }] };
  assert.deepEqual([...bioTagIds(tokenize(r2.text), r2.slots, types)], [0, 5, 0]);
  // Slot "@nsa" around the token "nsa" (hwu64): punctuation outside the token.
  const r3 = { text: 'complain to @nsa now', intent: 'social_post', slots: [{ type: 'business_name', value: '@nsa', start: 12, end: 16 }] };
  assert.deepEqual([...bioTagIds(tokenize(r3.text), r3.slots, types)], [0, 0, 7, 0]);
  // A slot that covers only part of a merged number ("twenty" of "twenty one") claims the whole token.
  const r4 = { text: 'twenty one', intent: 'x', slots: [{ type: 'temperature', value: 'twenty', start: 0, end: 6 }] };
  assert.deepEqual([...bioTagIds(tokenize(r4.text), r4.slots, types)], [1]);
  // Unknown types are ignored, and every produced sequence is a valid BIO sequence.
  const tags = bioTagIds(t1, [{ type: 'nope', start: 0, end: 3 }], types);
  assert.deepEqual([...tags], [0, 0, 0, 0, 0, 0, 0]);
});

test('CRF marginals and log Z match brute-force enumeration over valid paths', () => {
  const nTags = 5; // O, B-a, I-a, B-b, I-b
  const n = 3;
  const r = (i: number): number => Math.sin(i * 12.9898) * 2;
  const scores = Float32Array.from({ length: n * nTags }, (_, i) => r(i));
  const trans = Float32Array.from({ length: (nTags + 2) * nTags }, (_, i) => r(i + 100) / 2);
  const crf = new BioCrf(nTags);
  crf.setTransitions(trans);
  const probs = new Float32Array(n * nTags);
  const expected = new Float64Array(trans.length);
  const logZ = crf.marginals(scores, n, probs, expected);
  let z = 0;
  const marg = new Float64Array(n * nTags);
  const pair = new Float64Array(trans.length);
  const path = new Int32Array(n);
  const walk = (i: number): void => {
    if (i === n) {
      const p = Math.exp(pathScore(scores, n, nTags, path, trans));
      z += p;
      for (let t = 0; t < n; t++) marg[t * nTags + path[t]] += p;
      for (let t = 1; t < n; t++) pair[path[t - 1] * nTags + path[t]] += p;
      pair[nTags * nTags + path[0]] += p;
      pair[(nTags + 1) * nTags + path[n - 1]] += p;
      return;
    }
    for (let j = 0; j < nTags; j++) {
      if (!allowedTransition(i === 0 ? -1 : path[i - 1], j)) continue;
      path[i] = j;
      walk(i + 1);
    }
  };
  walk(0);
  assert.ok(Math.abs(logZ - Math.log(z)) < 1e-6, `log Z ${logZ} vs ${Math.log(z)}`);
  for (let k = 0; k < n * nTags; k++) assert.ok(Math.abs(probs[k] - marg[k] / z) < 1e-5, `marginal ${k}`);
  for (let k = 0; k < trans.length; k++) assert.ok(Math.abs(expected[k] - pair[k] / z) < 1e-5, `pairwise ${k}`);
});

test('training is reproducible for a seed', () => {
  const a = trainSlotTagger(tinyRows(), { epochs: 2, dim: 8, minCount: 1, seed: 11 });
  const b = trainSlotTagger(tinyRows(), { epochs: 2, dim: 8, minCount: 1, seed: 11 });
  const c = trainSlotTagger(tinyRows(), { epochs: 2, dim: 8, minCount: 1, seed: 12 });
  assert.deepEqual(a.emb, b.emb);
  assert.deepEqual(a.trans, b.trans);
  assert.notDeepEqual(a.emb, c.emb);
});

test('a model trained on tiny data tags through onnxruntime like the fp32 reference, in fp32 and int8', async () => {
  const m = tinyModel();
  assert.deepEqual(m.types, slotTypesOf(tinyRows()));
  const lookup = rowLookup(m.kept);
  const dirs = { fp32: tmp(), int8: tmp() };
  try {
    const sections = {
      fp32: (await exportSlotTagger(m, dirs.fp32, { precision: 'fp32' })).section,
      int8: (await exportSlotTagger(m, dirs.int8, { precision: 'int8' })).section,
    };
    const fp32 = await SlotTagger.load(dirs.fp32, { slots: sections.fp32 });
    const int8 = await SlotTagger.load(dirs.int8, { slots: sections.int8 });
    try {
      const sentences: [string, string][] = [
        ['set the garage to 72 degrees', 'iot_thermostat_set'],
        ['make the hallway lights blue', 'iot_hue_lightchange'],
        ['turn on the attic lights', 'iot_hue_lighton'], // unseen place
        ['wake me up at seven am tomorrow', 'alarm_set'],
      ];
      let agree = 0;
      let total = 0;
      for (const [text, intent] of sentences) {
        const tokens = tokenize(text);
        // The graph computes what the trainer's forward pass computes.
        const rows = trainingFeatureRows(tokens, intent, m.featurizer, lookup);
        const ref = forwardScores(m, rows, tokens.length);
        const { logp } = await fp32.scores(tokens, intent);
        const lse = (i: number): number => {
          let mx = -Infinity;
          for (let j = 0; j < m.tags.length; j++) mx = Math.max(mx, ref[i * m.tags.length + j]);
          let s = 0;
          for (let j = 0; j < m.tags.length; j++) s += Math.exp(ref[i * m.tags.length + j] - mx);
          return mx + Math.log(s);
        };
        for (let i = 0; i < tokens.length; i++) {
          for (let j = 0; j < m.tags.length; j++) {
            const want = ref[i * m.tags.length + j] - lse(i);
            assert.ok(Math.abs(logp[i * m.tags.length + j] - want) < 1e-3, `${text}: token ${i} tag ${j}`);
          }
        }
        // Same slots from the runtime as from the trainer's own decoding.
        const viaOrt = await fp32.tag(text, tokens, intent);
        const viaTs = tagWithWeights(m, lookup, text, tokens, intent);
        assert.deepEqual(viaOrt.map((s) => [s.type, s.start, s.end]), viaTs.map((s) => [s.type, s.start, s.end]));
        const q = await int8.tag(text, tokens, intent);
        total += Math.max(q.length, viaOrt.length);
        agree += q.filter((s) => viaOrt.some((o) => o.type === s.type && o.start === s.start && o.end === s.end)).length;
      }
      assert.ok(agree >= total - 1, `int8 and fp32 slots agree (${agree}/${total})`);
      // The tiny model learnt its data, with values normalised and offsets into the text.
      const text = 'Set the Garage to 72 degrees';
      const slots = await int8.tag(text, tokenize(text), 'iot_thermostat_set');
      assert.deepEqual(
        slots.map((s) => [s.type, s.value, s.unit, s.raw, text.slice(s.start, s.end)]),
        [
          ['house_place', 'garage', undefined, 'Garage', 'Garage'],
          ['temperature', 72, 'degrees', '72 degrees', '72 degrees'],
        ],
      );
      for (const s of slots) assert.ok(s.confidence > 0.5 && s.confidence <= 1, `confidence ${s.confidence}`);
      assert.deepEqual(await int8.tag('', [], 'iot_hue_lighton'), []);
    } finally {
      await fp32.dispose();
      await int8.dispose();
    }
  } finally {
    rmSync(dirs.fp32, { recursive: true, force: true });
    rmSync(dirs.int8, { recursive: true, force: true });
  }
});

test('trainSlotsIntoModelDir adds the slots section and files to an existing manifest', async () => {
  const dir = tmp();
  try {
    writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ task: 'intent', files: { model: 'model.onnx' }, labels: ['a'] }));
    const result = await trainSlotsIntoModelDir(dir, tinyRows(), { epochs: 2, dim: 8, minCount: 1 });
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(manifest.task, 'intent');
    assert.equal(manifest.files.model, 'model.onnx');
    assert.equal(manifest.files.slots, 'slots.onnx');
    assert.deepEqual(manifest.slots.types, result.section.types);
    assert.ok(manifest.slots.metrics);
    const tagger = await SlotTagger.load(dir, manifest);
    await tagger.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('self-training pseudo-labels only sentences the model is sure of, as character spans without an intent', () => {
  const m = tinyModel();
  const texts = ['turn on the kitchen lights', 'set the garage to 70', 'zzz qqq www'];
  const sure = pseudoLabel(m, texts, 0.9);
  for (const r of sure) {
    assert.equal(r.intent, '');
    for (const s of r.slots ?? []) assert.equal(r.text.slice(s.start, s.end).trim(), r.text.slice(s.start, s.end));
  }
  const kitchen = sure.find((r) => r.text === 'turn on the kitchen lights');
  assert.ok(kitchen, 'a training sentence is confidently tagged');
  assert.deepEqual(kitchen.slots!.map((s) => [s.type, kitchen.text.slice(s.start, s.end)]), [['house_place', 'kitchen']]);
  // Nothing passes an impossible threshold.
  assert.deepEqual(pseudoLabel(m, texts, 1.01), []);
  const st = trainSlotTagger(tinyRows(), { epochs: 2, dim: 8, minCount: 1, unlabelled: texts, selfTraining: { threshold: 0.0 } });
  // "turn on the kitchen lights" is a training row already: only the two others are pseudo-labelled.
  assert.deepEqual(st.training.selfTraining?.pseudoLabelled, [2]);
});
