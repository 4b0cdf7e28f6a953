/**
 * WorkerAnalyzer: the shipped models in a real worker thread answer exactly as
 * they do in process; a thread that crashes fails its outstanding requests,
 * is restarted, and past the restart policy is disabled; close() lets
 * outstanding requests finish and ends the thread; a ModelSlot swaps it.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ModelRegistry } from '../../src/model/registry.js';
import { ModelSlot } from '../../src/model/model-slot.js';
import { AnalyzerWorkerError, WorkerAnalyzer, type WorkerAnalyzerEvent, type WorkerAnalyzerOptions } from '../../src/model/worker-analyzer.js';
import { packageRoot } from '../../src/util/paths.js';
import { waitFor } from '../helpers/net.js';

const MODELS = join(packageRoot(), 'models');
const SPEC: WorkerAnalyzerOptions['models'] = { kind: 'registry', options: { intentDir: join(MODELS, 'intent'), sentimentDir: join(MODELS, 'sentiment') } };
const TEXTS = ['turn off the kitchen lights', 'set the heating to twenty one degrees', 'what is the weather tomorrow', 'i love this song', 'wake me up at seven am', '?!'];

let inProcess: ModelRegistry;
before(async () => {
  inProcess = await ModelRegistry.load({ intentDir: SPEC.options.intentDir, sentimentDir: SPEC.options.sentimentDir });
});
after(async () => {
  await inProcess.close();
});

/** Rejects with the error `p` rejects with, or fails when it resolves. */
async function rejection(p: Promise<unknown>): Promise<AnalyzerWorkerError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof AnalyzerWorkerError, `not an AnalyzerWorkerError: ${String(err)}`);
    return err;
  }
  assert.fail('resolved; expected a rejection');
}

test('answers exactly as the same models in process, with the same labels, refs and threshold', async () => {
  const w = await WorkerAnalyzer.start({ models: SPEC });
  try {
    assert.deepEqual(w.loadedModels(), inProcess.loadedModels());
    assert.deepEqual(w.labels('intent'), inProcess.labels('intent'));
    assert.deepEqual(w.labels('sentiment'), inProcess.labels('sentiment'));
    assert.equal(w.unknownThreshold, inProcess.unknownThreshold);
    // Concurrent requests come back to their own callers.
    const answers = await Promise.all(TEXTS.map((t) => w.analyze(t, ['intent', 'sentiment'])));
    for (const [i, t] of TEXTS.entries()) assert.deepEqual(answers[i], await inProcess.analyze(t, ['intent', 'sentiment']), t);
    assert.equal(w.pending, 0);
  } finally {
    await w.close();
  }
});

test('analyzeMany: a micro-batch in one message, answered in order exactly as the batch in process; a bad request rejects its batch only', async () => {
  const w = await WorkerAnalyzer.start({ models: SPEC });
  try {
    const requests = TEXTS.map((text, i) => ({ text, tasks: i % 2 === 0 ? (['intent', 'sentiment'] as const) : (['intent'] as const) }));
    const [batch, again] = await Promise.all([w.analyzeMany(requests), w.analyzeMany([...requests].reverse())]);
    assert.deepEqual(batch, await inProcess.analyzeMany(requests));
    assert.deepEqual(again, [...batch].reverse());
    // The batch graph's arithmetic differs from one input's in the last bits; the decisions do not.
    for (const [i, r] of requests.entries()) {
      const alone = await inProcess.analyze(r.text, r.tasks);
      assert.equal(batch[i].intent?.name, alone.intent?.name, r.text);
      assert.equal(batch[i].sentiment?.label, alone.sentiment?.label, r.text);
      assert.deepEqual(batch[i].models, alone.models, r.text);
    }
    assert.deepEqual(await w.analyzeMany([]), []);
  } finally {
    await w.close();
  }
  const intentOnly = await WorkerAnalyzer.start({ models: { kind: 'registry', options: { intentDir: SPEC.options.intentDir, sentimentDir: null } } });
  try {
    await assert.rejects(
      intentOnly.analyzeMany([
        { text: 'turn off the kitchen lights', tasks: ['intent'] },
        { text: 'i love this song', tasks: ['sentiment'] },
      ]),
      /no sentiment model is loaded/,
    );
    assert.equal((await intentOnly.analyzeMany([{ text: 'turn off the kitchen lights', tasks: ['intent'] }]))[0].intent?.name, (await inProcess.analyze('turn off the kitchen lights', ['intent'])).intent?.name);
    assert.equal(intentOnly.pending, 0);
  } finally {
    await intentOnly.close();
  }
});

test('a model error in the thread rejects that request only', async () => {
  const w = await WorkerAnalyzer.start({ models: { kind: 'registry', options: { intentDir: SPEC.options.intentDir, sentimentDir: null } } });
  try {
    await assert.rejects(w.analyze('i love this song', ['sentiment']), /no sentiment model is loaded/);
    assert.equal((await w.analyze('i love this song', ['intent'])).intent?.name !== undefined, true);
  } finally {
    await w.close();
  }
});

test('a model set that does not load rejects start() with the reason', async () => {
  const err = await rejection(WorkerAnalyzer.start({ models: { kind: 'registry', options: { intentDir: '/nonexistent/intent-model', sentimentDir: null } } }));
  assert.equal(err.code, 'WORKER_LOAD_FAILED');
  assert.match(err.message, /nonexistent\/intent-model/);
});

