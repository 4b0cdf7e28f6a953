/**
 * Chinese numerals ↔ numbers, for the shared tokenizer (二十一 → 21 in slot values and features) and for
 * spelling sampled numbers when expanding Chinese templates. Covers what people say to a hub: 0–99,999 with
 * 十/百/千/万, 两 for 2, 〇/零 as zero, and the colloquial 十一 / 一十一 forms.
 */

const DIGITS: Record<string, number> = { 零: 0, 〇: 0, 一: 1, 二: 2, 两: 2, 三: 3, 四: 4, 五: 5, 六: 6, 七: 7, 八: 8, 九: 9 };
const UNITS: Record<string, number> = { 十: 10, 百: 100, 千: 1000, 万: 10000 };

/** Characters that can be part of a Chinese numeral. */
export const ZH_NUMERAL_RE = /[零〇一二两三四五六七八九十百千万]+/gu;

/** The value of a Chinese numeral, or null when the string is not one (e.g. a lone 万 or 两 in 两个字 is fine: 2). */
export function parseChineseNumber(s: string): number | null {
  if (!s) return null;
  let total = 0;
  let section = 0; // below 万
  let digit: number | null = null;
  let sawDigit = false;
  for (const ch of s) {
    if (ch in DIGITS) {
      if (digit !== null && digit !== 0) return null; // "二三" is two numbers, not one
      digit = DIGITS[ch];
      sawDigit = true;
    } else if (ch in UNITS) {
      const u = UNITS[ch];
      if (u === 10000) {
        section += digit ?? 0;
        if (section === 0 && !sawDigit) return null;
        total += section * 10000;
        section = 0;
      } else {
        if (digit === null && u !== 10) return null; // "百" alone is not a number
        section += (digit ?? 1) * u; // 十一 = 11
      }
      digit = null;
      sawDigit = true;
    } else {
      return null;
    }
  }
  if (!sawDigit) return null;
  return total + section + (digit ?? 0);
}

const SPELL = ['零', '一', '二', '三', '四', '五', '六', '七', '八', '九'];

/** 21 → 二十一, 100 → 一百, 105 → 一百零五, 2 → 二 (or 两 with `liang`); integers 0–99,999 only. */
export function formatChineseNumber(n: number, liang = false): string {
  if (!Number.isInteger(n) || n < 0 || n > 99_999) return String(n);
  if (n === 0) return '零';
  if (n === 2 && liang) return '两';
  const parts: string[] = [];
  const scales: [number, string][] = [[10000, '万'], [1000, '千'], [100, '百'], [10, '十'], [1, '']];
  let rest = n;
  let pendingZero = false;
  for (const [v, name] of scales) {
    const d = Math.floor(rest / v);
    rest %= v;
    if (d === 0) {
      if (parts.length > 0) pendingZero = true;
      continue;
    }
    if (pendingZero) parts.push('零');
    pendingZero = false;
    // 10–19 are said 十, 十一 … at the start.
    parts.push(v === 10 && d === 1 && parts.length === 0 ? name : SPELL[d] + name);
  }
  return parts.join('');
}
