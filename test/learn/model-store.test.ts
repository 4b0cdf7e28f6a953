import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ModelStore, ModelStoreError, POINTER_FILE, SHIPPED, STALE_STAGING_MS } from '../../src/learn/model-store.js';

const info = (parent: string) => ({
  parent,
  data: { sources: { log: 12, 'public:hwu64.train.jsonl': 9682 }, householdLabels: { iot_garage_open: 12 }, heldOutRows: 6 },
  metrics: { heldOut: { n: 6, base: 0, candidate: 1, p: 0.03, significant: true } },
  checks: { passed: true, reasons: [] },
  trainingSeconds: 42,
});

function fakeModel(store: ModelStore): string {
  const dir = store.stage('intent');
  writeFileSync(join(dir, 'manifest.json'), '{}');
  return dir;
}

test('versions are numbered, listed with their info, and the staging directory is gone', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  assert.deepEqual(store.list('intent'), []);
  assert.equal(store.currentDir('intent'), null, 'the shipped model is live in an empty store');
  const a = store.add('intent', fakeModel(store), info(SHIPPED));
  const b = store.add('intent', fakeModel(store), info('v0001'));
  assert.equal(a.version, 'v0001');
  assert.equal(b.version, 'v0002');
  const list = store.list('intent');
  assert.deepEqual(list.map((v) => [v.version, v.parent, v.current]), [['v0001', SHIPPED, false], ['v0002', 'v0001', false]]);
  assert.equal(list[0].data.householdLabels.iot_garage_open, 12);
  assert.ok(!Number.isNaN(Date.parse(list[0].createdAt)));
  assert.deepEqual(readdirSync(store.taskDir('intent')).sort(), ['v0001', 'v0002'], 'no staging directory left behind');
});

test('promote moves the pointer, rollback walks the history back to the shipped model', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  store.add('intent', fakeModel(store), info(SHIPPED));
  store.add('intent', fakeModel(store), info('v0001'));
  assert.throws(() => store.rollback('intent'), /nothing to roll back/);
  store.promote('intent', 'v0001');
  assert.equal(store.currentDir('intent'), join(store.taskDir('intent'), 'v0001'));
  const p = store.promote('intent', 'v0002');
  assert.deepEqual(p.history, [SHIPPED, 'v0001']);
  assert.deepEqual(store.list('intent').map((v) => v.current), [false, true]);
  assert.equal(store.rollback('intent').version, 'v0001');
  assert.equal(store.rollback('intent').version, SHIPPED);
  assert.equal(store.currentDir('intent'), null);
  assert.throws(() => store.rollback('intent'), /nothing to roll back/);
  // The pointer is whole JSON after every write (written to a temporary file and renamed).
  assert.equal(JSON.parse(readFileSync(join(store.taskDir('intent'), POINTER_FILE), 'utf8')).version, SHIPPED);
  assert.deepEqual(readdirSync(store.taskDir('intent')).filter((n) => n.includes('.tmp')), []);
});

test('unknown versions, half-written directories and a damaged pointer are clear errors', () => {
  const store = new ModelStore(mkdtempSync(join(tmpdir(), 'hubnlu-store-')));
  assert.throws(() => store.promote('intent', 'v0009'), (e: Error) => e instanceof ModelStoreError && /no intent model version v0009/.test(e.message) && /models list/.test(e.message));
  const empty = store.stage('intent');
  assert.throws(() => store.add('intent', empty, info(SHIPPED)), /no manifest.json/);
  // A directory without version.json (an interrupted copy) is not a version.
  mkdirSync(join(store.taskDir('intent'), 'v0003'));
  assert.deepEqual(store.list('intent'), []);
  writeFileSync(join(store.taskDir('intent'), POINTER_FILE), '{"version": "v0');
  assert.throws(() => store.currentDir('intent'), /current.json: not valid JSON.*models promote/);
  writeFileSync(join(store.taskDir('intent'), POINTER_FILE), JSON.stringify({ version: 'v0007', promotedAt: '', history: [] }));
  assert.throws(() => store.currentDir('intent'), /names v0007, which is not in/);
  assert.ok(existsSync(store.taskDir('intent')));
});

test('staging directories left by a run that died are removed when the next run stages, not those of a run under way', () => {
  const root = mkdtempSync(join(tmpdir(), 'hubnlu-store-'));
  const store = new ModelStore(root);
  const dead = fakeModel(store); // a killed retrain's model files, never stored nor discarded
  const running = fakeModel(store); // another run, staged a minute ago
  const old = (Date.now() - STALE_STAGING_MS - 60_000) / 1000;
  utimesSync(dead, old, old);
  const next = store.stage('intent');
  const left = readdirSync(join(root, 'intent')).filter((n) => n.startsWith('.staging-')).map((n) => join(root, 'intent', n)).sort();
  assert.deepEqual(left, [running, next].sort(), 'the dead run\'s directory is gone, the others stay');
  assert.equal(existsSync(dead), false);
});

test('a store root that is a file (or under one) is a ModelStoreError naming learning.modelsDir, not a raw ENOTDIR', () => {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-store-'));
  const file = join(dir, 'models');
  writeFileSync(file, 'not a directory');
  for (const root of [file, join(file, 'deeper')]) {
    const store = new ModelStore(root);
    // Reading a store that holds nothing still works: the shipped model is live.
    assert.equal(store.currentDir('intent'), null);
    const named = (e: Error) => e instanceof ModelStoreError && e.message.includes(`${file}: a file, not a directory`) && /learning\.modelsDir/.test(e.message);
    assert.throws(() => store.stage('intent'), named);
  }
  assert.equal(readFileSync(file, 'utf8'), 'not a directory', 'the file is left as it was');
});
