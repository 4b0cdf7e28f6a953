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
import { CliError, EXIT } from '../exit-codes.js';

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
  task: string;
  data: string;
  dev?: string;
  report?: string;
  unlabelled?: string;
  holdout?: string;
  holdoutFile?: string;
  out: string;
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
    .requiredOption('--task <task>', 'intent or sentiment')
    .requiredOption('--data <files>', 'comma-separated training files')
    .option('--dev <files>', 'comma-separated dev files: per-epoch accuracy, calibration (and, for sentiment, class offsets)')
    .option('--report <files>', 'comma-separated files only evaluated at the end')
    .option('--unlabelled <file>', 'in-domain sentences, one a line, for self-training (intent)')
    .option('--holdout <share>', 'hold out this share of the training rows (stratified, seeded) as the first dev set, e.g. 0.1')
    .option('--holdout-file <file>', 'write the held-out rows there (JSONL) for `hubnlu eval`')
    .requiredOption('--out <dir>', 'model directory to write, e.g. models/my-intents (written to a temporary directory, then renamed into place)')
    .option('--force', 'replace --out when it is an existing model directory')
    .option('--name <name>', 'model name in the manifest (default: the directory name)')
    .option('--model-version <v>', 'model version in the manifest', '0.1.0')
    .option('--seed <n>', 'random seed (default 1)')
    .option('--epochs <n>', 'training epochs (default from the task recipe)')
    .option('--dim <n>', 'embedding size')
    .option('--lr <x>', 'initial learning rate')
    .option('--max-rows <n>', 'keep at most this many feature rows (pruning)')
    .option('--self-train-rounds <n>', 'self-training rounds when --unlabelled is given (0 = off)')
    .option('--no-slots', 'intent: do not train the slot tagger')
    .option('--threshold <p>', 'suggested unknown threshold recorded in the manifest')
    .option('--json', 'print the summary as JSON on stdout')
    .option('--no-progress', 'no progress bar')
    .action(async (opts: TrainOpts) => {
      const task = taskOpt(opts.task);
      const trainFiles = list(opts.data);
      if (trainFiles.length === 0) throw new CliError('--data: give at least one training file', EXIT.usage);
      const progress = opts.progress ? barProgress() : silentProgress;
      let result;
      try {
        result = await trainModel({
          task,
          trainFiles,
          devFiles: list(opts.dev),
          reportFiles: list(opts.report),
          unlabelledFile: opts.unlabelled ?? null,
          holdout: numOpt('--holdout', opts.holdout, 0, 0.9),
          holdoutFile: opts.holdoutFile,
          out: opts.out,
          force: opts.force,
          name: opts.name,
          version: opts.modelVersion,
          seed: intOpt('--seed', opts.seed),
          epochs: intOpt('--epochs', opts.epochs, 1),
          dim: intOpt('--dim', opts.dim, 1),
          lr: numOpt('--lr', opts.lr, 0, 100),
          maxRows: intOpt('--max-rows', opts.maxRows, 1),
          selfTrainRounds: intOpt('--self-train-rounds', opts.selfTrainRounds),
          slots: task === 'intent' ? (opts.slots ? undefined : false) : false,
          threshold: numOpt('--threshold', opts.threshold, 0, 1),
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
          })}\n`,
        );
      } else {
        process.stdout.write(`${formatTrainSummary(result)}\n`);
      }
    });

  program
    .command('train-defaults')
    .description('reproduce the shipped models (models/intent, models/sentiment) from the public datasets, seeded')
    .option('--datasets <dir>', 'dataset directory (default: $HUBNLU_DATASETS, else ../shared/datasets next to the package)')
    .option('--out-dir <dir>', 'where to write intent/ and sentiment/ (default: the package\'s models/)')
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
        throw new CliError((err as Error).message, EXIT.failure);
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
