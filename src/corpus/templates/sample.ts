/**
 * Seeded sampling from a hassil grammar: one random path through a template gives one sentence with its slot
 * spans. The template space is far too large to enumerate (alternatives multiply), so callers draw a few
 * sentences per template. `{area}`, `{floor}` and `{name}` come from a Household; `{name}` only from entities
 * whose domain the template's `requires_context` / `excludes_context` allow, and the chosen entity's domain
 * says what the intent does (HassTurnOn on a light vs on a lock).
 */
import type { Grammar, ListDef, TemplateGroup, TemplateSentence } from './grammar.js';
import type { Node } from './syntax.js';

export interface Entity {
  readonly name: string;
  /** Home Assistant domain (`light`, `switch`, `cover`, …). */
  readonly domain: string;
}

export interface Household {
  readonly name: string;
  readonly areas: readonly string[];
  readonly floors: readonly string[];
  readonly entities: readonly Entity[];
  /** Fillers for wildcard lists by list name (`search_query`, `timer_name`, …); `*` for any other wildcard. */
  readonly wildcards?: Readonly<Record<string, readonly string[]>>;
}

export interface SampledSlot {
  /** Home Assistant slot name (`area`, `name`, `brightness`, …). */
  readonly type: string;
  /** The list's `out` value, or the text said for lists without one. */
  readonly value: string | number;
  readonly start: number;
  readonly end: number;
  /** The list the slot came from (`brightness_level` fills slot `brightness`). */
  readonly list: string;
}

export interface SampledSentence {
  readonly text: string;
  /** Home Assistant intent name. */
  readonly intent: string;
  /** The entity domain the sentence acts on, when known. */
  readonly domain?: string;
  readonly slots: readonly SampledSlot[];
  /** Template id (file#intent/data/sentence). */
  readonly template: string;
}

export interface SampleOptions {
  /** Spell a range number as words (e.g. Chinese numerals) instead of digits; return null to keep digits. */
  readonly numberWords?: (n: number, rand: () => number) => string | null;
  /** Probability of adding one of the grammar's skip words (`bitte`, `por favor`) before or after. */
  readonly skipWordRate?: number;
  /** Languages written without spaces between words (zh): template spaces are dropped. */
  readonly noSpaces?: boolean;
}

class Emitter {
  text = '';
  readonly slots: SampledSlot[] = [];
  domain: string | undefined;
  constructor(readonly noSpaces: boolean) {}

  append(s: string): void {
    if (!s) return;
    if (this.noSpaces) s = s.replace(/ /g, '');
    // Collapse template spaces: never two in a row, none at the start.
    if (s.startsWith(' ') && (this.text === '' || this.text.endsWith(' '))) s = s.replace(/^ +/, '');
    this.text += s.replace(/ {2,}/g, ' ');
  }
}

class NoEntity extends Error {}

function pick<T>(a: readonly T[], rand: () => number): T {
  return a[Math.floor(rand() * a.length)];
}

function asList(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  return Array.isArray(v) ? v.map(String) : [String(v)];
}

