/** The dataset reader (src/data/rows.ts) on real files: slot offsets and values are checked against the text, with file:line. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';
import { InputFileError } from '../../src/data/input-file.js';
import { readRows } from '../../src/data/rows.js';
import { datasetFile, needsDatasets } from '../helpers/datasets.js';

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-rows-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const TEXT = 'wake me up at seven';
const file = (name: string, slots: unknown[]): string => {
  const f = join(dir, name);
  writeFileSync(f, `${JSON.stringify({ text: 'turn off the lights', intent: 'iot_hue_lightoff' })}\n${JSON.stringify({ text: TEXT, intent: 'alarm_set', slots })}\n`);
  return f;
};

test('slot offsets inside the text are read as given', () => {
  const { rows } = readRows(file('ok.jsonl', [{ type: 'time', value: 'seven', start: 14, end: 19 }]), 'intent');
  assert.deepEqual(rows[1].slots, [{ type: 'time', value: 'seven', start: 14, end: 19 }]);
});

test('offsets outside the text, reversed, empty or fractional are refused with file:line and the bounds, never the text', () => {
  for (const [start, end] of [[14, 25], [-1, 5], [30, 35], [10, 5], [14, 14], [1.5, 5]]) {
    const f = file('bad.jsonl', [{ type: 'time', value: 'seven', start, end }]);
    assert.throws(
      () => readRows(f, 'intent'),
      (e: Error) => e instanceof InputFileError && e.message.startsWith(`${f}:2: slot 1 has start ${start}, end ${end}`) && e.message.includes(`≤ ${TEXT.length}`) && !e.message.includes(TEXT),
      `start ${start}, end ${end}`,
    );
  }
});

test('an end one past the text whose value only adds trailing space (three SNIPS rows) is clamped to the text', () => {
  const { rows } = readRows(file('snips-like.jsonl', [{ type: 'time', value: 'seven ', start: 14, end: 20 }]), 'intent');
  assert.deepEqual(rows[1].slots, [{ type: 'time', value: 'seven', start: 14, end: 19 }]);
  // One past with a value that is not the rest of the text: refused.
  assert.throws(() => readRows(file('one-past.jsonl', [{ type: 'time', value: 'eight ', start: 14, end: 20 }]), 'intent'), /one-past\.jsonl:2: slot 1 has start 14, end 20/);
});

test('a slot whose value is not the text it spans is refused with file:line, the slot\'s offsets and the fix, never the text', () => {
  const cases: Array<[unknown, RegExp]> = [
    // Offsets one off: the value is elsewhere in the text; the message gives its offsets.
    [{ type: 'time', value: 'seven', start: 13, end: 18 }, /the value is at start 14, end 19 in the text: correct the offsets/],
    // A normalised value ("7" for "seven"): the dataset holds the words as written.
    [{ type: 'time', value: '7', start: 14, end: 19 }, /make value the text the slot spans \(text\.slice\(start, end\)\), as written, not a normalised value/],
    // Only the case differs.
    [{ type: 'time', value: 'Seven', start: 14, end: 19 }, /differs from it only in case: write it as the text has it/],
  ];
  for (const [slot, fix] of cases) {
    const f = file('mismatch.jsonl', [{ type: 'time', value: 'seven', start: 14, end: 19 }, slot]);
    assert.throws(
      () => readRows(f, 'intent'),
      (e: Error) =>
        e instanceof InputFileError &&
        e.message.startsWith(`${f}:2: slot 2 (start ${(slot as { start: number }).start}, end ${(slot as { end: number }).end}): its value is not text.slice(start, end)`) &&
        fix.test(e.message) &&
        !e.message.includes(TEXT) &&
        !e.message.includes('"seven"'),
      JSON.stringify(slot),
    );
  }
});

test('the public snips.train.jsonl reads, its three rows with an end one past the text clamped', needsDatasets, () => {
  const { rows } = readRows(datasetFile('intent', 'snips.train.jsonl'), 'intent');
  for (const r of rows) for (const s of r.slots) assert.equal(r.text.slice(s.start, s.end), s.value);
  const line5137 = rows.find((r) => r.slots.some((s) => s.value === 'in eleven years'));
  assert.ok(line5137);
});

test('every intent file train-defaults (and the language models\' evaluation) reads loads under the value = span rule', needsDatasets, () => {
  const files = [
    ...['hwu64.train.jsonl', 'mindmeld.train.jsonl', 'slurp.devel.jsonl'].map((f) => datasetFile('intent', f)),
    ...readdirSync(join(packageRoot(), 'eval', 'handwritten')).filter((f) => f.endsWith('.jsonl') && !f.includes('sentiment')).map((f) => join(packageRoot(), 'eval', 'handwritten', f)),
  ];
  let slots = 0;
  for (const f of files) for (const r of readRows(f, 'intent').rows) slots += r.slots.length;
  assert.ok(slots > 10_000, `${slots} slots read`);
});
