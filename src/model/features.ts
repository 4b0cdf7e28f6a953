/**
 * Sentence → hashed feature ids: the one featurizer shared by the trainer and
 * the runtime classifier (STYLE: "training and inference share one featurizer").
 *
 * Features, all computed on the `norm` of `tokenize()` tokens:
 * - word unigrams (`w` namespace);
 * - word bigrams over the token *keys* (numbers become their shape, so "to 21
 *   degrees" and "to 72 degrees" share "to <num>" and "<num> degrees");
 * - character n-grams of each non-number word with `<` `>` boundary markers
 *   ("light" → "<li", "lig", …, "ht>"), which carry typos, plurals and
 *   ASR spellings ("weatherit") to known words;
 * - for number tokens, a shape feature (`<num>` plus the digit count), so "set
 *   it to 5" and "set it to 25" look alike.
 *
 * Hashing is FNV-1a over UTF-16 code units, 32 bits, into `buckets` ids. It is
 * allocation-free per n-gram: this runs on every utterance (pipeline p99 ≤ 1 ms).
 */
import { foldText, tokenize, type Token } from './text.js';

export interface FeaturizerSettings {
  /** Format tag; bump when the feature definition changes so old models refuse to load. */
  readonly kind: 'hashed-ngrams-v1';
  /** Size of the hash space; ids are in [0, buckets). */
  readonly buckets: number;
  /** 1 = word unigrams only, 2 = unigrams + bigrams. */
  readonly wordNgrams: 1 | 2;
  /** Character n-gram lengths [min, max] over `<word>`, or null for none. */
  readonly charNgrams: readonly [number, number] | null;
  /** Add a shape feature for number tokens. */
  readonly numberShape: boolean;
  /**
   * How many times each word-level feature (unigram, bigram, number shape) is
   * counted. Char n-grams outnumber words about 6 to 1, so without this they
   * dominate the average; 2 measured +0.4 points on slurp.devel.
   */
  readonly wordWeight: number;
  /**
   * Sentiment cues read from the raw text, which `tokenize()` drops: `!`, `?`,
   * `!!`, `?!`, ellipsis, the closing punctuation mark, ALL-CAPS words,
   * elongated words ("sooo", also as their squeezed unigram "soo"), emoticons
   * (":)", ":(", "<3" …) and emoji (the character and its class: laugh, happy,
   * love, sad, angry, …). Absent or false: off (the intent model, and manifests
   * written before this setting existed). Needs the raw text: see `featurizeTokens`.
   */
  readonly surface?: boolean;
  /**
   * Negation scope: each token after a negator (not, no, never, …n't, cannot,
   * without, …) up to the next clause punctuation mark of the raw text (or
   * "but") adds a negated copy of its unigram, so "not good" and "good" give
   * different evidence. Absent or false: off. Needs the raw text.
   */
  readonly negation?: boolean;
  /**
   * A word → valence lexicon shipped in the model directory (`file`): each
   * lexicon word adds a polarity-and-strength cue (`lex+2`, `lex-3`, …; sign
   * flipped inside a negation scope) and the sentence adds its bucketed total.
   * Absent: off. The runtime passes the loaded lexicon to `featurizeTokens`.
   */
  readonly lexicon?: LexiconSettings;
  /**
   * How many times each surface / negation / lexicon cue is counted (default:
   * `wordWeight`). A sentence has ~100 n-gram features and a few cues, and the
   * average divides by all of them.
   */
  readonly cueWeight?: number;
}

export interface LexiconSettings {
  /** File in the model directory: a JSON object word → valence. */
  readonly file: string;
  readonly entries: number;
  readonly source: string;
  readonly licence: string;
}

/** A loaded lexicon: normalised word → valence (VADER scale, −4 … 4). */
export type Lexicon = ReadonlyMap<string, number>;

/**
 * At most this many feature ids per text (duplicates counted), whatever its
 * length: with `MAX_TOKENS` (text.ts) it bounds the memory and time one input
 * can cost. The longest training text yields 1,490, so models are unaffected;
 * past the cap the remaining n-grams and cues are left out.
 */
export const MAX_FEATURES = 16384;

export const DEFAULT_FEATURIZER: FeaturizerSettings = {
  kind: 'hashed-ngrams-v1',
  buckets: 1 << 21,
  wordNgrams: 2,
  charNgrams: [3, 5],
  numberShape: true,
  wordWeight: 2,
};

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function fnvChar(h: number, c: number): number {
  return Math.imul(h ^ c, FNV_PRIME);
}

