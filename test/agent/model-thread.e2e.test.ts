/**
 * models.thread (issue 10): the live models in a worker thread. A real agent, the embedded broker (aedes), the
 * shipped models and SQLite file: with `worker` the slot holds a WorkerAnalyzer and every answer equals what the same
 * models give on the main thread; a crash of the thread in the middle of a burst and a `reload_models` (a fresh
 * thread) in the middle of another lose nothing and fail nothing; past the restart policy the models move to the
 * main thread and inputs keep being answered. `auto` picks the worker for a transformer from 2 cores.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { loadModels, modelThread } from '../../src/cli/context.js';
import { loadConfig } from '../../src/config/load.js';
import { WorkerAnalyzer } from '../../src/model/worker-analyzer.js';
import { LanguageRouter } from '../../src/model/language-router.js';
import type { LoadedModels } from '../../src/agent/agent.js';
import type { SlotModels } from '../../src/model/model-slot.js';
import { buildResult } from '../../src/agent/messages.js';

const TEXTS = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'wake me up at seven tomorrow', 'mach das licht aus'];

let mainThread: LoadedModels;
before(async () => {
  const { config } = loadConfig({ env: {}, overrides: { 'storage.path': ':memory:' } });
  mainThread = await loadModels(config);
});
after(async () => {
  await mainThread?.close();
});

/** The analyzer the agent's slot holds now. */
function live(running: RunningAgent): SlotModels {
  const lease = running.agent.modelSlot!.acquire();
  lease.release();
  return lease.models;
}

type Result = Record<string, unknown> & { id: string };
const resultsFor = (recorder: Recorder, prefix: string) => (recorder.json((t) => t.endsWith('/result')) as Result[]).filter((r) => r.id.startsWith(prefix));
const errors = (recorder: Recorder) => recorder.json((t) => t.endsWith('/error'));

async function burst(recorder: Recorder, prefix: string, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => recorder.publish(`hubnlu/site${i % 3}/utterance`, JSON.stringify({ id: `${prefix}${i}`, text: TEXTS[i % TEXTS.length] }))));
}

/** Every stored row for `prefix` is done, once. */
function storedDone(running: RunningAgent, prefix: string): { done: number; other: number; ids: number } {
  const db = new Database(running.dbPath, { readonly: true });
  try {
    const rows = db.prepare(`SELECT id, status FROM inputs WHERE id LIKE ?`).all(`${prefix}%`) as Array<{ id: string; status: string }>;
    return { done: rows.filter((r) => r.status === 'done').length, other: rows.filter((r) => r.status !== 'done').length, ids: new Set(rows.map((r) => r.id)).size };
  } finally {
    db.close();
  }
}

const FIELDS = ['intent', 'alternatives', 'slots', 'sentiment', 'lang', 'langSource', 'models'] as const;
const comparable = (r: Record<string, unknown>) => Object.fromEntries(FIELDS.map((f) => [f, r[f]]));

/** What the main-thread router answers for the text, in the fields a result message carries. */
async function expected(text: string): Promise<Record<string, unknown>> {
  const analysis = await mainThread.analyze(text, ['intent', 'sentiment']);
  return comparable(buildResult({ id: 'x', text, receivedAt: 0, request: {} } as unknown as Parameters<typeof buildResult>[0], analysis, 0) as unknown as Record<string, unknown>);
}

test('models.thread auto: the shipped models on the main thread; a transformer on a worker from 2 cores', () => {
  const { config } = loadConfig({ env: {}, overrides: {} });
  assert.equal(config.models.thread, 'auto');
  assert.equal(modelThread(config, 1), 'main');
  assert.equal(modelThread(config, 16), 'main');
  const hf = loadConfig({ env: {}, overrides: { 'models.sentiment': 'hf:owner/some-sentiment-model' } }).config;
  assert.equal(modelThread(hf, 2), 'worker');
  assert.equal(modelThread(hf, 1), 'main');
  assert.equal(modelThread({ ...config, models: { ...config.models, thread: 'main' } }, 16), 'main');
  assert.equal(modelThread({ ...config, models: { ...config.models, thread: 'worker' } }, 1), 'worker');
  assert.throws(() => loadConfig({ env: {}, overrides: { 'models.thread': 'gpu' } }), /models\.thread/);
});

test('models.thread main: the router on the agent\'s own thread', async () => {
  const running = await startAgent({ 'models.thread': 'main' });
  try {
    assert.ok(live(running) instanceof LanguageRouter);
  } finally {
    await running.stop();
  }
});

