/**
 * The shadow model (models.shadow) end to end: a real agent, the embedded
 * broker, a real SQLite file and the shipped models as the candidate, in its
 * own worker thread. A shadow that hangs or throws is the real shadow model
 * wrapped so it does; a crash is a real exit of its thread (WorkerAnalyzer's
 * test hook): the live path must not notice. SIGTERM on a real `hubnlu run`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { startAgent, type RunningAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { UTTERANCES } from '../helpers/delivery.js';
import { waitFor } from '../helpers/net.js';
import { loadShadowModels } from '../../src/agent/shadow.js';
import type { LoadedModels } from '../../src/agent/agent.js';
import type { Config } from '../../src/config/schema.js';
import { WorkerAnalyzer, type WorkerAnalyzerEvent } from '../../src/model/worker-analyzer.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { startAgentProcess } from '../helpers/cli.js';

const SHADOW = { 'models.shadow': { intent: 'models/intent', sentiment: 'models/sentiment' } };

interface Row {
  id: string;
  status: string;
  intent: string | null;
  sentiment: string | null;
  shadow_intent: string | null;
  shadow_confidence: number | null;
  shadow_sentiment: string | null;
  shadow_model: string | null;
}

function rows(running: RunningAgent, prefix: string): Row[] {
  const db = new Database(running.dbPath, { readonly: true });
  try {
    return db.prepare(`SELECT id, status, intent, sentiment, shadow_intent, shadow_confidence, shadow_sentiment, shadow_model FROM inputs WHERE id LIKE ? ORDER BY seq`).all(`${prefix}%`) as Row[];
  } finally {
    db.close();
  }
}

async function sendAll(recorder: Recorder, prefix: string, n: number): Promise<void> {
  await Promise.all(Array.from({ length: n }, (_, i) => recorder.publish(`hubnlu/site${i % 3}/utterance`, JSON.stringify({ id: `${prefix}${i}`, text: UTTERANCES[i % UTTERANCES.length] }))));
}

function resultsFor(recorder: Recorder, prefix: string): Array<Record<string, unknown>> {
  return recorder.json((t) => t.endsWith('/result')).filter((r) => String(r.id).startsWith(prefix));
}

/** The real shadow registry, wrapped: each analysis waits for `gate` (or throws). */
function wrapped(mode: { gate?: Promise<void>; fail?: boolean }, calls = { loads: 0, analyses: 0 }) {
  return {
    calls,
    load: async (config: Config): Promise<LoadedModels | null> => {
      calls.loads++;
      const real = await loadShadowModels(config);
      if (!real) return null;
      return {
        labels: (t) => real.labels(t),
        loadedModels: () => real.loadedModels(),
        unknownThreshold: real.unknownThreshold,
        close: () => real.close(),
        analyze: async (text, tasks, options) => {
          calls.analyses++;
          if (mode.fail) throw new Error('shadow model exploded');
          await mode.gate;
          return real.analyze(text, tasks, options);
        },
      };
    },
  };
}

test('every answered input gets a shadow prediction in the log, none on MQTT', async () => {
  const running = await startAgent(SHADOW);
  const recorder = await Recorder.connect(running.brokerUrl, ['#']);
  try {
    await sendAll(recorder, 'sh-', 120);
    assert.ok(await waitFor(() => resultsFor(recorder, 'sh-').length === 120, 30_000), 'not every live result arrived');
    await running.agent.shadowIdle();
    const got = rows(running, 'sh-');
    assert.equal(got.length, 120);
    for (const r of got) {
      assert.equal(r.status, 'done');
      // The candidate here is the shipped model itself: it must agree with the live answer.
      assert.equal(r.shadow_intent, r.intent, `row ${r.id}`);
      assert.equal(r.shadow_sentiment, r.sentiment, `row ${r.id}`);
      assert.ok(typeof r.shadow_confidence === 'number' && r.shadow_confidence > 0 && r.shadow_confidence <= 1);
      assert.match(String(r.shadow_model), /^[^@+]+@[^@+]+\+[^@+]+@[^@+]+$/);
    }
    const stats = running.agent.shadowStats()!;
    assert.equal(stats.done, 120);
    assert.equal(stats.failed, 0);
    assert.equal(stats.dropped, 0);
    // No result or error says "shadow", and nothing is published on a shadow topic (bridge/info may list the setting).
    const answers = recorder.messages.filter((m) => m.topic.endsWith('/result') || m.topic.endsWith('/error'));
    assert.ok(answers.length >= 120);
    assert.ok(answers.every((m) => !m.payload.toString().includes('shadow')), 'a shadow value reached MQTT');
    assert.ok(recorder.messages.every((m) => !m.topic.includes('shadow')));
  } finally {
    await recorder.close();
    await running.stop();
  }
});

