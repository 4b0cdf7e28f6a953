/**
 * `hubnlu eval` warns when the evaluated file trained the model (issue 7,
 * defect 13d): training records each file's SHA-256 in the manifest, eval
 * hashes the file it reads and compares. Real `hubnlu train` and `hubnlu eval`
 * processes, real model directories.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT, runCli } from '../helpers/cli.js';
import { TINY_DEV, tinyRows } from '../train/tiny-data.js';
import type { ModelManifest } from '../../src/model/manifest.js';
import { datasetFile, needsDatasets } from '../helpers/datasets.js';

let root: string;
let trainFile: string;
let otherFile: string;
let model: string;

const jsonl = (rows: ReturnType<typeof tinyRows>): string => rows.map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots })).join('\n') + '\n';
const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

before(() => {
  root = mkdtempSync(join(tmpdir(), 'hubnlu-eval-warn-'));
  trainFile = join(root, 'train.jsonl');
  otherFile = join(root, 'dev.jsonl');
  writeFileSync(trainFile, jsonl(tinyRows()));
  writeFileSync(otherFile, jsonl(TINY_DEV));
  model = join(root, 'model');
  const r = runCli(['train', '--task', 'intent', '--data', trainFile, '--out', model, '--no-slots', '--epochs', '3', '--no-progress', '--json'], { timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
});
after(() => rmSync(root, { recursive: true, force: true }));

const evalJson = (data: string, modelDir: string) => runCli(['eval', '--task', 'intent', '--data', data, '--model', modelDir, '--json']);

test('training records the SHA-256 of each training file in the manifest', () => {
  const m = JSON.parse(readFileSync(join(model, 'manifest.json'), 'utf8')) as ModelManifest;
  assert.equal(m.training.data.length, 1);
  assert.equal(m.training.data[0].file, 'train.jsonl');
  assert.equal(m.training.data[0].sha256, sha256(trainFile));
});

test('eval on the training file warns, on stderr and in --json', () => {
  const r = evalJson(trainFile, model);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: this file is the model's training file train\.jsonl/);
  const o = JSON.parse(r.stdout) as { warnings: string[]; n: number };
  assert.equal(o.warnings.length, 1);
  assert.match(o.warnings[0], /training file train\.jsonl/);
});

test('the same content under another name still warns (the hash, not the name, decides)', () => {
  const copy = join(root, 'renamed.jsonl');
  writeFileSync(copy, readFileSync(trainFile));
  const r = runCli(['eval', '--task', 'intent', '--data', copy, '--model', model]);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /warning: this file is the model's training file/);
});

test('eval on a file the model was not trained on: no warning', () => {
  const r = evalJson(otherFile, model);
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /warning/);
  assert.deepEqual((JSON.parse(r.stdout) as { warnings: string[] }).warnings, []);
});

test('a model trained on part of a file (--holdout) warns about that file too', () => {
  const held = join(root, 'held');
  const t = runCli(['train', '--task', 'intent', '--data', trainFile, '--holdout', '0.2', '--holdout-file', join(root, 'held.jsonl'), '--out', held, '--no-slots', '--epochs', '2', '--no-progress', '--json'], { timeoutMs: 120_000 });
  assert.equal(t.status, 0, t.stderr);
  const r = evalJson(trainFile, held);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /trained on part of this file \(train\.jsonl/);
  const h = evalJson(join(root, 'held.jsonl'), held);
  assert.equal(h.status, 0, h.stderr);
  assert.doesNotMatch(h.stderr, /warning/);
});

test('the shipped manifests record a SHA-256 for every training file', () => {
  for (const task of ['intent', 'sentiment']) {
    const m = JSON.parse(readFileSync(join(REPO_ROOT, 'models', task, 'manifest.json'), 'utf8')) as ModelManifest;
    assert.ok(m.training.data.length > 0, task);
    for (const d of m.training.data) assert.match(d.sha256 ?? '', /^[0-9a-f]{64}$/, `${task}: ${d.file}`);
  }
});

// The public datasets (test/helpers/datasets.ts).
test('shipped models: eval on a training file warns, on a dev file does not', needsDatasets, () => {
  const onTrain = runCli(['eval', '--task', 'intent', '--data', datasetFile('intent', 'hwu64.train.jsonl'), '--json']);
  assert.equal(onTrain.status, 0, onTrain.stderr);
  assert.match(onTrain.stderr, /training file hwu64\.train\.jsonl/);
  const onDev = runCli(['eval', '--task', 'sentiment', '--data', datasetFile('sentiment', 'meld.dev.jsonl'), '--json']);
  assert.equal(onDev.status, 0, onDev.stderr);
  assert.doesNotMatch(onDev.stderr, /warning/);
  assert.deepEqual((JSON.parse(onDev.stdout) as { warnings: string[] }).warnings, []);
});
