/**
 * `hubnlu eval --task intent|sentiment --data FILE.jsonl [--model DIR | --lang TAG] [--json]`:
 * scores a model directory on any file in the dataset format through the same
 * path the agent uses (registry → featurizer → ONNX → calibration → slots).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evaluate, formatReport } from '../../eval/evaluate.js';
import { defaultModelDir, loadManifest, MANIFEST_FILE, trainingFileMatch } from '../../model/manifest.js';
import { ModelRegistry } from '../../model/registry.js';
import { readRows } from '../../data/rows.js';
import { CliError, EXIT } from '../exit-codes.js';
import { backendSettings, configFor, languageDirs } from '../context.js';
import { normalizeLang } from '../../model/language.js';

interface EvalOpts {
  task: string;
  data: string;
  model?: string;
  json?: boolean;
  threshold?: string;
  lang?: string;
  perLabel: boolean;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on a dataset file: accuracy, macro-F1/recall, per-label P/R/F1, confusions, slot F1, ECE, latency')
    .requiredOption('--task <task>', 'intent or sentiment')
    .requiredOption('--data <file>', 'JSONL file: {"text", "intent"|"sentiment", "slots"?} per line')
    .option('--model <dir>', 'model directory (default: the configured model of --lang, else the shipped models/<task>)')
    .option('--lang <tag>', 'evaluate the model configured for this language (models.languages, or the shipped models/<lang>/<task>)')
    .option('--threshold <p>', 'intent: unknown threshold (default: the one in the manifest)')
    .option('--json', 'print one JSON object instead of the report')
    .option('--no-per-label', 'leave the per-label table out of the report')
    .action(async (opts: EvalOpts, command: Command) => {
      if (opts.task !== 'intent' && opts.task !== 'sentiment') {
        throw new CliError(`--task: expected intent or sentiment, got ${JSON.stringify(opts.task)}`, EXIT.usage);
      }
      const task = opts.task;
      let threshold: number | undefined;
      if (opts.threshold !== undefined) {
        threshold = Number(opts.threshold);
        if (!(threshold >= 0 && threshold <= 1)) throw new CliError(`--threshold: expected a number in [0, 1], got ${JSON.stringify(opts.threshold)}`, EXIT.usage);
      }
      let dir = opts.model ? resolve(opts.model) : defaultModelDir(task);
      if (!opts.model && opts.lang !== undefined) {
        const lang = normalizeLang(opts.lang);
        if (!lang) throw new CliError(`--lang: ${JSON.stringify(opts.lang)} is not a language tag; use e.g. de or zh-CN`, EXIT.usage);
        const dirs = Object.entries(languageDirs(configFor(command).config)).find(([k]) => normalizeLang(k) === lang)?.[1];
        const chosen = dirs?.[task];
        if (!chosen) throw new CliError(`no ${task} model for language ${lang}: set models.languages.${lang}.${task} in the config, or pass --model DIR`, EXIT.usage);
        dir = chosen;
      }
      let rows;
      let sha256: string | undefined;
      try {
        ({ rows, sha256 } = readRows(opts.data, task));
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.usage);
      }
      if (rows.length === 0) throw new CliError(`${opts.data}: no rows to evaluate`, EXIT.empty);
      let registry: ModelRegistry;
      try {
        registry = await ModelRegistry.load({
          intentDir: task === 'intent' ? dir : null,
          sentimentDir: task === 'sentiment' ? dir : null,
          unknownThreshold: threshold,
        });
      } catch (err) {
        throw new CliError((err as Error).message, EXIT.failure);
      }
      const warnings = trainingDataWarnings(dir, sha256);
      for (const w of warnings) process.stderr.write(`hubnlu eval: warning: ${w}\n`);
      try {
        const report = await evaluate(registry, task, rows, { file: opts.data });
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...report, warnings })}\n`);
        else process.stdout.write(`${formatReport(report, { perLabel: opts.perLabel })}\n`);
      } finally {
        await registry.close();
      }
    });
}

/**
 * A warning when the evaluated file (by its SHA-256) trained the model: the
 * score then measures memory, not generalisation. The hashes come from the
 * manifest's `training.data`.
 */
export function trainingDataWarnings(modelDir: string, sha256: string | undefined): string[] {
  if (!sha256 || !existsSync(join(modelDir, MANIFEST_FILE))) return [];
  const match = trainingFileMatch(loadManifest(modelDir), sha256);
  if (!match) return [];
  return [
    match.whole
      ? `this file is the model's training file ${match.file} (same SHA-256): the score measures what the model memorised, not how it does on new text; evaluate on a file it was not trained on`
      : `the model was trained on part of this file (${match.file}, same SHA-256; the rest was held out): most rows here were seen in training, so the score is inflated; evaluate on the held-out rows (--holdout-file) instead`,
  ];
}
