/**
 * The transformers backend on generated tiny BERT models: the real
 * @huggingface/transformers (tokenizer, model classes) and the real
 * onnxruntime-node, offline. Every probability is checked against logits
 * computed directly with onnxruntime-node (hubnlu's OnnxModel) on input ids
 * built here from the vocabulary, within 1e-5.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Any network use fails the suite: the backend must never fetch (set before the library loads).
const fetched: string[] = [];
const realFetch = globalThis.fetch;
globalThis.fetch = (async (url: string | URL | Request) => {
  fetched.push(String(url));
  throw new Error('network use in a test');
}) as typeof fetch;

import type { BackendSettings, TaskModel } from '../../src/model/backend.js';
import { backendFor, loadTaskModel } from '../../src/model/backends.js';
import { ModelRegistry } from '../../src/model/registry.js';
import type { ScoredLabel } from '../../src/model/types.js';
import { CLS, directLogits, SEP, softmaxRef, wordIds, writeFixtureSet, writeTinyBert, type TinyBert } from '../helpers/tiny-bert.js';

const TOL = 1e-5;
const root = mkdtempSync(join(tmpdir(), 'hubnlu-hf-'));
const fx = writeFixtureSet(root);

function settings(extra: Partial<NonNullable<BackendSettings['transformers']>> = {}): BackendSettings {
  return { transformers: { allowDownload: false, cacheDir: join(root, 'cache'), ...extra } };
}

function byName(ranked: readonly ScoredLabel[]): Map<string, number> {
  return new Map(ranked.map((r) => [r.name, r.confidence]));
}

function prepared(text: string) {
  return { text, tokens: text.split(/\s+/).filter(Boolean).map((t, i) => ({ text: t, norm: t, start: i, end: i })) } as never;
}

/** Softmax of direct onnxruntime logits for one sentence of fixture words. */
async function directProbs(m: TinyBert, text: string): Promise<number[]> {
  const logits = await directLogits(m.onnxPath, wordIds(m.vocab, text));
  return softmaxRef(logits.data);
}

after(() => {
  globalThis.fetch = realFetch;
  rmSync(root, { recursive: true, force: true });
});

describe('text-classification (sentiment)', () => {
  let model: TaskModel;
  before(async () => {
    model = await loadTaskModel('sentiment', fx.sentiment.dir, undefined, settings());
  });
  after(() => model?.dispose());

  test('a Hugging Face layout directory goes to the transformers backend', () => {
    assert.equal(backendFor(fx.sentiment.dir).name, 'transformers');
    assert.equal(model.ref.task, 'sentiment');
    assert.match(model.ref.version, /^hf-[0-9a-f]{12}$/);
    assert.deepEqual(model.labels, ['negative', 'neutral', 'positive']);
    assert.equal(model.hasSlots, false);
  });

  for (const text of ['i love this movie', 'this was terrible', 'turn on the kitchen light please']) {
    test(`"${text}": every label's probability equals softmax(direct onnxruntime logits) within ${TOL}`, async () => {
      const ranked = await model.classify(prepared(text));
      const expected = await directProbs(fx.sentiment, text);
      assert.equal(ranked.length, 3);
      for (let i = 1; i < ranked.length; i++) assert.ok(ranked[i - 1].confidence >= ranked[i].confidence, 'sorted, most likely first');
      const got = byName(ranked);
      ['negative', 'neutral', 'positive'].forEach((l, i) => assert.ok(Math.abs(got.get(l)! - expected[i]) < TOL, `${l}: ${got.get(l)} vs ${expected[i]}`));
      assert.ok(Math.abs(ranked.reduce((a, r) => a + r.confidence, 0) - 1) < 1e-9);
    });
  }

  test('the library tokenizes case, punctuation and subwords as BERT does (same logits as the ids built by hand)', async () => {
    const ranked = byName(await model.classify(prepared('I LOVE this Movie!')));
    const v = fx.sentiment.vocab;
    const ids = [CLS, v.get('i')!, v.get('love')!, v.get('this')!, v.get('movie')!, v.get('!')!, SEP];
    const expected = softmaxRef((await directLogits(fx.sentiment.onnxPath, ids)).data);
    assert.ok(Math.abs(ranked.get('positive')! - expected[2]) < TOL);
    const sub = byName(await model.classify(prepared('lamps')));
    const subExpected = softmaxRef((await directLogits(fx.sentiment.onnxPath, [CLS, v.get('lamp')!, v.get('##s')!, SEP])).data);
    assert.ok(Math.abs(sub.get('negative')! - subExpected[0]) < TOL);
  });
});