function fnvString(h: number, s: string): number {
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  return h;
}

// Namespace seeds: the same string in two feature families hashes differently.
const NS_WORD = fnvString(FNV_OFFSET, 'w\u0001');
const NS_BIGRAM = fnvString(FNV_OFFSET, 'b\u0001');
const NS_CHAR = fnvString(FNV_OFFSET, 'c\u0001');
const NS_SHAPE = fnvString(FNV_OFFSET, 's\u0001');
const NS_SURFACE = fnvString(FNV_OFFSET, 'p\u0001');
const NS_NEG = fnvString(FNV_OFFSET, 'n\u0001');
const NS_LEX = fnvString(FNV_OFFSET, 'l\u0001');
const LT = 0x3c; // '<'
const GT = 0x3e; // '>'
const SEP = 0x20;

/** The key a token contributes to bigrams: numbers collapse to their shape. */
function tokenKey(t: Token): string {
  return t.isNumber ? '<num>' : t.norm;
}

/** Validates settings read from a manifest; returns a list of problems (empty when fine). */
export function checkFeaturizerSettings(s: unknown): string[] {
  const errors: string[] = [];
  if (typeof s !== 'object' || s === null) return ['featurizer: must be an object'];
  const o = s as Record<string, unknown>;
  if (o.kind !== 'hashed-ngrams-v1') errors.push(`featurizer.kind: expected "hashed-ngrams-v1", got ${JSON.stringify(o.kind)}`);
  if (typeof o.buckets !== 'number' || !Number.isInteger(o.buckets) || o.buckets < 1 || o.buckets > 2 ** 32) {
    errors.push('featurizer.buckets: must be an integer in [1, 2^32]');
  }
  if (o.wordNgrams !== 1 && o.wordNgrams !== 2) errors.push('featurizer.wordNgrams: must be 1 or 2');
  if (o.charNgrams !== null) {
    const c = o.charNgrams;
    if (!Array.isArray(c) || c.length !== 2 || !c.every((x) => Number.isInteger(x) && x >= 1) || c[0] > c[1]) {
      errors.push('featurizer.charNgrams: must be null or [min, max] with 1 ≤ min ≤ max');
    }
  }
  if (typeof o.numberShape !== 'boolean') errors.push('featurizer.numberShape: must be true or false');
  if (typeof o.wordWeight !== 'number' || !Number.isInteger(o.wordWeight) || o.wordWeight < 1 || o.wordWeight > 8) {
    errors.push('featurizer.wordWeight: must be an integer in [1, 8]');
  }
  for (const k of ['surface', 'negation'] as const) {
    if (o[k] !== undefined && typeof o[k] !== 'boolean') errors.push(`featurizer.${k}: must be true or false when present`);
  }
  if (o.cueWeight !== undefined && (typeof o.cueWeight !== 'number' || !Number.isInteger(o.cueWeight) || o.cueWeight < 1 || o.cueWeight > 16)) {
    errors.push('featurizer.cueWeight: when present must be an integer in [1, 16]');
  }
  if (o.lexicon !== undefined) {
    const l = o.lexicon as Record<string, unknown> | null;
    if (typeof l !== 'object' || l === null || typeof l.file !== 'string' || !l.file || typeof l.entries !== 'number' || typeof l.source !== 'string' || typeof l.licence !== 'string') {
      errors.push('featurizer.lexicon: when present must be {file, entries, source, licence}');
    }
  }
  return errors;
}

/**
 * Computes the hashed feature ids of a tokenised sentence. Duplicates are kept
 * (a repeated n-gram weighs more in the average, as in fastText). The result
 * is a fresh array the caller owns.
 */
export function featurizeTokens(tokens: readonly Token[], s: FeaturizerSettings, text?: string, lexicon?: Lexicon): Uint32Array {
  featurizeIntoBuffer(tokens, s, text, lexicon);
  return buf.slice(0, len);
}

