/**
 * Checking a label before it is stored: what the CLI (`hubnlu label`, its
 * `--import` file, the interactive review) gives `LogStore.label`.
 *
 * - A sentiment must be one of the task's fixed labels (an error otherwise).
 * - An intent the models cannot produce is a warning, not an error: a
 *   household adds its own intents by labelling them. A malformed name
 *   (spaces, punctuation) is an error.
 * - A slot is `{type, value}`; its value must occur in the utterance (case
 *   insensitive), and the stored slot carries the offsets found (an error
 *   when the text lacks it). A slot type no model knows is a warning.
 */
import { TASK_SPECS } from '../model/tasks.js';
import { UNKNOWN_INTENT } from '../model/types.js';
import { readFileLines, INPUT_LIMITS, type InputLimits } from './input-file.js';

/** The labels the configured models can produce, and those the log already holds. */
export interface LabelVocabulary {
  readonly intents: ReadonlySet<string>;
  readonly slotTypes: ReadonlySet<string>;
  /** Gold intents already given in this log (a household's own intents). */
  readonly loggedIntents?: ReadonlySet<string>;
}

/** A slot as given: `type=value` on the command line, `{type, value}` in an import file. */
export interface SlotInput {
  readonly type: string;
  readonly value: string;
}

/** The slot stored in `gold_slots`: located in the text (`text.slice(start, end) === raw`). */
export interface StoredSlot {
  readonly type: string;
  readonly value: string;
  readonly raw: string;
  readonly start: number;
  readonly end: number;
}

export interface LabelInput {
  /** undefined: leave as it is; null: clear. */
  readonly intent?: string | null;
  readonly slots?: readonly SlotInput[] | null;
  readonly sentiment?: string | null;
}

export interface CheckedLabel {
  readonly intent?: string | null;
  readonly slots?: readonly StoredSlot[] | null;
  readonly sentiment?: string | null;
  readonly warnings: readonly string[];
}

export class LabelError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LabelError';
  }
}

const NAME_RE = /^[\p{L}\p{N}_.:-]{1,64}$/u;
const SENTIMENTS = TASK_SPECS.sentiment.fixedLabels!;

/** `type=value` → a slot; the value may hold `=` and spaces. */
export function parseSlotArg(arg: string): SlotInput {
  const at = arg.indexOf('=');
  if (at <= 0 || at === arg.length - 1) throw new LabelError(`--slot ${JSON.stringify(arg)}: expected type=value, e.g. --slot house_place=kitchen`);
  return { type: arg.slice(0, at).trim(), value: arg.slice(at + 1).trim() };
}

/** Where `value` occurs in `text` (case-insensitive, first occurrence), or null. */
export function locateValue(text: string, value: string): { start: number; end: number } | null {
  if (!value) return null;
  const at = text.toLowerCase().indexOf(value.toLowerCase());
  // toLowerCase keeps the length of nearly every string; check, so offsets never point past the text.
  if (at < 0 || text.slice(at, at + value.length).toLowerCase() !== value.toLowerCase()) return null;
  return { start: at, end: at + value.length };
}

/** Checks one label against the utterance and the vocabulary; throws a LabelError for what cannot be stored. */
export function checkLabel(text: string | null, input: LabelInput, vocab: LabelVocabulary): CheckedLabel {
  const warnings: string[] = [];
  if (input.intent === undefined && input.slots === undefined && input.sentiment === undefined) {
    throw new LabelError('nothing to label: give an intent, slots or a sentiment (or clear one)');
  }
  if (input.sentiment !== undefined && input.sentiment !== null && !SENTIMENTS.includes(input.sentiment)) {
    throw new LabelError(`sentiment ${JSON.stringify(input.sentiment)}: expected one of ${SENTIMENTS.join(', ')}`);
  }
  if (input.intent !== undefined && input.intent !== null) {
    if (!NAME_RE.test(input.intent)) throw new LabelError(`intent ${JSON.stringify(input.intent)}: an intent name is 1-64 letters, digits, _ . : or -, e.g. iot_garage_open`);
    if (input.intent !== UNKNOWN_INTENT && !vocab.intents.has(input.intent) && !vocab.loggedIntents?.has(input.intent)) {
      warnings.push(`intent ${input.intent} is new: no configured model produces it and no input is labelled with it yet (fine for a household's own intent; check the spelling otherwise)`);
    }
  }
  let slots: StoredSlot[] | null | undefined = input.slots === null ? null : undefined;
  if (input.slots) {
    if (text === null) throw new LabelError('this input has no text (it was rejected), so it cannot have slots');
    slots = [];
    for (const s of input.slots) {
      if (!NAME_RE.test(s.type)) throw new LabelError(`slot type ${JSON.stringify(s.type)}: a slot type is 1-64 letters, digits, _ . : or -, e.g. house_place`);
      const at = locateValue(text, s.value);
      if (!at) throw new LabelError(`slot ${s.type}=${JSON.stringify(s.value)}: the value is not in the text ${JSON.stringify(text)}; give it as it appears there`);
      if (!vocab.slotTypes.has(s.type)) warnings.push(`slot type ${s.type} is new: no configured model tags it`);
      slots.push({ type: s.type, value: s.value, raw: text.slice(at.start, at.end), start: at.start, end: at.end });
    }
  }
  return {
    ...(input.intent !== undefined ? { intent: input.intent } : {}),
    ...(slots !== undefined ? { slots } : {}),
    ...(input.sentiment !== undefined ? { sentiment: input.sentiment } : {}),
    warnings,
  };
}