describe('label maps', () => {
  test('LABEL_0/LABEL_1 sentiment needs labelMap; the error names the setting and shows the fix', async () => {
    const dir = join(root, 'two-label');
    writeTinyBert(dir, { kind: 'sequence-classification', labels: ['LABEL_0', 'LABEL_1'], seed: 11 });
    await assert.rejects(loadTaskModel('sentiment', dir, undefined, settings()), /models\.transformers\.sentiment\.labelMap: the model's label "LABEL_0" has no sentiment.*e\.g\. labelMap/);
    const m = await loadTaskModel('sentiment', dir, undefined, settings({ sentiment: { labelMap: { LABEL_0: 'negative', LABEL_1: 'positive' } } }));
    try {
      assert.deepEqual(m.labels, ['negative', 'positive']);
      const expected = softmaxRef((await directLogits(join(dir, 'onnx/model.onnx'), wordIds(new Map([...fx.sentiment.vocab]), 'great movie'))).data);
      const got = byName(await m.classify(prepared('great movie')));
      assert.ok(Math.abs(got.get('negative')! - expected[0]) < TOL && Math.abs(got.get('positive')! - expected[1]) < TOL);
    } finally {
      await m.dispose();
    }
  });

  test('several model labels may map to one hubnlu label: probabilities add', async () => {
    const dir = join(root, 'stars');
    writeTinyBert(dir, { kind: 'sequence-classification', labels: ['1 star', '2 stars', '3 stars', '4 stars', '5 stars'], seed: 12 });
    const labelMap = { '1 star': 'negative', '2 stars': 'negative', '3 stars': 'neutral', '4 stars': 'positive', '5 stars': 'positive' };
    const m = await loadTaskModel('sentiment', dir, undefined, settings({ sentiment: { labelMap } }));
    try {
      const p = softmaxRef((await directLogits(join(dir, 'onnx/model.onnx'), wordIds(fx.sentiment.vocab, 'not bad'))).data);
      const got = byName(await m.classify(prepared('not bad')));
      assert.ok(Math.abs(got.get('negative')! - (p[0] + p[1])) < TOL);
      assert.ok(Math.abs(got.get('neutral')! - p[2]) < TOL);
      assert.ok(Math.abs(got.get('positive')! - (p[3] + p[4])) < TOL);
    } finally {
      await m.dispose();
    }
  });

  test('intents: labelMap renames, other labels keep their names; a map naming an absent label is an error', async () => {
    const dir = join(root, 'intents');
    writeTinyBert(dir, { kind: 'sequence-classification', labels: ['lights_on', 'lights_off', 'weather'], seed: 13 });
    const m = await loadTaskModel('intent', dir, undefined, settings({ intent: { labelMap: { weather: 'weather_query' } } }));
    assert.deepEqual(m.labels, ['lights_on', 'lights_off', 'weather_query']);
    await m.dispose();
    await assert.rejects(loadTaskModel('intent', dir, undefined, settings({ intent: { labelMap: { wether: 'weather_query' } } })), /models\.transformers\.intent\.labelMap names "wether".*lights_on, lights_off, weather/);
  });
});

describe('zero-shot-classification (intents from an NLI model)', () => {
  // `music` has no description: the hypothesis uses the label itself.
  const candidateLabels = { lights_on: 'turn the light on', weather_query: 'the weather', music: '' };
  const template = 'this example is about {}';
  let model: TaskModel;
  before(async () => {
    model = await loadTaskModel('intent', fx.nli.dir, undefined, settings({ intent: { task: 'zero-shot-classification', candidateLabels, hypothesisTemplate: template } }));
  });
  after(() => model?.dispose());

  test('labels are the candidate intents', () => {
    assert.deepEqual(model.labels, ['lights_on', 'weather_query', 'music']);
  });

  for (const text of ['turn on the kitchen light', 'what is the weather today']) {
    test(`"${text}": softmax over the entailment logits of each (text, hypothesis) pair, run one by one directly, within ${TOL}`, async () => {
      const got = byName(await model.classify(prepared(text)));
      const v = fx.nli.vocab;
      const entail: number[] = [];
      for (const [label, description] of Object.entries(candidateLabels)) {
        const a = wordIds(v, text);
        const b = wordIds(v, template.replace('{}', description || label)).slice(1); // [SEP]-separated pair: no second [CLS]
        const ids = [...a, ...b];
        const types = [...a.map(() => 0), ...b.map(() => 1)];
        entail.push((await directLogits(fx.nli.onnxPath, ids, types)).data[2]);
      }
      const expected = softmaxRef(entail);
      Object.keys(candidateLabels).forEach((l, i) => assert.ok(Math.abs(got.get(l)! - expected[i]) < TOL, `${l}: ${got.get(l)} vs ${expected[i]}`));
    });
  }

  test('an NLI model is required; too few candidates and a template without {} are errors naming the setting', async () => {
    await assert.rejects(
      loadTaskModel('intent', fx.sentiment.dir, undefined, settings({ intent: { task: 'zero-shot-classification', candidateLabels } })),
      /models\.transformers\.intent: zero-shot-classification needs an NLI model.*"entailment"/,
    );
    await assert.rejects(loadTaskModel('intent', fx.nli.dir, undefined, settings({ intent: { task: 'zero-shot-classification', candidateLabels: { a: '' } } })), /models\.transformers\.intent\.candidateLabels/);
    await assert.rejects(
      loadTaskModel('intent', fx.nli.dir, undefined, settings({ intent: { task: 'zero-shot-classification', candidateLabels, hypothesisTemplate: 'about' } })),
      /models\.transformers\.intent\.hypothesisTemplate: "about" has no \{\}/,
    );
    await assert.rejects(loadTaskModel('sentiment', fx.nli.dir, undefined, settings({ sentiment: { task: 'zero-shot-classification' } })), /zero-shot-classification serves intents only/);
  });
});

describe('token-classification (slots)', () => {
  let model: TaskModel;
  before(async () => {
    model = await loadTaskModel(
      'intent',
      fx.nli.dir,
      undefined,
      settings({ intent: { task: 'zero-shot-classification', candidateLabels: { lights_on: '', weather_query: '' }, slotsFrom: fx.slots.dir, slotMap: { room: 'house_place' } } }),
    );
  });
  after(() => model?.dispose());

  test('BIO labels become slots with character offsets into the text as it arrived (case, punctuation, subwords)', async () => {
    assert.equal(model.hasSlots, true);
    const text = 'Turn on the Living Room lamps, please!';
    const slots = await model.tagSlots!(prepared(text), 'lights_on');
    assert.deepEqual(
      slots.map((s) => [s.type, s.raw, s.start, s.end, s.value]),
      [
        ['house_place', 'Living Room', 12, 23, 'living room'],
        ['device', 'lamps', 24, 29, 'lamps'],
      ],
    );
    for (const s of slots) assert.equal(text.slice(s.start, s.end), s.raw);
  });

  test(`per-token probabilities equal softmax(direct onnxruntime logits) within ${TOL}`, async () => {
    const text = 'turn off the fan in the bedroom';
    const words = text.split(' ');
    const logits = await directLogits(fx.slots.onnxPath, wordIds(fx.slots.vocab, text));
    const L = logits.dims[2];
    const labels = ['O', 'B-room', 'I-room', 'B-device', 'I-device'];
    // Expected slots from the direct logits: argmax per word (one token each), BIO spans, mean probability.
    const expected: { type: string; start: number; end: number; confidence: number }[] = [];
    let at = 0;
    words.forEach((w, i) => {
      const start = text.indexOf(w, at);
      at = start + w.length;
      const p = softmaxRef(logits.data.subarray((i + 1) * L, (i + 2) * L));
      const best = p.indexOf(Math.max(...p));
      const [tag, type] = labels[best] === 'O' ? ['O', ''] : labels[best].split('-');
      const last = expected[expected.length - 1];
      if (tag === 'I' && last && last.type === type && last.end === start - 1) {
        last.end = at;
      } else if (tag !== 'O') expected.push({ type, start, end: at, confidence: p[best] });
    });
    assert.ok(expected.length >= 2, 'the fixture tags rooms and devices');
    const got = await model.tagSlots!(prepared(text), null);
    assert.equal(got.length, expected.length);
    got.forEach((s, i) => {
      assert.equal(s.type, expected[i].type === 'room' ? 'house_place' : expected[i].type);
      assert.equal(s.start, expected[i].start);
      assert.equal(s.end, expected[i].end);
      assert.ok(Math.abs(s.confidence - expected[i].confidence) < TOL, `${s.confidence} vs ${expected[i].confidence}`);
    });
  });
});

describe('through the registry', () => {
  test('intent (zero-shot + slots) and sentiment (text-classification) in one Analysis, shaped as the shipped models\'', async () => {
    const reg = await ModelRegistry.load({
      intentDir: fx.nli.dir,
      sentimentDir: fx.sentiment.dir,
      unknownThreshold: 0,
      backendSettings: settings({ intent: { task: 'zero-shot-classification', candidateLabels: { lights_on: 'the light', weather_query: 'the weather' }, slotsFrom: fx.slots.dir } }),
    });
    try {
      const a = await reg.analyze('turn on the kitchen light', ['intent', 'sentiment']);
      assert.ok(['lights_on', 'weather_query'].includes(a.intent!.name));
      assert.equal(a.intent!.alternatives.length, 2);
      assert.deepEqual(a.intent!.slots.map((s) => [s.type, s.raw]), [['room', 'kitchen'], ['device', 'light']]);
      const p = await directProbs(fx.sentiment, 'turn on the kitchen light');
      assert.ok(Math.abs(a.sentiment!.scores.positive - p[2]) < TOL);
      assert.deepEqual(a.models.map((m) => [m.task, m.name]), [['intent', 'nli'], ['sentiment', 'sentiment']]);
    } finally {
      await reg.close();
    }
  });
});

describe('files and the network', () => {
  test('the quantized file is used when it is the only one; quantized: false then names the setting', async () => {
    const dir = join(root, 'quantized-only');
    writeTinyBert(dir, { kind: 'sequence-classification', labels: ['negative', 'neutral', 'positive'], onnxFile: 'model_quantized.onnx', seed: 21 });
    const m = await loadTaskModel('sentiment', dir, undefined, settings());
    const p = softmaxRef((await directLogits(join(dir, 'onnx/model_quantized.onnx'), wordIds(fx.sentiment.vocab, 'good'))).data);
    assert.ok(Math.abs(byName(await m.classify(prepared('good'))).get('negative')! - p[0]) < TOL);
    await m.dispose();
    await assert.rejects(loadTaskModel('sentiment', dir, undefined, settings({ sentiment: { quantized: false } })), /lacks onnx\/model\.onnx \(it has onnx\/model_quantized\.onnx: set models\.transformers\.sentiment\.quantized to true or remove it\)/);
  });

  test('a missing file is a clear error naming the setting and the file, never a download', async () => {
    const dir = join(root, 'no-tokenizer');
    writeTinyBert(dir, { kind: 'sequence-classification', labels: ['negative', 'neutral', 'positive'], omit: ['tokenizer_config.json'] });
    await assert.rejects(loadTaskModel('sentiment', dir, 'transformers', settings()), (err: Error) => {
      assert.match(err.message, /^models\.sentiment: .*no-tokenizer lacks tokenizer_config\.json; a transformer model directory holds config\.json, tokenizer\.json/);
      return true;
    });
  });

  test('a config.json without id2label is an error naming the file', async () => {
    const dir = join(root, 'no-labels');
    writeTinyBert(dir, { kind: 'sequence-classification', labels: ['a', 'b'] });
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ model_type: 'bert' }));
    await assert.rejects(loadTaskModel('intent', dir, undefined, settings()), /no-labels\/config\.json: no id2label; hubnlu needs a classification model's config\.json/);
  });

  test('a config.json whose id2label does not match the graph\'s outputs fails at load (never a label without a score)', async () => {
    for (const [name, kind, labels, edit] of [
      ['more-labels', 'sequence-classification', ['a_on', 'b_off', 'c_query'], (l: Record<string, string>) => (l['3'] = 'd_extra')],
      ['fewer-labels', 'sequence-classification', ['a_on', 'b_off', 'c_query'], (l: Record<string, string>) => delete l['2']],
    ] as const) {
      const dir = join(root, name);
      writeTinyBert(dir, { kind, labels });
      const config = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
      edit(config.id2label);
      writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
      const listed = Object.keys(config.id2label).length;
      await assert.rejects(loadTaskModel('intent', dir, undefined, settings()), new RegExp(`models\\.intent: .*${name}/config\\.json lists ${listed} labels \\(id2label\\) but .*model\\.onnx scores 3`));
    }
    const slots = join(root, 'slots-labels');
    writeTinyBert(slots, { kind: 'token-classification', labels: ['O', 'B-room', 'I-room'], tagWords: { kitchen: 'B-room' } });
    const config = JSON.parse(readFileSync(join(slots, 'config.json'), 'utf8')) as { id2label: Record<string, string> };
    config.id2label['3'] = 'B-device';
    writeFileSync(join(slots, 'config.json'), JSON.stringify(config));
    await assert.rejects(
      loadTaskModel('intent', fx.nli.dir, undefined, settings({ intent: { task: 'zero-shot-classification', candidateLabels: { a: 'x', b: 'y' }, slotsFrom: slots } })),
      /models\.transformers\.intent\.slotsFrom: .*slots-labels\/config\.json lists 4 labels \(id2label\) but .*model\.onnx scores 3/,
    );
  });

  test('a damaged tokenizer.json or tokenizer_config.json is named (the library\'s own error names no file)', async () => {
    for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
      const dir = join(root, `bad-${file.replace('.', '-')}`);
      writeTinyBert(dir, { kind: 'sequence-classification', labels: ['a', 'b'] });
      writeFileSync(join(dir, file), '{"truncated": ');
      await assert.rejects(loadTaskModel('intent', dir, undefined, settings()), (err: Error) => {
        assert.ok(err.message.startsWith(`models.intent: ${join(dir, file)} is not valid JSON`), err.message);
        assert.match(err.message, /copy the model's files from its export again/);
        return true;
      });
    }
  });

  test('a hub model name with downloading off is refused before anything is fetched', async () => {
    await assert.rejects(loadTaskModel('intent', 'hf:someone/bert-intents', undefined, settings()), /models\.intent: "hf:someone\/bert-intents" names a model on the Hugging Face hub, and downloading is off.*models\.transformers\.allowDownload/);
  });

  test('nothing was fetched by any test in this file', () => {
    assert.deepEqual(fetched, []);
  });
});
