/**
 * Labelled rows in the dataset format (one JSON object a line), the one row
 * type that training, evaluation, export and the log's labels share, and the
 * one reader that validates them. Errors name the file, the line and the fix.
 */
import { basename } from 'node:path';
import type { TaskName } from '../model/tasks.js';
import { INPUT_LIMITS, InputFileError, readFileLines, type InputLimits } from './input-file.js';
import { TASK_SPECS, otherTasks } from '../model/tasks.js';

export interface GoldSlot {
  readonly type: string;
  readonly value: string;
  readonly start: number;
  readonly end: number;
}

export interface LabelledRow {
  readonly text: string;
  /** The intent or sentiment label. */
  readonly label: string;
  readonly slots: readonly GoldSlot[];
  readonly source: string;
}

export interface Dataset {
  readonly file: string;
  readonly rows: readonly LabelledRow[];
  /** SHA-256 of the file the rows were read from (absent for rows made in memory). */
  readonly sha256?: string;
}


/** One line of a dataset file → a row; `null` for a blank line. Errors (InputFileError: a usage error) name the file and line, never the line's content. */
export function parseRow(text: string, n: number, task: TaskName, file: string): LabelledRow | null {
  const field = TASK_SPECS[task].labelField;
  const line = text.trim();
  if (!line) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch (e) {
    // V8's message quotes the text it could not parse: keep only the position.
    const at = /position (\d+)/.exec((e as Error).message);
    throw new InputFileError(`${file}:${n}: not valid JSON${at ? ` (at character ${Number(at[1]) + 1})` : ''}; each line must be one JSON object`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new InputFileError(`${file}:${n}: not a JSON object; each line must be one JSON object such as {"text": "...", "${field}": "..."}`);
  }
  const o = parsed as Record<string, unknown>;
  if (typeof o.text !== 'string') throw new InputFileError(`${file}:${n}: missing string field "text"`);
  if (typeof o[field] !== 'string' || !o[field]) {
    throw new InputFileError(`${file}:${n}: missing string field "${field}"; is this a ${task} file? (use --task ${otherTasks(task)} otherwise)`);
  }
  const slots: GoldSlot[] = [];
  if (Array.isArray(o.slots)) {
    for (const s of o.slots as Record<string, unknown>[]) {
      if (typeof s?.type === 'string' && typeof s.value === 'string' && typeof s.start === 'number' && typeof s.end === 'number') {
        slots.push(slotInText(o.text, { type: s.type, value: s.value, start: s.start, end: s.end }, `${file}:${n}: slot ${slots.length + 1}`));
      } else {
        throw new InputFileError(`${file}:${n}: each slot needs {type, value, start, end}`);
      }
    }
  }
  return { text: o.text, label: o[field] as string, slots, source: typeof o.source === 'string' ? o.source : basename(file) };
}

/**
 * A slot whose offsets lie inside the text (UTF-16 units, as `String.slice`): `0 ≤ start < end ≤ text.length`,
 * whole numbers. Out-of-range offsets used to be read and scored as spans past the text.
 * Its value must be the text it spans (`text.slice(start, end) === value`): in the dataset format a slot's value is
 * the words as written, not a normalised value ("twenty one degrees", not 21; the model normalises what it tags, see
 * src/model/slot-values.ts). Training and scoring read only the span, so a value that differs from it means the
 * offsets or the value are wrong, and the row would train a span its author did not mean. Every shipped dataset
 * holds to this (and its README says so).
 * One exception, clamped: an `end` exactly one past the text whose value is the rest of the text plus trailing
 * space. snipsco/nlu-benchmark's train set has three such rows (lines 5137, 5724, 5864 of snips.train.jsonl: the
 * text was trimmed, the last slot's value kept its space). Only langid training reads that file, and only its
 * text, so clamping leaves every shipped model as it was.
 */
function slotInText(text: string, slot: GoldSlot, where: string): GoldSlot {
  const { start, end } = slot;
  if (Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start < end) {
    if (end <= text.length) {
      if (text.slice(start, end) !== slot.value) throw valueNotSpan(text, slot, where);
      return slot;
    }
    if (end === text.length + 1 && slot.value.length === end - start && slot.value.trimEnd() === text.slice(start)) {
      return { ...slot, value: text.slice(start), end: text.length };
    }
  }
  throw new InputFileError(
    `${where} has start ${start}, end ${end}; offsets must be whole numbers with 0 ≤ start < end ≤ ${text.length} (the text's length in UTF-16 units), and text.slice(start, end) the slot's value`,
  );
}

/** The error for a slot whose value is not the text it spans, with the likely fix (offsets only: never the line's content). */
function valueNotSpan(text: string, slot: GoldSlot, where: string): InputFileError {
  const { value, start, end } = slot;
  const span = text.slice(start, end);
  let fix: string;
  if (span.toLowerCase() === value.toLowerCase()) {
    fix = 'the value differs from it only in case: write it as the text has it';
  } else {
    // The occurrence of the value nearest to the given start: offsets shifted by an edit to the text.
    let best = -1;
    for (let at = value ? text.indexOf(value) : -1; at >= 0; at = text.indexOf(value, at + 1)) {
      if (best < 0 || Math.abs(at - start) < Math.abs(best - start)) best = at;
    }
    fix =
      best >= 0
        ? `the value is at start ${best}, end ${best + value.length} in the text: correct the offsets (UTF-16 units, end exclusive)`
        : 'make value the text the slot spans (text.slice(start, end)), as written, not a normalised value; or correct the offsets (UTF-16 units, end exclusive)';
  }
  return new InputFileError(`${where} (start ${start}, end ${end}): its value is not text.slice(start, end), the text the slot spans; ${fix}`);
}

export function parseRows(text: string, task: TaskName, file: string): LabelledRow[] {
  const rows: LabelledRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const row = parseRow(lines[i], i + 1, task, file);
    if (row) rows.push(row);
  }
  return rows;
}

/**
 * Reads a dataset file: regular files only, bounded in size and line length
 * (see input-file.ts), streamed, with the file's SHA-256.
 */
export function readRows(file: string, task: TaskName, limits: InputLimits = INPUT_LIMITS): Dataset {
  const rows: LabelledRow[] = [];
  const digest = readFileLines(file, (line, n) => {
    const row = parseRow(line, n, task, file);
    if (row) rows.push(row);
  }, limits);
  return { file, rows, sha256: digest.sha256 };
}

/** Plain text, one sentence a line (for unlabelled in-domain text), read with the same bounds. */
export function readLines(file: string, limits: InputLimits = INPUT_LIMITS): string[] {
  const out: string[] = [];
  readFileLines(file, (line) => {
    const t = line.trim();
    if (t) out.push(t);
  }, limits);
  return out;
}
