/**
 * A household's own training rows, from three places:
 *
 *  (a) labelled rows of the log (the bridge `label` request, `hubnlu label`),
 *  (b) a JSONL file in the dataset format,
 *  (c) sentence templates in Home Assistant's `custom_sentences/*.yaml` syntax
 *      (`(a|b)`, `[optional]`, `<rule>`, `{list}`), expanded by the one
 *      template expander (src/corpus/templates) with the household's rooms in
 *      `{area}`.
 *
 * Template intents are Home Assistant names (`HassTurnOn`, mapped to hubnlu
 * labels by src/corpus/ha-intents.ts) or the household's own labels
 * (`iot_garage_open`), used as they are. `{area}` and `{floor}` become
 * `house_place` slots; other mapped slots take their hubnlu type, and a
 * household's own list keeps its list name as the slot type.
 */
import { statSync } from 'node:fs';
import { loadGrammar, type Grammar } from '../corpus/templates/grammar.js';
import { expandGrammar } from '../corpus/templates/sample.js';
import { hubnluIntentFor, hubnluSlotFor } from '../corpus/ha-intents.js';
import { mulberry32, stratifiedSplit } from '../data/random.js';
import { readRows, type GoldSlot, type LabelledRow } from '../data/rows.js';
import { InputFileError } from '../data/input-file.js';
import { selectLogRows } from '../eval/from-log.js';
import type { Db } from '../store/database.js';

export interface TemplateExpansion {
  readonly rows: LabelledRow[];
  /** Templates whose Home Assistant intent hubnlu has no label for (their sentences are left out). */
  readonly unmapped: number;
  /** Ids (`file#intent/data/sentence`) of templates that gave no sentence at all (a list hubnlu cannot fill). */
  readonly silent: readonly string[];
}

/**
 * Expands every template in `dir` (`*.yaml`) `perTemplate` times (duplicates
 * dropped), with `areas` filling `{area}`.
 */
export function templateRows(dir: string, areas: readonly string[], opts: { readonly seed: number; readonly perTemplate?: number }): TemplateExpansion {
  const grammar = loadTemplates(dir);
  const household = { name: 'household', areas: [...areas], floors: [], entities: [], wildcards: {} };
  const rows: LabelledRow[] = [];
  let unmapped = 0;
  const source = `templates:${dir}`;
  const gave = new Set<string>();
  for (const r of expanded(dir, expandGrammar(grammar, [household], { perTemplate: opts.perTemplate ?? 40, rand: mulberry32(opts.seed), source }))) {
    gave.add(r.template);
    const values: Record<string, string | number> = {};
    for (const s of r.slots) values[s.type] = s.value;
    const label = /^Hass[A-Z]/.test(r.intent) ? hubnluIntentFor({ intent: r.intent, domain: r.domain, slots: values }) : r.intent;
    if (!label) {
      unmapped++;
      continue;
    }
    const slots: GoldSlot[] = [];
    for (const s of r.slots) {
      const type = s.type === 'area' || s.type === 'floor' ? 'house_place' : (hubnluSlotFor(s.type, r.intent, s.value) ?? (/^Hass[A-Z]/.test(r.intent) ? undefined : s.type));
      if (type) slots.push({ type, value: r.text.slice(s.start, s.end), start: s.start, end: s.end });
    }
    rows.push({ text: r.text, label, slots, source });
  }
  const silent = grammar.groups.flatMap((g) => g.sentences.map((x) => x.id)).filter((id) => !gave.has(id));
  return { rows, unmapped, silent };
}

const TEMPLATES_FIX = '--templates / learning.templates names a directory of custom_sentences YAML files';

/** The grammar in `dir`; what cannot be read is an InputFileError naming the directory or file (the CLI's usage error). */
function loadTemplates(dir: string): Grammar {
  let isDir: boolean;
  try {
    isDir = statSync(dir).isDirectory();
  } catch (err) {
    throw new InputFileError(`${dir}: cannot read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); ${TEMPLATES_FIX}`);
  }
  if (!isDir) throw new InputFileError(`${dir}: not a directory; ${TEMPLATES_FIX}: give the directory that holds it`);
  try {
    return loadGrammar(dir);
  } catch (err) {
    throw new InputFileError((err as Error).message);
  }
}

/** The expansion's rows; a template that cannot be expanded (an unknown rule or list) names its directory too (its id names the file). */
function* expanded<T>(dir: string, rows: Iterable<T>): Generator<T> {
  try {
    yield* rows;
  } catch (err) {
    throw new InputFileError(`${dir}: ${(err as Error).message}`);
  }
}