/** `featurizeTokens` into the shared buffer: its ids are then `buf[0 … len)`, valid until the next call. */
function featurizeIntoBuffer(tokens: readonly Token[], s: FeaturizerSettings, text?: string, lexicon?: Lexicon): void {
  if ((s.surface || s.negation || s.lexicon) && text === undefined) {
    throw new Error('featurizer: the surface / negation / lexicon settings read the raw text, which tokens alone do not carry; pass the sentence too: featurizeTokens(tokens, settings, text)');
  }
  if (s.lexicon && !lexicon) {
    throw new Error(`featurizer: the settings name a lexicon (${s.lexicon.file}) but none was passed; load it from the model directory (TextClassifier does)`);
  }
  len = 0;
  ngramFeatures(tokens, s);
  if (text !== undefined && (s.surface || s.negation || s.lexicon)) {
    const buckets = s.buckets;
    const cw = s.cueWeight ?? s.wordWeight;
    const pushCue = (h: number): void => putRepeated((h >>> 0) % buckets, cw);
    if (s.surface && len < MAX_FEATURES) {
      const ww = s.wordWeight;
      surfaceFeatures(text, tokens, (name) => pushCue(fnvString(NS_SURFACE, name)), (word) => putRepeated((fnvString(NS_WORD, word) >>> 0) % buckets, ww), more);
    }
    if (s.negation) negatedTokens(text, tokens, (t) => pushCue(fnvString(NS_NEG, tokenKey(t))));
    if (s.lexicon && lexicon) lexiconFeatures(text, tokens, lexicon, (name) => pushCue(fnvString(NS_LEX, name)));
  }
}

// Where featurizeTokens writes: one buffer reused by every call (featurizing is synchronous, so calls never
// interleave), grown up to MAX_FEATURES and copied out at the end. A number[] grown by push and converted with
// Uint32Array.from cost more than the hashing (issue 10, CPU per message).
let buf = new Uint32Array(1024);
let len = 0;

function more(): boolean {
  return len < MAX_FEATURES;
}

/** Appends `id` `times` times, within MAX_FEATURES. */
function putRepeated(id: number, times: number): void {
  for (let k = 0; k < times && len < MAX_FEATURES; k++) {
    if (len === buf.length) {
      const bigger = new Uint32Array(Math.min(MAX_FEATURES, buf.length * 2));
      bigger.set(buf);
      buf = bigger;
    }
    buf[len++] = id;
  }
}

const SHAPE_NUM = fnvString(NS_SHAPE, '<num>');
/** The number-shape hashes of "1" … "5" (digit counts, capped) and "dec". */
const SHAPE_DIGITS = ['', '1', '2', '3', '4', '5'].map((d) => fnvString(NS_SHAPE, d));
const SHAPE_DEC = fnvString(NS_SHAPE, 'dec');
const NUM_KEY = '<num>';

/** The word-level and char n-gram features of the tokens (everything but the raw-text cues), appended to `buf`. */
function ngramFeatures(tokens: readonly Token[], s: FeaturizerSettings): void {
  const buckets = s.buckets;
  const ww = s.wordWeight;
  const cMin = s.charNgrams ? s.charNgrams[0] : 0;
  const cMax = s.charNgrams ? s.charNgrams[1] : -1;
  const bigrams = s.wordNgrams >= 2;
  // The bigram hash of the previous token's key and the separator: the start of this token's bigram.
  let head = 0;
  for (let t = 0; t < tokens.length && len < MAX_FEATURES; t++) {
    const tok = tokens[t];
    const norm = tok.norm;
    putRepeated((fnvString(NS_WORD, norm) >>> 0) % buckets, ww);
    if (tok.isNumber) {
      if (s.numberShape) {
        putRepeated((SHAPE_NUM >>> 0) % buckets, ww);
        const shape = norm.indexOf('.') >= 0 ? SHAPE_DEC : SHAPE_DIGITS[Math.min(norm.length, 5)];
        putRepeated((shape >>> 0) % buckets, ww);
      }
    } else if (cMax > 0) {
      // Char n-grams of "<norm>" without building the padded string.
      const wlen = norm.length + 2;
      for (let i = 0; i < wlen && len < MAX_FEATURES; i++) {
        let h = NS_CHAR;
        for (let n = 1; n <= cMax && i + n <= wlen; n++) {
          const k = i + n - 1;
          const c = k === 0 ? LT : k === wlen - 1 ? GT : norm.charCodeAt(k - 1);
          h = Math.imul(h ^ c, FNV_PRIME);
          // n = wlen is the whole word: the unigram covers it.
          if (n >= cMin && n < wlen && len < MAX_FEATURES) putRepeated((h >>> 0) % buckets, 1);
        }
      }
    }
    if (bigrams) {
      const key = tok.isNumber ? NUM_KEY : norm;
      if (t > 0) putRepeated((fnvString(head, key) >>> 0) % buckets, ww);
      head = fnvChar(fnvString(NS_BIGRAM, key), SEP);
    }
  }
}

