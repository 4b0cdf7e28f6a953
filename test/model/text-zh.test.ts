import { test } from 'node:test';
import assert from 'node:assert/strict';
import { normalizeText, tokenize } from '../../src/model/text.js';
import { formatChineseNumber, parseChineseNumber } from '../../src/model/zh-numbers.js';
import { normalizeSlotValue } from '../../src/model/slot-values.js';

test('Chinese numerals parse: 十/百/千/万, 两, 零', () => {
  const cases: [string, number][] = [['二十一', 21], ['十一', 11], ['一十一', 11], ['两', 2], ['十', 10], ['一百', 100], ['一百零五', 105], ['三千二百', 3200], ['两万', 20000], ['零', 0], ['九十九', 99]];
  for (const [s, n] of cases) assert.equal(parseChineseNumber(s), n, s);
  for (const s of ['百', '二三', '', '灯']) assert.equal(parseChineseNumber(s), null, s);
});

test('formatChineseNumber round-trips 0–1000 and the 万 range', () => {
  for (let n = 0; n <= 1000; n++) assert.equal(parseChineseNumber(formatChineseNumber(n)), n, String(n));
  for (const n of [10000, 10005, 23456, 99999]) assert.equal(parseChineseNumber(formatChineseNumber(n)), n);
  assert.equal(formatChineseNumber(21), '二十一');
  assert.equal(formatChineseNumber(105), '一百零五');
  assert.equal(formatChineseNumber(2, true), '两');
});

test('Han text splits into characters with offsets; numeral runs become one number token', () => {
  const text = '把客厅的灯调到二十一度';
  const toks = tokenize(text);
  assert.deepEqual(toks.map((t) => t.norm), ['把', '客', '厅', '的', '灯', '调', '到', '21', '度']);
  const n = toks[7];
  assert.equal(text.slice(n.start, n.end), '二十一');
  assert.ok(n.isNumber);
  for (const t of toks) if (!t.isNumber) assert.equal(text.slice(t.start, t.end), t.norm);
});

test('mixed scripts and full-width forms normalise (NFKC)', () => {
  assert.equal(normalizeText('打开ＴＶ，音量调到５０％'), '打 开 tv 音 量 调 到 50 %');
  assert.equal(normalizeText('百分之62'), '百 分 之 62');
  assert.equal(normalizeText('两个小时'), '2 个 小 时');
});

test('text without Han characters tokenises as before', () => {
  assert.equal(normalizeText('Set the heating to twenty one degrees, please!'), 'set the heating to 21 degrees please');
  assert.equal(normalizeText("mach das Licht im Wohnzimmer aus"), 'mach das licht im wohnzimmer aus');
});

test('slot values: Chinese numerals and units, German/French/Spanish unit words', () => {
  assert.deepEqual(normalizeSlotValue('temperature', '二十一度'), { value: 21, unit: 'degrees' });
  assert.deepEqual(normalizeSlotValue('change_amount', '百分之五十'), { value: 50, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('change_amount', '５０％'), { value: 50, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('temperature', '21 Grad'), { value: 21, unit: 'degrees' });
  assert.deepEqual(normalizeSlotValue('change_amount', '30 Prozent'), { value: 30, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('change_amount', '30 pour cent'), { value: 30, unit: 'percent' });
  assert.deepEqual(normalizeSlotValue('temperature', '22 grados'), { value: 22, unit: 'degrees' });
  assert.deepEqual(normalizeSlotValue('house_place', '客厅'), { value: '客厅' });
});
