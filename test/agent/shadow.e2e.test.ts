/**
 * The shadow model (models.shadow) end to end: a real agent, the embedded
 * broker, a real SQLite file and the shipped models as the candidate. A shadow
 * that hangs or throws is the real shadow registry wrapped so it does: the
 * live path must not notice.
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
    // 50 answered, at most 30 waiting at once (one of them possibly in analysis): the rest were dropped, all counted.
    assert.equal(stats.done + stats.dropped, 50);
    assert.ok(stats.dropped >= 19 && stats.dropped <= 20, JSON.stringify(stats));
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
    assert.deepEqual(running.agent.shadowStats(), { queued: 40, done: 0, failed: 40, dropped: 0, skipped: 0 });
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