/** `featurizeTokens(tokenize(text), s, text, lexicon)`. */
export function featurize(text: string, s: FeaturizerSettings, lexicon?: Lexicon): Uint32Array {
  return featurizeTokens(tokenize(text), s, text, lexicon);
}

// --- Raw-text sentiment cues (settings `surface` and `negation`) -------------

const EMOJI_CLASSES: readonly (readonly [string, string])[] = [
  ['laugh', '😂🤣😹😆😅😁😄😃😀😸😺'],
  ['happy', '😊🙂☺😌😇🥳😎😋😛😜😝🤪😉🤗🎉🎊✨🌟⭐💯🙌👏👍👌✌🤩😻🔥💪🙏'],
  ['love', '❤♥💕💖💗💓💞💘💝💙💚💛💜🧡🖤🤍🤎😍🥰😘😙😚💋🌹'],
  ['sad', '😢😭😞😔😟😥😓😪🥺☹🙁😿💔😕😩😫😣😖'],
  ['angry', '😠😡🤬😤👎🖕💢😒🙄😑😐😶🤨'],
  ['fear', '😨😰😱😬😳🤯😧😦😮😯'],
  ['sick', '🤢🤮😷🤒🤕💩💀☠'],
];
const EMOJI_CLASS = new Map<number, string>();
for (const [cls, chars] of EMOJI_CLASSES) for (const ch of chars) EMOJI_CLASS.set(ch.codePointAt(0)!, cls);

const EMOJI_RE = /\p{Extended_Pictographic}/gu;
/** Text emoticons, not inside numbers ("10:30"), words or URLs ("http://"). */
const EMOTICON_POS_RE = /(?<![\p{L}\p{N}])(?:[:;=8][-'^o]?[)\]}dDpP3*]|[xX][dD]|\^[_.-]?\^|<3)(?![\p{L}\p{N}/])/gu;
const EMOTICON_NEG_RE = /(?<![\p{L}\p{N}])(?:[:;=][-'^o]?[(\[{|\\/]|>[:;][-']?\(|D[-']?[:;=]|<\/3|[tT]_[tT]|;_;)(?![\p{L}\p{N}/])/gu;
const ELONGATED_RE = /(\p{L})\1\1/u;
const SQUEEZE_RE = /(\p{L})\1{2,}/gu;

/**
 * `ELONGATED_RE.test(word)` (a letter three times in a row), run only where it can match: three equal UTF-16 units
 * in a row, or a surrogate (an astral letter's repeat is not three equal units). Most words have neither, and the
 * regex cost more than the rest of a token's cues (issue 10).
 */
function isElongated(word: string): boolean {
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    if ((c >= 0xd800 && c <= 0xdfff) || (i >= 2 && c === word.charCodeAt(i - 1) && c === word.charCodeAt(i - 2))) return ELONGATED_RE.test(word);
  }
  return false;
}

/**
 * Whether `raw = text.slice(start, end)` is an ALL-CAPS word: `raw.length >= 2 && raw === raw.toUpperCase() &&
 * raw !== raw.toLowerCase()`. ASCII is decided by code (an a–z fails at once, an A–Z is needed), without the slice
 * and the two case conversions; anything else is decided as written.
 */
function isCaps(text: string, start: number, end: number): boolean {
  if (end - start < 2) return false;
  let upper = false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x80) {
      const raw = text.slice(start, end);
      return raw === raw.toUpperCase() && raw !== raw.toLowerCase();
    }
    if (c >= 0x61 && c <= 0x7a) return false;
    if (c >= 0x41 && c <= 0x5a) upper = true;
  }
  return upper;
}

/**
 * Emits the raw-text cues of a sentence (see `FeaturizerSettings.surface`):
 * `cue` for named cues, `word` for the squeezed form of an elongated word
 * (hashed like a unigram, so "goood" shares evidence with "good").
 */
export function surfaceFeatures(
  text: string,
  tokens: readonly Token[],
  cue: (name: string) => void,
  word: (norm: string) => void,
  more: () => boolean = () => true,
): void {
  let excl = 0;
  let quest = 0;
  let ascii = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x21) excl++;
    else if (c === 0x3f) quest++;
    else if (c >= 0x80) ascii = false;
  }
  if (excl > 0) cue('!');
  if (excl > 1) cue(text.includes('!!') ? '!!' : '!+');
  if (quest > 0) cue('?');
  if (quest > 1) cue(text.includes('??') ? '??' : '?+');
  if (excl > 0 && quest > 0 && /\?!|!\?/.test(text)) cue('?!');
  if (text.includes('...') || text.includes('…')) cue('...');
  const end = text.trimEnd();
  const last = end.length ? end[end.length - 1] : '';
  cue(last === '!' || last === '?' || last === '.' ? `end${last}` : 'end');
  for (const t of tokens) {
    if (!more()) return;
    if (t.isNumber) continue;
    if (isCaps(text, t.start, t.end)) cue('caps');
    if (isElongated(t.norm)) {
      cue('elong');
      word(t.norm.replace(SQUEEZE_RE, '$1$1'));
    }
  }
  // The match loops stop once the feature budget is spent: 100,000 emoji must not cost 200,000 cues.
  for (const m of text.matchAll(EMOTICON_POS_RE)) {
    if (!more()) return;
    cue('emo+');
    cue(`emo+${m[0].toLowerCase()}`);
  }
  for (const m of text.matchAll(EMOTICON_NEG_RE)) {
    if (!more()) return;
    cue('emo-');
    cue(`emo-${m[0].toLowerCase()}`);
  }
  // No ASCII character is Extended_Pictographic: an ASCII text has no emoji to look for.
  if (ascii) return;
  for (const m of text.matchAll(EMOJI_RE)) {
    if (!more()) return;
    cue(`emoji ${m[0]}`);
    cue(`emoji-class ${EMOJI_CLASS.get(m[0].codePointAt(0)!) ?? 'other'}`);
  }
}

