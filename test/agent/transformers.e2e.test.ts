/**
 * Bring your own transformer, end to end: a real agent (config validation,
 * SQLite file, embedded broker) whose intent model is a generated NLI BERT
 * (zero-shot over configured intents), whose slots come from a generated
 * token-classification BERT and whose sentiment model is a generated
 * text-classification BERT, all in the Hugging Face layout and run through
 * @huggingface/transformers, offline. Results over MQTT must equal
 * probabilities computed directly with onnxruntime-node on the same input ids
 * (results carry 4 decimals, so within 5e-5 + 1e-6).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModels } from '../../src/cli/context.js';
import { loadConfig } from '../../src/config/load.js';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { directLogits, softmaxRef, wordIds, writeFixtureSet } from '../helpers/tiny-bert.js';

const TOL = 5e-5 + 1e-6;

interface Result {
  id: string;
  intent?: { name: string; confidence: number };
  alternatives?: { name: string; confidence: number }[];
  slots?: { type: string; value: unknown; raw: string; start: number; end: number; confidence: number }[];
  sentiment?: { label: string; score: number; scores: Record<string, number> };
  models: { task: string; name: string; version: string }[];
}

describe('transformer models through the agent and the embedded broker', () => {
  const root = mkdtempSync(join(tmpdir(), 'hubnlu-hf-e2e-'));
  const fx = writeFixtureSet(root);
  const candidateLabels = { lights_on: 'turn the light on', weather_query: 'the weather', music: '' };
  const template = 'this example is about {}';
  let running: RunningAgent;
  let recorder: Recorder;
  let n = 0;

  before(async () => {
    running = await startAgent({
      'models.languages': { en: { intent: fx.nli.dir, sentiment: fx.sentiment.dir } },
      'models.detectLanguage': false,
      'models.unknownThreshold': 0,
      'models.transformers': {
        intent: { task: 'zero-shot-classification', candidateLabels, hypothesisTemplate: template, slotsFrom: fx.slots.dir, slotMap: { room: 'house_place' } },
      },
    });
    recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
  });

  after(async () => {
    await recorder?.close();
    await running?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  async function ask(text: string): Promise<Result> {
    const id = `hf-${++n}`;
    await recorder.publish('hubnlu/kitchen/utterance', JSON.stringify({ id, text }));
    assert.ok(await waitFor(() => recorder.json((t) => t.endsWith('/result')).some((r) => r.id === id), 10_000), `no result for ${id}`);
    return recorder.json((t) => t.endsWith('/result')).find((r) => r.id === id) as unknown as Result;
  }

  test('zero-shot intent, slots and sentiment over MQTT equal direct onnxruntime outputs', async () => {
    const text = 'turn on the kitchen light';
    const r = await ask(text);

    // Sentiment: text-classification.
    const s = softmaxRef((await directLogits(fx.sentiment.onnxPath, wordIds(fx.sentiment.vocab, text))).data);
    ['negative', 'neutral', 'positive'].forEach((l, i) => assert.ok(Math.abs(r.sentiment!.scores[l] - s[i]) < TOL, `${l}: ${r.sentiment!.scores[l]} vs ${s[i]}`));
    assert.equal(r.sentiment!.label, ['negative', 'neutral', 'positive'][s.indexOf(Math.max(...s))]);

    // Intent: zero-shot, one direct run per (text, hypothesis) pair.
    const entail: number[] = [];
    for (const [label, description] of Object.entries(candidateLabels)) {
      const a = wordIds(fx.nli.vocab, text);
      const b = wordIds(fx.nli.vocab, template.replace('{}', description || label)).slice(1);
      entail.push((await directLogits(fx.nli.onnxPath, [...a, ...b], [...a.map(() => 0), ...b.map(() => 1)])).data[2]);
    }
    const p = softmaxRef(entail);
    const names = Object.keys(candidateLabels);
    assert.equal(r.intent!.name, names[p.indexOf(Math.max(...p))]);
    for (const alt of r.alternatives!) assert.ok(Math.abs(alt.confidence - p[names.indexOf(alt.name)]) < TOL, `${alt.name}: ${alt.confidence}`);

    // Slots: token-classification; the tagger's most likely label per word, as probabilities from direct logits.
    const logits = await directLogits(fx.slots.onnxPath, wordIds(fx.slots.vocab, text));
    const L = logits.dims[2];
    const prob = (word: number) => Math.max(...softmaxRef(logits.data.subarray((word + 1) * L, (word + 2) * L)));
    assert.deepEqual(r.slots!.map((x) => [x.type, x.raw, x.start, x.end]), [['house_place', 'kitchen', 12, 19], ['device', 'light', 20, 25]]);
    assert.ok(Math.abs(r.slots![0].confidence - prob(3)) < TOL);
    assert.ok(Math.abs(r.slots![1].confidence - prob(4)) < TOL);

    assert.deepEqual(r.models.map((m) => [m.task, m.name]), [['intent', 'nli'], ['sentiment', 'sentiment']]);
  });

  test('the agent keeps answering: unknown words, empty-ish text', async () => {
    const r = await ask('Zebras?!');
    assert.ok(r.sentiment && r.intent);
    assert.deepEqual(r.slots, []);
  });
});

describe('a transformer setting that cannot work stops the model load (the agent\'s start) with a message naming it', () => {
  test('zero-shot without candidate labels', async () => {
    const root = mkdtempSync(join(tmpdir(), 'hubnlu-hf-bad-'));
    try {
      const fx = writeFixtureSet(root);
      const { config } = loadConfig({
        env: {},
        overrides: {
          'models.languages': { en: { intent: fx.nli.dir, sentiment: fx.sentiment.dir } },
          'models.detectLanguage': false,
          'models.transformers': { intent: { task: 'zero-shot-classification' } },
        },
      });
      await assert.rejects(
        loadModels(config),
        /models\.transformers\.intent\.candidateLabels: zero-shot-classification needs at least two intents/,
      );
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});
