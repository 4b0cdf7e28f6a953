/**
 * Per-token features of the slot tagger: the one module that turns tokens into
 * feature ids, called by the trainer (`src/train/tagger.ts`) and by the runtime
 * (`SlotTagger`), so both see identical ids (STYLE 8; tested in
 * test/model/slot-features.test.ts).
 *
 * Each token gets up to `maxFeatures` hashed ids in [1, buckets] (0 = padding):
 * the word, its neighbours (±window), word bigrams around it, prefixes and
 * suffixes, a word shape, and the sentence's intent (alone and with the word),
 * which tells "play *adele*" (artist) from "wake me at *six*" (time).
 *
 * Hashing is FNV-1a over UTF-16 code units, fed string by string with a
 * template number first, so no feature string is ever built on the hot path.
 */
import type { Token } from './text.js';
import { SortedIds } from './features.js';

/** Appends `v` (a non-negative integer) to `bytes` as a LEB128 varint. */
function pushVarint(bytes: number[], v: number): void {
  while (v >= 0x80) {
    bytes.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
}

/** Reads LEB128 varints from `bytes`; `pos` is where the next byte is. Running out throws `truncated` as the message. */
class VarintReader {
  pos = 0;
  constructor(
    private readonly bytes: Uint8Array,
    private readonly truncated: string,
  ) {}

  varint(): number {
    let v = 0;
    let mul = 1;
    for (;;) {
      if (this.pos >= this.bytes.length) throw new Error(this.truncated);
      const b = this.bytes[this.pos++];
      v += (b & 0x7f) * mul;
      if (b < 0x80) return v;
      mul *= 128;
    }
  }
}

export interface SlotFeaturizerSettings {
  /** Bumped when the feature templates change; a model trained with another version is refused. */
  readonly version: number;
  readonly hash: 'fnv1a32';
  /** Hashed ids fall in [1, buckets]; 0 is the padding id. */
  readonly buckets: number;
  /** Feature slots per token (the model input is [tokens, maxFeatures]). */
  readonly maxFeatures: number;
  /** Neighbour words on each side. */
  readonly window: number;
  readonly prefixes: readonly number[];
  readonly suffixes: readonly number[];
  /** Whether the sentence's intent is a feature. */
  readonly intent: boolean;
  /**
   * Whether the intent's scenario (the part before `_`: `iot`, `calendar`, …) is a
   * feature too: it survives the classifier's within-scenario confusions.
   */
  readonly scenario: boolean;
  /**
   * Distributional word classes (issue 13): the class of the word at each granularity of the shipped class
   * table, of its neighbours at ±1 (coarsest granularity) and of the word with the intent; words missing from
   * the table share one `rare` class. Absent: off (every model before this setting). The caller passes the
   * loaded table to `slotFeatureIds`.
   */
  readonly wordClasses?: {
    readonly file: string;
    readonly granularities: number;
    /** The granularity whose class is also paired with the intent (-1: none). */
    readonly intentGranularity: number;
    /** Class bigrams (w-1, w) and (w, w+1) at the coarsest granularity too (measured, not shipped). Absent: off. */
    readonly bigrams?: boolean;
    /** The coarsest class of the words at ±2 too (measured, not shipped). Absent: off. */
    readonly window2?: boolean;
  };
}

/** A word's class at each granularity (coarse first): -1 for a word the table lacks. */
export interface WordClassTable {
  readonly granularities: number;
  classOf(word: string, granularity: number): number;
  /** The word's class at every granularity, written to `out` from `at` (one lookup for all of them). */
  classesInto(word: string, out: Int32Array, at: number): void;
}

export const SLOT_FEATURES_VERSION = 1;

/**
 * The featurizer version of a model with `wordClasses` (issue 13): a hubnlu that predates the word classes
 * refuses such a model (its version check wants 1) instead of computing features without them.
 */
export const SLOT_FEATURES_VERSION_CLASSES = 2;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

export const DEFAULT_SLOT_FEATURIZER: SlotFeaturizerSettings = {
  version: SLOT_FEATURES_VERSION,
  hash: 'fnv1a32',
  buckets: 1 << 22,
  maxFeatures: 28,
  window: 2,
  prefixes: [2, 3, 4],
  suffixes: [2, 3, 4],
  intent: true,
  scenario: false,
};

/** Feature templates: the first value hashed into each id, so equal strings in different roles differ. */
const enum Tpl {
  Bias = 1,
  Word = 2,
  Left = 3, // + distance - 1, up to 8
  Right = 12,
  BigramLeft = 21, // (w-1, w0)
  BigramRight = 22, // (w0, w+1)
  BigramLeft2 = 23, // (w-2, w-1)
  BigramRight2 = 24, // (w+1, w+2)
  Prefix = 25,
  Suffix = 26,
  Shape = 27,
  Intent = 28,
  IntentWord = 29,
  IntentLeft = 30,
  First = 31,
  Last = 32,
  Scenario = 33,
  ScenarioWord = 34,
  ScenarioLeft = 35,
  Class = 36, // + granularity, up to 4
  ClassLeft = 40,
  ClassRight = 41,
  ClassIntent = 42,
  ClassBigramLeft = 43,
  ClassBigramRight = 44,
  ClassLeft2 = 45,
  ClassRight2 = 46,
}

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

function mixInt(h: number, v: number): number {
  h = Math.imul(h ^ (v & 0xff), FNV_PRIME);
  h = Math.imul(h ^ ((v >>> 8) & 0xff), FNV_PRIME);
  return h;
}

export function mixStr(h: number, s: string, from = 0, to = s.length): number {
  for (let i = from; i < to; i++) h = Math.imul(h ^ s.charCodeAt(i), FNV_PRIME);
  // A separator, so ("ab","c") and ("a","bc") differ.
  return Math.imul(h ^ 0x1f, FNV_PRIME);
}

/** Word shape: digits → d, letters → x, other characters kept, runs capped at 2 ("21" → "dd", "o'clock" → "x'xx"). */
export function wordShape(word: string): string {
  let out = '';
  let last = '';
  let run = 0;
  for (const ch of word) {
    const c = ch >= '0' && ch <= '9' ? 'd' : /\p{L}/u.test(ch) ? 'x' : ch;
    run = c === last ? run + 1 : 1;
    last = c;
    if (run <= 2) out += c;
  }
  return out;
}

const X = 0x78; // 'x'
const D = 0x64; // 'd'
const LETTER_RE = /\p{L}/u;

/**
 * `mixStr(h, wordShape(word))` without building the shape: ASCII characters are classified by code, others by
 * the same \p{L} test as `wordShape` (whole code points, so a surrogate pair is one character as there). Exported
 * for the test that it equals `mixStr(h, wordShape(word))`.
 */
export function mixShape(h: number, word: string): number {
  let last = -1;
  let run = 0;
  for (let i = 0; i < word.length; i++) {
    let code = word.charCodeAt(i);
    let c: number;
    let width = 1;
    if (code < 0x80) {
      c = code >= 0x30 && code <= 0x39 ? D : (code >= 0x61 && code <= 0x7a) || (code >= 0x41 && code <= 0x5a) ? X : code;
    } else {
      const cp = word.codePointAt(i)!;
      width = cp > 0xffff ? 2 : 1;
      c = LETTER_RE.test(String.fromCodePoint(cp)) ? X : -1;
      if (c === -1) {
        // The character itself: its UTF-16 units are mixed in as wordShape's string would be.
        code = cp;
      }
    }
    if (c === -1) {
      // A non-letter, non-digit outside ASCII: compared and mixed as its own code point.
      run = code === last ? run + 1 : 1;
      last = code;
      if (run <= 2) {
        if (width === 2) {
          h = Math.imul(h ^ word.charCodeAt(i), FNV_PRIME);
          h = Math.imul(h ^ word.charCodeAt(i + 1), FNV_PRIME);
        } else h = Math.imul(h ^ code, FNV_PRIME);
      }
    } else {
      run = c === last ? run + 1 : 1;
      last = c;
      if (run <= 2) h = Math.imul(h ^ c, FNV_PRIME);
    }
    i += width - 1;
  }
  return Math.imul(h ^ 0x1f, FNV_PRIME);
}

/** The form a word takes as context: numbers become one class, so "to 21 degrees" and "to 70 degrees" share features. */
function contextForm(t: Token | undefined, side: 'left' | 'right'): string {
  if (!t) return side === 'left' ? '<s>' : '</s>';
  return t.isNumber ? '<num>' : t.norm;
}

/**
 * Hashed feature ids of every token, row-major [tokens.length, maxFeatures].
 * Ids are in [1, buckets]; unused slots are 0. `intent` null (or empty) leaves
 * the intent features out, as the trainer does for some sentences so the
 * tagger also works without one.
 */
export function slotFeatureIds(
  tokens: readonly Token[],
  intent: string | null,
  s: SlotFeaturizerSettings = DEFAULT_SLOT_FEATURIZER,
  classes?: WordClassTable,
): Int32Array {
  return slotFeatureIdsInto(tokens, intent, s, new Int32Array(tokens.length * s.maxFeatures), classes);
}

/** Each token's class at every granularity of `classes` (numbers -2, words missing from the table -1), looked up once a token. */
let tokenClassBuffer = new Int32Array(256);
function tokenClasses(tokens: readonly Token[], classes: WordClassTable): Int32Array {
  const G = classes.granularities;
  if (tokenClassBuffer.length < tokens.length * G) tokenClassBuffer = new Int32Array(tokens.length * G * 2);
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i];
    if (t.isNumber) tokenClassBuffer.fill(-2, i * G, (i + 1) * G);
    else classes.classesInto(t.norm, tokenClassBuffer, i * G);
  }
  return tokenClassBuffer;
}

