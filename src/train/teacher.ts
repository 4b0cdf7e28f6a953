/**
 * Soft labels from a teacher model, for distillation (issue 13).
 *
 * The teacher (`scripts/teacher/teacher.py`, a word CNN + character n-gram bag
 * trained with torch) is not part of the TypeScript pipeline: it writes its
 * probabilities as a small gzipped file, which `hubnlu train --teacher FILE`
 * reads, so a student can be trained (and retrained bit for bit) from that
 * file without Python. See docs/intent-distillation.md; the shipped recipe
 * does not use one (the gain measured was within seed noise).
 *
 * File format (`hubnlu-teacher-v1`): `{format, teacher, labels, scale, rows}`,
 * each row `[text, [labelIndex, probability × scale, …]]` holding the
 * teacher's top-k labels; the rest of the probability mass is spread evenly
 * over the other labels.
 */
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { normalizeText } from '../model/text.js';

export interface TeacherSoftLabels {
  /** The teacher's distribution over the student's labels for a sentence it scored, else undefined. */
  readonly lookup: (text: string) => Float32Array | undefined;
  /** Distinct normalised sentences it holds. */
  readonly size: number;
}

interface TeacherDoc {
  readonly format: string;
  readonly labels: readonly string[];
  readonly scale: number;
  readonly rows: readonly [string, readonly number[]][];
}

/**
 * Reads a teacher file for a student with `labels`. Every teacher label must be
 * a student label (the student may have more; they get the spread mass only).
 * Sentences that normalise alike are averaged.
 */
export function readTeacherFile(file: string, labels: readonly string[]): TeacherSoftLabels {
  let doc: TeacherDoc;
  try {
    doc = JSON.parse(gunzipSync(readFileSync(file)).toString('utf8')) as TeacherDoc;
  } catch (err) {
    throw new Error(`teacher file ${file}: cannot read it as gzipped JSON (${(err as Error).message}); regenerate it with scripts/teacher/teacher.py`);
  }
  if (doc.format !== 'hubnlu-teacher-v1' || !Array.isArray(doc.labels) || !Array.isArray(doc.rows) || !(doc.scale > 0)) {
    throw new Error(`teacher file ${file}: not a hubnlu-teacher-v1 file (format, labels, scale, rows); regenerate it with scripts/teacher/teacher.py`);
  }
  const index = new Map(labels.map((l, i) => [l, i]));
  const map = doc.labels.map((l) => {
    const i = index.get(l);
    if (i === undefined) throw new Error(`teacher file ${file}: label "${l}" is not one of the student's labels; train the teacher on the same files as the student`);
    return i;
  });
  const n = labels.length;
  const sums = new Map<string, { p: Float64Array; k: number }>();
  for (const [text, top] of doc.rows) {
    const p = new Float64Array(n);
    const set = new Uint8Array(n);
    let mass = 0;
    for (let j = 0; j + 1 < top.length; j += 2) {
      const c = map[top[j]];
      p[c] = top[j + 1] / doc.scale;
      set[c] = 1;
      mass += p[c];
    }
    const rest = n - set.reduce((a, b) => a + b, 0);
    const spread = rest > 0 ? Math.max(0, 1 - mass) / rest : 0;
    let z = 0;
    for (let c = 0; c < n; c++) {
      if (!set[c]) p[c] = spread;
      z += p[c];
    }
    for (let c = 0; c < n; c++) p[c] /= z;
    const key = normalizeText(text);
    const old = sums.get(key);
    if (old) {
      for (let c = 0; c < n; c++) old.p[c] += p[c];
      old.k++;
    } else sums.set(key, { p, k: 1 });
  }
  const table = new Map<string, Float32Array>();
  for (const [key, { p, k }] of sums) table.set(key, Float32Array.from(p, (v) => v / k));
  return { lookup: (text) => table.get(normalizeText(text)), size: table.size };
}
