/**
 * `hubnlu train` (one model from data files) and `hubnlu train-defaults` (the
 * shipped models, used by `npm run train:models`).
 */
import type { Command } from 'commander';
import { basename, join } from 'node:path';
import { formatTrainSummary, trainModel } from '../../train/pipeline.js';
import { trainDefaults } from '../../train/defaults.js';
import { LANGUAGES, type Language } from '../../train/languages.js';
import { barProgress, silentProgress } from '../../train/progress.js';
import type { TaskName } from '../../model/types.js';
import { ModelDirExistsError } from '../../train/model-dir.js';
import { InputFileError } from '../../data/input-file.js';
import { DatasetsDirError } from '../../data/datasets-dir.js';
import { CliError, EXIT } from '../exit-codes.js';
import { configFor } from '../context.js';
import { outPath } from '../out-file.js';
import { formatOutcome } from '../../learn/retrain.js';
import { learn, LearningError, modelStoreFor } from '../../learn/learning-loop.js';
import { ModelStoreError } from '../../learn/model-store.js';
import { openLogDatabase, LogDatabaseError } from '../../store/queries.js';
import { resolve } from 'node:path';
import { existsSync, realpathSync, statSync } from 'node:fs';
import { readRows } from '../../data/rows.js';
import { smallDataWarnings } from '../../learn/household-data.js';

function list(v: string | undefined): string[] {
  return (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function intOpt(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) throw new CliError(`${name}: expected an integer ≥ ${min}, got ${JSON.stringify(v)}`, EXIT.usage);
  return n;
}

function numOpt(name: string, v: string | undefined, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < min || n > max) throw new CliError(`${name}: expected a number in [${min}, ${max}], got ${JSON.stringify(v)}`, EXIT.usage);
  return n;
}

function taskOpt(v: string): TaskName {
  if (v !== 'intent' && v !== 'sentiment') throw new CliError(`--task: expected intent or sentiment, got ${JSON.stringify(v)}`, EXIT.usage);
  return v;
}

interface TrainOpts {
  task?: string;
  data?: string;
  withLogLabels?: boolean;
  templates?: string;
  promote?: boolean;
  db?: string;
  dev?: string;
  report?: string;
  unlabelled?: string;
  teacher?: string;
  holdout?: string;
  holdoutFile?: string;
  out?: string;
  name?: string;
  modelVersion?: string;
  seed?: string;
  epochs?: string;
  dim?: string;
  lr?: string;
  maxRows?: string;
  selfTrainRounds?: string;
  slots: boolean;
  threshold?: string;
  json?: boolean;
  progress: boolean;
  force?: boolean;
}

