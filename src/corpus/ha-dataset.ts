/**
 * Training rows in hubnlu's ontology from Home Assistant's sentence templates (issue 11): sample each template a
 * few times with the fixture household and the made-up ones (households.ts), translate intent and slots through
 * the one mapping table (ha-intents.ts), and keep whole templates apart as the held-out set.
 */
import { join } from 'node:path';
import { hubnluIntentFor, hubnluSlotFor } from './ha-intents.js';
import { fixtureHousehold, HOUSEHOLDS } from './households.js';
import { loadGrammar } from './templates/grammar.js';
import { sampleSentence, type Household, type SampledSentence, type SampleOptions } from './templates/sample.js';
import { mulberry32 } from '../data/random.js';
import { formatChineseNumber } from '../model/zh-numbers.js';

export interface DatasetRow {
  readonly text: string;
  readonly intent: string;
  readonly slots: { type: string; value: string; start: number; end: number }[];
  readonly source: string;
}

export interface ExpandOptions {
  /** `ha-intents` folder (holding sentences/ and fixtures/). */
  readonly haDir: string;
  readonly language: string;
  readonly seed: number;
  /** Draws per template (duplicates are dropped, so short templates give fewer rows). */
  readonly perTemplate: number;
  /** Share of templates held out, chosen by a hash of the template id. */
  readonly heldOutShare: number;
  /**
   * Labels with fewer training rows than this get extra draws from their templates (weather has 1–3
   * templates in some languages against hundreds for lights). Default 0: none.
   */
  readonly minPerLabel?: number;
}

export interface Expansion {
  readonly train: DatasetRow[];
  readonly heldOut: DatasetRow[];
  readonly templates: { readonly used: number; readonly heldOut: number; readonly unmapped: number };
}

/** Languages written without spaces between words. */
export const NO_SPACE_LANGUAGES = new Set(['zh-cn', 'zh', 'ja']);

/** Unit words that follow a number in a slot (joined into the span, as in the English data: "21 degrees"). */
const UNIT_AFTER: Record<string, RegExp> = {
  time: /^ ?(?:个)?(?:半)?(?:(?:stunden?|minuten?|sekunden?|heures?|minutes?|secondes?|horas?|minutos?|segundos?|std|min|sek|sec|h|m|s)(?!\p{L})|小时|钟头|分钟|分|秒钟|秒)/iu,
  change_amount: /^ ?(?:%|prozent|pour ?cent|por ?ciento)/iu,
  temperature: /^ ?(?:°\s?[cf]?|grad(?: celsius)?|degrés?|grados?|摄氏度|度)/iu,
};

function fnv(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

/** Translates one sampled sentence into a dataset row; null when hubnlu has no label for it. */
export function toHubnluRow(s: SampledSentence, source: string): DatasetRow | null {
  const values: Record<string, string | number> = {};
  for (const sl of s.slots) values[sl.type] = sl.value;
  const intent = hubnluIntentFor({ intent: s.intent, domain: s.domain, slots: values });
  if (!intent) return null;
  const spans: { type: string; start: number; end: number }[] = [];
  for (const sl of s.slots) {
    const type = hubnluSlotFor(sl.type, s.intent, sl.value);
    if (!type) continue;
    const prev = spans[spans.length - 1];
    // Timer durations: "1 Stunde 20 Minuten" is one `time` span, as in the English data.
    if (type === 'time' && prev?.type === 'time') {
      prev.end = sl.end;
      continue;
    }
    spans.push({ type, start: sl.start, end: sl.end });
  }
  const slots = spans.map((sp) => {
    const unit = UNIT_AFTER[sp.type]?.exec(s.text.slice(sp.end));
    const end = unit ? sp.end + unit[0].length : sp.end;
    return { type: sp.type, value: s.text.slice(sp.start, end), start: sp.start, end };
  });
  return { text: s.text, intent, slots, source };
}

/** Numbers as a Chinese speaker or recogniser writes them: digits or numerals, half and half. */
function zhNumberWords(n: number, rand: () => number): string | null {
  return rand() < 0.5 ? formatChineseNumber(n, n === 2 && rand() < 0.5) : null;
}

export function expandLanguage(opts: ExpandOptions): Expansion {
  const grammar = loadGrammar(join(opts.haDir, 'sentences', opts.language));
  const households: Household[] = [fixtureHousehold(join(opts.haDir, 'fixtures', opts.language, '_fixtures.yaml'), opts.language), ...(HOUSEHOLDS[opts.language] ?? [])];
  const noSpaces = NO_SPACE_LANGUAGES.has(opts.language);
  const sampleOpts: SampleOptions = { noSpaces, skipWordRate: 0.1, numberWords: noSpaces ? zhNumberWords : undefined };
  const rand = mulberry32(opts.seed);
  const source = `ha-intents/${opts.language}`;
  const train: DatasetRow[] = [];
  const heldOut: DatasetRow[] = [];
  const seen = new Set<string>();
  let used = 0;
  let held = 0;
  let unmapped = 0;
  const byLabel = new Map<string, { group: (typeof grammar.groups)[number]; sentence: (typeof grammar.groups)[number]['sentences'][number]; heldOut: boolean }[]>();
  const trainCount = new Map<string, number>();
  const draw = (group: (typeof grammar.groups)[number], sentence: (typeof grammar.groups)[number]['sentences'][number], isHeldOut: boolean): DatasetRow | null => {
    const house = households[Math.floor(rand() * households.length)];
    const s = sampleSentence(grammar, group, sentence, house, rand, sampleOpts);
    if (!s) return null;
    const row = toHubnluRow(s, source);
    if (!row) return null;
    const key = row.text.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      (isHeldOut ? heldOut : train).push(row);
      if (!isHeldOut) trainCount.set(row.intent, (trainCount.get(row.intent) ?? 0) + 1);
    }
    return row;
  };
  for (const group of grammar.groups) {
    for (const sentence of group.sentences) {
      const isHeldOut = (fnv(`${opts.language}:${sentence.id}`) % 1000) / 1000 < opts.heldOutShare;
      const labels = new Set<string>();
      for (let k = 0; k < opts.perTemplate; k++) {
        const row = draw(group, sentence, isHeldOut);
        if (row) labels.add(row.intent);
      }
      for (const l of labels) {
        const list = byLabel.get(l) ?? [];
        list.push({ group, sentence, heldOut: isHeldOut });
        byLabel.set(l, list);
      }
      if (labels.size === 0) unmapped++;
      else if (isHeldOut) held++;
      else used++;
    }
  }
  // Rare labels: more draws from their training templates (in a fixed order) until the minimum or a cap.
  const min = opts.minPerLabel ?? 0;
  for (const [label, templates] of [...byLabel.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    const pool = templates.filter((t) => !t.heldOut);
    if (pool.length === 0) continue;
    for (let tries = 0; (trainCount.get(label) ?? 0) < min && tries < min * 20; tries++) {
      const t = pool[tries % pool.length];
      draw(t.group, t.sentence, false);
    }
  }
  return { train, heldOut, templates: { used, heldOut: held, unmapped } };
}
