/** Label checks and the label file reader: what is refused, what is a warning, errors naming file:line. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkLabel, LabelError, locateValue, parseSlotArg, readLabelFile, type LabelVocabulary } from '../../src/data/label-check.js';

const vocab: LabelVocabulary = { intents: new Set(['iot_hue_lightoff', 'alarm_set']), slotTypes: new Set(['house_place', 'time']), loggedIntents: new Set(['iot_garage_open']) };
let dir: string;
before(() => (dir = mkdtempSync(join(tmpdir(), 'hubnlu-label-check-'))));
after(() => rmSync(dir, { recursive: true, force: true }));

test('parseSlotArg: type=value, the value may hold = and spaces', () => {
  assert.deepEqual(parseSlotArg('house_place=living room'), { type: 'house_place', value: 'living room' });
  assert.deepEqual(parseSlotArg('query=a=b'), { type: 'query', value: 'a=b' });
  for (const bad of ['kitchen', '=kitchen', 'house_place=']) assert.throws(() => parseSlotArg(bad), /expected type=value/);
});

test('locateValue: case-insensitive, first occurrence, null when absent', () => {
  assert.deepEqual(locateValue('Turn off the Kitchen lights', 'kitchen'), { start: 13, end: 20 });
  assert.equal(locateValue('turn off the lights', 'kitchen'), null);
  assert.equal(locateValue('x', ''), null);
});

test('checkLabel: errors for what cannot be stored, warnings for what is new', () => {
  const text = 'turn off the lights in the living room at ten';
  const ok = checkLabel(text, { intent: 'iot_hue_lightoff', slots: [{ type: 'house_place', value: 'Living Room' }, { type: 'time', value: 'ten' }] }, vocab);
  assert.deepEqual(ok.warnings, []);
  assert.deepEqual(ok.slots, [
    { type: 'house_place', value: 'Living Room', raw: 'living room', start: 27, end: 38 },
    { type: 'time', value: 'ten', raw: 'ten', start: 42, end: 45 },
  ]);
  assert.equal(checkLabel(text, { intent: 'iot_garage_open' }, vocab).warnings.length, 0, 'a logged intent is known');
  assert.equal(checkLabel(text, { intent: 'unknown' }, vocab).warnings.length, 0);
  const fresh = checkLabel(text, { intent: 'iot_blinds_close', slots: [{ type: 'device_type', value: 'lights' }] }, vocab);
  assert.equal(fresh.warnings.length, 2);
  assert.match(fresh.warnings[0], /intent iot_blinds_close is new/);
  assert.match(fresh.warnings[1], /slot type device_type is new/);
  assert.throws(() => checkLabel(text, { slots: [{ type: 'house_place', value: 'attic' }] }, vocab), LabelError);
  assert.throws(() => checkLabel(text, { sentiment: 'meh' }, vocab), /expected one of negative, neutral, positive/);
  assert.throws(() => checkLabel(text, { intent: 'two words' }, vocab), /an intent name is/);
  assert.throws(() => checkLabel(null, { slots: [{ type: 'time', value: 'ten' }] }, vocab), /no text/);
  // A rejected input with no text: nothing for training or evaluation to read, so no label either (they skip such rows).
  assert.throws(() => checkLabel(null, { intent: 'iot_hue_lightoff' }, vocab), /this input has no text \(it was rejected before its text was read\)/);
  assert.throws(() => checkLabel(null, { sentiment: 'neutral' }, vocab), /no text/);
  assert.throws(() => checkLabel(text, {}, vocab), /nothing to label/);
  // null clears, and needs no text.
  assert.deepEqual(checkLabel(null, { intent: null, slots: null, sentiment: null }, vocab), { intent: null, slots: null, sentiment: null, warnings: [] });
});

test("checkLabel: a slot's own start/end are checked (whole numbers inside the text, spanning the value); as a hint they fall back to locating", () => {
  const text = 'the kitchen light and the kitchen fan';
  const at = (start: unknown, end: unknown, offsetsHint?: boolean) => checkLabel(text, { slots: [{ type: 'house_place', value: 'Kitchen', start, end, ...(offsetsHint ? { offsetsHint } : {}) }] }, vocab).slots![0];
  assert.deepEqual(at(26, 33), { type: 'house_place', value: 'Kitchen', raw: 'kitchen', start: 26, end: 33 });
  for (const [start, end] of [[-1, 6], [26, 26], [33, 26], [26.5, 33], [30, 99], ['26', 33], [null, 33]]) {
    assert.throws(() => at(start, end), /start and end must be whole numbers with 0 ≤ start < end ≤ 37/, `${start}..${end}`);
  }
  assert.throws(() => at(26, undefined), /give both start and end, or neither/);
  assert.throws(() => at(0, 3), /spans "the", not the value "Kitchen"; it is at start 4, end 11/);
  assert.deepEqual([at(0, 3, true).start, at(26, 33, true).start, at(30, 99, true).start], [4, 26, 4]);
});

test('readLabelFile: rows with their line numbers; errors name file:line', () => {
  const file = join(dir, 'labels.jsonl');
  writeFileSync(file, ['{"id": "a", "intent": "x"}', '', '{"seq": 7, "sentiment": null}', '{"id": "#8", "slots": [{"type": "t", "value": 3}], "text": "ignored"}', '{"id": "b", "slots": [{"type": "t", "value": "v", "raw": "V", "start": 0, "end": 1}]}'].join('\n'));
  assert.deepEqual(readLabelFile(file), [
    { line: 1, id: 'a', intent: 'x' },
    { line: 3, id: '#7', sentiment: null },
    { line: 4, id: '#8', slots: [{ type: 't', value: '3' }] },
    { line: 5, id: 'b', slots: [{ type: 't', value: 'V', start: 0, end: 1, offsetsHint: true }] },
  ]);
  const cases: Array<[string, RegExp]> = [
    ['{"id": "a"', /bad\.jsonl:2: not valid JSON/],
    ['[1]', /bad\.jsonl:2: not a JSON object/],
    ['{"intent": "x"}', /bad\.jsonl:2: missing "id"/],
    ['{"id": "a"}', /bad\.jsonl:2: nothing to label/],
    ['{"id": "a", "intent": 5}', /bad\.jsonl:2: "intent" must be a non-empty string or null/],
    ['{"id": "a", "slots": {"t": "v"}}', /bad\.jsonl:2: "slots" must be a list/],
    ['{"id": "a", "slots": [{"type": "t"}]}', /bad\.jsonl:2: each slot needs/],
  ];
  const bad = join(dir, 'bad.jsonl');
  for (const [line, re] of cases) {
    writeFileSync(bad, `{"id": "ok", "intent": "x"}\n${line}\n`);
    assert.throws(() => readLabelFile(bad), re, line);
  }
  writeFileSync(bad, `{"id": "ok", "intent": "${'x'.repeat(200)}"}\n`);
  assert.throws(() => readLabelFile(bad, { maxBytes: 1 << 20, maxLineBytes: 100 }), /bad\.jsonl:1: line longer than 100 bytes/);
  assert.throws(() => readLabelFile(dir), /a directory, not a data file/);
});