const NEGATORS = new Set([
  'not', 'no', 'never', 'nothing', 'nobody', 'none', 'nowhere', 'neither', 'nor', 'cannot', 'without', 'hardly', 'barely', 'nope', 'nah',
  'dont', 'doesnt', 'didnt', 'isnt', 'arent', 'wasnt', 'werent', 'cant', 'couldnt', 'wont', 'wouldnt', 'shouldnt', 'aint', 'havent', 'hasnt', 'hadnt',
]);
/** `/[.,!?;:()[\]"…]/` (SCOPE_BREAK_RE before issue 10) as code units: tested on the gap between two tokens without slicing it. */
const SCOPE_BREAK = new Set([...'.,!?;:()[]"…'].map((c) => c.charCodeAt(0)));

function hasScopeBreak(text: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (SCOPE_BREAK.has(text.charCodeAt(i))) return true;
  return false;
}
const SCOPE_BREAK_WORDS = new Set(['but', 'however', 'although', 'though', 'yet']);

function isNegator(norm: string): boolean {
  return NEGATORS.has(norm) || norm.endsWith("n't");
}

/** Emits every token inside a negation scope (see `FeaturizerSettings.negation`). */
export function negatedTokens(text: string, tokens: readonly Token[], emit: (t: Token, index: number) => void): void {
  let inScope = false;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (i > 0 && hasScopeBreak(text, tokens[i - 1].end, t.start)) inScope = false;
    if (SCOPE_BREAK_WORDS.has(t.norm)) inScope = false;
    else if (inScope) emit(t, i);
    if (isNegator(t.norm)) inScope = true;
  }
}

function lexBucket(v: number): string {
  const a = Math.abs(v);
  return `${v > 0 ? '+' : '-'}${a < 1.25 ? 1 : a < 2.25 ? 2 : 3}`;
}

/**
 * Emits the lexicon cues of a sentence (see `FeaturizerSettings.lexicon`): one
 * per lexicon word (its valence bucket, flipped inside a negation scope), and
 * the bucketed sum, or `none` when no word is in the lexicon.
 */