/** FNV-1a of a word, the key of `HashedWordClasses`. */
function wordKey(word: string): number {
  return mixStr(FNV_OFFSET, word) >>> 0;
}

/**
 * The word class table shipped with a tagger (`slots.classes`): words as 32-bit FNV-1a hashes, so the file holds
 * no strings (a word whose hash collides with a listed one takes that word's classes, in training and at run time
 * alike). Format: varint count, varint granularities, one byte a granularity giving its class width (1 or 2
 * bytes), the sorted hashes delta-encoded as varints, then each granularity's classes in word order (width bytes
 * each, little-endian).
 */
export class HashedWordClasses implements WordClassTable {
  private readonly sorted: SortedIds;

  private constructor(
    readonly keys: Uint32Array,
    readonly granularities: number,
    /** [keys.length, granularities] */
    readonly classes: Uint16Array,
  ) {
    this.sorted = new SortedIds(keys);
  }

  /** From words and their classes (coarse first); a later word whose hash is already present is left out. */
  static fromWords(entries: Iterable<readonly [string, readonly number[]]>, granularities: number): HashedWordClasses {
    const byKey = new Map<number, readonly number[]>();
    for (const [w, c] of entries) {
      const k = wordKey(w);
      if (byKey.has(k)) continue;
      if (c.length < granularities || c.some((x) => !Number.isInteger(x) || x < 0 || x > 0xffff)) {
        throw new Error(`word classes: "${w}" needs ${granularities} class ids in [0, 65535]`);
      }
      byKey.set(k, c);
    }
    const keys = Uint32Array.from(byKey.keys()).sort();
    const classes = new Uint16Array(keys.length * granularities);
    keys.forEach((k, i) => {
      const c = byKey.get(k)!;
      for (let g = 0; g < granularities; g++) classes[i * granularities + g] = c[g];
    });
    return new HashedWordClasses(keys, granularities, classes);
  }

