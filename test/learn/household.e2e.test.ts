/**
 * The issue-9 household scenario, end to end with real parts (embedded broker,
 * SQLite file, onnxruntime, the trainer in a child process):
 *
 * 60 utterances in phrasings the base model gets wrong, for two existing
 * intents (iot_hue_lightoff, iot_cleaning) and one new one (iot_garage_open);
 * half labelled through the bridge `label` request over MQTT; the nightly
 * retrain (run once) trains, compares and promotes; the agent hot-swaps while
 * a flood of inputs keeps coming (none lost, none failed); the other half goes
 * from mostly wrong to mostly right, comparePredictions (what `eval --compare`
 * uses) calls it significant, the public dev set drops by at most 0.5 points;
 * the household's rooms from an `{area}` template come back as house_place.
 *
 * CI size: the base model here is the shipped intent recipe trained in the test
 * on the public home-automation rows (MindMeld + HWU64's iot_* labels, 85 %;
 * the other 15 % plus SLURP's matching devel rows are the public dev set), so
 * two trainings take a minute or two on an idle machine. HUBNLU_SLOW_TESTS=1
 * runs the same scenario against the shipped model (models/intent) retrained on
 * its full public data (hwu64 + mindmeld + slurp.devel + SLURP's unlabelled
 * text), with slurp.devel as the public dev set.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { BridgeCaller } from '../helpers/bridge.js';
import { waitFor } from '../helpers/net.js';
import { readRows, type LabelledRow } from '../../src/data/rows.js';
import { stratifiedSplit } from '../../src/data/random.js';
import { trainModel } from '../../src/train/pipeline.js';
import { packageRoot } from '../../src/util/paths.js';
import { ModelRegistry } from '../../src/model/registry.js';
import { evaluate } from '../../src/eval/evaluate.js';
import { comparePredictions } from '../../src/eval/compare.js';
import { ModelStore } from '../../src/learn/model-store.js';
import type { RetrainEvent } from '../../src/learn/retrain-schedule.js';
import { householdScenario, HOUSEHOLD_TEMPLATES } from './scenario.js';
import { datasetFile, datasetsDir, needsDatasets } from '../helpers/datasets.js';

/** HUBNLU_SLOW_TESTS=1: the shipped model as the base, retrained on its full public data (minutes). */
const FULL = process.env.HUBNLU_SLOW_TESTS === '1';
const REQ = 'hubnlu/bridge/request';
const RES = 'hubnlu/bridge/response';