export function lexiconFeatures(text: string, tokens: readonly Token[], lexicon: Lexicon, cue: (name: string) => void): void {
  const negated = new Set<number>();
  negatedTokens(text, tokens, (_t, i) => negated.add(i));
  let sum = 0;
  let pos = 0;
  let neg = 0;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.isNumber) continue;
    let v = lexicon.get(t.norm);
    if (v === undefined && isElongated(t.norm)) v = lexicon.get(t.norm.replace(SQUEEZE_RE, '$1'));
    if (v === undefined || v === 0) continue;
    if (negated.has(i)) v = -v;
    cue(`lex${lexBucket(v)}`);
    sum += v;
    if (v > 0) pos++;
    else neg++;
  }
  if (pos === 0 && neg === 0) cue('lex none');
  else {
    cue(sum === 0 ? 'lexsum 0' : `lexsum${sum > 0 ? '+' : '-'}${Math.abs(sum) < 1 ? 1 : Math.abs(sum) < 2.5 ? 2 : Math.abs(sum) < 4.5 ? 3 : 4}`);
    if (pos > 0 && neg > 0) cue('lex mixed');
  }
}

/** Parses VADER's `vader_lexicon.txt` (token TAB mean TAB sd TAB ratings) into word entries. */
export function parseVaderLexicon(txt: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of txt.split('\n')) {
    const [word, mean] = line.split('\t');
    if (!word || mean === undefined) continue;
    // Words only: emoticons are the surface cues' job, and tokenize() would split them anyway.
    const toks = tokenize(word);
    if (toks.length !== 1 || toks[0].isNumber || toks[0].norm !== foldText(word)) continue;
    const v = Number(mean);
    if (Number.isFinite(v) && v !== 0) out.set(toks[0].norm, v);
  }
  return out;
}

/**
 * Maps hashed ids to the compact rows a pruned model keeps. Ids the model does
 * not know are dropped: they carried no signal at training time.
 *
 * Stored in a model directory as a little-endian Uint32 array of the kept
 * hashed ids, in row order (row i ↔ ids[i]).
 */
export class FeatureRemap {
  /**
   * The ids in ascending order (with a bucket table over them) and each one's row: about 8.5 bytes a feature, looked
   * up by a short search. A `Map` of the same ids cost about 40 bytes a feature (ids above 2^30 are heap numbers):
   * 16 MB for the 400,000-row sentiment model alone (issue 10).
   */
  private readonly sorted: SortedIds;
  /** Null when `ids` is already ascending (what the trainer writes): the row of the i-th sorted id is then i, and no copy or sort is needed. */
  private readonly sortedRows: Int32Array | null;

  constructor(readonly ids: Uint32Array) {
    if (strictlyAscending(ids)) {
      // Saves the sort (about 50 ms of a start for the 400,000-row sentiment model) and 3.2 MB (issue 10).
      this.sorted = new SortedIds(ids);
      this.sortedRows = null;
    } else {
      const { keys, rows } = sortedIndex(ids, 'feature remap');
      this.sorted = new SortedIds(keys);
      this.sortedRows = rows;
    }
  }

  /** The row of a hashed id, or -1 when the model does not know it. */
  row(id: number): number {
    const i = this.sorted.indexOf(id);
    return i < 0 ? -1 : this.sortedRows ? this.sortedRows[i] : i;
  }

  get size(): number {
    return this.ids.length;
  }

  /** Compact rows of the known ids (the first `length` of `hashed`), in input order; unknown ids are dropped. */
  rows(hashed: Uint32Array, length = hashed.length): Int32Array {
    const out = new Int32Array(length);
    let n = 0;
    const sorted = this.sorted;
    const sortedRows = this.sortedRows;
    // Word-level features come `wordWeight` times in a row: the same id is looked up once (each lookup is a cache
    // miss or two in a table of up to 1.6 MB, issue 10).
    let prevId = -1;
    let prevIndex = -1;
    for (let i = 0; i < length; i++) {
      const id = hashed[i];
      const j = id === prevId ? prevIndex : sorted.indexOf(id);
      prevId = id;
      prevIndex = j;
      if (j >= 0) out[n++] = sortedRows ? sortedRows[j] : j;
    }
    return out.subarray(0, n);
  }

  toBytes(): Uint8Array {
    const buf = new Uint8Array(this.ids.length * 4);
    const dv = new DataView(buf.buffer);
    for (let i = 0; i < this.ids.length; i++) dv.setUint32(i * 4, this.ids[i], true);
    return buf;
  }

  static fromBytes(bytes: Uint8Array, what = 'feature remap'): FeatureRemap {
    if (bytes.length % 4 !== 0) throw new Error(`${what}: ${bytes.length} bytes is not a whole number of uint32 ids; the file is truncated, retrain or re-export the model`);
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const ids = new Uint32Array(bytes.length / 4);
    for (let i = 0; i < ids.length; i++) ids[i] = dv.getUint32(i * 4, true);
    return new FeatureRemap(ids);
  }
}