  classOf(word: string, granularity: number): number {
    const i = this.sorted.indexOf(wordKey(word));
    return i < 0 ? -1 : this.classes[i * this.granularities + granularity];
  }

  classesInto(word: string, out: Int32Array, at: number): void {
    const i = this.sorted.indexOf(wordKey(word));
    for (let g = 0; g < this.granularities; g++) out[at + g] = i < 0 ? -1 : this.classes[i * this.granularities + g];
  }

  encode(): Uint8Array {
    const bytes: number[] = [];
    const varint = (v: number): void => pushVarint(bytes, v);
    const n = this.keys.length;
    const G = this.granularities;
    varint(n);
    varint(G);
    const widths: number[] = [];
    for (let g = 0; g < G; g++) {
      let max = 0;
      for (let i = 0; i < n; i++) max = Math.max(max, this.classes[i * G + g]);
      widths.push(max < 256 ? 1 : 2);
      bytes.push(widths[g]);
    }
    let prev = 0;
    for (const k of this.keys) {
      varint(k - prev);
      prev = k;
    }
    for (let g = 0; g < G; g++) {
      for (let i = 0; i < n; i++) {
        const c = this.classes[i * G + g];
        if (widths[g] === 1) bytes.push(c);
        else bytes.push(c & 0xff, c >>> 8);
      }
    }
    return Uint8Array.from(bytes);
  }

