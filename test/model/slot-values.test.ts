import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeSlotValue, normalizeSlotText, slotKey, unitTokensAfter } from '../../src/model/slot-values.js';
import { tokenize } from '../../src/model/text.js';

test('spelled-out and digit temperatures normalise to the same number and unit', () => {
  const words = normalizeSlotValue('temperature', 'twenty one degrees');
  const digits = normalizeSlotValue('temperature', '21 degrees');
  assert.deepEqual(words, { value: 21, unit: 'degrees' });
  assert.deepEqual(digits, words);
  assert.equal(slotKey('temperature', words), slotKey('temperature', digits));
});

test('temperature units: celsius, fahrenheit, degree signs, bare numbers', () => {
  assert.deepEqual(normalizeSlotValue('temperature', '21°C'), { value: 21, unit: 'celsius' });
  assert.deepEqual(normalizeSlotValue('temperature', '21 ° c'), { value: 21, unit: 'celsius' });
  assert.deepEqual(normalizeSlotValue('temperature', 'twenty five celsius'), { value: 25, unit: 'celsius' });
  assert.deepEqual(normalizeSlotValue('temperature', '70 degrees f'), { value: 70, unit: 'fahrenheit' });
  assert.deepEqual(normalizeSlotValue('temperature', '68 degrees Fahrenheit'), { value: 68, unit: 'fahrenheit' });
  assert.deepEqual(normalizeSlotValue('temperature', 'seventy two'), { value: 72 });
  assert.deepEqual(normalizeSlotValue('temperature', '1 degree'), { value: 1, unit: 'degrees' });
  // "c" alone is not a unit without a degree word: this is not a measurement.
  assert.deepEqual(normalizeSlotValue('temperature', 'a few degrees'), { value: 'a few degrees' });
});

test('percentages and change amounts', () => {
  assert.deepEqual(normalizeSlotValue('change_amount', 'to fifty percent'), { value: 50, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('change_amount', '50%'), { value: 50, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('change_amount', 'fifty per cent'), { value: 50, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('change_amount', 'by twenty'), { value: 20 });
  assert.deepEqual(normalizeSlotValue('change_amount', 'by two levels'), { value: 2 });
  assert.deepEqual(normalizeSlotValue('change_amount', 'to fifty five percent'), { value: 55, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('change_amount', 'a little bit'), { value: 'a little bit' });
  // A percentage is a number whatever the slot type.
  assert.deepEqual(normalizeSlotValue('volume', 'thirty percent'), { value: 30, unit: 'percent' });
});

test('non-quantity types keep folded text, even when they hold a number', () => {
  assert.deepEqual(normalizeSlotValue('time', 'five'), { value: 'five' });
  assert.deepEqual(normalizeSlotValue('time', 'Eight  AM'), { value: 'eight am' });
  assert.deepEqual(normalizeSlotValue('house_place', ' Living Room '), { value: 'living room' });
  assert.deepEqual(normalizeSlotValue('person', "emma's"), { value: "emma's" });
  // Two numbers are not one quantity.
  assert.deepEqual(normalizeSlotValue('temperature', 'between 20 and 22'), { value: 'between 20 and 22' });
});

test('outer punctuation goes, inner punctuation, % and ° stay', () => {
  assert.equal(normalizeSlotText('u. s. d.'), 'u. s. d');
  assert.equal(normalizeSlotText('@NSA'), 'nsa');
  assert.equal(normalizeSlotText('john@example.com'), 'john@example.com');
  assert.equal(normalizeSlotText("rock 'n' roll"), "rock 'n' roll");
});

test('unit tokens after a number: how far a quantity slot extends', () => {
  const after = (text: string, last: number): number => unitTokensAfter(tokenize(text), last);
  assert.equal(after('set it to 21°C please', 3), 2); // ° c
  assert.equal(after('set it to 72 f', 3), 1);
  assert.equal(after('to twenty one degrees celsius now', 1), 2);
  assert.equal(after('to 70 degrees fahrenheit', 1), 2);
  assert.equal(after('dim to 50% now', 2), 1);
  assert.equal(after('dim to fifty per cent', 2), 2);
  assert.equal(after('set 21 degrees please', 1), 1);
  assert.equal(after('set 21 please', 1), 0);
  assert.equal(after('in the kitchen degrees', 2), 0, 'not after a word');
  assert.equal(after('21 c', 0), 1);
  assert.equal(after('21 please c', 0), 0);
  assert.deepEqual(normalizeSlotValue('temperature', '72 f'), { value: 72, unit: 'fahrenheit' });
});