test('a shadow model that hangs delays no live result; it catches up when released; a full queue drops and counts', async () => {
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const shadow = wrapped({ gate });
  const running = await startAgent({ 'models.shadow': { intent: 'models/intent', maxQueued: 30 } }, { loadShadow: shadow.load });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
  try {
    await sendAll(recorder, 'hang-', 50);
    assert.ok(await waitFor(() => resultsFor(recorder, 'hang-').length === 50, 30_000), 'live results waited for the shadow model');
    // Every live result is out while the shadow model has answered nothing.
    assert.equal(running.agent.shadowStats()!.done, 0);
    assert.ok(rows(running, 'hang-').every((r) => r.status === 'done' && r.shadow_intent === null));
    release();
    await running.agent.shadowIdle();
    const stats = running.agent.shadowStats()!;
    // 50 answered: at most 30 waiting in the backlog plus 2 with the thread; the rest were skipped, all counted.
    assert.equal(stats.done + stats.dropped, 50);
    assert.ok(stats.dropped >= 18 && stats.dropped <= 20, JSON.stringify(stats));
    const got = rows(running, 'hang-');
    assert.equal(got.filter((r) => r.shadow_intent !== null).length, stats.done);
    assert.ok(got.filter((r) => r.shadow_intent !== null).every((r) => r.shadow_intent === r.intent && r.shadow_sentiment === null));
  } finally {
    release();
    await recorder.close();
    await running.stop();
  }
});

test('a shadow model that throws fails no live result; the failures are counted', async () => {
  const shadow = wrapped({ fail: true });
  const running = await startAgent(SHADOW, { loadShadow: shadow.load });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error']);
  try {
    await sendAll(recorder, 'fail-', 40);
    assert.ok(await waitFor(() => resultsFor(recorder, 'fail-').length === 40, 30_000));
    await running.agent.shadowIdle();
    assert.equal(recorder.messages.filter((m) => m.topic.endsWith('/error')).length, 0);
    const got = rows(running, 'fail-');
    assert.ok(got.every((r) => r.status === 'done' && r.intent !== null && r.shadow_intent === null && r.shadow_model === null));
    assert.deepEqual(running.agent.shadowStats(), { queued: 40, done: 0, failed: 40, dropped: 0, skipped: 0, restarts: 0, disabled: false });
    assert.equal(shadow.calls.analyses, 40);
  } finally {
    await recorder.close();
    await running.stop();
  }
});

test('reload_models reloads the shadow model too, and shadow predictions keep coming', async () => {
  const shadow = wrapped({});
  const running = await startAgent({ ...SHADOW, 'extensions.bridge.allow': ['reload_models'] }, { loadShadow: shadow.load });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/bridge/response/#']);
  try {
    await sendAll(recorder, 'before-', 20);
    assert.ok(await waitFor(() => resultsFor(recorder, 'before-').length === 20, 30_000));
    await recorder.publish('hubnlu/bridge/request/reload_models', '{}');
    assert.ok(await waitFor(() => shadow.calls.loads === 2, 30_000), 'the shadow model was not reloaded');
    await sendAll(recorder, 'after-', 20);
    assert.ok(await waitFor(() => resultsFor(recorder, 'after-').length === 20, 30_000));
    await running.agent.shadowIdle();
    for (const prefix of ['before-', 'after-']) {
      const got = rows(running, prefix);
      assert.equal(got.length, 20);
      assert.ok(got.every((r) => r.shadow_intent === r.intent && r.shadow_model !== null), prefix);
    }
  } finally {
    await recorder.close();
    await running.stop();
  }
});

