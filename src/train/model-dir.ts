/**
 * Writes a trained classifier as a model directory (see manifest.ts): int8
 * `model.onnx`, `features.bin`, `manifest.json`, `MODEL_CARD.md`. The fp32
 * export is written to a scratch directory, evaluated through onnxruntime
 * next to the int8 one, and removed, so the manifest and card report both.
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { TextClassifier } from '../model/classifier.js';
import { MANIFEST_FILE, MANIFEST_FORMAT, validateManifest, type DataSource, type ModelManifest } from '../model/manifest.js';
import { evaluateClassifier, type ClassifierEval } from '../eval/evaluate.js';
import type { Dataset } from '../data/rows.js';
import { buildClassifierGraph, type Precision } from './export.js';
import { renderModelCard, type CardExtras } from './model-card.js';
import type { TrainedClassifier } from './trainer.js';
import { baseVersion, modelVersion } from './model-version.js';

export const CLASSIFIER_FILE = 'model.onnx';
export const FEATURES_FILE = 'features.bin';

export interface SlotAttachment {
  /** The manifest `slots` section, produced by the tagger's exporter. */
  readonly section: unknown;
  /** The tagger's graph file name inside the directory (already written there). */
  readonly file: string;
  /** Bytes the tagger's files take (graph + remap). */
  readonly bytes: number;
}

export interface WriteModelOptions {
  readonly name: string;
  readonly version: string;
  readonly language?: string;
  /** Suggested unknown threshold recorded in the manifest. */
  readonly threshold: number;
  readonly data: readonly DataSource[];
  readonly unlabelled?: DataSource | null;
  /** Sets to compare fp32 and int8 on (through onnxruntime). */
  readonly compareOn?: readonly Dataset[];
  readonly slots?: SlotAttachment | null;
  /** More metrics to record (e.g. the held-out run of the same recipe). */
  readonly metrics?: Readonly<Record<string, unknown>>;
  readonly training?: Readonly<Record<string, unknown>>;
  readonly card?: CardExtras;
  /** Precision of the shipped graph (default int8). */
  readonly precision?: Precision;
  /**
   * Called once the directory is complete (slots included); the metrics it
   * returns are added to the manifest and the card (e.g. a full `hubnlu eval`).
   */
  readonly evaluate?: (dir: string) => Promise<Readonly<Record<string, unknown>>>;
}

export interface SizeReport {
  readonly fp32: number;
  readonly int8: number;
}

export interface WrittenModel {
  readonly manifest: ModelManifest;
  readonly sizes: SizeReport;
  readonly comparison: Readonly<Record<string, { readonly fp32: ClassifierEval; readonly int8: ClassifierEval }>>;
}

