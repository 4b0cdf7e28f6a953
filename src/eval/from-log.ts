/**
 * Evaluation on real traffic: the log's labelled inputs (labelledRowsFromLog)
 * through `evaluate()`, the same function `hubnlu eval --data` uses, so
 * `eval --from-log`, `hubnlu report` and promotion see one set of numbers for
 * one set of rows.
 *
 * Which rows a model is scored on, and in which language each is read, is
 * decided here and nowhere else (`selectLogRows`), so the report's figures and
 * `eval --json` cannot disagree on a multilingual log:
 *
 * - a language router (the configured models, as the agent runs them): every
 *   labelled row, each analysed in the language it was logged in (the one the
 *   live path chose: payload, route or detection); a row logged without a
 *   language is detected again;
 * - one model directory for one language: the rows logged in another language
 *   are left out and counted (that model cannot read them); rows logged
 *   without a language are scored.
 */
import type { Db } from '../store/database.js';
import { labelledRowsFromLog, type LogRowFilter, type LoggedRow } from '../data/log-rows.js';
import { normalizeLang } from '../model/language.js';
import type { Analyzer, TaskName } from '../model/types.js';
import { evaluate, type EvalReport, type EvaluateOptions } from './evaluate.js';

/** How the log's rows meet the analyzer (see the module comment). */
export type LogLanguage =
  /** A language router: each row is analysed in the language it was logged in. */
  | { readonly route: true }
  /** One model reading `language` (null: not known, every row is scored). */
  | { readonly route: false; readonly language: string | null };

export interface LogSelection {
  /** The rows to score, oldest first. */
  readonly rows: readonly LoggedRow[];
  /** Labelled rows in the window, before the language rule. */
  readonly labelled: number;
  /** Rows left out for being in another language than the model's. */
  readonly otherLanguage: number;
  /** The model's language (null for a router or a model of unknown language). */
  readonly language: string | null;
  /** Whether rows are analysed in the language they were logged in (a router). */
  readonly routed: boolean;
  /** Gold slots left out because their text was not found in the utterance. */
  readonly unlocatedSlots: number;
}

export interface LogEvaluation extends LogSelection {
  /** The evaluation of the analyzer on `rows` (n 0 when the window holds no labelled input for the task). */
  readonly report: EvalReport;
}

/** The labelled rows for `task` matching `filter` that the analyzer is scored on. */
export function selectLogRows(db: Db, task: TaskName, filter: LogRowFilter, language: LogLanguage): LogSelection {
  const all = labelledRowsFromLog(db, task, filter);
  const wanted = language.route ? null : language.language === null ? null : (normalizeLang(language.language) ?? language.language);
  const rows = wanted === null ? all.rows : all.rows.filter((r) => r.lang === null || normalizeLang(r.lang) === wanted);
  return { rows, labelled: all.rows.length, otherLanguage: all.rows.length - rows.length, language: wanted, routed: language.route, unlocatedSlots: all.unlocatedSlots };
}

/** Scores `analyzer` on selected rows, each read in its logged language when the selection is routed. */
export async function evaluateSelection(analyzer: Analyzer, task: TaskName, selection: LogSelection, opts: EvaluateOptions = {}): Promise<EvalReport> {
  return evaluate(analyzer, task, selection.rows, { ...opts, ...(selection.routed ? { rowLangs: selection.rows.map((r) => r.lang) } : {}) });
}

/** Evaluates `analyzer` on the log's labelled inputs for `task` that match `filter`. */
export async function evaluateLog(db: Db, analyzer: Analyzer, task: TaskName, filter: LogRowFilter, language: LogLanguage, opts: EvaluateOptions = {}): Promise<LogEvaluation> {
  const selection = selectLogRows(db, task, filter, language);
  return { ...selection, report: await evaluateSelection(analyzer, task, selection, opts) };
}

/** The `log` object `eval --from-log --json` prints beside the report (what was read, what was left out). */
export function logSummary(selection: LogSelection, database: string, since: number | undefined): Record<string, unknown> {
  return {
    database,
    since: since !== undefined ? new Date(since).toISOString() : null,
    labelled: selection.labelled,
    scored: selection.rows.length,
    other_language: selection.otherLanguage,
    language: selection.routed ? 'routed' : selection.language,
    unlocated_slots: selection.unlocatedSlots,
  };
}