  static decode(bytes: Uint8Array): HashedWordClasses {
    const reader = new VarintReader(bytes, 'word classes: truncated file; re-export the model');
    const varint = (): number => reader.varint();
    const n = varint();
    const granularities = varint();
    const widths = Array.from(bytes.subarray(reader.pos, reader.pos + granularities));
    reader.pos += granularities;
    if (widths.length !== granularities || widths.some((w) => w !== 1 && w !== 2)) throw new Error('word classes: bad class widths; re-export the model');
    const keys = new Uint32Array(n);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      prev += varint();
      keys[i] = prev;
      if (i > 0 && keys[i] <= keys[i - 1]) throw new Error('word classes: keys not ascending; re-export the model');
    }
    if (bytes.length - reader.pos !== n * widths.reduce((a, w) => a + w, 0)) throw new Error('word classes: wrong file length; re-export the model');
    const classes = new Uint16Array(n * granularities);
    for (let g = 0; g < granularities; g++) {
      for (let i = 0; i < n; i++) {
        classes[i * granularities + g] = widths[g] === 1 ? bytes[reader.pos] : bytes[reader.pos] | (bytes[reader.pos + 1] << 8);
        reader.pos += widths[g];
      }
    }
    return new HashedWordClasses(keys, granularities, classes);
  }

  /** Reads a `word TAB class TAB class …` table (coarse first), using the columns `columns` (0-based, after the word). */
  static fromTsv(text: string, columns: readonly number[]): HashedWordClasses {
    const entries: [string, number[]][] = [];
    for (const line of text.split('\n')) {
      if (!line) continue;
      const [w, ...c] = line.split('\t');
      entries.push([w, columns.map((i) => Number(c[i]))]);
    }
    return HashedWordClasses.fromWords(entries, columns.length);
  }
}

