/**
 * Text normalisation and tokenisation shared by training and inference.
 *
 * Every model input in hubnlu is derived from `tokenize()`: the trainer and the
 * runtime featurizer call the same function, so a sentence seen at training time
 * and the same sentence arriving over MQTT produce identical features.
 *
 * What it does, and why:
 * - NFKC + lower case + curly quotes folded: speech-to-text engines and phone
 *   keyboards disagree on Unicode forms (OHF-Voice/hassil#143: punctuation
 *   inserted by STT changes the match).
 * - Punctuation is dropped; only letters, digits, apostrophes inside words, `%`
 *   and `°` survive as tokens.
 * - Spelled-out numbers become digits ("twenty one degrees" and "21 degrees"
 *   yield the same tokens), with the merged token spanning the original words so
 *   slot offsets still point into the raw text.
 * - Chinese (issue 11), written without spaces: every Han character is its own
 *   token (the featurizer's word bigrams become character bigrams, and the slot
 *   tagger labels characters), and a run of Chinese numerals becomes one number
 *   token ("二十一度" → "21", "度"; 两 → 2). Full-width digits, letters and
 *   `％` fold through NFKC. Text without Han characters tokenises exactly as before.
 */
import { parseChineseNumber } from './zh-numbers.js';

/**
 * Caps that bound the work one text can cause, whatever `input.maxTextChars`
 * allows: `tokenize()` stops after `MAX_TOKENS` tokens, and a token's `norm`
 * keeps at most `MAX_TOKEN_CHARS` characters (its offsets still span the whole
 * word). Every featurizer and the slot tagger read these tokens, so their cost
 * is bounded too. Both sit far above any training text (the longest has 142
 * tokens; the longest word 633 characters, a run of letters in GoEmotions), so
 * training output is unchanged; a longer text is understood from its first 256
 * tokens.
 */
export const MAX_TOKENS = 256;
export const MAX_TOKEN_CHARS = 1024;

export interface Token {
  /** Normalised form used for features ("21" for "twenty one"). */
  readonly norm: string;
  /** Character offset into the original text, inclusive. */
  readonly start: number;
  /** Character offset into the original text, exclusive. */
  readonly end: number;
  /** True when the token is a number (digits, or number words merged into digits). */
  readonly isNumber: boolean;
}

/** Number words by kind. Null-prototype objects: `in` finds only these words, not Object.prototype's ("constructor"). */
const wordTable = (words: Record<string, number>): Record<string, number> => Object.assign(Object.create(null) as Record<string, number>, words);
const UNITS: Record<string, number> = wordTable({
  zero: 0, oh: 0, one: 1, two: 2, three: 3, four: 4, five: 5, six: 6, seven: 7, eight: 8, nine: 9,
  ten: 10, eleven: 11, twelve: 12, thirteen: 13, fourteen: 14, fifteen: 15, sixteen: 16,
  seventeen: 17, eighteen: 18, nineteen: 19,
});
const TENS: Record<string, number> = wordTable({
  twenty: 20, thirty: 30, forty: 40, fourty: 40, fifty: 50, sixty: 60, seventy: 70, eighty: 80, ninety: 90,
});
const SCALES: Record<string, number> = wordTable({ hundred: 100, thousand: 1000, million: 1_000_000 });

