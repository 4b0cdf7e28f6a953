/**
 * InferenceWorker.answer (issue 10): a new input is stored in the same transaction as its result, and its promise
 * (the caller's cue to acknowledge) resolves only after that commit. A real SQLite file and LogStore; stand-in models
 * whose analyses finish when the test says so (a narrow unit test: the models are not what is tested here).
 */
import { afterEach, beforeEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase, type Db } from '../../src/store/database.js';
import { LogStore, type NewInput, type RecordOutcome } from '../../src/store/log-store.js';
import { InferenceWorker } from '../../src/agent/inference-worker.js';
import { ModelSlot, type SlotModels } from '../../src/model/model-slot.js';
import type { Analysis, ModelRef } from '../../src/model/types.js';
import { captureLogger } from '../helpers/log-capture.js';

class GatedModels implements SlotModels {
  readonly unknownThreshold = 0.5;
  /** Sizes of the batches analyzeMany was given. */
  readonly batches: number[] = [];
  private readonly gates: Array<() => void> = [];
  loadedModels(): readonly ModelRef[] {
    return [{ task: 'intent', name: 'stand-in', version: '1' }];
  }
  labels(): readonly string[] {
    return ['lights_off'];
  }
  private result(text: string): Analysis {
    return { models: this.loadedModels(), intent: { name: 'lights_off', confidence: 0.9, alternatives: [], slots: [{ type: 'text', value: text }] } } as unknown as Analysis;
  }
  analyze(text: string): Promise<Analysis> {
    return new Promise((resolve) => this.gates.push(() => resolve(this.result(text))));
  }
  analyzeMany(items: ReadonlyArray<{ text: string }>): Promise<Analysis[]> {
    this.batches.push(items.length);
    return new Promise((resolve) => this.gates.push(() => resolve(items.map((i) => this.result(i.text)))));
  }
  /** Lets every analysis asked for so far finish. */
  release(): void {
    this.gates.splice(0).forEach((g) => g());
  }
  async close(): Promise<void> {}
}

let dir: string;
let db: Db;
let store: LogStore;
let models: GatedModels;
let worker: InferenceWorker;
let kicks = 0;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-worker-'));
  db = openDatabase(join(dir, 'hubnlu.db'));
  store = new LogStore(db);
  models = new GatedModels();
  kicks = 0;
  worker = new InferenceWorker(store, new ModelSlot(models), () => kicks++, captureLogger().log, {
    capacity: 16,
    outputs: (r) => [{ topic: r.input.resultTopic!, payload: JSON.stringify({ id: r.input.id, intent: r.analysis.intent?.name }) }],
    failures: () => [],
  });
});
afterEach(() => {
  db.close();
  rmSync(dir, { recursive: true, force: true });
});

let n = 0;
function input(over: Partial<NewInput> = {}): NewInput {
  n++;
  return {
    id: `req-${n}`,
    idSource: 'payload',
    deliveryKey: `key-${n}`,
    receivedAt: Date.now(),
    topic: 'hubnlu/kitchen/utterance',
    siteId: 'kitchen',
    text: `turn off light ${n}`,
    tasks: ['intent'],
    resultTopic: 'hubnlu/kitchen/result',
    request: {},
    ...over,
  };
}
/** Hands an input to the worker as intake does; `done` settles when it is stored (or cannot be). */
async function answer(i: NewInput, redelivered = false): Promise<{ done: Promise<RecordOutcome> }> {
  await worker.waitForRoom();
  const done = worker.answer(i, redelivered);
  done.catch(() => undefined); // asserted where expected
  return { done };
}
const rows = () => db.prepare('SELECT seq, id, status, intent, slots FROM inputs ORDER BY seq').all() as Array<{ seq: number; id: string; status: string; intent: string | null; slots: string | null }>;
const outbox = () => db.prepare('SELECT input_seq AS seq, payload FROM outbox ORDER BY seq').all() as Array<{ seq: number; payload: string }>;
const turn = () => new Promise((resolve) => setImmediate(resolve));

test('an input is stored only with its result, in one row, and its promise resolves after that commit', async () => {
  const a = input();
  let settled = false;
  const done = (await answer(a)).done.then((o) => ((settled = true), o));
  await turn();
  await turn();
  assert.deepEqual(rows(), [], 'nothing is stored while the models work');
  assert.equal(settled, false, 'not resolved (so not acknowledged) before the commit');
  models.release();
  const outcome = await done;
  assert.equal(outcome.duplicate, false);
  const stored = rows();
  assert.equal(stored.length, 1);
  assert.deepEqual({ ...stored[0], slots: JSON.parse(stored[0].slots!) }, { seq: outcome.seq, id: a.id, status: 'done', intent: 'lights_off', slots: [{ type: 'text', value: a.text }] });
  assert.deepEqual(outbox(), [{ seq: outcome.seq, payload: JSON.stringify({ id: a.id, intent: 'lights_off' }) }], 'the result message is queued by the same transaction');
  assert.ok(kicks >= 1, 'the outbox is kicked after the commit');
  assert.equal(worker.stats.processed, 1);
});

