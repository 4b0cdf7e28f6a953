/**
 * Two retrains at once on one model store, as the agent's nightly run and a `hubnlu train --with-log-labels`
 * would overlap: each trains in its own child process (the real learn(), on a tiny model so it takes seconds),
 * and each must end up as its own version whose manifest names that version; nothing left behind.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config/load.js';
import { learn } from '../../src/learn/learning-loop.js';
import { ModelStore, SHIPPED } from '../../src/learn/model-store.js';
import { baseVersion } from '../../src/train/model-version.js';
import { trainModel } from '../../src/train/pipeline.js';
import { tinyRows } from '../train/tiny-data.js';

test('two retrains overlapping on one store get their own version numbers, and each model\'s manifest names its own', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hubnlu-concurrent-retrain-'));
  try {
    const publicFile = join(tmp, 'tiny.jsonl');
    writeFileSync(publicFile, tinyRows().map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots })).join('\n') + '\n');
    const baseDir = join(tmp, 'base');
    await trainModel({ task: 'intent', trainFiles: [publicFile], out: baseDir, name: 'tiny-base', version: '1.0.0', seed: 1, epochs: 3, evaluateDev: false, slots: false });
    const household = join(tmp, 'household.jsonl');
    const garage = ['open the garage', 'open the garage door', 'raise the garage door', 'let the car out', 'pop the garage', 'garage door up please'];
    writeFileSync(household, garage.map((text) => JSON.stringify({ text, intent: 'iot_garage_open' })).join('\n') + '\n');
    const models = join(tmp, 'models');
    const { config } = loadConfig({ env: {}, cwd: tmp, overrides: { 'learning.modelsDir': models } });
    const run = (seed: number) =>
      learn({
        config,
        store: new ModelStore(models), // each run its own store object, as two processes have
        data: [household],
        promote: 'if-better',
        seed,
        baseDir,
        publicTrain: [publicFile],
        publicUnlabelled: null,
        publicDev: [],
        recipe: { epochs: 3, selfTrainRounds: 0, slots: false },
      });
    const [a, b] = await Promise.all([run(1), run(2)]);
    assert.deepEqual([a.stored.version, b.stored.version].sort(), ['v0001', 'v0002']);
    const store = new ModelStore(models);
    assert.deepEqual(store.versions('intent'), ['v0001', 'v0002']);
    for (const v of store.versions('intent')) {
      // The manifest's version is the store's plus a content hash (src/train/model-version.ts).
      assert.equal(baseVersion(JSON.parse(readFileSync(join(models, 'intent', v, 'manifest.json'), 'utf8')).version), v, `${v}/manifest.json names ${v}`);
    }
    assert.deepEqual(readdirSync(join(models, 'intent')).sort(), ['v0001', 'v0002'], 'no staging directory, claim or lock left behind');
    // No held-out household labels (no log): the checks fail and neither is promoted; the shipped model stays live.
    assert.equal(a.promoted || b.promoted, false);
    assert.equal(store.pointer('intent').version, SHIPPED);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