/** `slotFeatureIds` written into `out` (at least tokens × maxFeatures long, all zero there); returns that part of it. */
export function slotFeatureIdsInto(
  tokens: readonly Token[],
  intent: string | null,
  s: SlotFeaturizerSettings,
  out: Int32Array,
  classes?: WordClassTable,
): Int32Array {
  const K = s.maxFeatures;
  const n = tokens.length;
  if (out.length < n * K) throw new RangeError(`slotFeatureIdsInto: ${out.length} slots for ${n} tokens × ${K} features`);
  const B = s.buckets;
  const useIntent = s.intent && !!intent;
  // The intent hash is shared by every token of the sentence.
  const intentHash = useIntent ? mixStr(mixInt(FNV_OFFSET, Tpl.Intent), intent) : 0;
  const useScenario = useIntent && s.scenario;
  const cut = useScenario ? intent.indexOf('_') : -1;
  const scenarioHash = useScenario ? mixStr(mixInt(FNV_OFFSET, Tpl.Scenario), intent, 0, cut < 0 ? intent.length : cut) : 0;
  // Each template's seed, hashed once per sentence instead of once per feature.
  const seed = (tpl: number): number => mixInt(FNV_OFFSET, tpl);
  const BIAS = (((seed(Tpl.Bias) >>> 0) % B) + 1) | 0;
  const WORD = seed(Tpl.Word);
  const SHAPE = seed(Tpl.Shape);
  const FIRST = (((seed(Tpl.First) >>> 0) % B) + 1) | 0;
  const LAST = (((seed(Tpl.Last) >>> 0) % B) + 1) | 0;
  const BIGRAM_LEFT = seed(Tpl.BigramLeft);
  const BIGRAM_RIGHT = seed(Tpl.BigramRight);
  const BIGRAM_LEFT2 = seed(Tpl.BigramLeft2);
  const BIGRAM_RIGHT2 = seed(Tpl.BigramRight2);
  const PREFIX = seed(Tpl.Prefix);
  const SUFFIX = seed(Tpl.Suffix);
  const intentWord = useIntent ? mixInt(intentHash, Tpl.IntentWord) : 0;
  const intentLeft = useIntent ? mixInt(intentHash, Tpl.IntentLeft) : 0;
  const scenarioWord = useScenario ? mixInt(scenarioHash, Tpl.ScenarioWord) : 0;
  const scenarioLeft = useScenario ? mixInt(scenarioHash, Tpl.ScenarioLeft) : 0;
  const window = s.window;
  if (s.wordClasses && !classes) throw new Error(`slot features: the word class table ${s.wordClasses.file} was not loaded`);
  const granularities = s.wordClasses && classes ? s.wordClasses.granularities : 0;
  const G = classes?.granularities ?? 0;
  const byToken = granularities > 0 ? tokenClasses(tokens, classes!) : undefined;
  // Class id of the token at position j (granularity g): past either end of the sentence -3.
  const classAt = (j: number, g: number): number => (j < 0 || j >= n ? -3 : byToken![j * G + g]);
  for (let i = 0; i < n; i++) {
    const t = tokens[i];
    const w = t.norm;
    const base = i * K;
    // Features past K are dropped, as the trainer's do; ids are ((h >>> 0) % B) + 1.
    let k = 0;
    if (k < K) out[base + k++] = BIAS;
    if (k < K) out[base + k++] = ((mixStr(WORD, w) >>> 0) % B) + 1;
    if (k < K) out[base + k++] = ((mixShape(SHAPE, w) >>> 0) % B) + 1;
    if (i === 0 && k < K) out[base + k++] = FIRST;
    if (i === n - 1 && k < K) out[base + k++] = LAST;
    for (let d = 1; d <= window; d++) {
      if (k < K) out[base + k++] = ((mixStr(mixInt(FNV_OFFSET, Tpl.Left + d - 1), contextForm(tokens[i - d], 'left')) >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixStr(mixInt(FNV_OFFSET, Tpl.Right + d - 1), contextForm(tokens[i + d], 'right')) >>> 0) % B) + 1;
    }
    const l1 = contextForm(tokens[i - 1], 'left');
    const r1 = contextForm(tokens[i + 1], 'right');
    const w0 = t.isNumber ? '<num>' : w;
    if (k < K) out[base + k++] = ((mixStr(mixStr(BIGRAM_LEFT, l1), w0) >>> 0) % B) + 1;
    if (k < K) out[base + k++] = ((mixStr(mixStr(BIGRAM_RIGHT, w0), r1) >>> 0) % B) + 1;
    if (window >= 2) {
      if (k < K) out[base + k++] = ((mixStr(mixStr(BIGRAM_LEFT2, contextForm(tokens[i - 2], 'left')), l1) >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixStr(mixStr(BIGRAM_RIGHT2, r1), contextForm(tokens[i + 2], 'right')) >>> 0) % B) + 1;
    }
    if (!t.isNumber) {
      for (const p of s.prefixes) if (w.length > p && k < K) out[base + k++] = ((mixStr(PREFIX, w, 0, p) >>> 0) % B) + 1;
      for (const p of s.suffixes) if (w.length > p && k < K) out[base + k++] = ((mixStr(SUFFIX, w, w.length - p) >>> 0) % B) + 1;
    }
    if (useIntent) {
      if (k < K) out[base + k++] = ((intentHash >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixStr(intentWord, w0) >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixStr(intentLeft, l1) >>> 0) % B) + 1;
    }
    if (useScenario) {
      if (k < K) out[base + k++] = ((scenarioHash >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixStr(scenarioWord, w0) >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixStr(scenarioLeft, l1) >>> 0) % B) + 1;
    }
    if (granularities > 0) {
      for (let g = 0; g < granularities; g++) {
        if (k < K) out[base + k++] = ((mixInt(mixInt(FNV_OFFSET, Tpl.Class + g), classAt(i, g) + 4) >>> 0) % B) + 1;
      }
      if (k < K) out[base + k++] = ((mixInt(mixInt(FNV_OFFSET, Tpl.ClassLeft), classAt(i - 1, 0) + 4) >>> 0) % B) + 1;
      if (k < K) out[base + k++] = ((mixInt(mixInt(FNV_OFFSET, Tpl.ClassRight), classAt(i + 1, 0) + 4) >>> 0) % B) + 1;
      const ig = s.wordClasses!.intentGranularity;
      if (useIntent && ig >= 0 && k < K) out[base + k++] = ((mixInt(mixInt(intentHash, Tpl.ClassIntent), classAt(i, ig) + 4) >>> 0) % B) + 1;
      if (s.wordClasses!.window2) {
        if (k < K) out[base + k++] = ((mixInt(mixInt(FNV_OFFSET, Tpl.ClassLeft2), classAt(i - 2, 0) + 4) >>> 0) % B) + 1;
        if (k < K) out[base + k++] = ((mixInt(mixInt(FNV_OFFSET, Tpl.ClassRight2), classAt(i + 2, 0) + 4) >>> 0) % B) + 1;
      }
      if (s.wordClasses!.bigrams) {
        const c0 = classAt(i, 0) + 4;
        if (k < K) out[base + k++] = ((mixInt(mixInt(mixInt(FNV_OFFSET, Tpl.ClassBigramLeft), classAt(i - 1, 0) + 4), c0) >>> 0) % B) + 1;
        if (k < K) out[base + k++] = ((mixInt(mixInt(mixInt(FNV_OFFSET, Tpl.ClassBigramRight), c0), classAt(i + 1, 0) + 4) >>> 0) % B) + 1;
      }
    }
  }
  return out.length === n * K ? out : out.subarray(0, n * K);
}

