/**
 * Language codes and language identification.
 *
 * Codes: hubnlu names a language by a lower-case BCP 47 primary subtag (`en`,
 * `de`), except Chinese, whose script matters: `zh`, `zh-CN`, `zh-Hans`,
 * `zh-SG` → `zh-cn` (Simplified, the shipped model); `zh-TW`, `zh-HK`,
 * `zh-Hant` → `zh-tw` (not shipped). Region variants of other languages share
 * one model (`de-DE`, `de-AT` → `de`).
 *
 * Detection: a hashed character n-gram classifier (the project's fastText
 * trainer, int8 ONNX, task `langid`) over the languages hubnlu ships models
 * for. It answers only when it is sure: a top language other than the default
 * needs `threshold` calibrated confidence, else the default wins ("unsure →
 * the default language"). English dev sets routed elsewhere stay under 0.5 %
 * with the shipped threshold (README, bench/langid.ts).
 */
import { TextClassifier } from './classifier.js';
import { loadManifest } from './manifest.js';
import { tokenize, type Token } from './text.js';
import type { ModelRef, ScoredLabel } from './types.js';

// Re-exported: the tags live in language-tags.ts, which loads no model code (the agent's main thread imports it).
export { LANGUAGES, normalizeLang } from './language-tags.js';

export interface Detection {
  /** The language chosen: the top label when sure, else the default language. */
  readonly lang: string;
  /** True when `lang` is the model's top label with enough confidence (or the top label is the default). */
  readonly sure: boolean;
  /** Calibrated probabilities, most likely first. */
  readonly ranked: readonly ScoredLabel[];
}

export interface DetectorOptions {
  /** Answer when unsure, and the language a top label must beat the threshold against. */
  readonly defaultLanguage: string;
  /** Calibrated confidence a language other than the default needs (default: the model's manifest). */
  readonly threshold?: number;
}

/** Runs a `langid` model directory. Load with `LanguageDetector.load`. */
export class LanguageDetector {
  private constructor(
    private readonly clf: TextClassifier,
    readonly defaultLanguage: string,
    readonly threshold: number,
    readonly minLetters: number,
  ) {}

  static async load(dir: string, opts: DetectorOptions): Promise<LanguageDetector> {
    const manifest = loadManifest(dir);
    if (manifest.task !== 'langid') {
      throw new Error(`${dir}: manifest.json says task "${manifest.task}", but it is configured as the language identification model (models.langid); point models.langid at a langid model directory, or set models.detectLanguage to false`);
    }
    const threshold = opts.threshold ?? manifest.calibration.threshold;
    if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`detection threshold ${threshold} is outside [0, 1]; set models.detectThreshold to e.g. 0.8`);
    const minLetters = typeof manifest.calibration.minLetters === 'number' ? manifest.calibration.minLetters : 0;
    const clf = await TextClassifier.load(dir, manifest);
    return new LanguageDetector(clf, opts.defaultLanguage, threshold, minLetters);
  }

  get ref(): ModelRef {
    return this.clf.ref;
  }

  /** The languages the model can tell apart. */
  get labels(): readonly string[] {
    return this.clf.labels;
  }

  /** The model's calibrated ranking, without the default-language rule. */
  async rank(text: string): Promise<readonly ScoredLabel[]> {
    return (await this.clf.classify(tokenize(text), text)).ranked;
  }

  /** `tokens`: `tokenize(text)` when the caller has it already (the router hands them on to the models). */
  async detect(text: string, tokens: readonly Token[] = tokenize(text)): Promise<Detection> {
    const { ranked } = await this.clf.classify(tokens, text);
    return decide(ranked, this.defaultLanguage, this.threshold, text, this.minLetters);
  }

  /** `detect` for several texts (one ONNX call with a batched graph); `tokens[i]` as `detect`'s. */
  async detectMany(texts: readonly string[], tokens?: ReadonlyArray<readonly Token[]>): Promise<Detection[]> {
    const all = await this.clf.classifyMany(texts.map((text, i) => ({ tokens: tokens?.[i] ?? tokenize(text), text })));
    return all.map(({ ranked }, i) => decide(ranked, this.defaultLanguage, this.threshold, texts[i], this.minLetters));
  }

  async dispose(): Promise<void> {
    await this.clf.dispose();
  }
}

/**
 * The "unsure → default" rule, separate so the bench can sweep it without
 * reloading. The top language wins when it is the default, or when its
 * confidence reaches `threshold` and the text has at least `minLetters`
 * letters: one or two short words ("Jen.", "Hmph.", "indie") are names and
 * interjections more often than evidence, and the model is overconfident on
 * them. Han characters are evidence enough for Chinese at any length.
 */
export function decide(ranked: readonly ScoredLabel[], defaultLanguage: string, threshold: number, text: string, minLetters = 0): Detection {
  const top = ranked[0];
  // Only whether there are none, and whether there are minLetters, matter: counted up to that, not collected.
  const letters = countLetters(text, Math.max(1, minLetters));
  if (!top || letters === 0) return { lang: defaultLanguage, sure: false, ranked };
  if (top.name === defaultLanguage) return { lang: top.name, sure: true, ranked };
  const enough = letters >= minLetters || (top.name.startsWith('zh') && HAN_RE.test(text));
  if (enough && top.confidence >= threshold) return { lang: top.name, sure: true, ranked };
  return { lang: defaultLanguage, sure: false, ranked };
}

const HAN_RE = /\p{Script=Han}/u;
const LETTER_RE = /\p{L}/u;

/** How many code points of `text` are letters (\p{L}), counting stops at `cap`. ASCII by code, the rest by the regex. */
export function countLetters(text: string, cap = Infinity): number {
  let n = 0;
  for (let i = 0; i < text.length && n < cap; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) {
      if ((c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a)) n++;
      continue;
    }
    const cp = text.codePointAt(i)!;
    if (cp > 0xffff) i++;
    if (LETTER_RE.test(String.fromCodePoint(cp))) n++;
  }
  return n;
}