describe('household scenario: label over MQTT, retrain, compare, promote, hot swap under load', needsDatasets, () => {
  let tmp: string;
  let running: RunningAgent;
  let caller: BridgeCaller;
  let baseDir: string;
  const scenario = householdScenario();

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hubnlu-household-'));
    let pub = datasetsDir();
    if (FULL) {
      baseDir = join(packageRoot(), 'models', 'intent');
    } else {
      // The "public" data: home-automation rows; 15 % held out (with SLURP's matching devel rows) as the dev set.
      pub = join(tmp, 'public');
      mkdirSync(join(pub, 'intent'), { recursive: true });
      mkdirSync(join(pub, 'sentiment'), { recursive: true });
      const rows = [
        ...readRows(datasetFile('intent', 'mindmeld.train.jsonl'), 'intent').rows,
        ...readRows(datasetFile('intent', 'hwu64.train.jsonl'), 'intent').rows.filter((r) => r.label.startsWith('iot_')),
      ];
      const [train, held] = stratifiedSplit(rows, 0.15, 11);
      const labels = new Set(train.map((r) => r.label));
      const slurp = readRows(datasetFile('intent', 'slurp.devel.jsonl'), 'intent').rows.filter((r) => labels.has(r.label));
      const write = (file: string, rs: readonly LabelledRow[]) =>
        writeFileSync(file, rs.map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots, source: r.source })).join('\n') + '\n');
      write(join(pub, 'intent', 'home.train.jsonl'), train);
      write(join(pub, 'intent', 'slurp.devel.jsonl'), [...held, ...slurp]);
      baseDir = join(tmp, 'base');
      // As for the shipped model, the temperature is fit on the dev set (the candidate inherits it).
      await trainModel({ task: 'intent', trainFiles: [join(pub, 'intent', 'home.train.jsonl')], devFiles: [join(pub, 'intent', 'slurp.devel.jsonl')], out: baseDir, name: 'home-base', version: '1.0.0', seed: 1, evaluateDev: false });
    }
    const templates = join(tmp, 'custom_sentences');
    mkdirSync(templates);
    writeFileSync(join(templates, 'lights.yaml'), HOUSEHOLD_TEMPLATES);
    running = await startAgent({
      'models.intent': baseDir,
      'models.detectLanguage': false,
      'input.topics': [{ topic: 'hubnlu/+/utterance', tasks: ['intent'] }],
      'extensions.bridge.allow': ['health_check', 'info', 'stats', 'classify', 'label'],
      'learning.modelsDir': join(tmp, 'models'),
      'learning.datasets': pub,
      'learning.templates': templates,
      'learning.areas': scenario.areas,
      'learning.retrain.promote': 'if-better',
    });
    caller = await BridgeCaller.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error', `${RES}/#`, 'hubnlu/bridge/event/#']);
  });
  after(async () => {
    await caller?.close();
    await running?.stop();
  });

  /** Sends utterances and waits for every result; returns the intent each got, by id. */
  async function ask(items: readonly { id: string; text: string }[]): Promise<Map<string, { name: string; slots: Array<{ type: string; value: string; raw?: string }> }>> {
    for (const it of items) await caller.send('hubnlu/home/utterance', { id: it.id, text: it.text });
    const ids = new Set(items.map((i) => i.id));
    const got = () => caller.on('hubnlu/home/result').filter((g) => ids.has(g.body.id));
    assert.ok(await waitFor(() => new Set(got().map((g) => g.body.id)).size === ids.size, 60_000), 'not every utterance was answered');
    return new Map(got().map((g) => [g.body.id as string, { name: g.body.intent.name as string, slots: (g.body.slots ?? []) as Array<{ type: string; value: string; raw?: string }> }]));
  }

  test('the scenario', { timeout: 30 * 60_000 }, async () => {
    const all = scenario.utterances.map((u, i) => ({ ...u, id: `u-${i}` }));
    const before = await ask(all);
    const baseRight = all.filter((u) => before.get(u.id)!.name === u.label).length;
    assert.ok(baseRight <= all.length * 0.3, `the base model already gets ${baseRight} of ${all.length} right; the scenario needs phrasings it gets wrong`);

    // Half labelled through the bridge, stratified by intent.
    const [labelled, other] = stratifiedSplit(all, 0.5, 7);
    assert.equal(labelled.length, 30);
    for (const u of labelled) {
      await caller.send(`${REQ}/label`, { id: u.id, intent: u.label, by: 'household', transaction: `t-${u.id}` });
    }
    assert.ok(await waitFor(() => caller.on(`${RES}/label`).length === labelled.length, 30_000));
    assert.ok(caller.on(`${RES}/label`).every((g) => g.body.status === 'ok'), JSON.stringify(caller.on(`${RES}/label`).find((g) => g.body.status !== 'ok')?.body));

    // Retrain (the nightly job, run once) while a flood of inputs keeps coming; the promotion hot-swaps mid-flood.
    const generation = running.agent.modelSlot!.generation;
    let sent = 0;
    let flooding = true;
    const flood = (async () => {
      while (flooding) {
        await caller.send('hubnlu/flood/utterance', { id: `f-${sent}`, text: sent % 2 ? 'turn off the kitchen lights' : 'hoover the den' });
        sent++;
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const t0 = performance.now();
    const event = await running.agent.retrainSchedule!.runOnce();
    const retrainSeconds = (performance.now() - t0) / 1000;
    assert.ok(await waitFor(() => running.agent.modelSlot!.generation === generation + 1, 10_000), 'the promoted model was not swapped in');
    const sentAtSwap = sent;
    await new Promise((r) => setTimeout(r, 1500));
    flooding = false;
    await flood;
    assert.ok(sent > sentAtSwap, 'the flood went on through the swap');
    assert.ok(await waitFor(() => new Set(caller.on('hubnlu/flood/result').map((g) => g.body.id)).size === sent, 60_000), `flood: ${new Set(caller.on('hubnlu/flood/result').map((g) => g.body.id)).size} of ${sent} answered`);
    assert.equal(caller.on('hubnlu/flood/error').length, 0);
    assert.equal(running.agent.stats().failed, 0);

    // The retrain's own report (log + bridge/event/retrain).
    assert.ok(event.ok, event.error);
    assert.equal(event.promoted, true, `not promoted: ${event.reasons?.join('; ')}`);
    assert.ok(await waitFor(() => caller.on('hubnlu/bridge/event/retrain').length === 1, 10_000));
    const published = caller.on('hubnlu/bridge/event/retrain')[0].body as RetrainEvent;
    assert.equal(published.version, 'v0001');
    assert.ok(published.heldOut && published.heldOut.significant && published.heldOut.candidate > published.heldOut.base, JSON.stringify(published.heldOut));
    for (const [file, d] of Object.entries(published.dev ?? {})) assert.ok(d.drop <= 0.5, `${file}: dev accuracy dropped ${d.drop.toFixed(2)} points`);
    assert.ok(Object.keys(published.dev ?? {}).length === 1);
    assert.ok(published.warnings?.some((w) => /^iot_garage_open: \d examples, fewer than 10: expect it to be missed$/.test(w)), JSON.stringify(published.warnings));
    const store = new ModelStore(join(tmp, 'models'));
    const [v1] = store.list('intent');
    assert.equal(v1.current, true);
    assert.equal(v1.data.householdLabels.iot_garage_open, 5);

    // The other half, never labelled: mostly wrong before, mostly right now.
    const afterAnswers = await ask(other.map((u) => ({ ...u, id: `again-${u.id}` })));
    const beforeRight = other.filter((u) => before.get(u.id)!.name === u.label).length;
    const afterRight = other.filter((u) => afterAnswers.get(`again-${u.id}`)!.name === u.label).length;
    assert.ok(beforeRight <= other.length * 0.3, `before: ${beforeRight}/${other.length}`);
    const wrong = other.filter((u) => afterAnswers.get(`again-${u.id}`)!.name !== u.label).map((u) => `${u.text} → ${afterAnswers.get(`again-${u.id}`)!.name} (${u.label})`);
    assert.ok(afterRight >= other.length * 0.7, `after: ${afterRight}/${other.length}; wrong: ${wrong.join('; ')}`);
    // The same comparison `hubnlu eval --compare` makes, on the model directories.
    const rows = other.map((u) => ({ text: u.text, label: u.label, slots: [], source: 'household' }));
    const score = async (dir: string) => {
      const reg = await ModelRegistry.load({ intentDir: dir, sentimentDir: null });
      try {
        return (await evaluate(reg, 'intent', rows, { keepPredictions: true, warmup: 0 })).predictions!;
      } finally {
        await reg.close();
      }
    };
    const cmp = comparePredictions(await score(baseDir), await score(v1.dir));
    assert.ok(cmp.bBetter, `McNemar p = ${cmp.mcnemar.p}`);

    // The household's rooms from the {area} template come back as house_place slots.
    const rooms = await ask(scenario.areas.map((a, i) => ({ id: `room-${i}`, text: `switch on the lights in the ${a}` })));
    for (const [i, a] of scenario.areas.entries()) {
      const r = rooms.get(`room-${i}`)!;
      assert.equal(r.name, 'iot_hue_lighton');
      assert.ok(r.slots.some((s) => s.type === 'house_place' && (s.raw ?? s.value).toLowerCase() === a), `${a}: ${JSON.stringify(r.slots)}`);
    }

    // Rollback hot-swaps back to the base model.
    store.rollback('intent');
    assert.ok(await waitFor(() => running.agent.modelSlot!.generation === generation + 2, 10_000), 'rollback was not swapped in');
    const back = await ask([{ id: 'back-1', text: other[0].text }]);
    assert.equal(back.get('back-1')!.name, before.get(other[0].id)!.name);
    process.stderr.write(`household scenario: retrain ${retrainSeconds.toFixed(0)} s; other half ${beforeRight}/${other.length} → ${afterRight}/${other.length}; McNemar p ${cmp.mcnemar.p.toPrecision(3)}; dev ${JSON.stringify(published.dev)}; flood ${sent} inputs\n`);
  });
});
