/**
 * The model directory format and its loader.
 *
 *   models/<name>/
 *     manifest.json   what this file's `ModelManifest` describes
 *     model.onnx      the classifier graph (`files.classifier`)
 *     features.bin    hashed feature id → compact row (`files.features`)
 *     slots.onnx …    the slot tagger's files (intent models; `slots` section, owned by the tagger)
 *     MODEL_CARD.md   for people
 *
 * The loader checks every field and reports all problems at once, each naming
 * the file, the field and the fix (STYLE: errors name the thing and the fix).
 */
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, join, normalize, sep } from 'node:path';
import { packageRoot } from '../util/paths.js';
import { checkFeaturizerSettings, type FeaturizerSettings } from './features.js';
import { MODEL_TASKS, type ModelTask, type TaskName } from './types.js';

export const MANIFEST_FILE = 'manifest.json';
export const MANIFEST_FORMAT = 'hubnlu-model/1';

export interface DataSource {
  readonly file: string;
  readonly rows: number;
  readonly source: string;
  readonly licence: string;
  /** SHA-256 (hex) of the whole file, when all of its rows trained the model. */
  readonly sha256?: string;
  /** When the rows are a share of other files (`hubnlu train --holdout`): those files and their SHA-256. */
  readonly partOf?: readonly { readonly file: string; readonly sha256: string }[];
}

/** A training file recognised by its content (see `trainingFileMatch`). */
export interface TrainingFileMatch {
  /** The file name recorded in the manifest. */
  readonly file: string;
  /** true: every row of the file trained the model; false: a share of it did (the rest was held out). */
  readonly whole: boolean;
}

/**
 * Whether a file with this SHA-256 trained the model (wholly or in part), from
 * the hashes recorded in `training.data`. Manifests written before hashes were
 * recorded match nothing.
 */
export function trainingFileMatch(m: ModelManifest, sha256: string): TrainingFileMatch | null {
  for (const d of m.training.data) {
    if (d.sha256 === sha256) return { file: d.file, whole: true };
    const part = d.partOf?.find((p) => p.sha256 === sha256);
    if (part) return { file: part.file, whole: false };
  }
  return null;
}

const SHA256_RE = /^[0-9a-f]{64}$/;

export interface Calibration {
  /** Logits are divided by this before the softmax. */
  readonly temperature: number;
  /** Expected calibration error (15 equal-width bins) on `fitOn` before and after scaling. */
  readonly eceBefore: number;
  readonly eceAfter: number;
  /** Suggested `models.unknownThreshold`: below it, the top intent is reported as `unknown`. */
  readonly threshold: number;
  /** Which data the temperature was fit on. */
  readonly fitOn?: string;
  readonly [extra: string]: unknown;
}

export interface ClassifierArchitecture {
  readonly kind: 'fasttext';
  readonly dim: number;
  readonly hidden: number;
  readonly rows: number;
  readonly precision: 'fp32' | 'int8';
  readonly [extra: string]: unknown;
}

export interface ModelFiles {
  readonly classifier: string;
  readonly features: string;
  /** Present when the intent model carries a slot tagger (see the `slots` section). */
  readonly slots?: string;
}

export interface ModelManifest {
  readonly format: typeof MANIFEST_FORMAT;
  readonly task: ModelTask;
  readonly name: string;
  readonly version: string;
  /** BCP 47 tag, e.g. `en`. */
  readonly language: string;
  /** Output order of the classifier's logits. */
  readonly labels: readonly string[];
  readonly featurizer: FeaturizerSettings;
  readonly architecture: ClassifierArchitecture;
  readonly calibration: Calibration;
  readonly files: ModelFiles;
  /** The slot tagger's section; its owner (`slot-tagger.ts`) reads and checks it. */
  readonly slots?: unknown;
  readonly training: {
    readonly data: readonly DataSource[];
    readonly seed: number;
    readonly epochs: number;
    readonly seconds: number;
    readonly [extra: string]: unknown;
  };
  readonly metrics: Readonly<Record<string, unknown>>;
}

