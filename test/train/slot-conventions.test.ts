import { test } from 'node:test';
import assert from 'node:assert/strict';
import { harmonizeSlotConventions, hwuTimeSlots } from '../../src/train/slot-conventions.js';
import type { IntentRow } from '../../src/train/tagger.js';

/** A `time` slot over `value` in `text`, and the result as [type, text] pairs. */
function rewrite(text: string, value: string): [string, string][] {
  const start = text.indexOf(value);
  assert.ok(start >= 0, `${value} in ${text}`);
  return hwuTimeSlots(text, { type: 'time', start, end: start + value.length, value }).map((s) => {
    assert.equal(s.value, text.slice(s.start, s.end), 'value is the text of the span');
    return [s.type, text.slice(s.start, s.end)];
  });
}

test('dates and times of day become date / timeofday, without a leading on / at / in the', () => {
  assert.deepEqual(rewrite('will it rain tomorrow', 'tomorrow'), [['date', 'tomorrow']]);
  assert.deepEqual(rewrite('weather on Monday please', 'on Monday'), [['date', 'Monday']]);
  assert.deepEqual(rewrite('alarms for next week', 'next week'), [['date', 'next week']]);
  assert.deepEqual(rewrite('alarms this weekend', 'this weekend'), [['date', 'this weekend']]);
  assert.deepEqual(rewrite('weather for the next 5 days', 'next 5 days'), [['date', 'next 5 days']]);
  assert.deepEqual(rewrite('wake me in the morning', 'in the morning'), [['timeofday', 'morning']]);
  assert.deepEqual(rewrite('is it cold tonight', 'tonight'), [['timeofday', 'tonight']]);
});

test('"now" is no slot; a time stays a time without its leading at', () => {
  assert.deepEqual(rewrite('weather right now', 'right now'), []);
  assert.deepEqual(rewrite('turn the heat off now', 'now'), []);
  assert.deepEqual(rewrite('turn off the heat at 10 pm', 'at 10 pm'), [['time', '10 pm']]);
  assert.deepEqual(rewrite('set a timer for 5 minutes', '5 minutes'), [['time', '5 minutes']]);
  assert.deepEqual(rewrite('delete the alarm before 3 this afternoon', 'before 3 this afternoon'), [['time', 'before 3'], ['timeofday', 'this afternoon']]);
});

test('a date with a time of day or a clock time is split in two', () => {
  assert.deepEqual(rewrite('weather tomorrow morning', 'tomorrow morning'), [['date', 'tomorrow'], ['timeofday', 'morning']]);
  assert.deepEqual(rewrite('wake me at 7 am tomorrow', 'at 7 am tomorrow'), [['time', '7 am'], ['date', 'tomorrow']]);
  assert.deepEqual(rewrite('alarm for 2am tonight', '2am tonight'), [['time', '2am'], ['timeofday', 'tonight']]);
});

test('only MindMeld rows change, and only their time slots', () => {
  const mm: IntentRow = {
    text: 'weather in boston tomorrow',
    intent: 'weather_query',
    source: 'mindmeld-train',
    slots: [
      { type: 'place_name', start: 11, end: 17, value: 'boston' },
      { type: 'time', start: 18, end: 26, value: 'tomorrow' },
    ],
  };
  const hwu: IntentRow = { ...mm, source: 'hwu64' };
  const [a, b] = harmonizeSlotConventions([mm, hwu]);
  assert.deepEqual(a.slots, [mm.slots![0], { type: 'date', start: 18, end: 26, value: 'tomorrow' }]);
  assert.equal(b, hwu);
});

test('trainSlotTagger applies the conventions before it collects the slot types, and records them', async () => {
  const { trainSlotTagger } = await import('../../src/train/tagger.js');
  const rows: IntentRow[] = [
    { text: 'weather tomorrow in boston', intent: 'weather_query', source: 'mindmeld-train', slots: [{ type: 'time', start: 8, end: 16 }, { type: 'place_name', start: 20, end: 26 }] },
    { text: 'wake me at 7 am', intent: 'alarm_set', source: 'mindmeld-train', slots: [{ type: 'time', start: 8, end: 15 }] },
  ];
  const asIs = trainSlotTagger(rows, { epochs: 1, minCount: 1 });
  assert.deepEqual(asIs.types, ['place_name', 'time']);
  assert.equal(asIs.training.conventions, undefined);
  const hwu = trainSlotTagger(rows, { epochs: 1, minCount: 1, conventions: 'hwu64' });
  assert.deepEqual(hwu.types, ['date', 'place_name', 'time']);
  assert.equal(hwu.training.conventions, 'hwu64');
});