test('a language router loads in the thread too', async () => {
  const w = await WorkerAnalyzer.start({
    models: {
      kind: 'router',
      options: { languages: { en: { intent: join(MODELS, 'intent'), sentiment: null }, de: { intent: join(MODELS, 'de', 'intent'), sentiment: null } }, defaultLanguage: 'en', langidDir: null, lazy: true },
    },
  });
  try {
    const de = await w.analyze('mach das licht in der küche aus', ['intent'], { lang: 'de', langSource: 'payload' });
    assert.equal(de.lang, 'de');
    assert.ok(de.models.some((m) => m.task === 'intent'));
    assert.equal((await w.analyze('turn off the kitchen lights', ['intent'])).lang, 'en');
  } finally {
    await w.close();
  }
});

test('a crash fails the outstanding requests, restarts the thread, and later requests are answered', async () => {
  const events: WorkerAnalyzerEvent[] = [];
  const w = await WorkerAnalyzer.start({ models: SPEC, onEvent: (e) => events.push(e) });
  try {
    const outstanding = Array.from({ length: 20 }, () => w.analyze('turn off the kitchen lights', ['intent']));
    w.simulateCrash(3);
    // The thread answers each request within the macrotask that reads it (OnnxModel runs synchronously), so the 20
    // before the crash message may all be answered; those posted after it are outstanding when it exits.
    outstanding.push(...Array.from({ length: 5 }, () => w.analyze('turn off the kitchen lights', ['intent'])));
    const settled = await Promise.allSettled(outstanding);
    // Those answered before the thread read the crash message resolve; every other one rejects with WORKER_EXITED.
    const failed = settled.filter((s): s is PromiseRejectedResult => s.status === 'rejected');
    assert.ok(failed.length > 0, 'no request was outstanding at the crash');
    for (const f of failed) {
      assert.ok(f.reason instanceof AnalyzerWorkerError);
      assert.equal(f.reason.code, 'WORKER_EXITED');
      assert.match(f.reason.message, /exited \(code 3\)/);
    }
    const answer = await w.analyze('turn off the kitchen lights', ['intent']);
    assert.equal(answer.intent?.name, (await inProcess.analyze('turn off the kitchen lights', ['intent'])).intent?.name);
    assert.equal(w.restarts, 1);
    assert.deepEqual(
      events.map((e) => e.type),
      ['exit', 'restarted'],
    );
    assert.equal((events[0] as { restarting: boolean }).restarting, true);
  } finally {
    await w.close();
  }
});

test('past the restart policy it is disabled: every call rejects with WORKER_DISABLED', async () => {
  const events: WorkerAnalyzerEvent[] = [];
  const w = await WorkerAnalyzer.start({ models: SPEC, restart: { max: 1, windowMs: 60_000 }, onEvent: (e) => events.push(e) });
  try {
    w.simulateCrash();
    assert.ok(await waitFor(() => w.restarts === 1, 10_000), 'not restarted after the first crash');
    await w.analyze('hello', ['intent']);
    w.simulateCrash();
    assert.ok(await waitFor(() => w.disabled, 10_000), 'not disabled after the second crash');
    const err = await rejection(w.analyze('hello', ['intent']));
    assert.equal(err.code, 'WORKER_DISABLED');
    assert.match(err.message, /exited 2 times within 60 s/);
    assert.deepEqual(
      events.map((e) => e.type),
      ['exit', 'restarted', 'exit', 'disabled'],
    );
  } finally {
    await w.close();
  }
});

test('close() lets outstanding requests finish, then every call rejects with WORKER_CLOSED', async () => {
  const w = await WorkerAnalyzer.start({ models: SPEC });
  const outstanding = Array.from({ length: 10 }, (_, i) => w.analyze(TEXTS[i % TEXTS.length], ['intent', 'sentiment']));
  await w.close();
  const answers = await Promise.all(outstanding);
  assert.equal(answers.length, 10);
  assert.equal((await rejection(w.analyze('hello', ['intent']))).code, 'WORKER_CLOSED');
  await w.close(); // idempotent
});

test('nice: the thread runs at the lower priority, the calling thread keeps its own (Linux)', { skip: process.platform !== 'linux' }, async () => {
  const niceOf = () =>
    readdirSync('/proc/self/task').map((tid) => {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]); // field 19: nice
    });
  const before = niceOf();
  assert.ok(!before.includes(17));
  const w = await WorkerAnalyzer.start({ models: SPEC, nice: 17 });
  try {
    assert.equal(w.niced, true);
    assert.ok(niceOf().includes(17), 'no thread of this process runs at nice 17');
    assert.equal(niceOf()[0], before[0], 'the main thread changed priority');
  } finally {
    await w.close();
  }
});

test('a ModelSlot swaps it like any model set: work in progress finishes on the old thread, which is then closed', async () => {
  const first = await WorkerAnalyzer.start({ models: SPEC });
  const slot = new ModelSlot(first);
  const second = await WorkerAnalyzer.start({ models: { kind: 'registry', options: { intentDir: SPEC.options.intentDir, sentimentDir: null } } });
  try {
    const inProgress = slot.analyze('i love this song', ['intent', 'sentiment']);
    const retired = slot.swap(second);
    assert.ok((await inProgress).sentiment, 'the analysis that started on the old models finished on them');
    await retired;
    assert.equal((await rejection(first.analyze('hello', ['intent']))).code, 'WORKER_CLOSED');
    assert.deepEqual(slot.loadedModels(), second.loadedModels());
    assert.ok((await slot.analyze('turn off the lights', ['intent'])).intent);
  } finally {
    await slot.close();
  }
});