/**
 * How many of a token's ids depend on the intent: the intent, the intent with the word and with the word to its left,
 * the same three for the scenario when `scenario` is set, and the word's class with the intent when the word classes
 * pair one with it. The width of `slotIntentIdsInto`'s rows.
 */
export function slotIntentFeatureCount(s: SlotFeaturizerSettings): number {
  if (!s.intent) return 0;
  return 3 + (s.scenario ? 3 : 0) + (s.wordClasses && s.wordClasses.intentGranularity >= 0 ? 1 : 0);
}

/**
 * The ids of `slotFeatureIdsInto` split for decoding one sentence over several intents (issue 13,
 * `slots.intentMixture`): `shared` [n, K] (all zero there) gets what `slotFeatureIdsInto` gives with no intent, the ids
 * that do not depend on it, computed once; `parts` [n, intents.length, slotIntentFeatureCount(s)] (all zero there)
 * gets, for each token and intent, the ids that intent adds (none for null). A token's row under intent p holds the
 * same ids as its row from `slotFeatureIdsInto(tokens, intents[p])`, in another order (the tagger sums them), and
 * every shared row holds at most K − slotIntentFeatureCount(s) ids. Returns false when some token's shared ids and
 * an intent's would not fit in K (the featurizer drops features past K, so its row under an intent is not the
 * shared ids plus the intent's): the caller then featurizes each intent whole (test/model/slot-features.test.ts
 * checks both against `slotFeatureIdsInto`).
 */
export function slotIntentIdsInto(
  tokens: readonly Token[],
  intents: readonly (string | null)[],
  s: SlotFeaturizerSettings,
  shared: Int32Array,
  parts: Int32Array,
  classes?: WordClassTable,
): boolean {
  const K = s.maxFeatures;
  const n = tokens.length;
  const P = intents.length;
  const KI = slotIntentFeatureCount(s);
  if (parts.length < n * P * KI) throw new RangeError(`slotIntentIdsInto: ${parts.length} slots for ${n} tokens × ${P} intents × ${KI} features`);
  slotFeatureIdsInto(tokens, null, s, shared, classes);
  // The word classes slotFeatureIdsInto just looked up for these tokens (tokenClasses' buffer), when the intent pairs with one.
  const ig = s.wordClasses && classes ? s.wordClasses.intentGranularity : -1;
  const G = classes?.granularities ?? 0;
  const byToken = ig >= 0 ? tokenClassBuffer : undefined;
  for (let i = 0; i < n; i++) {
    let used = 0;
    while (used < K && shared[i * K + used] !== 0) used++;
    if (used + KI > K) return false;
  }
  if (KI === 0) return true;
  const B = s.buckets;
  for (let p = 0; p < P; p++) {
    const intent = intents[p];
    if (!intent) continue;
    const intentHash = mixStr(mixInt(FNV_OFFSET, Tpl.Intent), intent);
    const intentWord = mixInt(intentHash, Tpl.IntentWord);
    const intentLeft = mixInt(intentHash, Tpl.IntentLeft);
    const intentId = ((intentHash >>> 0) % B) + 1;
    let scenarioHash = 0;
    let scenarioWord = 0;
    let scenarioLeft = 0;
    if (s.scenario) {
      const cut = intent.indexOf('_');
      scenarioHash = mixStr(mixInt(FNV_OFFSET, Tpl.Scenario), intent, 0, cut < 0 ? intent.length : cut);
      scenarioWord = mixInt(scenarioHash, Tpl.ScenarioWord);
      scenarioLeft = mixInt(scenarioHash, Tpl.ScenarioLeft);
    }
    const classIntent = byToken ? mixInt(intentHash, Tpl.ClassIntent) : 0;
    for (let i = 0; i < n; i++) {
      const t = tokens[i];
      const w0 = t.isNumber ? '<num>' : t.norm;
      const l1 = contextForm(tokens[i - 1], 'left');
      let at = (i * P + p) * KI;
      parts[at++] = intentId;
      parts[at++] = ((mixStr(intentWord, w0) >>> 0) % B) + 1;
      parts[at++] = ((mixStr(intentLeft, l1) >>> 0) % B) + 1;
      if (s.scenario) {
        parts[at++] = ((scenarioHash >>> 0) % B) + 1;
        parts[at++] = ((mixStr(scenarioWord, w0) >>> 0) % B) + 1;
        parts[at++] = ((mixStr(scenarioLeft, l1) >>> 0) % B) + 1;
      }
      if (byToken) parts[at++] = ((mixInt(classIntent, byToken[i * G + ig] + 4) >>> 0) % B) + 1;
    }
  }
  return true;
}

