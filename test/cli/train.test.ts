/**
 * `hubnlu train --data FILE` as a process: a file with too few rows per label
 * trains, with a warning naming each label's count and what to do instead
 * (issue 9: a 6-row file used to train without a word); enough rows, no warning.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../helpers/cli.js';
import { tinyRows } from '../train/tiny-data.js';
import { normalizeText } from '../../src/model/text.js';
import { seedDatabase } from '../store/seed.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-train-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const jsonl = (rows: Array<{ text: string; label: string }>) => rows.map((r) => JSON.stringify({ text: r.text, intent: r.label })).join('\n') + '\n';

test('a 6-row file trains with a warning per label and a pointer to --with-log-labels', { timeout: 120_000 }, () => {
  const six = join(dir, 'six.jsonl');
  writeFileSync(
    six,
    jsonl([
      { text: 'open the garage', label: 'iot_garage_open' },
      { text: 'raise the garage door', label: 'iot_garage_open' },
      { text: 'pop the carport up', label: 'iot_garage_open' },
      { text: 'turn off the lights', label: 'iot_hue_lightoff' },
      { text: 'lights off please', label: 'iot_hue_lightoff' },
      { text: 'kill the lamp', label: 'iot_hue_lightoff' },
    ]),
  );
  const r = runCli(['train', '--task', 'intent', '--data', six, '--out', join(dir, 'six-model'), '--no-slots', '--no-progress', '--json'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stderr, /hubnlu train: warning: iot_garage_open: 3 examples, fewer than 10: expect it to be missed/);
  assert.match(r.stderr, /hubnlu train: warning: iot_hue_lightoff: 3 examples, fewer than 10/);
  assert.match(r.stderr, /6 training rows in all, every label below 10: .*hubnlu train --with-log-labels --data FILE/);
  assert.equal(JSON.parse(r.stdout).warnings.length, 3);
});

test('learning.minExamples sets the bar; a file with enough rows per label trains without a warning', { timeout: 120_000 }, () => {
  const file = join(dir, 'tiny.jsonl');
  writeFileSync(file, jsonl(tinyRows()));
  const r = runCli(['train', '--task', 'intent', '--data', file, '--out', join(dir, 'tiny-model'), '--no-slots', '--no-progress'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr + r.stdout, /warning/);
  // 30 rows a label: below a bar of 40, every label is named.
  const high = runCli(['train', '--task', 'intent', '--data', file, '--out', join(dir, 'tiny-model-2'), '--no-slots', '--no-progress'], {
    cwd: dir,
    timeoutMs: 120_000,
    env: { HUBNLU_LEARNING_MIN_EXAMPLES: '40' },
  });
  assert.equal(high.status, 0, high.stderr);
  assert.equal((high.stderr.match(/: 30 examples, fewer than 40/g) ?? []).length, 4);
});

test('--teacher: a teacher file is distilled from and recorded in the manifest; one naming a label the data lacks is refused with the fix', { timeout: 120_000 }, () => {
  const file = join(dir, 'tiny-t.jsonl');
  const rows = tinyRows();
  writeFileSync(file, jsonl(rows));
  const labels = [...new Set(rows.map((r) => r.label))].sort();
  const doc = (ls: string[]) => ({ format: 'hubnlu-teacher-v1', teacher: {}, labels: ls, scale: 10000, rows: rows.map((r) => [r.text, [ls.indexOf(r.label), 8000]]) });
  const teacher = join(dir, 'teacher.json.gz');
  writeFileSync(teacher, gzipSync(Buffer.from(JSON.stringify(doc(labels)))));
  const r = runCli(['train', '--task', 'intent', '--data', file, '--teacher', teacher, '--out', join(dir, 'distilled'), '--no-slots', '--no-progress'], { cwd: dir, timeoutMs: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const m = JSON.parse(readFileSync(join(dir, 'distilled', 'manifest.json'), 'utf8')) as { training: { teacher?: { file: string; sentences: number; sha256: string } } };
  assert.equal(m.training.teacher?.file, 'teacher.json.gz');
  // Sentences that normalise alike ("seven" and "7") are one entry.
  assert.equal(m.training.teacher?.sentences, new Set(rows.map((x) => normalizeText(x.text))).size);
  assert.match(m.training.teacher?.sha256 ?? '', /^[0-9a-f]{64}$/);
  const bad = join(dir, 'bad-teacher.json.gz');
  writeFileSync(bad, gzipSync(Buffer.from(JSON.stringify(doc([...labels, 'general_greet'])))));
  const b = runCli(['train', '--task', 'intent', '--data', file, '--teacher', bad, '--out', join(dir, 'bad'), '--no-slots', '--no-progress'], { cwd: dir, timeoutMs: 120_000 });
  assert.notEqual(b.status, 0);
  assert.match(b.stderr, /label "general_greet" is not one of the student's labels; train the teacher on the same files as the student/);
});

test('a data file with a bad row is a usage error (exit 2) naming file:line, as in eval; a bad option is refused before the data is read', () => {
  const bad = join(dir, 'bad.jsonl');
  writeFileSync(bad, '{"text": "open the garage", "intent": "iot_garage_open"}\n{"text": "no label"}\n');
  const r = runCli(['train', '--task', 'intent', '--data', bad, '--out', join(dir, 'bad-model'), '--no-progress'], { cwd: dir });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /bad\.jsonl:2: missing string field "intent"/);
  const ev = runCli(['eval', '--task', 'intent', '--data', bad], { cwd: dir });
  assert.equal(ev.status, 2, ev.stderr);
  // --epochs 0: refused at once, not after the file was read and its labels warned about.
  const six = join(dir, 'few.jsonl');
  writeFileSync(six, jsonl([{ text: 'open the garage', label: 'iot_garage_open' }, { text: 'lights off', label: 'iot_hue_lightoff' }]));
  for (const args of [['--epochs', '0'], ['--holdout', '0.95'], ['--seed', 'x']]) {
    const o = runCli(['train', '--task', 'intent', '--data', six, '--out', join(dir, 'few-model'), '--no-progress', ...args], { cwd: dir });
    assert.equal(o.status, 2, o.stderr);
    assert.equal(o.stderr.split('\n').filter(Boolean).length, 1, `only the usage error: ${o.stderr}`);
    assert.match(o.stderr, new RegExp(`^hubnlu: ${args[0]}: expected`));
  }
});

test('an empty data file: exit 3 (nothing to work on), as eval gives for the same file, before any model is written', () => {
  const empty = join(dir, 'empty.jsonl');
  writeFileSync(empty, '');
  const r = runCli(['train', '--task', 'intent', '--data', empty, '--out', join(dir, 'empty-model'), '--no-progress'], { cwd: dir });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /empty\.jsonl: no intent training rows/);
  assert.ok(!existsSync(join(dir, 'empty-model')));
  const ev = runCli(['eval', '--task', 'intent', '--data', empty], { cwd: dir });
  assert.equal(ev.status, r.status, ev.stderr);
});

test('--holdout-file naming a file the run reads, or the database, is refused before anything is written', () => {
  const data = join(dir, 'rows.jsonl');
  const text = jsonl(tinyRows());
  writeFileSync(data, text);
  const sameAsData = runCli(['train', '--task', 'intent', '--data', data, '--holdout', '0.1', '--holdout-file', data, '--out', join(dir, 'h-model'), '--no-progress'], { cwd: dir });
  assert.equal(sameAsData.status, 2, sameAsData.stderr);
  assert.ok(sameAsData.stderr.includes(`--holdout-file ${data}: also a file this run reads`), sameAsData.stderr);
  assert.equal(readFileSync(data, 'utf8'), text, 'the training file is untouched');
  const db = join(dir, 'log.db');
  seedDatabase(db, [{ receivedAt: Date.now(), site: 'hall', status: 'done', text: 'hi', intent: 'general_greet' }]);
  const onDb = runCli(['train', '--task', 'intent', '--data', data, '--holdout', '0.1', '--holdout-file', db, '--out', join(dir, 'h-model'), '--no-progress'], { cwd: dir });
  assert.equal(onDb.status, 2, onDb.stderr);
  assert.match(onDb.stderr, /--holdout-file \S+log\.db: an SQLite database \(the log\?\); not overwritten/);
  assert.equal(readFileSync(db).subarray(0, 15).toString(), 'SQLite format 3');
  assert.equal(existsSync(join(dir, 'h-model')), false, 'nothing trained');
});