export class ManifestError extends Error {
  constructor(
    readonly file: string,
    readonly problems: readonly string[],
  ) {
    super(`${file}: invalid model manifest:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ManifestError';
  }
}

/**
 * A model directory whose manifest is for another task than the one it was given as. The message names the
 * setting (`models.intent`); a command whose directory came from an option (`--model DIR`) says so instead
 * with `forOption`, since this layer does not know where the path came from.
 */
export class WrongTaskError extends Error {
  constructor(
    readonly dir: string,
    readonly found: ModelTask,
    readonly expected: TaskName,
  ) {
    super(`${dir}: manifest.json says task "${found}", but it is configured as the ${expected} model (models.${expected})`);
    this.name = 'WrongTaskError';
  }

  /** The message for a directory given by a command-line option such as `--model`. */
  forOption(option: string): string {
    const other = this.found === 'intent' || this.found === 'sentiment' ? `--task ${this.found}, or ` : '';
    return `${this.dir}: manifest.json says task "${this.found}", but ${option} gives it as the ${this.expected} model; pass ${other}an ${this.expected} model directory as ${option}`;
  }
}

/** Throws WrongTaskError unless the manifest in `dir` is for `task`. */
export function checkManifestTask(dir: string, manifest: Pick<ModelManifest, 'task'>, task: TaskName): void {
  if (manifest.task !== task) throw new WrongTaskError(dir, manifest.task, task);
}

const RETRAIN = 'retrain with `hubnlu train` or `npm run train:models`';

/**
 * Why a file name from a manifest may not be read, or null: it must stay inside the model directory. A copied or
 * downloaded directory whose manifest says `../../etc/…` or `/…` would otherwise have hubnlu read whatever lies there.
 */
export function outsideDir(dir: string | undefined, name: string): string | null {
  const n = normalize(name);
  if (!isAbsolute(name) && n !== '..' && !n.startsWith(`..${sep}`) && !n.startsWith('../')) return null;
  return `${JSON.stringify(name)} must name a file inside the model directory${dir ? ` ${dir}` : ''} (a plain name such as "model.onnx"); restore the manifest from the model's source or ${RETRAIN}`;
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks a parsed manifest; returns every problem found (empty when valid). */
export function validateManifest(m: unknown, dir?: string): string[] {
  const errors: string[] = [];
  if (!isObj(m)) return ['the file must hold one JSON object'];
  if (m.format !== MANIFEST_FORMAT) {
    errors.push(`format: expected "${MANIFEST_FORMAT}", got ${JSON.stringify(m.format)} (made by a different hubnlu version; ${RETRAIN})`);
  }
  if (!MODEL_TASKS.includes(m.task as ModelTask)) errors.push(`task: must be one of ${MODEL_TASKS.join(', ')}, got ${JSON.stringify(m.task)}`);
  for (const k of ['name', 'version', 'language'] as const) {
    if (typeof m[k] !== 'string' || !m[k]) errors.push(`${k}: must be a non-empty string`);
  }
  if (!Array.isArray(m.labels) || m.labels.length < 2 || !m.labels.every((l) => typeof l === 'string' && l)) {
    errors.push('labels: must list at least two label names, in the classifier\'s output order');
  } else if (new Set(m.labels).size !== m.labels.length) {
    errors.push('labels: names must be unique');
  } else if (m.task === 'sentiment') {
    const want = ['negative', 'neutral', 'positive'];
    if (m.labels.length !== 3 || !want.every((l) => (m.labels as string[]).includes(l))) {
      errors.push('labels: a sentiment model must have exactly negative, neutral and positive');
    }
  }
  errors.push(...checkFeaturizerSettings(m.featurizer));
  const lex = isObj(m.featurizer) && isObj(m.featurizer.lexicon) ? m.featurizer.lexicon : null;
  const lexOutside = lex && typeof lex.file === 'string' && lex.file ? outsideDir(dir, lex.file) : null;
  if (lexOutside) errors.push(`featurizer.lexicon.file: ${lexOutside}`);
  else if (lex && dir && typeof lex.file === 'string' && lex.file && !existsSync(join(dir, lex.file))) {
    errors.push(`featurizer.lexicon.file: ${join(dir, lex.file)} does not exist (copy the whole model directory, or ${RETRAIN})`);
  }
  const a = m.architecture;
  if (!isObj(a) || a.kind !== 'fasttext') errors.push('architecture.kind: must be "fasttext"');
  else {
    for (const k of ['dim', 'hidden', 'rows'] as const) {
      if (typeof a[k] !== 'number' || !Number.isInteger(a[k]) || (a[k] as number) < 0) errors.push(`architecture.${k}: must be a non-negative integer`);
    }
    if (a.precision !== 'fp32' && a.precision !== 'int8') errors.push('architecture.precision: must be "fp32" or "int8"');
  }
  const c = m.calibration;
  if (!isObj(c)) errors.push('calibration: missing; it holds {temperature, eceBefore, eceAfter, threshold}');
  else {
    if (typeof c.temperature !== 'number' || !(c.temperature > 0) || !Number.isFinite(c.temperature)) {
      errors.push('calibration.temperature: must be a positive number (1 = uncalibrated)');
    }
    for (const k of ['eceBefore', 'eceAfter'] as const) {
      if (typeof c[k] !== 'number' || (c[k] as number) < 0 || (c[k] as number) > 1) errors.push(`calibration.${k}: must be a number in [0, 1]`);
    }
    if (typeof c.threshold !== 'number' || (c.threshold as number) < 0 || (c.threshold as number) > 1) {
      errors.push('calibration.threshold: must be a number in [0, 1]');
    }
  }
  const f = m.files;
  if (!isObj(f)) errors.push('files: missing; it names {classifier, features[, slots]}');
  else {
    for (const k of ['classifier', 'features'] as const) {
      if (typeof f[k] !== 'string' || !f[k]) errors.push(`files.${k}: must name a file in the model directory`);
      else if (outsideDir(dir, f[k] as string)) errors.push(`files.${k}: ${outsideDir(dir, f[k] as string)}`);
      else if (dir && !existsSync(join(dir, f[k] as string))) errors.push(`files.${k}: ${join(dir, f[k] as string)} does not exist (copy the whole model directory, or ${RETRAIN})`);
    }
    if (f.slots !== undefined) {
      if (typeof f.slots !== 'string' || !f.slots) errors.push('files.slots: must name a file when present');
      else if (outsideDir(dir, f.slots)) errors.push(`files.slots: ${outsideDir(dir, f.slots)}`);
      else if (dir && !existsSync(join(dir, f.slots))) errors.push(`files.slots: ${join(dir, f.slots)} does not exist (copy the whole model directory, or ${RETRAIN})`);
      if (m.slots === undefined) errors.push('slots: files.slots is set but the `slots` section is missing');
    }
  }
  const t = m.training;
  if (!isObj(t)) errors.push('training: missing; it records {data, seed, epochs, seconds}');
  else {
    if (!Array.isArray(t.data)) errors.push('training.data: must list the training files with rows, source and licence');
    else {
      t.data.forEach((d, i) => {
        if (!isObj(d) || typeof d.file !== 'string' || typeof d.rows !== 'number' || typeof d.source !== 'string' || typeof d.licence !== 'string') {
          errors.push(`training.data[${i}]: must be {file, rows, source, licence}`);
          return;
        }
        if (d.sha256 !== undefined && (typeof d.sha256 !== 'string' || !SHA256_RE.test(d.sha256))) {
          errors.push(`training.data[${i}].sha256: must be 64 lowercase hex digits (the file's SHA-256) when present`);
        }
        if (d.partOf !== undefined && (!Array.isArray(d.partOf) || !d.partOf.every((p) => isObj(p) && typeof p.file === 'string' && typeof p.sha256 === 'string' && SHA256_RE.test(p.sha256)))) {
          errors.push(`training.data[${i}].partOf: must list {file, sha256} when present`);
        }
      });
    }
    for (const k of ['seed', 'epochs', 'seconds'] as const) {
      if (typeof t[k] !== 'number') errors.push(`training.${k}: must be a number`);
    }
  }
  if (!isObj(m.metrics)) errors.push('metrics: must be an object (may be empty)');
  return errors;
}

/** Reads and validates `<dir>/manifest.json`. Throws a `ManifestError` listing every problem. */
export function loadManifest(dir: string): ModelManifest {
  const file = join(dir, MANIFEST_FILE);
  if (!existsSync(dir)) {
    throw new ManifestError(file, [`model directory ${dir} does not exist; set models.intent / models.sentiment to a directory holding ${MANIFEST_FILE}, or ${RETRAIN}`]);
  }
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new ManifestError(file, [`cannot read ${MANIFEST_FILE}; is ${dir} a hubnlu model directory? (${RETRAIN})`]);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new ManifestError(file, [`not valid JSON (${(e as Error).message}); restore it from the model's source or ${RETRAIN}`]);
  }
  const problems = validateManifest(parsed, dir);
  if (problems.length) throw new ManifestError(file, problems);
  return parsed as ModelManifest;
}

/**
 * The shipped model directory for a task (`models/intent`, `models/sentiment`
 * under the package root). The root is found from the module's own location,
 * so this works from `src/` and `dist/src/` and from any working directory.
 */
export function defaultModelDir(task: ModelTask): string {
  return join(packageRoot(), 'models', task);
}
