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
  /** Where the value is (a bridge request may say, e.g. the second of two "kitchen"s): checked, never trusted; absent: located. */
  readonly start?: unknown;
  readonly end?: unknown;
  /** The offsets are a hint (an exported row, maybe edited): used when they span the value, else the value is located. */
  readonly offsetsHint?: boolean;
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

/** A slot's offsets when they are whole numbers inside the text spanning its value (case aside), else null. */
function spanning(text: string, s: SlotInput): { start: number; end: number } | null {
  const { start, end } = s;
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end)) return null;
  const a = start as number;
  const b = end as number;
  return a >= 0 && a < b && b <= text.length && text.slice(a, b).toLowerCase() === s.value.toLowerCase() ? { start: a, end: b } : null;
}

/**
 * A slot's own offsets: whole numbers inside the text (UTF-16 units, end exclusive) that span the value (case aside,
 * as `locateValue` matches it); a LabelError naming them and the fix otherwise.
 */
function checkOffsets(text: string, s: SlotInput): { start: number; end: number } {
  const what = `slot ${s.type}=${JSON.stringify(s.value)}`;
  const { start, end } = s;
  if (start === undefined || end === undefined) throw new LabelError(`${what}: give both start and end, or neither (then the value is located in the text)`);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || (start as number) < 0 || (start as number) >= (end as number) || (end as number) > text.length) {
    throw new LabelError(`${what}: start ${JSON.stringify(start)}, end ${JSON.stringify(end)}: start and end must be whole numbers with 0 ≤ start < end ≤ ${text.length} (the text's length, end exclusive), or leave both out to have the value located in the text`);
  }
  const spanned = text.slice(start as number, end as number);
  if (spanned.toLowerCase() !== s.value.toLowerCase()) {
    const found = locateValue(text, s.value);
    throw new LabelError(`${what}: start ${start as number}, end ${end as number} spans ${JSON.stringify(spanned)}, not the value ${JSON.stringify(s.value)}; ${found ? `it is at start ${found.start}, end ${found.end}` : 'the value is not in the text'} (or leave start and end out to have it located)`);
  }
  return { start: start as number, end: end as number };
}

/**
 * A label as a JSON request gives it (the bridge's `label`): `{intent?, slots?: [{type, value, raw?, start?, end?}],
 * sentiment?}`, `null` clearing a field. The shapes only; `checkLabel` checks the contents against the input, as for the CLI.
 */
export function labelInputFromJson(r: Readonly<Record<string, unknown>>): LabelInput {
  const name = (k: 'intent' | 'sentiment'): string | null | undefined => {
    const v = r[k];
    if (v === undefined || v === null) return v;
    if (typeof v !== 'string' || !v) throw new LabelError(`${k} must be a non-empty string, or null to clear it`);
    return v;
  };
  const intent = name('intent');
  const sentiment = name('sentiment');
  let slots: SlotInput[] | null | undefined;
  if (r.slots === null) slots = null;
  else if (r.slots !== undefined) {
    if (!Array.isArray(r.slots)) throw new LabelError('slots must be a list of {type, value, start?, end?}, or null to clear them');
    if (r.slots.length > MAX_SLOTS) throw new LabelError(`slots: ${r.slots.length} slots; at most ${MAX_SLOTS}`);
    slots = r.slots.map((s: unknown, i) => {
      const o = s as Record<string, unknown>;
      if (typeof o !== 'object' || o === null || Array.isArray(o) || typeof o.type !== 'string' || (typeof o.value !== 'string' && typeof o.value !== 'number')) {
        throw new LabelError(`slots[${i}] must be {type, value, start?, end?}: type a string, value the text it spans`);
      }
      // An exported slot's `raw` is the text as written; a normalised value (21 for "twenty one") is not in the text.
      const value = typeof o.raw === 'string' && o.raw ? o.raw : String(o.value);
      return { type: o.type, value, ...(o.start !== undefined ? { start: o.start } : {}), ...(o.end !== undefined ? { end: o.end } : {}) };
    });
  }
  if (intent === undefined && sentiment === undefined && slots === undefined) throw new LabelError('give at least one of intent, slots, sentiment (null clears a label)');
  return { ...(intent !== undefined ? { intent } : {}), ...(slots !== undefined ? { slots } : {}), ...(sentiment !== undefined ? { sentiment } : {}) };
}

/** More slots than any utterance has words worth tagging: a request with more is a mistake. */
const MAX_SLOTS = 64;

/** Checks one label against the utterance and the vocabulary; throws a LabelError for what cannot be stored. */
export function checkLabel(text: string | null, input: LabelInput, vocab: LabelVocabulary): CheckedLabel {
  const warnings: string[] = [];
  if (input.intent === undefined && input.slots === undefined && input.sentiment === undefined) {
    throw new LabelError('nothing to label: give an intent, slots or a sentiment (or clear one)');
  }
  if (text === null && ((input.intent !== undefined && input.intent !== null) || (input.sentiment !== undefined && input.sentiment !== null))) {
    // Training, evaluation and export read labelled inputs with text only: such a label would be stored and never used.
    throw new LabelError('this input has no text (it was rejected before its text was read), so a label would teach nothing; label the input once it is sent again and answered');
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
    if (text === null) throw new LabelError('this input has no text (it was rejected before its text was read), so it cannot have slots');
    slots = [];
    for (const s of input.slots) {
      if (!NAME_RE.test(s.type)) throw new LabelError(`slot type ${JSON.stringify(s.type)}: a slot type is 1-64 letters, digits, _ . : or -, e.g. house_place`);
      const given = s.start !== undefined || s.end !== undefined;
      const at = !given ? locateValue(text, s.value) : s.offsetsHint ? (spanning(text, s) ?? locateValue(text, s.value)) : checkOffsets(text, s);
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
          // An exported row's slots carry offsets: the text they point at is the value as written. They say which of two
          // equal words it is; offsets that no longer span the value (a hand edit) are passed over and the value located.
          const value = typeof so.raw === 'string' && so.raw ? so.raw : String(so.value);
          return { type: so.type, value, ...(typeof so.start === 'number' && typeof so.end === 'number' ? { start: so.start, end: so.end, offsetsHint: true } : {}) };
        });
      }
      if (intent === undefined && sentiment === undefined && slots === undefined) throw new LabelError(`${file}:${n}: nothing to label; give "intent", "slots" or "sentiment"`);
      rows.push({ line: n, id, ...(expectId !== undefined ? { expectId } : {}), ...(intent !== undefined ? { intent } : {}), ...(slots !== undefined ? { slots } : {}), ...(sentiment !== undefined ? { sentiment } : {}) });
    },
    limits,
  );
  return rows;
}
