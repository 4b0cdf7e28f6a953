/**
 * `hubnlu eval --task intent|sentiment --data FILE.jsonl [--model DIR | --lang TAG] [--json]`:
 * scores a model directory on any file in the dataset format through the same
 * path the agent uses (registry → featurizer → ONNX → calibration → slots).
 *
 * `--from-log [--since 30d]` scores it on the log's labelled inputs instead
 * (same metrics, same JSON, plus a `log` object saying what was read);
 * `--compare A B` scores two model directories on the same rows and tests the
 * difference with McNemar's paired test (src/eval/compare.ts).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { evaluate, formatReport, type EvalReport } from '../../eval/evaluate.js';
import { comparePredictions, type Comparison } from '../../eval/compare.js';
import { evaluateLog, evaluateSelection, logSummary, selectLogRows, type LogSelection } from '../../eval/from-log.js';
import type { LabelledRow } from '../../data/rows.js';
import type { TaskName } from '../../model/tasks.js';
import { positiveIntOption, sinceLimit, sinceOption, withLogDatabase, withLogDatabaseAsync, type Since } from '../log-database.js';
import { loadLogModels, logModelDir, modelLanguage, modelLoadError } from '../log-models.js';
import { defaultModelDir, loadManifest, MANIFEST_FILE, trainingFileMatch } from '../../model/manifest.js';
import { ModelRegistry } from '../../model/registry.js';
import { readRows } from '../../data/rows.js';
import { CliError, EXIT } from '../exit-codes.js';
import { configFor } from '../context.js';

interface EvalOpts {
  task: string;
  data?: string;
  fromLog?: boolean;
  since?: Since;
  db?: string;
  compare?: string[];
  model?: string;
  json?: boolean;
  threshold?: string;
  lang?: string;
  perLabel: boolean;
  differences: number;
}

export function registerEval(program: Command): void {
  program
    .command('eval')
    .description('evaluate a model on a dataset file or on the log\'s labelled inputs: accuracy, macro-F1/recall, per-label P/R/F1, confusions, slot F1, ECE, latency; --compare two models with McNemar\'s test')
    .option('--task <task>', 'intent or sentiment', 'intent')
    .option('--data <file>', 'JSONL file: {"text", "intent"|"sentiment", "slots"?} per line')
    .option('--from-log', 'evaluate on the labelled inputs of the log (hubnlu label, review, the bridge\'s label request)')
    .option('--since <when>', 'with --from-log: only inputs received since (30d, 12h, an ISO date, or all: the default)', sinceOption)
    .option('--db <file>', 'with --from-log: database file (default: storage.path from the configuration)')
    .option('--compare <dirs...>', 'two model directories A B, scored on the same rows, with McNemar\'s paired test and the utterances they differ on')
    .option('--model <dir>', 'model directory (default: the configured model of --lang; else for --data the shipped models/<task>, for --from-log the configured models.<task>)')
    .option('--lang <tag>', 'evaluate the model configured for this language (models.languages, or the shipped models/<lang>/<task>)')
    .option('--threshold <p>', 'intent: unknown threshold (default: the one in the manifest)')
    .option('--json', 'print one JSON object instead of the report')
    .option('--no-per-label', 'leave the per-label table out of the report')
    .option('--differences <n>', 'with --compare: how many differing utterances to print (the JSON has all)', positiveIntOption, 20)
    .action(async (opts: EvalOpts, command: Command) => {
      if (opts.task !== 'intent' && opts.task !== 'sentiment') {
        throw new CliError(`--task: expected intent or sentiment, got ${JSON.stringify(opts.task)}`, EXIT.usage);
      }
      const task = opts.task;
      if ((opts.data === undefined) === !opts.fromLog) throw new CliError('give the rows to score: --data FILE or --from-log (one of them)', EXIT.usage);
      if (!opts.fromLog && (opts.since !== undefined || opts.db !== undefined)) throw new CliError('--since and --db go with --from-log', EXIT.usage);
      const since = sinceLimit(opts.since);
      if (opts.compare && opts.compare.length !== 2) throw new CliError(`--compare: give two model directories (A B), got ${opts.compare.length}`, EXIT.usage);
      if (opts.compare && opts.model) throw new CliError('--compare names both models; leave --model out', EXIT.usage);
      let threshold: number | undefined;
      if (opts.threshold !== undefined) {
        threshold = Number(opts.threshold);
        if (!(threshold >= 0 && threshold <= 1)) throw new CliError(`--threshold: expected a number in [0, 1], got ${JSON.stringify(opts.threshold)}`, EXIT.usage);
      }
      if (opts.fromLog) {
        const config = configFor(command).config;
        // The configured threshold goes with the configured models (not with --model DIR, whose manifest names its own).
        if (threshold === undefined && !opts.model && !opts.compare && task === 'intent') threshold = config.models.unknownThreshold;
        if (!opts.compare) {
          // One model set, through evaluateLog: the rule `hubnlu report` uses too (src/cli/log-models.ts).
          const { analyzer, language } = await loadLogModels(config, task, { model: opts.model, lang: opts.lang, threshold });
          try {
            const { r, log } = await withLogDatabaseAsync(command, opts.db, async (db, path) => {
              const r = await evaluateLog(db, analyzer, task, { since }, language);
              return { r, log: logSummary(r, path, since) };
            });
            if (r.rows.length === 0) throw noLabels(task, since);
            if (opts.json) process.stdout.write(`${JSON.stringify({ ...r.report, warnings: [], log })}\n`);
            else process.stdout.write(`${formatReport(r.report, { perLabel: opts.perLabel })}\n\n  ${describeLog(log)}\n`);
          } finally {
            await analyzer.close();
          }
          return;
        }
      }
      let dir = opts.model ? resolve(opts.model) : defaultModelDir(task);
      if (!opts.model && opts.lang !== undefined) dir = logModelDir(configFor(command).config, task, { lang: opts.lang })!;
      const dirs = opts.compare ? opts.compare.map((d) => resolve(d)) : [dir];

      let rows: readonly LabelledRow[];
      let sha256: string | undefined;
      let log: Record<string, unknown> | undefined;
      let selection: LogSelection | undefined;
      if (opts.fromLog) {
        // --compare on the log: both models on the same selected rows, read as the first model's language.
        const language = modelLanguage(dirs[0], opts.lang);
        selection = withLogDatabase(command, opts.db, (db, path) => {
          const sel = selectLogRows(db, task, { since }, language);
          log = logSummary(sel, path, since);
          return sel;
        });
        rows = selection.rows;
        if (rows.length === 0) throw noLabels(task, since);
      } else {
        try {
          ({ rows, sha256 } = readRows(opts.data!, task));
        } catch (err) {
          throw new CliError((err as Error).message, EXIT.usage);
        }
        if (rows.length === 0) throw new CliError(`${opts.data}: no rows to evaluate`, EXIT.empty);
      }

      const reports: EvalReport[] = [];
      const warnings: string[] = [];
      for (const d of dirs) {
        let registry: ModelRegistry;
        try {
          registry = await ModelRegistry.load({
            intentDir: task === 'intent' ? d : null,
            sentimentDir: task === 'sentiment' ? d : null,
            unknownThreshold: threshold,
          });
        } catch (err) {
          throw modelLoadError(err, opts.compare ? '--compare' : opts.model ? '--model' : undefined);
        }
        for (const w of trainingDataWarnings(d, sha256)) warnings.push(dirs.length > 1 ? `${d}: ${w}` : w);
        try {
          const options = { file: opts.data, keepPredictions: dirs.length > 1 };
          reports.push(selection ? await evaluateSelection(registry, task, selection, options) : await evaluate(registry, task, rows, options));
        } finally {
          await registry.close();
        }
      }
      for (const w of warnings) process.stderr.write(`hubnlu eval: warning: ${w}\n`);

      if (reports.length === 1) {
        const report = reports[0];
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...report, warnings, ...(log ? { log } : {}) })}\n`);
        else process.stdout.write(`${formatReport(report, { perLabel: opts.perLabel })}${log ? `\n\n  ${describeLog(log)}` : ''}\n`);
        return;
      }
      const [a, b] = reports;
      const comparison = comparePredictions(a.predictions!, b.predictions!);
      if (opts.json) {
        const summary = (r: EvalReport, d: string) => {
          const { predictions: _p, ...rest } = r;
          return { dir: d, ...rest };
        };
        process.stdout.write(`${JSON.stringify({ task, a: summary(a, dirs[0]), b: summary(b, dirs[1]), ...comparison, warnings, ...(log ? { log } : {}) })}\n`);
        return;
      }
      process.stdout.write(`${formatComparison(comparison, a, b, dirs, opts.differences)}${log ? `\n  ${describeLog(log)}` : ''}\n`);
    });
}

function noLabels(task: TaskName, since: number | undefined): CliError {
  return new CliError(`no labelled ${task} inputs in the log${since !== undefined ? ` since ${new Date(since).toISOString()}` : ''} (label some with hubnlu label or hubnlu review --interactive)`, EXIT.empty);
}

function describeLog(log: Record<string, unknown>): string {
  const parts = [`labelled inputs from ${String(log.database)}${log.since ? ` since ${String(log.since)}` : ''}: ${String(log.scored)} scored`];
  if (log.language === 'routed') parts.push('each read in the language it was logged in');
  if ((log.other_language as number) > 0) parts.push(`${String(log.other_language)} in another language than ${String(log.language)} left out`);
  if ((log.unlocated_slots as number) > 0) parts.push(`${String(log.unlocated_slots)} gold slots not found in their text left out`);
  return parts.join('; ');
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;

export function formatComparison(c: Comparison, a: EvalReport, b: EvalReport, dirs: readonly string[], maxDifferences: number): string {
  const m = c.mcnemar;
  const lines = [
    `${a.task}: A ${a.model.name}@${a.model.version} (${dirs[0]}) vs B ${b.model.name}@${b.model.version} (${dirs[1]}) on ${c.n} utterances`,
    '',
    `  accuracy      A ${pct(c.accuracyA)}   B ${pct(c.accuracyB)}   (${c.accuracyB >= c.accuracyA ? '+' : ''}${((c.accuracyB - c.accuracyA) * 100).toFixed(2)} points)`,
    `  macro-F1      A ${a.macro_f1.toFixed(4)}   B ${b.macro_f1.toFixed(4)}`,
    `  McNemar       only A right ${m.onlyA}, only B right ${m.onlyB}, both right ${m.bothRight}, both wrong ${m.bothWrong}; p = ${m.p < 0.0001 ? m.p.toExponential(2) : m.p.toFixed(4)} (${m.method === 'exact' ? 'exact binomial' : `chi-square ${m.statistic!.toFixed(2)}, continuity-corrected`})`,
    `  verdict       ${m.p < c.alpha ? `the difference is significant at ${c.alpha}: ${c.accuracyB > c.accuracyA ? 'B' : 'A'} is better` : `no significant difference at ${c.alpha}`}`,
  ];
  if (c.differences.length > 0) {
    lines.push('', `  ${c.differences.length} utterance${c.differences.length === 1 ? '' : 's'} where they differ${c.differences.length > maxDifferences ? ` (first ${maxDifferences}; --json has all)` : ''}:`);
    for (const d of c.differences.slice(0, maxDifferences)) {
      const mark = d.right === 'b' ? 'B right' : d.right === 'a' ? 'A right' : 'neither';
      lines.push(`    ${mark.padEnd(7)}  gold ${d.gold} · A ${d.a} · B ${d.b}  ${JSON.stringify(d.text)}`);
    }
  }
  return lines.join('\n');
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