function writeGraphDir(dir: string, t: TrainedClassifier, precision: Precision, manifest: ModelManifest): number {
  mkdirSync(dir, { recursive: true });
  const graph = buildClassifierGraph(t.weights, precision, { task: t.task, name: manifest.name, version: manifest.version });
  writeFileSync(join(dir, CLASSIFIER_FILE), graph);
  const features = t.remap.toBytes();
  writeFileSync(join(dir, FEATURES_FILE), features);
  let lexiconBytes = 0;
  if (t.featurizer.lexicon) {
    if (!t.lexicon) throw new Error(`the featurizer names a lexicon (${t.featurizer.lexicon.file}) but the trained classifier carries none`);
    const text = lexiconJson(t.lexicon);
    writeFileSync(join(dir, t.featurizer.lexicon.file), text);
    lexiconBytes = Buffer.byteLength(text);
  }
  writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify({ ...manifest, architecture: { ...manifest.architecture, precision } }, null, 2)}\n`);
  return graph.length + features.length + lexiconBytes;
}

/** A lexicon as shipped: one JSON object, words sorted, so reruns write identical bytes. */
export function lexiconJson(lexicon: ReadonlyMap<string, number>): string {
  const sorted = [...lexicon.entries()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return `${JSON.stringify(Object.fromEntries(sorted))}\n`;
}

export async function writeModelDir(dir: string, t: TrainedClassifier, opts: WriteModelOptions): Promise<WrittenModel> {
  const precision = opts.precision ?? 'int8';
  const base: ModelManifest = {
    format: MANIFEST_FORMAT,
    task: t.task,
    name: opts.name,
    // The requested version; the manifest gets it with the content hash below (model-version.ts).
    version: baseVersion(opts.version),
    language: opts.language ?? 'en',
    labels: t.labels,
    featurizer: t.featurizer,
    architecture: {
      kind: 'fasttext',
      dim: t.weights.dim,
      hidden: t.weights.hidden,
      rows: t.weights.numRows,
      precision,
      pooling: 'sum of known feature rows / count of all features',
      classBias: t.classBias,
    },
    calibration: { ...t.calibration, threshold: opts.threshold },
    files: { classifier: CLASSIFIER_FILE, features: FEATURES_FILE },
    training: {
      data: opts.data,
      unlabelled: opts.unlabelled ?? null,
      seed: t.options.seed,
      epochs: t.options.epochs,
      seconds: Math.round(t.stats.seconds * 10) / 10,
      options: t.options,
      rows: t.stats.trainRows,
      vocabularyRows: t.stats.vocabularyRows,
      keptRows: t.stats.keptRows,
      pseudoLabelled: t.stats.pseudoLabelled,
      pruningAccuracy: t.stats.devAccuracy,
      ...opts.training,
    },
    metrics: {},
  };

  // fp32 vs int8, both through onnxruntime.
  const scratch = join(dir, '.fp32-compare');
  rmSync(scratch, { recursive: true, force: true });
  const other: Precision = precision === 'int8' ? 'fp32' : 'int8';
  const sizes: Record<Precision, number> = { fp32: 0, int8: 0 };
  sizes[other] = writeGraphDir(scratch, t, other, base);
  sizes[precision] = writeGraphDir(dir, t, precision, base);
  const comparison: Record<string, { fp32: ClassifierEval; int8: ClassifierEval }> = {};
  if (opts.compareOn && opts.compareOn.length > 0) {
    const shipped = await TextClassifier.load(dir);
    const alt = await TextClassifier.load(scratch);
    try {
      for (const d of opts.compareOn) {
        const a = await evaluateClassifier(shipped, d.rows);
        const b = await evaluateClassifier(alt, d.rows);
        comparison[basename(d.file)] = precision === 'int8' ? { int8: a, fp32: b } : { fp32: a, int8: b };
      }
    } finally {
      await shipped.dispose();
      await alt.dispose();
    }
  }
  rmSync(scratch, { recursive: true, force: true });

  const slotBytes = opts.slots?.bytes ?? 0;
  const withSlots: ModelManifest = {
    ...base,
    files: opts.slots ? { ...base.files, slots: opts.slots.file } : base.files,
    ...(opts.slots ? { slots: opts.slots.section } : {}),
  };
  const manifest: ModelManifest = {
    ...withSlots,
    version: modelVersion(opts.version, dir, weightFiles(withSlots), withSlots),
    metrics: {
      ...opts.metrics,
      fp32VsInt8: comparison,
      sizeBytes: {
        classifierFp32: sizes.fp32,
        classifierInt8: sizes.int8,
        slots: slotBytes,
        total: sizes[precision] + slotBytes,
      },
    },
  };
  const write = (mf: ModelManifest): void => {
    const problems = validateManifest(mf, dir);
    if (problems.length) throw new Error(`internal error: the manifest written to ${dir} is invalid:\n  - ${problems.join('\n  - ')}`);
    writeFileSync(join(dir, MANIFEST_FILE), `${JSON.stringify(mf, null, 2)}\n`);
    writeFileSync(join(dir, 'MODEL_CARD.md'), renderModelCard(mf, opts.card ?? {}));
  };
  write(manifest);
  if (!opts.evaluate) return { manifest, sizes: { fp32: sizes.fp32, int8: sizes.int8 }, comparison };
  const evaluated = await opts.evaluate(dir);
  const final: ModelManifest = { ...manifest, metrics: { ...manifest.metrics, ...evaluated } };
  write(final);
  return { manifest: final, sizes: { fp32: sizes.fp32, int8: sizes.int8 }, comparison };
}

/** The files of a model directory whose bytes decide the answers (hashed into the version): graph, feature remap, lexicon, slot tagger files. */
export function weightFiles(m: ModelManifest): string[] {
  const files = [m.files.classifier, m.files.features];
  if (m.featurizer.lexicon) files.push(m.featurizer.lexicon.file);
  if (m.files.slots) files.push(m.files.slots);
  const named = (m.slots as { files?: Record<string, unknown> } | undefined)?.files;
  if (named) for (const f of Object.values(named)) if (typeof f === 'string') files.push(f);
  return [...new Set(files)];
}

/** Bytes on disk of the files a manifest names (plus the manifest). */
export function modelDirBytes(dir: string, manifest: ModelManifest): number {
  const files = [MANIFEST_FILE, manifest.files.classifier, manifest.files.features];
  if (manifest.featurizer.lexicon) files.push(manifest.featurizer.lexicon.file);
  let total = 0;
  for (const f of files) total += statSync(join(dir, f)).size;
  const size = (manifest.metrics as { sizeBytes?: { slots?: number } }).sizeBytes?.slots ?? 0;
  return total + size;
}

/** `--out` names a directory that must not be replaced (exists without `--force`, or is not a model directory). */
export class ModelDirExistsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ModelDirExistsError';
  }
}

/** A model directory being written: everything goes to `dir` (a hidden sibling of the target), then `commit()` moves it into place. */
export interface StagedModelDir {
  /** Where to write the files now. */
  readonly dir: string;
  /** The final path. */
  readonly target: string;
  /** Moves the finished directory to `target` (replacing the old one when allowed). */
  commit(): void;
  /** Removes the unfinished directory (after a failure). */
  abort(): void;
}

/**
 * Checks that `target` may be written and creates a temporary directory next to
 * it (same file system, so the final `rename` is atomic): a model directory is
 * never seen half written, and a failed run leaves the old one untouched.
 *
 * An existing non-empty `target` is replaced only with `force`, and only when
 * it holds a `manifest.json` (so `--out ~ --force` cannot wipe a home
 * directory). Replacing moves the old directory aside, renames the new one
 * into place, then deletes the old one; if that rename fails the old one is
 * put back.
 */
export function stageModelDir(target: string, opts: { readonly force?: boolean } = {}): StagedModelDir {
  const out = resolve(target);
  if (existsSync(out)) {
    const st = statSync(out);
    if (!st.isDirectory()) throw new ModelDirExistsError(`--out ${target}: exists and is not a directory; choose another --out`);
    if (readdirSync(out).length > 0) {
      if (!opts.force) throw new ModelDirExistsError(`--out ${target}: already exists; pass --force to replace it, or choose another --out`);
      if (!existsSync(join(out, MANIFEST_FILE))) {
        throw new ModelDirExistsError(`--out ${target}: exists and holds no ${MANIFEST_FILE}, so it is not a model directory; --force replaces model directories only (remove it yourself or choose another --out)`);
      }
    }
  }
  mkdirSync(dirname(out), { recursive: true });
  const dir = mkdtempSync(join(dirname(out), `.${basename(out)}.tmp-`));
  return {
    dir,
    target: out,
    commit(): void {
      let old: string | null = null;
      if (existsSync(out)) {
        old = `${dir}.old`;
        renameSync(out, old);
      }
      try {
        renameSync(dir, out);
      } catch (err) {
        if (old) renameSync(old, out);
        throw err;
      }
      if (old) rmSync(old, { recursive: true, force: true });
    },
    abort(): void {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
