/**
 * `hubnlu eval --task intent|sentiment --data FILE.jsonl [--model DIR | --lang TAG] [--json]`:
 * scores a model directory on any file in the dataset format through the same
 * path the agent uses (registry → featurizer → ONNX → calibration → slots).
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { evaluate, formatReport } from '../../eval/evaluate.js';
import { defaultModelDir } from '../../model/manifest.js';
import { ModelRegistry } from '../../model/registry.js';
import { readRows } from '../../train/data.js';
import { CliError, EXIT } from '../exit-codes.js';
import { configFor, languageDirs } from '../context.js';
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
      try {
        rows = readRows(opts.data, task).rows;
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
      try {
        const report = await evaluate(registry, task, rows, { file: opts.data });
        if (opts.json) process.stdout.write(`${JSON.stringify(report)}\n`);
        else process.stdout.write(`${formatReport(report, { perLabel: opts.perLabel })}\n`);
      } finally {
        await registry.close();
      }
    });
}