/** Draws one sentence from one template; null when the household has no entity the template can name. */
export function sampleSentence(
  grammar: Grammar,
  group: TemplateGroup,
  sentence: TemplateSentence,
  household: Household,
  rand: () => number,
  opts: SampleOptions = {},
): SampledSentence | null {
  const em = new Emitter(opts.noSpaces ?? false);
  const requiredDomains = asList(group.requires.domain);
  const excludedDomains = asList(group.excludes.domain) ?? [];
  const rule = (name: string): Node => {
    const r = group.rules.get(name) ?? grammar.rules.get(name);
    if (!r) throw new Error(`${sentence.id}: unknown expansion rule <${name}>`);
    return r;
  };
  const list = (name: string): ListDef | undefined => group.lists.get(name) ?? grammar.lists.get(name);

  function fill(listName: string, slot: string): void {
    const start = em.text.length;
    let value: string | number | undefined;
    if (listName === 'area' || listName === 'floor') {
      const pool = listName === 'area' ? household.areas : household.floors;
      if (pool.length === 0) throw new NoEntity();
      em.append(pick(pool, rand));
    } else if (listName === 'name' && !list('name')) {
      const pool = household.entities.filter((e) => (!requiredDomains || requiredDomains.includes(e.domain)) && !excludedDomains.includes(e.domain));
      if (pool.length === 0) throw new NoEntity();
      const e = pick(pool, rand);
      em.domain = e.domain;
      em.append(e.name);
    } else {
      const def = list(listName);
      if (!def) throw new Error(`${sentence.id}: unknown list {${listName}}`);
      if (def.kind === 'values') {
        const v = pick(def.values, rand);
        const before = em.text.length;
        walk(v.in);
        value = v.out ?? em.text.slice(before).trim();
      } else if (def.kind === 'range') {
        const steps = Math.floor((def.to - def.from) / def.step);
        // Rounded: a step of 0.1 would otherwise say "0.30000000000000004" (integer steps are unchanged).
        const n = Number((def.from + Math.floor(rand() * (steps + 1)) * def.step).toFixed(10));
        em.append(opts.numberWords?.(n, rand) ?? String(n));
        value = n;
      } else {
        const fillers = household.wildcards?.[listName] ?? household.wildcards?.['*'];
        if (!fillers || fillers.length === 0) throw new NoEntity();
        em.append(pick(fillers, rand));
      }
    }
    // The span starts after any space the append collapsed away.
    let s = start;
    while (s < em.text.length && em.text[s] === ' ') s++;
    let e = em.text.length;
    while (e > s && em.text[e - 1] === ' ') e--;
    if (e > s) em.slots.push({ type: slot, value: value ?? em.text.slice(s, e), start: s, end: e, list: listName });
    if (slot === 'domain' && value !== undefined) em.domain = String(value);
  }

  function walk(node: Node): void {
    switch (node.kind) {
      case 'text':
        em.append(node.text);
        break;
      case 'seq':
        for (const n of node.items) walk(n);
        break;
      case 'alt':
        if (node.optional && rand() < 0.5) break;
        walk(pick(node.options, rand));
        break;
      case 'perm': {
        const order = node.parts.map((p) => ({ p, k: rand() })).sort((a, b) => a.k - b.k);
        order.forEach((o, i) => {
          if (i > 0) em.append(' ');
          walk(o.p);
        });
        break;
      }
      case 'rule':
        walk(rule(node.name));
        break;
      case 'list':
        fill(node.list, node.slot);
        break;
    }
  }

  try {
    walk(sentence.node);
  } catch (err) {
    if (err instanceof NoEntity) return null;
    throw err;
  }
  let text = em.text.replace(/ +$/, '');
  if (text === '') return null; // every part optional and none taken: no sentence
  let slots = em.slots;
  if (opts.skipWordRate && grammar.skipWords.length > 0 && rand() < opts.skipWordRate) {
    const w = pick(grammar.skipWords, rand);
    const sep = opts.noSpaces ? '' : ' ';
    if (rand() < 0.5) {
      const shift = w.length + sep.length;
      text = w + sep + text;
      slots = slots.map((s) => ({ ...s, start: s.start + shift, end: s.end + shift }));
    } else {
      text = text + sep + w;
    }
  }
  const fixedDomain = typeof group.fixedSlots.domain === 'string' ? group.fixedSlots.domain : undefined;
  const domain = em.domain ?? fixedDomain ?? (requiredDomains?.length === 1 ? requiredDomains[0] : undefined) ?? fileDomain(group.file);
  return { text, intent: group.intent, domain, slots, template: sentence.id };
}

/** `light_HassTurnOn.yaml` → `light`; `homeassistant_*.yaml` (any domain) → undefined. */
function fileDomain(file: string): string | undefined {
  const m = /^([a-z_]+?)_Hass/.exec(file);
  return m && m[1] !== 'homeassistant' ? m[1] : undefined;
}

export interface ExpandRow {
  readonly text: string;
  /** Home Assistant intent name (translate with src/corpus/ha-intents.ts where hubnlu labels are wanted). */
  readonly intent: string;
  /** Home Assistant slot names; value = the list's `out` value, or the text said. */
  readonly slots: { type: string; value: string | number; start: number; end: number }[];
  readonly source: string;
  readonly domain?: string;
  readonly template: string;
}

/**
 * Draws `perTemplate` sentences from every template of a grammar (households taken in turn at random),
 * duplicates dropped, in the dataset row format with Home Assistant's intent and slot names. The entry point
 * for household `custom_sentences/*.yaml` as much as for Home Assistant's own files.
 */
export function* expandGrammar(
  grammar: Grammar,
  households: readonly Household[],
  opts: SampleOptions & { readonly perTemplate: number; readonly rand: () => number; readonly source: string },
): Generator<ExpandRow> {
  if (households.length === 0) throw new Error('expandGrammar needs at least one household (areas and device names to fill {area} and {name})');
  const seen = new Set<string>();
  for (const group of grammar.groups) {
    for (const sentence of group.sentences) {
      for (let k = 0; k < opts.perTemplate; k++) {
        const s = sampleSentence(grammar, group, sentence, households[Math.floor(opts.rand() * households.length)], opts.rand, opts);
        if (!s || seen.has(s.text)) continue;
        seen.add(s.text);
        yield {
          text: s.text,
          intent: s.intent,
          slots: s.slots.map(({ type, value, start, end }) => ({ type, value, start, end })),
          source: opts.source,
          ...(s.domain ? { domain: s.domain } : {}),
          template: s.template,
        };
      }
    }
  }
}