export function registerTrain(program: Command): void {
  program
    .command('train')
    .description('train a model from dataset files (JSONL: {"text", "intent"|"sentiment", "slots"?}) and write a model directory')
    .option('--task <task>', 'intent or sentiment (required without --with-log-labels)')
    .option('--data <files>', 'comma-separated training files; with --with-log-labels: household examples (JSONL) added to the public data')
    .option('--with-log-labels', 'retrain the live intent model for this household: the public data plus the log\'s labels (and --data, --templates), compared with the live model, stored in learning.modelsDir')
    .option('--templates <dirs>', 'with --with-log-labels: comma-separated directories of Home Assistant custom_sentences YAML ({area} = learning.areas)')
    .option('--promote', 'with --with-log-labels: promote the candidate when it is significantly better and the public dev set did not drop more than learning.maxDevDrop')
    .option('--db <file>', 'with --with-log-labels: the log database (default: storage.path)')
    .option('--dev <files>', 'comma-separated dev files: per-epoch accuracy, calibration (and, for sentiment, class offsets)')
    .option('--report <files>', 'comma-separated files only evaluated at the end')
    .option('--unlabelled <file>', 'in-domain sentences, one a line, for self-training (intent)')
    .option('--teacher <file>', "a teacher's soft labels (teachers/*.json.gz, scripts/teacher/teacher.py) to distil from (intent)")
    .option('--holdout <share>', 'hold out this share of the training rows (stratified, seeded) as the first dev set, e.g. 0.1')
    .option('--holdout-file <file>', 'write the held-out rows there (JSONL) for `hubnlu eval`')
    .option('--out <dir>', 'model directory to write, e.g. models/my-intents (written to a temporary directory, then renamed into place)')
    .option('--force', 'replace --out when it is an existing model directory')
    .option('--name <name>', 'model name in the manifest (default: the directory name)')
    .option('--model-version <v>', 'model version in the manifest', '0.1.0')
    .option('--seed <n>', 'random seed (default: 1)')
    .option('--epochs <n>', 'training epochs (default: the task recipe\'s)')
    .option('--dim <n>', 'embedding size')
    .option('--lr <x>', 'initial learning rate')
    .option('--max-rows <n>', 'keep at most this many feature rows (pruning)')
    .option('--self-train-rounds <n>', 'self-training rounds when --unlabelled is given (0 = off)')
    .option('--no-slots', 'intent: do not train the slot tagger')
    .option('--threshold <p>', 'suggested unknown threshold recorded in the manifest')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: TrainOpts, command: Command) => {
      if (opts.withLogLabels) {
        await trainWithLogLabels(opts, command);
        return;
      }
      if (opts.templates || opts.promote || opts.db) throw new CliError('--templates, --promote and --db go with --with-log-labels', EXIT.usage);
      if (!opts.task) throw new CliError("required option '--task <task>' not specified (intent or sentiment), or use --with-log-labels", EXIT.usage);
      if (!opts.data) throw new CliError("required option '--data <files>' not specified", EXIT.usage);
      if (!opts.out) throw new CliError("required option '--out <dir>' not specified", EXIT.usage);
      const task = taskOpt(opts.task);
      const trainFiles = list(opts.data);
      if (trainFiles.length === 0) throw new CliError('--data: give at least one training file', EXIT.usage);
      if (opts.holdoutFile !== undefined) checkHoldoutFile(opts.holdoutFile, [...trainFiles, ...list(opts.dev), ...list(opts.report), ...(opts.unlabelled ? [opts.unlabelled] : [])]);
      const progress = opts.progress ? barProgress() : silentProgress;
      // The numbers first: a mistyped option is refused before the data is read and warned about.
      const numbers = {
        holdout: numOpt('--holdout', opts.holdout, 0, 0.9),
        seed: intOpt('--seed', opts.seed),
        epochs: intOpt('--epochs', opts.epochs, 1),
        dim: intOpt('--dim', opts.dim, 1),
        lr: numOpt('--lr', opts.lr, 0, 100),
        maxRows: intOpt('--max-rows', opts.maxRows, 1),
        selfTrainRounds: intOpt('--self-train-rounds', opts.selfTrainRounds),
        threshold: numOpt('--threshold', opts.threshold, 0, 1),
      };
      let result;
      let warnings: string[] = [];
      try {
        // Too little data is a warning with the numbers (learning.minExamples), before the minutes of training.
        const counts = labelCounts(trainFiles, task);
        // An empty input is EXIT.empty, as `eval --data` of the same file: nothing to work on, not a failure.
        if (counts && Object.keys(counts).length === 0) throw new CliError(`${trainFiles.join(', ')}: no ${task} training rows; give a file with {"text", "${task}"} lines`, EXIT.empty);
        warnings = smallDataWarnings(counts ?? {}, configFor(command).config.learning.minExamples);
        for (const w of warnings) process.stderr.write(`hubnlu train: warning: ${w}\n`);
        result = await trainModel({
          task,
          trainFiles,
          devFiles: list(opts.dev),
          reportFiles: list(opts.report),
          unlabelledFile: opts.unlabelled ?? null,
          teacherFile: opts.teacher ?? null,
          holdoutFile: opts.holdoutFile,
          out: opts.out!,
          force: opts.force,
          name: opts.name,
          version: opts.modelVersion,
          ...numbers,
          slots: task === 'intent' ? (opts.slots ? undefined : false) : false,
          progress,
        });
      } catch (err) {
        if (err instanceof CliError) throw err;
        if (err instanceof ModelDirExistsError || err instanceof InputFileError) throw new CliError(err.message, EXIT.usage);
        throw new CliError((err as Error).message, EXIT.failure);
      }
      if (opts.json) {
        process.stdout.write(
          `${JSON.stringify({
            dir: result.dir,
            seconds: result.seconds,
            calibration: result.written.manifest.calibration,
            sizeBytes: result.written.manifest.metrics.sizeBytes,
            fp32VsInt8: result.written.comparison,
            dev: Object.fromEntries(Object.entries(result.dev).map(([k, r]) => [basename(k), { n: r.n, accuracy: r.accuracy, macro_f1: r.macro_f1, slot_f1: r.slot_f1, ece: r.ece }])),
            warnings,
          })}\n`,
        );
      } else {
        process.stdout.write(`${formatTrainSummary(result)}${warnings.map((w) => `\nwarning: ${w}`).join('')}\n`);
      }
    });

  program
    .command('train-defaults')
    .description('reproduce every shipped model from the public datasets, seeded: English intent and sentiment (models/intent, models/sentiment), the same for de, fr, es, zh-cn (models/<lang>/intent, models/<lang>/sentiment) and language identification (models/langid); --only picks one')
    .option('--datasets <dir>', 'the public datasets directory, holding intent/ and sentiment/ (default: $HUBNLU_DATASETS; not part of the repository)')
    .option('--out-dir <dir>', 'where to write intent/, sentiment/, <lang>/ and langid/ (default: the package\'s models/)')
    .option('--only <what>', 'train only intent or only sentiment (English), one language (de, fr, es, zh-cn), or langid (language identification)')
    .option('--seed <n>', 'random seed', '1')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: { datasets?: string; outDir?: string; only?: string; seed: string; progress: boolean }) => {
      const only = opts.only === undefined ? undefined : opts.only === 'langid' ? 'langid' : (LANGUAGES as readonly string[]).includes(opts.only) ? (opts.only as Language) : taskOpt(opts.only);
      const t0 = performance.now();
      let r;
      try {
        r = await trainDefaults({
          datasets: opts.datasets,
          outDir: opts.outDir,
          only,
          seed: intOpt('--seed', opts.seed),
          progress: opts.progress ? barProgress() : { ...silentProgress, log: (m: string) => void process.stderr.write(`${m}\n`) },
        });
      } catch (err) {
        throw new CliError((err as Error).message, err instanceof DatasetsDirError ? EXIT.usage : EXIT.failure);
      }
      const lines = [`train-defaults done in ${((performance.now() - t0) / 1000).toFixed(1)} s`];
      if (r.intent) {
        const h = r.intent.heldOut.dev['slurp.devel.jsonl'];
        lines.push(`  intent: ${r.intent.shipped.dir} (${r.seconds.intent.toFixed(1)} s for both runs; shipped run ${r.intent.shipped.seconds.total.toFixed(1)} s); held-out slurp.devel accuracy ${(h.accuracy * 100).toFixed(2)} %, slot F1 ${h.slot_f1?.toFixed(4)}`);
      }
      if (r.sentiment) {
        const parts = Object.entries(r.sentiment.dev).map(([k, e]) => `${k} macro-F1 ${e.macro_f1.toFixed(4)}`);
        lines.push(`  sentiment: ${r.sentiment.dir} (${r.seconds.sentiment.toFixed(1)} s); ${parts.join(', ')}`);
      }
      if (r.langid) {
        const cmp = Object.values(r.langid.written.comparison)[0];
        lines.push(`  langid: ${join(opts.outDir ?? 'models', 'langid')} (${r.seconds.langid.toFixed(1)} s); threshold ${r.langid.threshold}; held-out template sentences accuracy ${cmp ? (cmp.int8.accuracy * 100).toFixed(2) : '-'} %`);
      }
      for (const [lang, l] of Object.entries(r.languages ?? {})) {
        const dev = Object.entries(l.intent.dev).map(([k, e]) => `${k} acc ${(e.accuracy * 100).toFixed(2)} %${e.slot_f1 !== undefined ? ` slot F1 ${e.slot_f1.toFixed(4)}` : ''}`);
        const sent = Object.entries(l.sentiment.dev).map(([k, e]) => `${k} macro-F1 ${e.macro_f1.toFixed(4)}`);
        lines.push(`  ${lang}: ${l.intent.dir}, ${l.sentiment.dir} (${(r.seconds[lang] ?? 0).toFixed(1)} s); ${[...dev, ...sent].join(', ')}`);
      }
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}

