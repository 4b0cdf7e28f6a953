/**
 * Micro-batched inference end to end (issue 10): a real agent, the embedded broker, the shipped English models and
 * a French intent model whose graph file is broken. A burst of inputs is analysed in batches; the one French input
 * fails the batch it is in, whose inputs are then analysed one by one: it alone gets `inference_failed`, every
 * other input its result, and each result equals what the same text gets when it is sent alone.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { packageRoot } from '../../src/util/paths.js';

const TEXTS = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'wake me up at seven tomorrow'];

let dir: string;
let running: RunningAgent;
let recorder: Recorder;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-batch-e2e-'));
  const src = join(packageRoot(), 'models', 'fr', 'intent');
  for (const f of readdirSync(src)) copyFileSync(join(src, f), join(dir, f));
  writeFileSync(join(dir, 'model.onnx'), 'not an onnx graph'); // the manifest is fine: the language is deferred, and fails at its first input
  running = await startAgent({ 'models.languages': { fr: { intent: dir, sentiment: join(packageRoot(), 'models', 'fr', 'sentiment') } } });
  recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
});

after(async () => {
  await recorder?.close();
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

type Result = Record<string, unknown> & { id: string };
const comparable = (r: Result) => ({ intent: r.intent, alternatives: r.alternatives, slots: r.slots, sentiment: r.sentiment, lang: r.lang, langSource: r.langSource, models: r.models });

test('a burst: one bad input fails alone, the others get exactly what they get one at a time', async () => {
  const n = 60;
  const bad = 37;
  await Promise.all(
    Array.from({ length: n }, (_, i) =>
      recorder.publish('hubnlu/kitchen/utterance', JSON.stringify(i === bad ? { id: `b${i}`, text: 'éteins la lumière', lang: 'fr' } : { id: `b${i}`, text: TEXTS[i % TEXTS.length] })),
    ),
  );
  const results = () => recorder.json((t) => t.endsWith('/result')) as Result[];
  const errors = () => recorder.json((t) => t.endsWith('/error')) as Result[];
  assert.ok(await waitFor(() => results().length + errors().length >= n, 20_000), `${results().length} results and ${errors().length} errors of ${n}`);
  assert.deepEqual(
    errors().map((e) => [e.id, e.code]),
    [[`b${bad}`, 'inference_failed']],
  );
  assert.equal(results().length, n - 1);

  // Each text alone, one at a time (a batch of one), after the burst.
  for (const [k, text] of TEXTS.entries()) {
    const id = `alone${k}`;
    await recorder.publish('hubnlu/kitchen/utterance', JSON.stringify({ id, text }));
    assert.ok(await waitFor(() => results().some((r) => r.id === id), 10_000), `no result for ${id}`);
    const alone = results().find((r) => r.id === id)!;
    for (const r of results().filter((x) => /^b\d+$/.test(x.id) && TEXTS[Number(x.id.slice(1)) % TEXTS.length] === text)) {
      assert.deepEqual(comparable(r), comparable(alone), `${r.id} "${text}"`);
    }
  }
});