test('a shadow model that fails to load at start: the agent starts and answers without it, stats say why; reload_models loads it once it is fixed', async () => {
  let broken = true;
  let loads = 0;
  const load = async (config: Config): Promise<LoadedModels | null> => {
    loads++;
    if (broken) throw new Error('data/models/candidate: no manifest.json');
    return loadShadowModels(config);
  };
  const running = await startAgent({ ...SHADOW, 'extensions.bridge.allow': ['reload_models', 'stats'] }, { loadShadow: load });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/#']);
  try {
    await sendAll(recorder, 'noshadow-', 10);
    assert.ok(await waitFor(() => resultsFor(recorder, 'noshadow-').length === 10, 30_000));
    assert.equal(recorder.messages.filter((m) => m.topic.endsWith('/error')).length, 0);
    assert.ok(rows(running, 'noshadow-').every((r) => r.status === 'done' && r.intent !== null && r.shadow_model === null));
    await recorder.publish('hubnlu/bridge/request/stats', '{}');
    assert.ok(await waitFor(() => recorder.json((t) => t === 'hubnlu/bridge/response/stats').length === 1, 10_000));
    const stats = recorder.json((t) => t === 'hubnlu/bridge/response/stats')[0] as { data: { shadow: { loadError: string; disabled: boolean } } };
    assert.equal(stats.data.shadow.disabled, true);
    assert.match(stats.data.shadow.loadError, /models\.shadow: data\/models\/candidate: no manifest\.json/);
    broken = false;
    await recorder.publish('hubnlu/bridge/request/reload_models', '{}');
    assert.ok(await waitFor(() => loads === 2 && running.agent.shadowStats() !== undefined, 30_000), 'reload_models did not load the fixed shadow model');
    await sendAll(recorder, 'fixed-', 10);
    assert.ok(await waitFor(() => resultsFor(recorder, 'fixed-').length === 10, 30_000));
    await running.agent.shadowIdle();
    assert.ok(rows(running, 'fixed-').every((r) => r.shadow_intent === r.intent && r.shadow_model !== null));
  } finally {
    await recorder.close();
    await running.stop();
  }
});

/** The real shadow loader, keeping the WorkerAnalyzer it returns (to crash its thread). */
function capturing() {
  const threads: WorkerAnalyzer[] = [];
  return {
    threads,
    load: async (config: Config, onEvent?: (e: WorkerAnalyzerEvent) => void): Promise<LoadedModels | null> => {
      const real = await loadShadowModels(config, onEvent);
      if (real) threads.push(real as WorkerAnalyzer);
      return real;
    },
  };
}

