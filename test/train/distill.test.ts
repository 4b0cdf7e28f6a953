import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { trainClassifier } from '../../src/train/trainer.js';
import { readTeacherFile } from '../../src/train/teacher.js';
import { tinyDataset, TINY_DEV } from './tiny-data.js';

function withFile(doc: unknown, fn: (file: string) => void, raw?: Buffer): void {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-teacher-'));
  try {
    const file = join(dir, 'teacher.json.gz');
    writeFileSync(file, raw ?? gzipSync(Buffer.from(JSON.stringify(doc))));
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const LABELS = ['alarm_set', 'iot_hue_lightoff', 'iot_hue_lighton', 'weather_query'];

test('teacher file: top-k probabilities mapped to the student\'s label order, the rest spread evenly, texts matched normalised and averaged', () => {
  const doc = {
    format: 'hubnlu-teacher-v1',
    teacher: {},
    labels: ['weather_query', 'alarm_set'],
    scale: 10000,
    rows: [
      ['Is it SUNNY in Oslo?', [0, 7000, 1, 1000]],
      ['is it sunny in oslo', [0, 9000, 1, 1000]],
      ['wake me at six', [1, 10000]],
    ],
  };
  withFile(doc, (file) => {
    const t = readTeacherFile(file, LABELS);
    assert.equal(t.size, 2);
    const p = t.lookup('is it sunny in oslo')!;
    // First row: 0.7 weather, 0.1 alarm, 0.2 spread over the two light labels; second: 0.9, 0.1, 0.
    assert.ok(Math.abs(p[3] - 0.8) < 1e-6, `weather ${p[3]}`);
    assert.ok(Math.abs(p[0] - 0.1) < 1e-6, `alarm ${p[0]}`);
    assert.ok(Math.abs(p[1] - 0.05) < 1e-6 && Math.abs(p[2] - 0.05) < 1e-6);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-6);
    assert.deepEqual(Array.from(t.lookup('Wake me at six!')!), [1, 0, 0, 0]);
    assert.equal(t.lookup('turn off the lights'), undefined);
  });
});

test('teacher file: a label the student lacks, a wrong format and a non-gzip file are errors that say what to do', () => {
  const base = { format: 'hubnlu-teacher-v1', teacher: {}, labels: ['weather_query'], scale: 10000, rows: [] };
  withFile({ ...base, labels: ['general_greet'] }, (file) => assert.throws(() => readTeacherFile(file, LABELS), /label "general_greet" is not one of the student's labels; train the teacher on the same files/));
  withFile({ ...base, format: 'other' }, (file) => assert.throws(() => readTeacherFile(file, LABELS), /not a hubnlu-teacher-v1 file.*regenerate/));
  withFile(null, (file) => assert.throws(() => readTeacherFile(file, LABELS), /cannot read it as gzipped JSON/), Buffer.from('plain text'));
});

test('distillation: soft targets pull the student towards the teacher, seeded and reproducible; no teacher entry = the plain recipe', () => {
  const base = { task: 'intent' as const, train: [tinyDataset()], dev: [{ file: 'dev', rows: TINY_DEV }], fasttext: { epochs: 6, seed: 1 } };
  const plain = trainClassifier(base);
  // A teacher that knows nothing of these sentences changes nothing.
  const none = trainClassifier({ ...base, distill: { teacher: () => undefined, alpha: 0.5, unlabelledAlpha: 0.5 } });
  assert.deepEqual(none.weights.emb, plain.weights.emb);
  assert.deepEqual(none.weights.w2, plain.weights.w2);
  // A (wrong-headed) teacher that calls every sentence weather_query, fully trusted.
  const w = plain.labels.indexOf('weather_query');
  const weather = (): Float32Array => Float32Array.from(plain.labels, (_, c) => (c === w ? 1 : 0));
  const cfg = { ...base, distill: { teacher: weather, alpha: 1, unlabelledAlpha: 1 } };
  const student = trainClassifier(cfg);
  const again = trainClassifier(cfg);
  assert.deepEqual(student.weights.emb, again.weights.emb);
  assert.ok(student.weights.b2[w] > plain.weights.b2[w] + 0.5, `weather_query bias ${student.weights.b2[w]} vs ${plain.weights.b2[w]}`);
  assert.equal(student.stats.devAccuracy.dev.unpruned, 0.25, 'every dev sentence should come out weather_query');
  // Unlabelled text the teacher scored joins self-training with the teacher's target.
  const unlabelled = { file: 'u.txt', texts: ['is it going to snow in bergen', 'switch off the porch light', 'wake me at noon'] };
  const st = trainClassifier({ ...cfg, unlabelled, selfTraining: { rounds: 1, threshold: 0.3, weight: 1 } });
  assert.deepEqual(st.stats.pseudoLabelled, [3]);
});