/** `--holdout-file` is written over whatever is there: never a file this run reads, the log, or a directory. */
function checkHoldoutFile(file: string, reads: readonly string[]): void {
  // Written in place, not renamed over: a FIFO or /dev/stdout is fine here, unlike for --out.
  const st = existsSync(file) ? statSync(file) : null;
  if (st && !st.isFile() && !st.isDirectory()) return;
  const held = outPath(file, 'heldout.jsonl', '--holdout-file');
  const same = (f: string): boolean => existsSync(f) && existsSync(held) && realpathSync(f) === realpathSync(held);
  if (reads.some(same)) {
    throw new CliError(`--holdout-file ${held}: also a file this run reads (--data, --dev, --report or --unlabelled), which it would overwrite; give a new file`, EXIT.usage);
  }
}

/** Training rows per label in the files; undefined when a file cannot be read (the trainer then reports why, as it always has). */
function labelCounts(files: readonly string[], task: TaskName): Record<string, number> | undefined {
  const counts: Record<string, number> = {};
  try {
    for (const f of files) for (const r of readRows(f, task).rows) counts[r.label] = (counts[r.label] ?? 0) + 1;
  } catch {
    return undefined;
  }
  return counts;
}

type Given = (opts: TrainOpts, command: Command, key: keyof TrainOpts) => boolean;
const set: Given = (opts, _command, key) => opts[key] !== undefined;
/** Options of plain `train` that `--with-log-labels` has no use for, with how to tell the user gave one. */
const PLAIN_TRAIN_OPTIONS: ReadonlyArray<readonly [keyof TrainOpts, string, Given]> = [
  ['dev', '--dev', set],
  ['report', '--report', set],
  ['unlabelled', '--unlabelled', set],
  ['teacher', '--teacher', set],
  ['holdout', '--holdout', set],
  ['holdoutFile', '--holdout-file', set],
  ['force', '--force', set],
  ['name', '--name', set],
  ['modelVersion', '--model-version', (_opts, command) => command.getOptionValueSource('modelVersion') === 'cli'],
  ['epochs', '--epochs', set],
  ['dim', '--dim', set],
  ['lr', '--lr', set],
  ['maxRows', '--max-rows', set],
  ['selfTrainRounds', '--self-train-rounds', set],
  ['slots', '--no-slots', (opts) => opts.slots === false],
  ['threshold', '--threshold', set],
];