test('while beforeCommit() holds a pause (the WAL starting over) the analysed batch waits for it, then commits', async () => {
  let endPause: () => void = () => undefined;
  let pause: Promise<void> | undefined = new Promise<void>((resolve) => (endPause = resolve));
  let asked = 0;
  worker = new InferenceWorker(store, new ModelSlot(models), () => kicks++, captureLogger().log, {
    capacity: 16,
    outputs: (r) => [{ topic: r.input.resultTopic!, payload: JSON.stringify({ id: r.input.id }) }],
    failures: () => [],
    beforeCommit: () => (asked++, pause),
  });
  let settled = false;
  const done = (await answer(input())).done.then((o) => ((settled = true), o));
  await turn();
  models.release();
  for (let i = 0; i < 5; i++) await turn();
  assert.equal(asked, 1, 'asked once the batch was analysed');
  assert.deepEqual(rows(), [], 'analysed, not committed during the pause');
  assert.equal(settled, false, 'so not acknowledged either');
  pause = undefined;
  endPause();
  const outcome = await done;
  assert.deepEqual(rows().map((r) => r.seq), [outcome.seq], 'committed when the pause ended');
  // No pause: the next batch commits without waiting.
  const next = (await answer(input())).done;
  await turn();
  models.release();
  await next;
  assert.equal(asked, 2);
  assert.equal(rows().length, 2);
});

test('inputs handed over in one event-loop turn are analysed as one batch and stored by one transaction', async () => {
  const items = [input(), input(), input()];
  // completeMany is one transaction (test/store/log-store.test.ts): count its calls.
  let commits = 0;
  const completeMany = store.completeMany.bind(store);
  store.completeMany = (c) => (commits++, completeMany(c));
  const done = (await Promise.all(items.map((i) => answer(i)))).map((h) => h.done);
  await turn();
  assert.deepEqual(models.batches, [3], 'one analyzeMany call for the three');
  models.release();
  const outcomes = await Promise.all(done);
  assert.deepEqual(outcomes.map((o) => o.duplicate), [false, false, false]);
  assert.deepEqual(rows().map((r) => r.id), items.map((i) => i.id));
  assert.deepEqual(new Set(outcomes.map((o) => o.seq)).size, 3);
  assert.equal(commits, 1);
});

test('a redelivery of a stored input is answered as a duplicate: no second row, no second result', async () => {
  const a = input();
  const first = (await answer(a)).done;
  await turn();
  models.release();
  const stored = await first;
  const again = (await answer({ ...a, receivedAt: a.receivedAt + 5 }, true)).done;
  await turn();
  models.release();
  const outcome = await again;
  assert.deepEqual(outcome, { seq: stored.seq, duplicate: true, reason: 'redelivery' });
  assert.equal(rows().length, 1);
  assert.equal(outbox().length, 1);
  assert.equal(worker.stats.processed, 1, 'the duplicate is not counted as answered');
});

test('two copies in one batch (a redelivery racing its first copy) store one row', async () => {
  const a = input();
  const both = [(await answer(a)).done, (await answer({ ...a }, true)).done];
  await turn();
  models.release();
  const [o1, o2] = await Promise.all(both);
  assert.equal(o1.duplicate, false);
  assert.deepEqual(o2, { seq: o1.seq, duplicate: true, reason: 'redelivery' });
  assert.equal(rows().length, 1);
  assert.equal(outbox().length, 1);
});

test('a database that can take nothing more: the promise rejects (the input is never acknowledged) and nothing is stored', async () => {
  const a = input();
  const { done } = await answer(a);
  await turn();
  db.close(); // every write now fails
  const stopping = worker.stop(100); // retried for 100 ms, then given up
  models.release();
  await assert.rejects(done);
  await stopping;
  db = openDatabase(join(dir, 'hubnlu.db'));
  assert.deepEqual(rows(), []);
  await assert.rejects((await answer(input())).done, /stopped/, 'the worker refuses more after giving up');
});

test('stop() answers what is still gathering, without waiting out commitWaitMs', async () => {
  worker = new InferenceWorker(store, new ModelSlot(models), () => kicks++, captureLogger().log, {
    capacity: 16,
    gatherMs: 60_000,
    outputs: () => [],
    failures: () => [],
  });
  const { done } = await answer(input());
  const stopping = worker.stop(1000);
  await turn();
  models.release();
  await stopping;
  assert.equal((await done).duplicate, false);
  assert.equal(rows().length, 1);
});
