/**
 * The one datasets resolver (src/data/datasets-dir.ts): the datasets are not part of the repository, so there is
 * no default directory. The explicit one, else $HUBNLU_DATASETS, else an error naming both; and `train-defaults`
 * reads the directory it is given (a real CLI process), or stops with exit 2 before any work.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { datasetsDir, DatasetsDirError } from '../../src/data/datasets-dir.js';
import type { ModelManifest } from '../../src/model/manifest.js';
import { packageRoot } from '../../src/util/paths.js';
import { runCli } from '../helpers/cli.js';
import { seedDatabase } from '../store/seed.js';
import { datasetFile, needsDatasets } from '../helpers/datasets.js';

/** A datasets-shaped directory (empty intent/ and sentiment/) and a bare one, in a fresh temp dir. */
function dirs(): { root: string; ds: string; bare: string } {
  const root = mkdtempSync(join(tmpdir(), 'hubnlu-datasets-'));
  const ds = join(root, 'my datasets');
  mkdirSync(join(ds, 'intent'), { recursive: true });
  mkdirSync(join(ds, 'sentiment'));
  const bare = join(root, 'bare');
  mkdirSync(bare);
  return { root, ds, bare };
}

test('neither given: an error naming --datasets and HUBNLU_DATASETS, and no default path outside the repository', () => {
  for (const env of [{}, { HUBNLU_DATASETS: '' }]) {
    assert.throws(
      () => datasetsDir(undefined, { env }),
      (e: Error) => {
        assert.ok(e instanceof DatasetsDirError, e.name);
        assert.match(e.message, /^no datasets directory: give --datasets DIR or set HUBNLU_DATASETS to the directory holding intent\/ and sentiment\//);
        assert.match(e.message, /not part of this repository/);
        assert.doesNotMatch(e.message, /\.\.\/|shared/, 'no path outside the repository');
        return true;
      },
    );
  }
  // The learning loop's wording: its own setting, and only intent/ needed.
  assert.throws(() => datasetsDir(undefined, { env: {}, option: 'learning.datasets (HUBNLU_LEARNING_DATASETS)', needs: ['intent'] }), /give learning\.datasets \(HUBNLU_LEARNING_DATASETS\) or set HUBNLU_DATASETS to the directory holding intent\/ \(/);
});

test('the explicit directory wins over HUBNLU_DATASETS; either resolves against the working directory', () => {
  const { root, ds, bare } = dirs();
  try {
    assert.equal(datasetsDir(ds, { env: { HUBNLU_DATASETS: bare } }), ds);
    assert.equal(datasetsDir(undefined, { env: { HUBNLU_DATASETS: ds } }), ds);
    assert.equal(datasetsDir(undefined, { env: { HUBNLU_DATASETS: 'my datasets' }, cwd: root }), ds);
    assert.equal(datasetsDir('my datasets', { env: {}, cwd: root }), ds);
    // A directory holding only what the caller needs.
    rmSync(join(ds, 'sentiment'), { recursive: true });
    assert.equal(datasetsDir(ds, { env: {}, needs: ['intent'] }), ds);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('a directory that is not a datasets directory is refused, naming where it came from', () => {
  const { root, ds, bare } = dirs();
  try {
    assert.throws(() => datasetsDir(bare, { env: {} }), new DatasetsDirError(`--datasets ${bare}: no intent/ and sentiment/ folders in it; point it at the datasets directory (holding intent/ and sentiment/)`));
    assert.throws(() => datasetsDir(undefined, { env: { HUBNLU_DATASETS: join(root, 'nope') } }), (e: Error) => e instanceof DatasetsDirError && e.message.startsWith(`$HUBNLU_DATASETS ${join(root, 'nope')}: no such directory;`));
    rmSync(join(ds, 'sentiment'), { recursive: true });
    writeFileSync(join(ds, 'sentiment'), 'a file, not a folder');
    assert.throws(() => datasetsDir(ds, { env: {} }), /: no sentiment\/ folder in it;/);
    assert.throws(() => datasetsDir(ds, { env: {}, option: 'learning.datasets (HUBNLU_LEARNING_DATASETS)' }), /^DatasetsDirError: learning\.datasets \/.*: no sentiment\/ folder in it;/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('train-defaults: with neither, exit 2 before any work; --datasets and HUBNLU_DATASETS name the directory it reads', () => {
  const { root, ds, bare } = dirs();
  try {
    const out = join(root, 'out');
    let r = runCli(['train-defaults', '--only', 'sentiment', '--out-dir', out, '--no-progress']);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /^hubnlu: no datasets directory: give --datasets DIR or set HUBNLU_DATASETS/);
    r = runCli(['train-defaults', '--only', 'sentiment', '--out-dir', out, '--no-progress', '--datasets', bare]);
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--datasets .*bare: no intent\/ and sentiment\/ folders in it/);
    // A datasets-shaped directory without the files: the run gets as far as reading them, from that directory.
    r = runCli(['train-defaults', '--only', 'sentiment', '--out-dir', out, '--no-progress', '--datasets', 'my datasets'], { cwd: root });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(join(ds, 'sentiment', 'goemotions.train.jsonl')), r.stderr);
    r = runCli(['train-defaults', '--only', 'sentiment', '--out-dir', out, '--no-progress'], { env: { HUBNLU_DATASETS: ds } });
    assert.equal(r.status, 1, r.stderr);
    assert.ok(r.stderr.includes(join(ds, 'sentiment', 'goemotions.train.jsonl')), r.stderr);
    // The option wins over the variable.
    r = runCli(['train-defaults', '--only', 'sentiment', '--out-dir', out, '--no-progress', '--datasets', bare], { env: { HUBNLU_DATASETS: ds } });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /--datasets .*bare:/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('train --with-log-labels (the nightly retrain\'s loop) with neither learning.datasets nor HUBNLU_DATASETS: exit 2 naming both', () => {
  const { root, ds } = dirs();
  try {
    const db = join(root, 'log.db');
    const now = Date.now();
    seedDatabase(db, ['open the garage', 'open the garage door', 'garage open please', 'lift the garage door'].map((text, i) => ({
      receivedAt: now + i, site: 'hall', status: 'done' as const, text, lang: 'en', intent: 'unknown', confidence: 0.1, gold: { intent: 'iot_garage_open' },
    })));
    const env = { HUBNLU_LEARNING_MODELS_DIR: join(root, 'store') };
    let r = runCli(['train', '--with-log-labels', '--db', db, '--no-progress'], { env, cwd: root });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /retraining extends the public data the shipped model was trained on, and it cannot be found: no datasets directory: give learning\.datasets \(HUBNLU_LEARNING_DATASETS\) or set HUBNLU_DATASETS to the directory holding intent\//);
    // With the variable, the files the base model was trained on are looked for there.
    r = runCli(['train', '--with-log-labels', '--db', db, '--no-progress'], { env: { ...env, HUBNLU_DATASETS: ds }, cwd: root });
    assert.equal(r.status, 2, r.stderr);
    assert.ok(r.stderr.includes(`${join(ds, 'intent', 'hwu64.train.jsonl')}: the base model`), r.stderr);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('the datasets directory holds, byte for byte, the files the shipped English models were trained on (so train-defaults reproduces them)', needsDatasets, () => {
  let checked = 0;
  for (const task of ['intent', 'sentiment'] as const) {
    const m = JSON.parse(readFileSync(join(packageRoot(), 'models', task, 'manifest.json'), 'utf8')) as ModelManifest;
    for (const d of m.training.data) {
      const file = datasetFile(task, d.file);
      assert.equal(createHash('sha256').update(readFileSync(file)).digest('hex'), d.sha256, `${relative(realpathSync(datasetFile()), realpathSync(file))} differs from the file models/${task} was trained on`);
      checked++;
    }
  }
  assert.equal(checked, 6);
});