test('the shadow runs in its own thread: a crash is restarted, too many disable the shadow; the live path answers throughout; reload_models brings it back', { timeout: 120_000 }, async () => {
  const shadow = capturing();
  const running = await startAgent({ ...SHADOW, 'extensions.bridge.allow': ['reload_models', 'stats'] }, { loadShadow: shadow.load });
  const recorder = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/#']);
  try {
    const thread = shadow.threads[0];
    assert.ok(thread instanceof WorkerAnalyzer);
    await sendAll(recorder, 'c0-', 20);
    thread.simulateCrash();
    assert.ok(await waitFor(() => running.agent.shadowStats()!.restarts === 1, 30_000), 'the shadow thread was not restarted');
    await sendAll(recorder, 'c1-', 20);
    assert.ok(await waitFor(() => resultsFor(recorder, 'c0-').length === 20 && resultsFor(recorder, 'c1-').length === 20, 30_000));
    await running.agent.shadowIdle();
    // After the restart every input gets its shadow prediction again.
    assert.ok(rows(running, 'c1-').every((r) => r.shadow_intent === r.intent && r.shadow_model !== null));

    // Three more crashes within the window (the default policy allows 3 restarts in 10 minutes): disabled.
    for (let i = 2; i <= 4; i++) {
      thread.simulateCrash();
      if (i < 4) assert.ok(await waitFor(() => running.agent.shadowStats()!.restarts === i, 30_000), `restart ${i}`);
    }
    assert.ok(await waitFor(() => running.agent.shadowStats()!.disabled, 30_000), 'the shadow was not disabled');
    await sendAll(recorder, 'c2-', 20);
    assert.ok(await waitFor(() => resultsFor(recorder, 'c2-').length === 20, 30_000), 'the live path stopped answering');
    assert.ok(rows(running, 'c2-').every((r) => r.status === 'done' && r.shadow_intent === null));
    assert.equal(recorder.messages.filter((m) => m.topic.endsWith('/error')).length, 0);
    assert.equal(running.agent.stats().failed, 0);
    // The bridge's stats say so.
    await recorder.publish('hubnlu/bridge/request/stats', JSON.stringify({ transaction: 's1' }));
    assert.ok(await waitFor(() => recorder.json((t) => t === 'hubnlu/bridge/response/stats').length === 1, 10_000));
    const stats = recorder.json((t) => t === 'hubnlu/bridge/response/stats')[0] as { data: { shadow: { disabled: boolean; restarts: number } } };
    assert.equal(stats.data.shadow.disabled, true);
    assert.equal(stats.data.shadow.restarts, 3);

    // reload_models loads a fresh shadow thread and enables the shadow again.
    await recorder.publish('hubnlu/bridge/request/reload_models', '{}');
    assert.ok(await waitFor(() => shadow.threads.length === 2 && !running.agent.shadowStats()!.disabled, 30_000), 'reload_models did not re-enable the shadow');
    await sendAll(recorder, 'c3-', 20);
    assert.ok(await waitFor(() => resultsFor(recorder, 'c3-').length === 20, 30_000));
    await running.agent.shadowIdle();
    assert.ok(rows(running, 'c3-').every((r) => r.shadow_intent === r.intent && r.shadow_model !== null));
  } finally {
    await recorder.close();
    await running.stop();
  }
});

test('hubnlu run with a shadow model: SIGTERM ends the shadow thread and the process exits 0 promptly, shadow counters logged', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-shadow-run-'));
  const db = join(dir, 'hubnlu.db');
  const configFile = join(dir, 'hubnlu.yaml');
  writeFileSync(configFile, stringify({ mqtt: { embedded: { port: 0 } }, storage: { path: db }, log: { level: 'info' }, models: { shadow: { intent: 'models/intent', sentiment: 'models/sentiment' } } }));
  const agent = startAgentProcess({}, ['--config', configFile]);
  const ready = await agent.ready;
  const recorder = await Recorder.connect(String(ready.broker), ['hubnlu/+/result']);
  try {
    assert.ok(agent.logs.some((l) => l.msg === 'shadow model loaded in its own thread; its predictions go to the log only'));
    await Promise.all(Array.from({ length: 200 }, (_, i) => recorder.publish('hubnlu/den/utterance', JSON.stringify({ id: `t${i}`, text: UTTERANCES[i % UTTERANCES.length] }))));
    assert.ok(await waitFor(() => recorder.messages.length >= 50, 20_000), 'no results before SIGTERM');
    const sentAt = Date.now();
    agent.child.kill('SIGTERM');
    const exit = await agent.exited;
    const took = Date.now() - sentAt;
    assert.equal(exit.code, 0, `exit ${exit.code} / ${exit.signal}`);
    assert.ok(took < 5000, `stopped in ${took} ms`);
    const stopped = agent.logs.find((l) => l.msg === 'stopped') as { shadow?: Record<string, number> } | undefined;
    assert.ok(stopped?.shadow, 'no shadow counters in the "stopped" line');
    const s = stopped.shadow;
    // Every answered input is accounted for: predicted, failed or skipped/dropped (those left at the stop).
    const conn = new Database(db, { readonly: true });
    const counts = conn.prepare(`SELECT count(*) AS done, count(shadow_model) AS logged FROM inputs WHERE status = 'done'`).get() as { done: number; logged: number };
    conn.close();
    assert.equal(s.done, counts.logged);
    assert.equal(s.done + s.failed + s.dropped + s.skipped, counts.done, JSON.stringify(s));
    assert.equal(s.failed, 0);
  } finally {
    await recorder.close().catch(() => undefined);
    if (agent.child.exitCode === null) agent.child.kill('SIGKILL');
  }
});
