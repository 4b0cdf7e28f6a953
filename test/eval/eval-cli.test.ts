import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { trainClassifier } from '../../src/train/trainer.js';
import { writeModelDir } from '../../src/train/model-dir.js';
import { tinyDataset, TINY_DEV } from '../train/tiny-data.js';

const MAIN = resolve('dist/src/cli/main.js');
let root: string;
let modelDir: string;
let dataFile: string;

before(async () => {
  root = mkdtempSync(join(tmpdir(), 'hubnlu-evalcli-'));
  modelDir = join(root, 'model');
  const t = trainClassifier({ task: 'intent', train: [tinyDataset()], fasttext: { epochs: 8, seed: 1 } });
  await writeModelDir(modelDir, t, { name: 'tiny', version: '0.0.1', threshold: 0.2, data: [] });
  dataFile = join(root, 'dev.jsonl');
  const rows = [...TINY_DEV, { text: 'play some jazz', label: 'play_music', slots: [{ type: 'genre', value: 'jazz', start: 10, end: 14 }], source: 'x' }];
  writeFileSync(dataFile, rows.map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots })).join('\n') + '\n');
});

after(() => rmSync(root, { recursive: true, force: true }));

test('hubnlu eval --json prints one JSON object with the documented fields', () => {
  const r = spawnSync(process.execPath, [MAIN, 'eval', '--task', 'intent', '--data', dataFile, '--model', modelDir, '--json'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const o = JSON.parse(lines[0]) as Record<string, unknown>;
  assert.equal(o.n, 5);
  for (const k of ['accuracy', 'macro_f1', 'macro_recall', 'slot_f1', 'ece']) {
    assert.equal(typeof o[k], 'number', k);
    assert.ok((o[k] as number) >= 0 && (o[k] as number) <= 1, k);
  }
  const lat = o.latency_ms as { p50: number; p99: number };
  assert.ok(lat.p50 > 0 && lat.p99 >= lat.p50);
  // play_music is not a label of this model: an error, never dropped.
  assert.deepEqual(o.unproducible_labels, ['play_music']);
  assert.ok((o.accuracy as number) <= 4 / 5);
  assert.equal(o.slot_f1, 0, 'a gold slot and no tagger: slot F1 0');
});

test('hubnlu eval prints a readable report, and usage errors exit 2 naming the option', () => {
  const ok = spawnSync(process.execPath, [MAIN, 'eval', '--task', 'intent', '--data', dataFile, '--model', modelDir], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout, /accuracy/);
  assert.match(ok.stdout, /latency p50 \/ p99/);
  assert.match(ok.stdout, /labels the model lacks\s+play_music/);
  const bad = spawnSync(process.execPath, [MAIN, 'eval', '--task', 'mood', '--data', dataFile], { encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /--task/);
  const missing = spawnSync(process.execPath, [MAIN, 'eval', '--task', 'intent', '--data', join(root, 'none.jsonl'), '--model', modelDir], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /none\.jsonl: cannot read \(ENOENT\); check the path/);
  // eval has no --datasets option: the hint names none.
  assert.doesNotMatch(missing.stderr, /--datasets|HUBNLU_DATASETS/);
});