export interface HouseholdSources {
  /** The log (labelled inputs); absent: no log rows. */
  readonly db?: Db;
  /**
   * The language of the model being retrained: log rows logged in another language are left out (and counted in a
   * note), by the rule `eval --from-log` scores one model with. Absent: every labelled row.
   */
  readonly language?: string;
  readonly jsonl?: readonly string[];
  readonly templates?: readonly string[];
  readonly areas: readonly string[];
  /** Share of the log's rows held out for the comparison (stratified by label, seeded). */
  readonly holdout: number;
  readonly seed: number;
}

export interface HouseholdData {
  /** Rows that train the candidate: log rows not held out, JSONL rows, template sentences. */
  readonly train: LabelledRow[];
  /** Log rows held out: base and candidate are compared on these (real traffic only). */
  readonly heldOut: LabelledRow[];
  /** Rows per source (`log`, `log (held out)`, `jsonl:<file>`, `templates:<dir>`). */
  readonly sources: Record<string, number>;
  /** Training rows per label. */
  readonly labels: Record<string, number>;
  readonly notes: string[];
}

/** Gathers the household's rows. Template and file rows only train; only real traffic (the log) is held out. */
export function householdData(src: HouseholdSources): HouseholdData {
  const sources: Record<string, number> = {};
  const notes: string[] = [];
  const train: LabelledRow[] = [];
  let heldOut: LabelledRow[] = [];
  if (src.db) {
    const log = selectLogRows(src.db, 'intent', {}, { route: false, language: src.language ?? null });
    const [keep, held] = stratifiedSplit(log.rows, src.holdout, src.seed);
    train.push(...keep);
    heldOut = held;
    sources.log = keep.length;
    sources['log (held out)'] = held.length;
    if (log.otherLanguage > 0) {
      notes.push(`${log.otherLanguage} labelled input(s) logged in another language than ${log.language} were left out (this retrains the ${log.language} intent model)`);
    }
    if (log.unlocatedSlots > 0) notes.push(`${log.unlocatedSlots} labelled slot(s) could not be found in their utterance and were left out`);
  }
  for (const f of src.jsonl ?? []) {
    const d = readRows(f, 'intent');
    train.push(...d.rows);
    sources[`jsonl:${f}`] = d.rows.length;
  }
  for (const dir of src.templates ?? []) {
    const t = templateRows(dir, src.areas, { seed: src.seed });
    train.push(...t.rows);
    sources[`templates:${dir}`] = t.rows.length;
    if (t.unmapped > 0) notes.push(`${dir}: ${t.unmapped} sentence(s) of Home Assistant intents hubnlu has no label for were left out`);
    const usesArea = t.rows.some((r) => r.slots.some((s) => s.type === 'house_place'));
    if (!usesArea && src.areas.length === 0) notes.push(`${dir}: learning.areas is empty, so templates with {area} produced no sentences; list the household's rooms there`);
    else if (t.silent.length > 0) {
      const named = t.silent.slice(0, 5).join(', ') + (t.silent.length > 5 ? ', …' : '');
      notes.push(
        `${dir}: ${t.silent.length} template(s) gave no sentence (${named}); hubnlu fills only {area} (from learning.areas): define a "name" list for {name} (lists: name: values: [garage door, …]) and give wildcard lists values instead`,
      );
    }
  }
  const labels: Record<string, number> = {};
  for (const r of train) labels[r.label] = (labels[r.label] ?? 0) + 1;
  return { train, heldOut, sources, labels, notes };
}

/**
 * "iot_garage_open: 4 examples, fewer than 10: expect it to be missed" for
 * each household label the base model does not know and has too few rows.
 */
export function dataWarnings(labels: Readonly<Record<string, number>>, known: readonly string[], min: number): string[] {
  const have = new Set(known);
  return Object.entries(labels)
    .filter(([label, n]) => !have.has(label) && n < min)
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .map(([label, n]) => `${label}: ${n} example${n === 1 ? '' : 's'}, fewer than ${min}: expect it to be missed`);
}

/**
 * What `hubnlu train --data FILE` says about a small training file (issue 9: a
 * 6-row file used to train without a word): each label with fewer than `min`
 * rows, with its count, and, when every label is that small, that a model
 * trained on this alone is a toy and how to extend the shipped model instead.
 */
export function smallDataWarnings(labels: Readonly<Record<string, number>>, min: number): string[] {
  const small = dataWarnings(labels, [], min);
  const all = Object.keys(labels).length;
  if (all > 0 && small.length === all) {
    const rows = Object.values(labels).reduce((a, b) => a + b, 0);
    small.push(
      `${rows} training row${rows === 1 ? '' : 's'} in all, every label below ${min}: a model trained on this alone knows only these ${all} label${all === 1 ? '' : 's'}, and barely; to add a household's own phrasings and intents to the shipped model, use \`hubnlu train --with-log-labels --data FILE\``,
    );
  }
  return small;
}

