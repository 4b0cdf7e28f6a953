/**
 * Reading labelled rows in the shared dataset format (one JSON object a line)
 * and splitting them. Errors name the file, the line and the fix.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { TaskName } from '../model/types.js';

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
}

/** Field holding the label for each task. */
export const LABEL_FIELD: Record<TaskName, 'intent' | 'sentiment'> = { intent: 'intent', sentiment: 'sentiment' };

export function parseRows(text: string, task: TaskName, file: string): LabelledRow[] {
  const field = LABEL_FIELD[task];
  const rows: LabelledRow[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (!line) continue;
    let o: Record<string, unknown>;
    try {
      o = JSON.parse(line) as Record<string, unknown>;
    } catch (e) {
      throw new Error(`${file}:${i + 1}: not valid JSON (${(e as Error).message}); each line must be one JSON object`);
    }
    if (typeof o.text !== 'string') throw new Error(`${file}:${i + 1}: missing string field "text"`);
    if (typeof o[field] !== 'string' || !o[field]) {
      throw new Error(`${file}:${i + 1}: missing string field "${field}"; is this a ${task} file? (use --task ${task === 'intent' ? 'sentiment' : 'intent'} otherwise)`);
    }
    const slots: GoldSlot[] = [];
    if (Array.isArray(o.slots)) {
      for (const s of o.slots as Record<string, unknown>[]) {
        if (typeof s?.type === 'string' && typeof s.value === 'string' && typeof s.start === 'number' && typeof s.end === 'number') {
          slots.push({ type: s.type, value: s.value, start: s.start, end: s.end });
        } else {
          throw new Error(`${file}:${i + 1}: each slot needs {type, value, start, end}`);
        }
      }
    }
    rows.push({ text: o.text, label: o[field] as string, slots, source: typeof o.source === 'string' ? o.source : basename(file) });
  }
  return rows;
}

export function readRows(file: string, task: TaskName): Dataset {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path or set --datasets / HUBNLU_DATASETS`);
  }
  return { file, rows: parseRows(text, task, file) };
}

/** Plain text, one sentence a line (for unlabelled in-domain text). */
export function readLines(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new Error(`${file}: cannot read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); check the path`);
  }
  return text.split('\n').map((l) => l.trim()).filter((l) => l.length > 0);
}

/** Small, fast, seeded PRNG (mulberry32): training must be reproducible. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function shuffleInPlace<T>(a: T[], rand: () => number): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a;
}

/**
 * Stratified split: `heldOut` of each label's rows (at least one when a label
 * has two or more rows) go to the second part. Seeded; row order is kept
 * within each part.
 */
export function stratifiedSplit<T extends { label: string }>(rows: readonly T[], heldOut: number, seed: number): [T[], T[]] {
  const byLabel = new Map<string, number[]>();
  rows.forEach((r, i) => {
    const l = byLabel.get(r.label);
    if (l) l.push(i);
    else byLabel.set(r.label, [i]);
  });
  const rand = mulberry32(seed);
  const held = new Set<number>();
  for (const label of [...byLabel.keys()].sort()) {
    const idx = shuffleInPlace([...byLabel.get(label)!], rand);
    let k = Math.round(idx.length * heldOut);
    if (k === 0 && idx.length >= 2 && heldOut > 0) k = 1;
    for (let i = 0; i < k; i++) held.add(idx[i]);
  }
  const a: T[] = [];
  const b: T[] = [];
  rows.forEach((r, i) => (held.has(i) ? b : a).push(r));
  return [a, b];
}
