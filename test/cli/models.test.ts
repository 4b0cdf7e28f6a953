/** `hubnlu models list|promote|rollback` and the usage errors of `train --with-log-labels`, as a user runs them. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { ModelStore, POINTER_FILE, SHIPPED } from '../../src/learn/model-store.js';
import { seedDatabase } from '../store/seed.js';

function storeWithTwoVersions(): { dir: string; env: Record<string, string> } {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-models-cli-'));
  const store = new ModelStore(join(dir, 'store'));
  for (const parent of [SHIPPED, 'v0001']) {
    const staged = store.stage('intent');
    // Real model files (the shipped intent model): promote loads a version before it makes it live.
    cpSync(join(REPO_ROOT, 'models', 'intent'), staged, { recursive: true });
    store.add('intent', staged, {
      parent,
      data: { sources: { 'public:hwu64.train.jsonl': 9682, log: 15 }, householdLabels: { iot_garage_open: 5 }, heldOutRows: 15 },
      metrics: { heldOut: { n: 15, base: 0.1, candidate: 0.9, p: 0.0005, significant: true }, dev: { 'slurp.devel.jsonl': { base: 0.97, candidate: 0.968 } } },
      checks: parent === SHIPPED ? { passed: true, reasons: [] } : { passed: false, reasons: ['slurp.devel.jsonl: a drop of 0.9 points'] },
      trainingSeconds: 95,
    });
  }
  return { dir, env: { HUBNLU_LEARNING_MODELS_DIR: join(dir, 'store') } };
}

test('models list shows versions with parent, data, numbers and checks; promote and rollback move the live one', () => {
  const { dir, env } = storeWithTwoVersions();
  let r = runCli(['models', 'list'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^live: shipped/);
  assert.match(r.stdout, /  v0001  created \S+  parent shipped  trained in 95 s/);
  assert.match(r.stdout, /data: public:hwu64.train.jsonl 9682, log 15/);
  assert.match(r.stdout, /household labels: iot_garage_open 5/);
  assert.match(r.stdout, /held-out household 15 rows: 10.0 % → 90.0 % \(p = 0.000500, significant\); slurp.devel.jsonl: 97.0 % → 96.8 %/);
  assert.match(r.stdout, /checks: failed \(slurp.devel.jsonl: a drop of 0.9 points\)/);

  r = runCli(['models', 'promote', 'v0002'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /live intent model: v0002 \(before: shipped\)/);
  const list = JSON.parse(runCli(['models', 'list', '--json'], { env, cwd: dir }).stdout);
  assert.equal(list.live, 'v0002');
  assert.deepEqual(list.versions.map((v: { version: string; current: boolean }) => [v.version, v.current]), [['v0001', false], ['v0002', true]]);

  r = runCli(['models', 'rollback'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /live intent model: shipped/);
  // Nothing to roll back is exit 3 (nothing to work on), not a usage error; the pointer is left as it was.
  r = runCli(['models', 'rollback'], { env, cwd: dir });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /nothing to roll back/);
  assert.equal(JSON.parse(runCli(['models', 'list', '--json'], { env, cwd: dir }).stdout).live, 'shipped');
});

test('promote of an unknown version exits 2 naming the versions there are', () => {
  const { dir, env } = storeWithTwoVersions();
  const r = runCli(['models', 'promote', 'v0042'], { env, cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /no intent model version v0042 .*shows v0001, v0002/);
});

test('train --with-log-labels: usage errors, and no household rows is a clear error', () => {
  const { dir, env } = storeWithTwoVersions();
  let r = runCli(['train', '--with-log-labels', '--out', 'x'], { env, cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /stores the candidate in learning.modelsDir/);
  r = runCli(['train', '--templates', 'x', '--task', 'intent', '--data', 'a', '--out', 'b'], { env, cwd: dir });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /go with --with-log-labels/);
  // An empty store, no log, no files: nothing to learn from (the datasets are found, the household has nothing).
  r = runCli(['train', '--with-log-labels', '--no-progress'], { env: { ...env, HUBNLU_STORAGE_PATH: join(dir, 'none.db') }, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no household rows to train on: label inputs/);
  // Options of plain train that --with-log-labels does not use (it retrains with the shipped recipe): named, not ignored.
  r = runCli(['train', '--with-log-labels', '--epochs', '3', '--dev', 'x.jsonl', '--model-version', '2.0.0', '--no-slots'], { env, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--dev, --model-version, --epochs, --no-slots go with plain `hubnlu train`/);
  r = runCli(['train', '--with-log-labels', '--seed', 'x'], { env, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /--seed: expected an integer/);
  // Templates that cannot be read: a usage error naming the file, before any training.
  writeFileSync(join(dir, 'bad.yaml'), 'language: en\nintents:\n  foo: [\n');
  r = runCli(['train', '--with-log-labels', '--templates', join(dir, 'bad.yaml'), '--no-progress'], { env: { ...env, HUBNLU_STORAGE_PATH: join(dir, 'none.db') }, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.yaml: not a directory; --templates/);
  r = runCli(['train', '--with-log-labels', '--templates', join(dir, 'missing'), '--no-progress'], { env: { ...env, HUBNLU_STORAGE_PATH: join(dir, 'none.db') }, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /missing: cannot read \(ENOENT\); --templates/);
});

test('train --with-log-labels with learning.modelsDir naming a file: exit 2 naming the setting and the fix, no ENOTDIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-models-cli-'));
  const file = join(dir, 'models');
  writeFileSync(file, 'a file where the store should be');
  const data = join(dir, 'household.jsonl');
  writeFileSync(data, ['open the garage', 'raise the garage door', 'garage up please'].map((text) => JSON.stringify({ text, intent: 'iot_garage_open' })).join('\n') + '\n');
  // The public files the shipped model names, empty: the store is refused before anything reads them (the datasets
  // are not part of the repository; without a datasets directory the run would stop at that instead).
  const datasets = join(dir, 'datasets');
  mkdirSync(join(datasets, 'intent'), { recursive: true });
  const shipped = JSON.parse(readFileSync(join(REPO_ROOT, 'models', 'intent', 'manifest.json'), 'utf8')) as { training: { data: { file: string }[]; unlabelled?: { file: string } } };
  for (const f of [...shipped.training.data.map((d) => d.file), shipped.training.unlabelled?.file ?? 'x']) writeFileSync(join(datasets, 'intent', f), '');
  const env = { HUBNLU_LEARNING_MODELS_DIR: file, HUBNLU_STORAGE_PATH: join(dir, 'none.db'), HUBNLU_LEARNING_DATASETS: datasets };
  const r = runCli(['train', '--with-log-labels', '--data', data, '--no-progress'], { env, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /models: a file, not a directory.*learning\.modelsDir/);
  assert.doesNotMatch(r.stderr, /ENOTDIR/);
  rmSync(dir, { recursive: true, force: true });
});

const pointerOf = (dir: string): unknown => {
  const file = join(dir, 'store', 'intent', POINTER_FILE);
  return existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')).version : null;
};

test('promote refuses a version whose model files are missing or damaged, names the file, and leaves the live model as it was', () => {
  const { dir, env } = storeWithTwoVersions();
  const v1 = join(dir, 'store', 'intent', 'v0001');
  rmSync(join(v1, 'model.onnx'));
  let r = runCli(['models', 'promote', 'v0001'], { env, cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /v0001 does not load/);
  assert.match(r.stderr, /model\.onnx does not exist/);
  assert.match(r.stderr, /the live intent model is still shipped/);
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  assert.equal(pointerOf(dir), null, 'current.json not written');

  // A damaged graph (not just a missing file): onnxruntime cannot open it.
  writeFileSync(join(v1, 'model.onnx'), 'not an onnx graph');
  r = runCli(['models', 'promote', 'v0001'], { env, cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /v0001 does not load/);
  assert.equal(pointerOf(dir), null);

  // The sound version promotes, and the live model still classifies.
  r = runCli(['models', 'promote', 'v0002'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(pointerOf(dir), 'v0002');
  r = runCli(['classify', 'turn off the kitchen lights', '--compact'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
});

test('rollback refuses to go back to a version that no longer loads, and says how to get out', () => {
  const { dir, env } = storeWithTwoVersions();
  assert.equal(runCli(['models', 'promote', 'v0001'], { env, cwd: dir }).status, 0);
  assert.equal(runCli(['models', 'promote', 'v0002'], { env, cwd: dir }).status, 0);
  writeFileSync(join(dir, 'store', 'intent', 'v0001', 'features.bin'), '');
  rmSync(join(dir, 'store', 'intent', 'v0001', 'model.onnx'));
  const r = runCli(['models', 'rollback'], { env, cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /v0001 does not load/);
  assert.match(r.stderr, /the live intent model is still v0002/);
  assert.match(r.stderr, /models promote shipped/);
  assert.equal(pointerOf(dir), 'v0002');
});

test('a damaged version.json is named, and does not stop promoting another version', () => {
  const { dir, env } = storeWithTwoVersions();
  const file = join(dir, 'store', 'intent', 'v0001', 'version.json');
  writeFileSync(file, '{"version": "v00');
  let r = runCli(['models', 'list'], { env, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.ok(r.stderr.includes(`${file}: not valid JSON`), r.stderr);
  r = runCli(['models', 'promote', 'v0002'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(pointerOf(dir), 'v0002');
});

test('promote of the version already live says so and changes nothing', () => {
  const { dir, env } = storeWithTwoVersions();
  assert.equal(runCli(['models', 'promote', 'v0001'], { env, cwd: dir }).status, 0);
  assert.equal(runCli(['models', 'promote', 'v0002'], { env, cwd: dir }).status, 0);
  const file = join(dir, 'store', 'intent', POINTER_FILE);
  const before = readFileSync(file, 'utf8');
  let r = runCli(['models', 'promote', 'v0002'], { env, cwd: dir });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, 'live intent model: v0002 (already live; nothing changed)\n');
  assert.equal(readFileSync(file, 'utf8'), before);
  r = runCli(['models', 'rollback'], { env, cwd: dir });
  assert.equal(r.stdout, 'live intent model: v0001 (before: v0002)\n');
});

test('train --with-log-labels retrains the English model on English labels: a log labelled only in German is nothing to train on, and says so', () => {
  const { dir, env } = storeWithTwoVersions();
  const db = join(dir, 'de.db');
  const now = Date.now();
  seedDatabase(db, ['öffne das Garagentor', 'mach das Garagentor auf', 'Garage öffnen', 'öffne die Garage bitte'].map((text, i) => ({
    receivedAt: now + i, site: 'hall', status: 'done' as const, text, lang: 'de', intent: 'unknown', confidence: 0.1, gold: { intent: 'iot_garage_open' },
  })));
  // No datasets: were the German rows taken, the run would get as far as looking for the public data.
  const r = runCli(['train', '--with-log-labels', '--db', db, '--no-progress'], { env: { ...env, HUBNLU_LEARNING_DATASETS: join(dir, 'no-datasets') }, cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /no household rows to train on/);
  assert.match(r.stderr, /4 labelled input\(s\) logged in another language than en were left out \(this retrains the en intent model\)/);
});

test('models list says so when the live version is gone from the store (the agent could not start with it)', () => {
  const { dir, env } = storeWithTwoVersions();
  assert.equal(runCli(['models', 'promote', 'v0002'], { env, cwd: dir }).status, 0);
  rmSync(join(dir, 'store', 'intent', 'v0002'), { recursive: true });
  const r = runCli(['models', 'list'], { env, cwd: dir });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stdout, /^live: v0002/);
  assert.match(r.stdout, /  v0001  created/, 'the versions there are, to choose from');
  assert.match(r.stderr, /current\.json names v0002, which is not in .*; run `hubnlu models rollback` or `hubnlu models promote <version>`/);
  const json = runCli(['models', 'list', '--json'], { env, cwd: dir });
  assert.equal(json.status, 1);
  assert.equal(JSON.parse(json.stdout).live, 'v0002');
});