/** `hubnlu train --with-log-labels`: one household retrain, printed as base vs candidate. */
async function trainWithLogLabels(opts: TrainOpts, command: Command): Promise<void> {
  if (opts.task && opts.task !== 'intent') throw new CliError('--with-log-labels retrains the intent model; leave out --task or use --task intent', EXIT.usage);
  if (opts.out) throw new CliError('--with-log-labels stores the candidate in learning.modelsDir (`hubnlu models list`); leave out --out', EXIT.usage);
  // These would be ignored, and minutes of training spent on a run that is not the one asked for.
  const plainOnly = PLAIN_TRAIN_OPTIONS.filter(([key, , given]) => given(opts, command, key)).map(([, flag]) => flag);
  if (plainOnly.length) {
    throw new CliError(`${plainOnly.join(', ')} go${plainOnly.length === 1 ? 'es' : ''} with plain \`hubnlu train\`; --with-log-labels retrains with the shipped intent recipe: leave ${plainOnly.length === 1 ? 'it' : 'them'} out`, EXIT.usage);
  }
  const seed = intOpt('--seed', opts.seed);
  const { config } = configFor(command);
  const dbPath = resolve(process.cwd(), opts.db ?? config.storage.path);
  let db;
  if (existsSync(dbPath)) {
    try {
      db = openLogDatabase(dbPath);
    } catch (err) {
      if (err instanceof LogDatabaseError) throw new CliError(err.message, EXIT.failure);
      throw err;
    }
  } else if (opts.db) {
    throw new CliError(`--db ${opts.db}: no such database`, EXIT.usage);
  }
  const log = (line: string): void => void process.stderr.write(`${line}\n`);
  try {
    const r = await learn({
      config,
      store: modelStoreFor(config),
      db,
      data: list(opts.data).map((f) => resolve(f)),
      templates: list(opts.templates).map((d) => resolve(d)),
      promote: opts.promote ? 'if-better' : 'never',
      seed,
      progress: opts.progress ? log : (line) => (line.startsWith('warning:') || line.startsWith('note:') ? log(line) : undefined),
    });
    if (opts.json) {
      process.stdout.write(`${JSON.stringify({ version: r.stored.version, base: r.base, promoted: r.promoted, warnings: r.warnings, sources: r.sources, heldOut: r.outcome.heldOut && { ...r.outcome.heldOut, comparison: { ...r.outcome.heldOut.comparison, differences: r.outcome.heldOut.comparison.differences.slice(0, 20) } }, dev: r.outcome.dev, checks: r.outcome.checks })}\n`);
    } else {
      const lines = [`base: ${r.base}`, formatOutcome(r.outcome), '', `stored as ${r.stored.version} in ${r.stored.dir}`];
      lines.push(r.promoted ? `promoted: ${r.stored.version} is live (a running agent swaps to it within a second)` : `not promoted${r.notPromoted ? ' (the live model changed while it trained)' : opts.promote ? ' (checks failed)' : ''}: \`hubnlu models promote ${r.stored.version}\` makes it live`);
      for (const w of r.warnings) lines.push(`warning: ${w}`);
      process.stdout.write(`${lines.join('\n')}\n`);
    }
  } catch (err) {
    // A store that cannot be written (learning.modelsDir naming a file) is a configuration error, as in `hubnlu models`.
    if (err instanceof LearningError || err instanceof InputFileError || err instanceof ModelStoreError) throw new CliError(err.message, EXIT.usage);
    throw new CliError((err as Error).message, EXIT.failure);
  } finally {
    db?.close();
  }
}