/**
 * Maps hashed ids to the compact rows a pruned model keeps (row 0 is the zero
 * padding row; ids the model dropped map to 0 too). Stored in the model dir as
 * the sorted kept ids, delta-encoded as LEB128 varints: a few bytes per row.
 */
export class SlotFeatureRemap {
  private readonly sorted: SortedIds;

  /** `kept[r]` is the hashed id of compact row r + 1, ascending (so a search finds a row; no Map, issue 10). */
  constructor(readonly kept: Uint32Array) {
    for (let r = 1; r < kept.length; r++) {
      if (kept[r] <= kept[r - 1]) throw new Error('SlotFeatureRemap: kept ids must be strictly ascending');
    }
    this.sorted = new SortedIds(kept);
  }

  /** Rows in the model, the padding row included. */
  get rows(): number {
    return this.kept.length + 1;
  }

  row(id: number): number {
    if (id === 0) return 0;
    return this.sorted.indexOf(id >>> 0) + 1; // -1 (dropped) + 1 = the padding row
  }

  /** Compact rows for hashed ids, as the int64 model input. */
  apply(ids: Int32Array): BigInt64Array {
    const out = new BigInt64Array(ids.length);
    this.applyInto(ids, out, 0);
    return out;
  }

  /**
   * Writes the compact rows of `ids` into `out` from position `at`. Rows are small non-negative integers: on a
   * little-endian machine each is written as the low 32-bit word of its int64 (high word 0) instead of through a
   * `BigInt` per feature, which cost more than the lookup (issue 10).
   */
  applyInto(ids: Int32Array, out: BigInt64Array, at: number): void {
    const sorted = this.sorted;
    if (LITTLE_ENDIAN) {
      const words = new Int32Array(out.buffer, out.byteOffset + at * 8, ids.length * 2);
      for (let i = 0; i < ids.length; i++) {
        const id = ids[i];
        words[2 * i] = id === 0 ? 0 : sorted.indexOf(id >>> 0) + 1;
        words[2 * i + 1] = 0;
      }
    } else {
      for (let i = 0; i < ids.length; i++) out[at + i] = BigInt(this.row(ids[i]));
    }
  }

  /** The compact rows of `ids[from, to)` written as int32 into `out` from position `at` (the mixture graph's input, issue 13). */
  applyInto32(ids: Int32Array, out: Int32Array, at: number, from = 0, to = ids.length): void {
    const sorted = this.sorted;
    for (let i = from; i < to; i++) {
      const id = ids[i];
      out[at++] = id === 0 ? 0 : sorted.indexOf(id >>> 0) + 1;
    }
  }

  encode(): Uint8Array {
    const bytes: number[] = [];
    const varint = (v: number): void => pushVarint(bytes, v);
    varint(this.kept.length);
    let prev = 0;
    for (const id of this.kept) {
      varint(id - prev);
      prev = id;
    }
    return Uint8Array.from(bytes);
  }

  static decode(bytes: Uint8Array): SlotFeatureRemap {
    const reader = new VarintReader(bytes, 'SlotFeatureRemap: truncated remap file; re-export the model');
    const varint = (): number => reader.varint();
    const n = varint();
    const kept = new Uint32Array(n);
    let prev = 0;
    for (let i = 0; i < n; i++) {
      prev += varint();
      kept[i] = prev;
    }
    if (reader.pos !== bytes.length) throw new Error('SlotFeatureRemap: trailing bytes in remap file; re-export the model');
    return new SlotFeatureRemap(kept);
  }
}
