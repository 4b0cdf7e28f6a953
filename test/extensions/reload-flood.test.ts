/**
 * `reload_models` under a flood: 5,000 utterances through a real broker while
 * the bridge swaps the intent model for a second version (the shipped model
 * copied to a temp dir, its manifest version changed). Nothing may be lost or
 * fail, and every result must name the model version that produced it: the
 * payload and the row agree, and by input order the version changes once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startAgent } from '../helpers/agent.js';
import { Recorder } from '../helpers/mqtt.js';
import { waitFor } from '../helpers/net.js';
import { UTTERANCES } from '../helpers/delivery.js';
import { resolveFromPackage } from '../../src/util/paths.js';

const TOTAL = 5000;

test('reload_models during a 5,000-message flood: 0 lost, 0 failed, each result names its model version', { timeout: 240_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-reload-'));
  const intentDir = join(dir, 'intent');
  cpSync(resolveFromPackage('models/intent'), intentDir, { recursive: true });
  const manifestPath = join(intentDir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { name: string; version: string };
  const v1 = `${manifest.name}@${manifest.version}`;
  const v2Version = `${manifest.version}-reload-test`;
  const v2 = `${manifest.name}@${v2Version}`;

  const running = await startAgent({
    'models.intent': intentDir,
    'extensions.bridge.allow': ['reload_models', 'info'],
  });
  const rec = await Recorder.connect(running.brokerUrl, ['hubnlu/+/result', 'hubnlu/+/error', 'hubnlu/bridge/response/#']);
  try {
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        await rec.publish('hubnlu/flood/utterance', JSON.stringify({ id: `fl-${i}`, text: UTTERANCES[i % UTTERANCES.length] }));
      }
    };
    await send(0, 2000);
    // The second version appears on disk; the bridge is asked to load it while the flood goes on.
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, version: v2Version }, null, 2));
    const askedAt = Date.now();
    let answeredAt = 0;
    await rec.publish('hubnlu/bridge/request/reload_models', JSON.stringify({ transaction: 'reload-1' }));
    const response = () => rec.json((t) => t === 'hubnlu/bridge/response/reload_models')[0];
    const watch = waitFor(() => response() !== undefined, 30_000).then((ok) => ((answeredAt = Date.now()), ok));
    await send(2000, 4000);
    assert.ok(await watch, 'no reload_models response');
    assert.equal(response().status, 'ok', JSON.stringify(response()));
    assert.equal(response().transaction, 'reload-1');
    assert.ok((response().data as { models: Array<{ task: string; version: string }> }).models.some((m) => m.task === 'intent' && m.version === v2Version));
    await send(4000, TOTAL);

    const results = () => rec.messages.filter((m) => m.topic === 'hubnlu/flood/result');
    assert.ok(await waitFor(() => results().length >= TOTAL, 180_000), `only ${results().length} of ${TOTAL} results`);
    const errors = rec.messages.filter((m) => m.topic.endsWith('/error'));
    assert.equal(errors.length, 0, `errors: ${errors.slice(0, 3).map((e) => e.payload.toString()).join(' | ')}`);

    const versionById = new Map<string, string>();
    for (const m of results()) {
      const body = JSON.parse(m.payload.toString()) as { id: string; models: Array<{ task: string; name: string; version: string }> };
      const intent = body.models.find((x) => x.task === 'intent')!;
      versionById.set(body.id, `${intent.name}@${intent.version}`);
    }
    assert.equal(versionById.size, TOTAL, 'one result per input');

    const db = new Database(running.dbPath, { readonly: true });
    const rows = db.prepare(`SELECT id, status, intent_model FROM inputs WHERE topic = 'hubnlu/flood/utterance' ORDER BY seq`).all() as Array<{ id: string; status: string; intent_model: string }>;
    db.close();
    assert.equal(rows.length, TOTAL, 'one row per input');
    assert.deepEqual([...new Set(rows.map((r) => r.status))], ['done']);
    const mismatched = rows.filter((r) => versionById.get(r.id) !== r.intent_model);
    assert.deepEqual(mismatched.slice(0, 3), [], 'the published result and the row name different model versions');
    const sequence = rows.map((r) => r.intent_model);
    const switchAt = sequence.indexOf(v2);
    assert.ok(switchAt > 0, `both versions answered (first ${v2} at ${switchAt})`);
    assert.ok(sequence.slice(0, switchAt).every((v) => v === v1), 'only the first version before the swap');
    assert.ok(sequence.slice(switchAt).every((v) => v === v2), 'after the swap, every later input used the new version');
    const health = running.agent.stats();
    assert.equal(health.failed, 0);
    process.stdout.write(`# reload flood: ${switchAt} inputs answered by ${v1}, ${TOTAL - switchAt} by ${v2}; reload answered after ${answeredAt - askedAt} ms\n`);

    // A reload that cannot load (a broken manifest) is an error response; the live models stay.
    writeFileSync(manifestPath, '{ not json');
    await rec.publish('hubnlu/bridge/request/reload_models', JSON.stringify({ transaction: 'reload-broken' }));
    const broken = () => rec.json((t) => t === 'hubnlu/bridge/response/reload_models').find((r) => r.transaction === 'reload-broken');
    assert.ok(await waitFor(() => broken() !== undefined, 30_000), 'no response to the broken reload');
    assert.equal(broken()!.status, 'error');
    assert.match(String(broken()!.error), /^reload_models failed: .*manifest\.json/);
    await rec.publish('hubnlu/flood/utterance', JSON.stringify({ id: 'after-broken', text: 'turn off the kitchen lights' }));
    const after = () => rec.json((t) => t === 'hubnlu/flood/result').find((r) => r.id === 'after-broken');
    assert.ok(await waitFor(() => after() !== undefined, 10_000));
    assert.ok((after()!.models as Array<{ task: string; version: string }>).some((m) => m.task === 'intent' && m.version === v2Version));
  } finally {
    await rec.close();
    await running.stop();
  }
});
