/**
 * `hubnlu report --out report.html [--task intent|sentiment] [--data FILE | --from-log] [--since 30d] [--model DIR] [--db FILE]`:
 * one self-contained HTML page (inline CSS and SVG, the data as embedded JSON,
 * nothing fetched) with the confusion matrix, per-label precision/recall, the
 * reliability diagram, latency, volume over time and the top confusions.
 *
 * The figures come from `evaluate()`, the function `hubnlu eval --json` prints:
 * on a dataset file (`--data`) or on the log's labelled inputs (`--from-log`,
 * the default, through `evaluateLog`).
 */
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { readRows } from '../../data/rows.js';
import { evaluate, type EvalReport } from '../../eval/evaluate.js';
import { evaluateLog, type LogLanguage } from '../../eval/from-log.js';
import { ModelRegistry } from '../../model/registry.js';
import { isTaskName, type TaskName } from '../../model/tasks.js';
import type { Analyzer } from '../../model/types.js';
import { buildReportData, type ReportSource } from '../../report/report-data.js';
import { renderReportHtml } from '../../report/html.js';
import type { Db } from '../../store/database.js';
import { SchemaTooNewError } from '../../store/database.js';
import { LogDatabaseError, openLogDatabase } from '../../store/queries.js';
import { logFigures, type LogFigures } from '../../store/report-queries.js';
import { resolveFromPackage } from '../../util/paths.js';
import { CliError, EXIT } from '../exit-codes.js';
import { configFor } from '../context.js';
import { loadLogModels, modelLoadError } from '../log-models.js';
import { sinceLimit, sinceOption, type Since } from '../log-database.js';
import { outPath, writeOut } from '../out-file.js';

interface ReportOpts {
  out: string;
  task: string;
  data?: string;
  fromLog?: boolean;
  since?: Since;
  model?: string;
  db?: string;
  threshold?: string;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('write one self-contained HTML page: confusion matrix, per-label precision/recall, reliability diagram, latency, volume, top confusions')
    .requiredOption('--out <file>', 'the HTML file to write')
    .option('--task <task>', 'intent or sentiment', 'intent')
    .option('--data <file>', 'evaluate on this JSONL dataset file instead of the log\'s labelled inputs')
    .option('--from-log', 'evaluate on the log\'s labelled inputs (the default)')
    .option('--since <when>', 'log window: a duration (90s, 30m, 1h, 30d), an ISO date, or all (the default)', sinceOption)
    .option('--model <dir>', 'model directory to evaluate (default: the configured models)')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .option('--threshold <p>', 'intent: unknown threshold (default: the model\'s)')
    .action(async (opts: ReportOpts, command: Command) => {
      if (!isTaskName(opts.task)) throw new CliError(`--task: expected intent or sentiment, got ${JSON.stringify(opts.task)}`, EXIT.usage);
      const task: TaskName = opts.task;
      if (opts.data !== undefined && opts.fromLog) throw new CliError('--data and --from-log: choose one (the rows come from a file or from the log)', EXIT.usage);
      const out = outPath(opts.out, 'report.html');
      let threshold: number | undefined;
      if (opts.threshold !== undefined) {
        threshold = Number(opts.threshold);
        if (!(threshold >= 0 && threshold <= 1)) throw new CliError(`--threshold: expected a number in [0, 1], got ${JSON.stringify(opts.threshold)}`, EXIT.usage);
      }
      const config = configFor(command).config;
      const dbPath = resolve(process.cwd(), opts.db ?? config.storage.path);
      const fromLog = opts.data === undefined;
      const since = sinceLimit(opts.since);

      // The log: required for --from-log; with --data, used for latency and volume when it exists.
      let db: Db | undefined;
      if (fromLog || existsSync(dbPath)) {
        try {
          db = openLogDatabase(dbPath);
        } catch (err) {
          if (!(err instanceof LogDatabaseError || err instanceof SchemaTooNewError)) throw err;
          if (fromLog) throw new CliError(err.message, EXIT.failure);
          process.stderr.write(`hubnlu report: warning: ${err.message}; latency and volume come from the evaluation alone\n`);
        }
      }
      let analyzer: (Analyzer & { close(): Promise<void> }) | undefined;
      let language: LogLanguage = { route: true };
      try {
        if (fromLog) {
          // The same models and row rule as `hubnlu eval --from-log` (src/cli/log-models.ts): the figures agree.
          const chosen = await loadLogModels(config, task, { model: opts.model, threshold: threshold ?? (opts.model === undefined && task === 'intent' ? config.models.unknownThreshold : undefined) });
          analyzer = chosen.analyzer;
          language = chosen.language;
        } else {
          try {
            analyzer = await ModelRegistry.load({
              intentDir: task === 'intent' ? resolve(opts.model ?? resolveFromPackage(config.models.intent)) : null,
              sentimentDir: task === 'sentiment' ? resolve(opts.model ?? resolveFromPackage(config.models.sentiment)) : null,
              unknownThreshold: threshold,
            });
          } catch (err) {
            throw modelLoadError(err, opts.model !== undefined ? '--model' : undefined);
          }
        }
        let report: EvalReport;
        let source: ReportSource;
        if (fromLog) {
          const r = await evaluateLog(db!, analyzer, task, { since }, language, { keepPredictions: true });
          if (r.rows.length === 0) {
            throw new CliError(
              `${dbPath}: no labelled ${task} inputs${since !== undefined ? ' in this window' : ''}; label some (bridge request \`label\`), or pass --data FILE`,
              EXIT.empty,
            );
          }
          report = r.report;
          source = { kind: 'log', database: dbPath, since: since !== undefined ? new Date(since).toISOString() : null, unlocatedSlots: r.unlocatedSlots };
        } else {
          let rows;
          try {
            ({ rows } = readRows(opts.data!, task));
          } catch (err) {
            throw new CliError((err as Error).message, EXIT.usage);
          }
          if (rows.length === 0) throw new CliError(`${opts.data}: no rows to evaluate`, EXIT.empty);
          report = await evaluate(analyzer, task, rows, { file: opts.data, keepPredictions: true });
          source = { kind: 'file', file: opts.data! };
        }
        const log: LogFigures | undefined = db ? logFigures(db, since) : undefined;
        const html = renderReportHtml(buildReportData({ source, report, log }));
        writeOut(out, html);
        process.stderr.write(`hubnlu report: wrote ${out} (${report.n} rows, accuracy ${(report.accuracy * 100).toFixed(2)} %, macro-F1 ${report.macro_f1.toFixed(4)})\n`);
      } finally {
        db?.close();
        await analyzer?.close();
      }
    });
}