/** One row of a `hubnlu label --import` file, with the line it came from. */
export interface ImportRow extends LabelInput {
  readonly line: number;
  /** An input id, or `#seq`. */
  readonly id: string;
  /** The id a row names beside its `seq` (an exported row): the input `#seq` finds must have it. */
  readonly expectId?: string;
}

/**
 * Reads a label file: one JSON object a line, `{"id": …, "intent"?, "slots"?,
 * "sentiment"?}` (`null` clears a label; other fields such as `text` are
 * ignored, so a `hubnlu export` file edited by hand imports back). Bounded as
 * every input file is (input-file.ts); errors name the file and line.
 */
export function readLabelFile(file: string, limits: InputLimits = INPUT_LIMITS): ImportRow[] {
  const rows: ImportRow[] = [];
  readFileLines(
    file,
    (text, n) => {
      const line = text.trim();
      if (!line) return;
      let o: unknown;
      try {
        o = JSON.parse(line);
      } catch (e) {
        const at = /position (\d+)/.exec((e as Error).message);
        throw new LabelError(`${file}:${n}: not valid JSON${at ? ` (at character ${Number(at[1]) + 1})` : ''}; each line must be one JSON object such as {"id": "…", "intent": "…"}`);
      }
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new LabelError(`${file}:${n}: not a JSON object; each line must be one JSON object such as {"id": "…", "intent": "…"}`);
      const r = o as Record<string, unknown>;
      const named = typeof r.id === 'string' && r.id ? r.id : null;
      const seq = typeof r.seq === 'number' && Number.isSafeInteger(r.seq) ? r.seq : null;
      if (named === null && seq === null) throw new LabelError(`${file}:${n}: missing "id" (the input's id, or "#<seq>")`);
      // An exported row names its input twice: its seq is unique in its database, while ids may repeat (an ambiguous id
      // would refuse the row), so the seq finds the input and the id checks it is the one exported.
      const id = seq !== null ? `#${seq}` : named!;
      const expectId = seq !== null && named !== null ? named : undefined;
      const str = (k: string): string | null | undefined => {
        const v = r[k];
        if (v === undefined || v === null) return v;
        if (typeof v !== 'string' || !v) throw new LabelError(`${file}:${n}: "${k}" must be a non-empty string or null`);
        return v;
      };
      const intent = str('intent');
      const sentiment = str('sentiment');
      let slots: SlotInput[] | null | undefined;
      if (r.slots === null) slots = null;
      else if (r.slots !== undefined) {
        if (!Array.isArray(r.slots)) throw new LabelError(`${file}:${n}: "slots" must be a list of {"type", "value"} or null`);
        slots = (r.slots as unknown[]).map((s) => {
          const so = s as Record<string, unknown>;
          if (typeof so !== 'object' || so === null || typeof so.type !== 'string' || (typeof so.value !== 'string' && typeof so.value !== 'number')) {
            throw new LabelError(`${file}:${n}: each slot needs {"type": "…", "value": "…"}`);
          }
          // An exported row's slots carry offsets: the text they point at is the value as written.
          return { type: so.type, value: typeof so.raw === 'string' && so.raw ? so.raw : String(so.value) };
        });
      }
      if (intent === undefined && sentiment === undefined && slots === undefined) throw new LabelError(`${file}:${n}: nothing to label; give "intent", "slots" or "sentiment"`);
      rows.push({ line: n, id, ...(expectId !== undefined ? { expectId } : {}), ...(intent !== undefined ? { intent } : {}), ...(slots !== undefined ? { slots } : {}), ...(sentiment !== undefined ? { sentiment } : {}) });
    },
    limits,
  );
  return rows;
}