/** Word characters, with apostrophes inside words ("don't", "o'clock"), or a decimal number, or % / °. */
const TOKEN_RE = /\d+(?:[.,]\d+)?|[\p{L}\p{M}\p{N}]+(?:['’][\p{L}\p{M}\p{N}]+)*|[%°％]/gu;

const HAN_RE = /\p{Script=Han}/u;

/** False when `word` has no Han character for certain: every Han code point is at U+2E80 or above (or a surrogate pair). */
function mayHaveHan(word: string): boolean {
  for (let i = 0; i < word.length; i++) if (word.charCodeAt(i) >= 0x2e80) return true;
  return false;
}
/** A Han character, or a run of anything else, inside one regex match. */
const HAN_SPLIT_RE = /\p{Script=Han}|[^\p{Script=Han}]+/gu;

/** Lower-cases and folds Unicode forms; keeps the string length stable where it can. */
export function foldText(text: string): string {
  // ASCII without a backtick (almost every token): NFKC leaves it as it is and there is nothing to replace, so only
  // the lower-casing is left (a fifth of the cost; tokenize folds every token, issue 10).
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7f || c === 0x60) return text.normalize('NFKC').toLowerCase().replace(/[’‘`´]/g, "'");
  }
  return text.toLowerCase();
}

interface RawToken { word: string; start: number; end: number }

/** The first MAX_TOKEN_CHARS UTF-16 units of a word, not splitting a surrogate pair. */
function capChars(word: string): string {
  if (word.length <= MAX_TOKEN_CHARS) return word;
  const high = word.charCodeAt(MAX_TOKEN_CHARS - 1);
  return word.slice(0, high >= 0xd800 && high <= 0xdbff ? MAX_TOKEN_CHARS - 1 : MAX_TOKEN_CHARS);
}

function rawTokens(text: string): RawToken[] {
  const out: RawToken[] = [];
  // Offsets must refer to the caller's string; NFKC can change lengths, so the
  // regex runs on the original string and only each match is folded.
  for (const m of text.matchAll(TOKEN_RE)) {
    const start = m.index ?? 0;
    if (mayHaveHan(m[0]) && HAN_RE.test(m[0])) {
      for (const part of m[0].matchAll(HAN_SPLIT_RE)) {
        const s = start + (part.index ?? 0);
        out.push({ word: foldText(capChars(part[0])), start: s, end: s + part[0].length });
        if (out.length >= MAX_TOKENS) break;
      }
      if (out.length >= MAX_TOKENS) break;
      continue;
    }
    out.push({ word: foldText(capChars(m[0])), start, end: start + m[0].length });
    if (out.length >= MAX_TOKENS) break;
  }
  return out;
}

/** Every key of UNITS, TENS and SCALES: one Set lookup instead of three `in` tests of an unhashed string. */
const NUMBER_WORDS = new Set([...Object.keys(UNITS), ...Object.keys(TENS), ...Object.keys(SCALES)]);

function isNumberWord(word: string): boolean {
  return NUMBER_WORDS.has(word);
}

/**
 * Parses a run of number words starting at `i`; returns the value and how many
 * tokens it used, or null when the run is not a number. "oh" alone is not a number
 * ("oh no"), nor is "a hundred" (left to the model).
 */
function parseNumberWords(tokens: RawToken[], i: number): { value: number; used: number } | null {
  let total = 0;
  let current = 0;
  let used = 0;
  let sawDigitWord = false;
  let lastKind: 'unit' | 'tens' | 'scale' | 'and' | null = null;
  for (let j = i; j < tokens.length; j++) {
    const w = tokens[j].word;
    if (w === 'and' && lastKind === 'scale' && j + 1 < tokens.length && isNumberWord(tokens[j + 1].word) && !(tokens[j + 1].word in SCALES)) {
      lastKind = 'and';
      used++;
      continue;
    }
    if (w in UNITS) {
      if (w === 'oh' && !sawDigitWord) break;
      if (lastKind === 'unit') break; // "one two" is two numbers
      current += UNITS[w];
      lastKind = 'unit';
    } else if (w in TENS) {
      if (lastKind === 'unit' || lastKind === 'tens') break;
      current += TENS[w];
      lastKind = 'tens';
    } else if (w in SCALES) {
      if (!sawDigitWord) break;
      const scale = SCALES[w];
      if (scale === 100) {
        current = (current === 0 ? 1 : current) * 100;
      } else {
        total += (current === 0 ? 1 : current) * scale;
        current = 0;
      }
      lastKind = 'scale';
    } else {
      break;
    }
    sawDigitWord = true;
    used++;
  }
  if (lastKind === 'and') used--; // a trailing "and" is not part of the number
  if (!sawDigitWord || used === 0) return null;
  return { value: total + current, used };
}

const ZH_NUMERAL_CHAR = /^[零〇一二两三四五六七八九十百千万]$/u;

/**
 * The longest run of adjacent Chinese numeral characters from `i` that parses
 * as one number ("二十一", "一百零五"), or null.
 */
function parseChineseRun(tokens: RawToken[], i: number): { value: number; used: number } | null {
  let j = i;
  while (j < tokens.length && ZH_NUMERAL_CHAR.test(tokens[j].word) && (j === i || tokens[j].start === tokens[j - 1].end)) j++;
  for (let n = j - i; n > 0; n--) {
    const value = parseChineseNumber(tokens.slice(i, i + n).map((t) => t.word).join(''));
    if (value !== null) return { value, used: n };
  }
  return null;
}

/** Splits `text` into normalised tokens with offsets into the original string. */
export function tokenize(text: string): Token[] {
  const raw = rawTokens(text);
  const out: Token[] = [];
  for (let i = 0; i < raw.length; ) {
    const t = raw[i];
    const first = t.word.charCodeAt(0);
    if (first >= 0x30 && first <= 0x39) {
      out.push({ norm: t.word.replace(',', '.'), start: t.start, end: t.end, isNumber: true });
      i++;
      continue;
    }
    // The numerals are single BMP characters: a longer word is none of them (no regex run for it).
    const zh = t.word.length === 1 && ZH_NUMERAL_CHAR.test(t.word) ? parseChineseRun(raw, i) : null;
    if (zh) {
      const last = raw[i + zh.used - 1];
      out.push({ norm: String(zh.value), start: t.start, end: last.end, isNumber: true });
      i += zh.used;
      continue;
    }
    const parsed = isNumberWord(t.word) ? parseNumberWords(raw, i) : null;
    if (parsed) {
      const last = raw[i + parsed.used - 1];
      out.push({ norm: String(parsed.value), start: t.start, end: last.end, isNumber: true });
      i += parsed.used;
      continue;
    }
    out.push({ norm: t.word, start: t.start, end: t.end, isNumber: false });
    i++;
  }
  return out;
}

/** The normalised sentence: tokens joined by single spaces. Empty when nothing meaningful is left. */
export function normalizeText(text: string): string {
  return tokenize(text).map((t) => t.norm).join(' ');
}