test('models.thread worker: answers equal the main thread\'s; a crash mid-burst and reload_models mid-burst lose and fail nothing', { timeout: 120_000 }, async () => {
  const running = await startAgent({ 'models.thread': 'worker', 'extensions.bridge.allow': ['reload_models'] });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/#']);
  try {
    const first = live(running);
    assert.ok(first instanceof WorkerAnalyzer, 'the live models are not in a worker thread');
    assert.deepEqual(first.loadedModels(), mainThread.loadedModels());

    // Same answers as on the main thread (a burst: micro-batches through analyzeMany).
    await burst(recorder, 'a-', 60);
    assert.ok(await waitFor(() => resultsFor(recorder, 'a-').length === 60, 30_000), `${resultsFor(recorder, 'a-').length} of 60`);
    for (const r of resultsFor(recorder, 'a-')) assert.deepEqual(comparable(r), await expected(TEXTS[Number(r.id.slice(2)) % TEXTS.length]), r.id);

    // The thread crashes while a burst is in flight: the restarted thread answers every input.
    const crashed = burst(recorder, 'c-', 200);
    await waitFor(() => resultsFor(recorder, 'c-').length > 0, 30_000);
    first.simulateCrash();
    await crashed;
    assert.ok(await waitFor(() => resultsFor(recorder, 'c-').length === 200, 30_000), `${resultsFor(recorder, 'c-').length} of 200 after the crash`);
    assert.equal(first.restarts, 1);
    assert.equal(live(running), first);

    // reload_models while a burst is in flight: a fresh thread takes over, the old one is closed once its batch is done.
    const reloading = burst(recorder, 'r-', 200);
    await recorder.publish('hubnlu/bridge/request/reload_models', JSON.stringify({ transaction: 'r1' }));
    await reloading;
    assert.ok(await waitFor(() => resultsFor(recorder, 'r-').length === 200, 30_000), `${resultsFor(recorder, 'r-').length} of 200 across the reload`);
    assert.ok(await waitFor(() => recorder.json((t) => t === 'hubnlu/bridge/response/reload_models').length === 1, 30_000), 'no reload_models response');
    const second = live(running);
    assert.ok(second instanceof WorkerAnalyzer && second !== first, 'reload_models did not load a fresh thread');
    assert.notEqual(second.threadId, first.threadId);
    await assert.rejects(first.analyze('hello', ['intent']), (err: Error & { code?: string }) => err.code === 'WORKER_CLOSED');
    await burst(recorder, 'z-', 30);
    assert.ok(await waitFor(() => resultsFor(recorder, 'z-').length === 30, 30_000));
    for (const r of resultsFor(recorder, 'z-')) assert.deepEqual(comparable(r), await expected(TEXTS[Number(r.id.slice(2)) % TEXTS.length]), r.id);

    assert.deepEqual(errors(recorder), []);
    assert.equal(running.agent.stats().failed, 0);
    for (const [prefix, n] of [['a-', 60], ['c-', 200], ['r-', 200], ['z-', 30]] as const) assert.deepEqual(storedDone(running, prefix), { done: n, other: 0, ids: n }, prefix);
  } finally {
    await recorder.close();
    await running.stop();
  }
});

test('a live thread that keeps crashing: the models move to the main thread and inputs keep being answered', { timeout: 120_000 }, async () => {
  const running = await startAgent({ 'models.thread': 'worker' });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
  try {
    const thread = live(running) as WorkerAnalyzer;
    assert.ok(thread instanceof WorkerAnalyzer);
    // The default policy restarts 3 times in 10 minutes; the 4th exit gives up.
    for (let i = 1; i <= 4; i++) {
      thread.simulateCrash();
      if (i < 4) assert.ok(await waitFor(() => thread.restarts === i, 30_000), `restart ${i}`);
    }
    // Given up, not necessarily still `disabled`: the agent then loads the models on the main thread and closes this
    // analyzer, which can happen before the next poll (the load is synchronous work between few event-loop turns).
    assert.ok(await waitFor(() => thread.givenUp, 30_000), 'the thread was not given up');
    assert.ok(await waitFor(() => live(running) instanceof LanguageRouter, 30_000), 'the models did not move to the main thread');
    await burst(recorder, 'm-', 50);
    assert.ok(await waitFor(() => resultsFor(recorder, 'm-').length === 50, 30_000));
    for (const r of resultsFor(recorder, 'm-')) assert.deepEqual(comparable(r), await expected(TEXTS[Number(r.id.slice(2)) % TEXTS.length]), r.id);
    assert.deepEqual(errors(recorder), []);
  } finally {
    await recorder.close();
    await running.stop();
  }
});
