/**
 * Slot value normalisation, shared by the runtime tagger (predicted slots) and
 * `hubnlu eval` (gold slots), so that exact-match slot F1 compares like with like.
 *
 * - Measurements become numbers with a unit where the meaning is clear:
 *   "twenty one degrees" and "21 degrees" both give `{ value: 21, unit: 'degrees' }`,
 *   "to fifty percent" and "50%" give `{ value: 50, unit: 'percent' }`. Number
 *   words are read by the shared tokenizer (`text.ts`), never by a second parser.
 * - Everything else is folded text: NFKC, lower case, whitespace collapsed. The
 *   raw text stays available in `SlotResult.raw`.
 */
import { foldText, tokenize, type Token } from './text.js';

export interface SlotValue {
  readonly value: string | number;
  readonly unit?: string;
}

/**
 * Types whose value is a quantity: a lone number in them is a number
 * ("set it to seventy" → 70). Other types only become numbers when a unit says so
 * ("fifty percent"), because a bare "five" in a `time` slot is a clock time, not a count.
 */
const NUMERIC_TYPES: ReadonlySet<string> = new Set(['temperature', 'change_amount']);

/**
 * Words that may precede the number in a quantity span without changing it. The
 * datasets put the preposition inside `change_amount` ("to fifty percent", "by two levels").
 */
const LEAD_WORDS: ReadonlySet<string> = new Set([
  'to', 'by', 'at', 'of', 'about', 'around', 'approximately', 'roughly', 'level', 'up', 'down', 'plus', 'minus',
]);

type Unit = 'celsius' | 'fahrenheit' | 'degrees' | 'percent';

/** Unit words after the number. `c` / `f` count only right after the number or after a degree word or sign ("72f", "21 °c", "70 degrees f"). */
const UNIT_WORDS: Readonly<Record<string, Unit>> = {
  degree: 'degrees', degrees: 'degrees', '°': 'degrees', deg: 'degrees',
  celsius: 'celsius', centigrade: 'celsius', fahrenheit: 'fahrenheit',
  percent: 'percent', percentage: 'percent', '%': 'percent', pct: 'percent',
  // German, French, Spanish and Chinese unit words (issue 11).
  grad: 'degrees', degré: 'degrees', degrés: 'degrees', grado: 'degrees', grados: 'degrees', 度: 'degrees',
  prozent: 'percent', pourcent: 'percent', porciento: 'percent',
};
/** Two-word "per cent" in English, French and Spanish. */
const PER_CENT: ReadonlySet<string> = new Set(['per cent', 'pour cent', 'por ciento']);
const TRAILING_WORDS: ReadonlySet<string> = new Set(['levels', 'level', 'points', 'point', 'notches', 'notch', 'steps', 'step']);

/**
 * Folded text: NFKC, lower case, one space between words, no outer whitespace
 * or punctuation. Outer punctuation goes because tokens never include it, so a
 * tagged span cannot: the gold "u. s. d." and the tagged "u. s. d" are one value.
 * `%` and `°` stay (they are tokens).
 */
export function normalizeSlotText(raw: string): string {
  return foldText(raw)
    .replace(/\s+/g, ' ')
    .replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, (m) => m.replace(/[^%°]/g, ''))
    .trim();
}

/**
 * Reads "NUMBER [unit words]" after optional lead words; null when the span is
 * anything else (two numbers, words around the number, no number).
 */
function parseQuantity(raw: string): { value: number; unit?: Unit } | null {
  const toks = tokenize(raw);
  let i = 0;
  while (i < toks.length && !toks[i].isNumber && LEAD_WORDS.has(toks[i].norm)) i++;
  // Chinese says the percentage first: 百分之五十 = 50 %.
  const zhPercent = toks[i]?.norm === '百' && toks[i + 1]?.norm === '分' && toks[i + 2]?.norm === '之';
  if (zhPercent) i += 3;
  if (i >= toks.length || !toks[i].isNumber) return null;
  const value = Number(toks[i].norm);
  if (!Number.isFinite(value)) return null;
  i++;
  // "per cent" is two words.
  const rest: string[] = [];
  for (; i < toks.length; i++) {
    const w = toks[i].norm;
    if (toks[i + 1] && PER_CENT.has(`${w} ${toks[i + 1].norm}`)) {
      rest.push('percent');
      i++;
    } else {
      rest.push(w);
    }
  }
  let unit: Unit | undefined;
  let sawDegree = false;
  for (let k = 0; k < rest.length; k++) {
    const w = rest[k];
    const u = UNIT_WORDS[w];
    if (u === 'degrees') {
      sawDegree = true;
      unit ??= 'degrees';
    } else if (u) {
      unit = u; // celsius / fahrenheit / percent override a plain "degrees"
    } else if ((w === 'c' || w === 'f') && (sawDegree || k === 0)) {
      unit = w === 'c' ? 'celsius' : 'fahrenheit';
    } else if (!TRAILING_WORDS.has(w)) {
      return null;
    }
  }
  if (zhPercent) unit = 'percent';
  return unit ? { value, unit } : { value };
}

/**
 * The normalised value of a slot. Temperatures and amounts become numbers with
 * a unit when one is said; spans with an explicit percent or degree unit become
 * numbers in any slot type; everything else is folded text.
 */
export function normalizeSlotValue(type: string, raw: string): SlotValue {
  const q = parseQuantity(raw);
  if (q && (NUMERIC_TYPES.has(type) || q.unit !== undefined)) {
    return q.unit ? { value: q.value, unit: q.unit } : { value: q.value };
  }
  return { value: normalizeSlotText(raw) };
}

/** A string key for exact-match comparison of (type, value, unit). */
export function slotKey(type: string, v: SlotValue): string {
  return `${type}\u0000${typeof v.value}\u0000${v.value}\u0000${v.unit ?? ''}`;
}

/**
 * How many tokens after `last` spell the unit of a quantity ending at `last`
 * ("21 |°| |c|", "twenty |degrees| |celsius|", "50 |%|"): the tagger's span is
 * extended over them so the value gets its unit ("unit from context"). The
 * datasets' temperature and amount spans always include a unit said right
 * after the number, so this also matches the gold spans.
 */
export function unitTokensAfter(tokens: readonly Token[], last: number): number {
  if (!tokens[last]?.isNumber) return 0;
  let k = 0;
  let sawDegree = false;
  for (let i = last + 1; i < tokens.length; i++) {
    const w = tokens[i].norm;
    const u = UNIT_WORDS[w];
    if (u === 'degrees') sawDegree = true;
    else if (u) {
      // celsius / fahrenheit / percent
    } else if (tokens[i + 1] && PER_CENT.has(`${w} ${tokens[i + 1].norm}`)) {
      k += 2;
      break;
    } else if (!((w === 'c' || w === 'f') && (sawDegree || i === last + 1))) break;
    k++;
    if (u === 'percent' || w === 'c' || w === 'f' || u === 'celsius' || u === 'fahrenheit') break;
  }
  return k;
}