/** Model input for one sentence. */
export interface EncodedText {
  /** Compact rows of the features the model knows, in sentence order. */
  readonly rows: Int32Array;
  /**
   * How many features the sentence had, known or not: the average divides by
   * this, so features a model never saw count as zero vectors. Gibberish then
   * lands near the bias-only output (low confidence) instead of being judged
   * on the one char n-gram it happens to share with the training data.
   */
  readonly count: number;
}

/**
 * Tokens → model input: the exact function both the trainer (once it has
 * chosen its rows) and the runtime classifier call.
 */
export function encodeTokens(tokens: readonly Token[], s: FeaturizerSettings, remap: FeatureRemap, text?: string, lexicon?: Lexicon): EncodedText {
  // featurizeTokens' ids read where they are written: no copy, they are dropped after this.
  featurizeIntoBuffer(tokens, s, text, lexicon);
  return { rows: remap.rows(buf, len), count: len };
}

/**
 * `ids` sorted ascending, with each id's position in `ids`. Throws if an id appears twice. Sorting packs
 * id and position into one float64 (id × 2^21 + position; exact below 2^53) so the native typed-array sort does it.
 */
export function sortedIndex(ids: Uint32Array, what: string): { keys: Uint32Array; rows: Int32Array } {
  const SHIFT = 2 ** 21;
  if (ids.length >= SHIFT) throw new Error(`${what}: ${ids.length} rows is more than this runtime indexes (${SHIFT - 1})`);
  const packed = new Float64Array(ids.length);
  for (let i = 0; i < ids.length; i++) packed[i] = ids[i] * SHIFT + i;
  packed.sort();
  const keys = new Uint32Array(ids.length);
  const rows = new Int32Array(ids.length);
  for (let i = 0; i < packed.length; i++) {
    const v = packed[i];
    const row = v % SHIFT;
    keys[i] = (v - row) / SHIFT;
    rows[i] = row;
    if (i > 0 && keys[i] === keys[i - 1]) throw new Error(`${what}: hashed id ${keys[i]} appears twice (rows ${rows[i - 1]} and ${row})`);
  }
  return { keys, rows };
}

/** Whether every id is greater than the one before (no duplicates). */
function strictlyAscending(ids: Uint32Array): boolean {
  for (let i = 1; i < ids.length; i++) if (ids[i] <= ids[i - 1]) return false;
  return true;
}

/** Index of `id` in the ascending `keys` (between `lo` and `hi`, inclusive, when given), or -1. */
export function findSorted(keys: Uint32Array, id: number, lo = 0, hi = keys.length - 1): number {
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const k = keys[mid];
    if (k < id) lo = mid + 1;
    else if (k > id) hi = mid - 1;
    else return mid;
  }
  return -1;
}

/**
 * Strictly ascending uint32 keys and a table of where each bucket of their top bits starts, so a lookup searches a
 * bucket of about 8–16 keys instead of all of them: hashed feature ids are spread evenly, and a binary search of a
 * model's 34,000–400,000 ids (15–19 unpredictable steps, each a cache miss) was the largest share of featurizing
 * (issue 10, CPU per message). The table costs about half a byte a key.
 */
export class SortedIds {
  private readonly starts: Uint32Array;
  private readonly shift: number;
  private readonly buckets: number;

  /** `keys` must be strictly ascending (it is not copied). */
  constructor(readonly keys: Uint32Array) {
    const n = keys.length;
    const max = n > 0 ? keys[n - 1] : 0;
    const bits = 32 - Math.clz32(max);
    const tableBits = Math.floor(Math.log2(Math.max(1, n / 8)));
    this.shift = Math.min(31, Math.max(0, bits - tableBits));
    this.buckets = Math.floor(max / 2 ** this.shift) + 1;
    const starts = new Uint32Array(this.buckets + 1);
    let k = 0;
    for (let b = 0; b <= this.buckets; b++) {
      while (k < n && keys[k] >>> this.shift < b) k++;
      starts[b] = k;
    }
    this.starts = starts;
  }

  /** Index of `id` in the keys, or -1 (what `findSorted(keys, id)` returns). */
  indexOf(id: number): number {
    const b = id >>> this.shift;
    if (b >= this.buckets) return -1;
    return findSorted(this.keys, id, this.starts[b], this.starts[b + 1] - 1);
  }
}
