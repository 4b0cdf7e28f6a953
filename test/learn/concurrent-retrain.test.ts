/**
 * Two retrains at once on one model store, as the agent's nightly run and a `hubnlu train --with-log-labels`
 * would overlap: each trains in its own child process (the real learn(), on a tiny model so it takes seconds),
 * and each must end up as its own version whose manifest names that version; nothing left behind. When both pass
 * their checks, only the first to finish is promoted: the other was compared with a model no longer live.
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
import { openLogDatabase } from '../../src/store/queries.js';
import { seedDatabase } from '../store/seed.js';
import { tinyRows } from '../train/tiny-data.js';

/** The public rows and a tiny base intent model trained from them (the live model both retrains start from). */
async function trainTinyBase(tmp: string): Promise<{ publicFile: string; baseDir: string }> {
  const publicFile = join(tmp, 'tiny.jsonl');
  writeFileSync(publicFile, tinyRows().map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots })).join('\n') + '\n');
  const baseDir = join(tmp, 'base');
  await trainModel({ task: 'intent', trainFiles: [publicFile], out: baseDir, name: 'tiny-base', version: '1.0.0', seed: 1, epochs: 3, evaluateDev: false, slots: false });
  return { publicFile, baseDir };
}

test('two retrains overlapping on one store get their own version numbers, and each model\'s manifest names its own', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hubnlu-concurrent-retrain-'));
  try {
    const { publicFile, baseDir } = await trainTinyBase(tmp);
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

test('two retrains overlapping that both beat the live model: the first to finish is promoted, the other is stored and says why it is not', { timeout: 300_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), 'hubnlu-concurrent-retrain-'));
  try {
    const { publicFile, baseDir } = await trainTinyBase(tmp);
    // A new intent the base model cannot produce, labelled in the log: the held-out part goes from all wrong to right.
    const texts = ['open', 'raise', 'lift', 'pop open', 'put up'].flatMap((v) => ['the garage', 'the garage door', 'the carport door', 'the garage gate', 'my garage door', 'our garage'].map((o) => `${v} ${o}`));
    const dbPath = join(tmp, 'log.db');
    seedDatabase(dbPath, texts.map((text, i) => ({ receivedAt: Date.now() - 60_000 + i, site: 'garage', status: 'done' as const, text, intent: 'unknown', confidence: 0.2, gold: { intent: 'iot_garage_open' } })));
    const models = join(tmp, 'models');
    const { config } = loadConfig({ env: {}, cwd: tmp, overrides: { 'learning.modelsDir': models } });
    const db = openLogDatabase(dbPath);
    try {
      const run = (seed: number) =>
        learn({ config, store: new ModelStore(models), db, promote: 'if-better', seed, baseDir, publicTrain: [publicFile], publicUnlabelled: null, publicDev: [], recipe: { epochs: 3, selfTrainRounds: 0, slots: false } });
      const reports = await Promise.all([run(1), run(2)]);
      for (const r of reports) assert.equal(r.outcome.checks.passed, true, r.outcome.checks.reasons.join('; '));
      const promoted = reports.filter((r) => r.promoted);
      const other = reports.filter((r) => !r.promoted);
      assert.equal(promoted.length, 1, 'exactly one is promoted');
      assert.equal(other.length, 1);
      const [p, o] = [promoted[0].stored.version, other[0].stored.version];
      assert.equal(other[0].notPromoted, `${o} was compared with shipped, but ${p} became live meanwhile (another retrain or \`hubnlu models promote\`); not promoted: \`hubnlu models promote ${o}\` makes it live anyway, or retrain to compare it with ${p}`);
      assert.ok(other[0].warnings.includes(other[0].notPromoted!), 'the reason is among the warnings (the retrain event and the CLI show them)');
      const pointer = new ModelStore(models).pointer('intent');
      assert.equal(pointer.version, p);
      assert.deepEqual(pointer.history, [SHIPPED]);
    } finally {
      db.close();
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
