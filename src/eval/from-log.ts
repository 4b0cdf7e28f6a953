/**
 * Evaluation on real traffic: the log's labelled inputs (labelledRowsFromLog)
 * through `evaluate()`, the same function `hubnlu eval --data` uses, so
 * `eval --from-log`, `hubnlu report --from-log` and promotion see one set of
 * numbers for one set of rows.
 */
import type { Db } from '../store/database.js';
import { labelledRowsFromLog, type LogRowFilter, type LoggedRow } from '../data/log-rows.js';
import type { Analyzer, TaskName } from '../model/types.js';
import { evaluate, type EvalReport, type EvaluateOptions } from './evaluate.js';

export interface LogEvaluation {
  /** The evaluation of `analyzer` on the rows (n 0 when the window holds no labelled input for the task). */
  readonly report: EvalReport;
  /** The labelled rows, oldest first (what was evaluated, with what the live model said at the time). */
  readonly rows: readonly LoggedRow[];
  /** Gold slots left out because their text was not found in the utterance. */
  readonly unlocatedSlots: number;
}

/** Evaluates `analyzer` on the log's labelled inputs for `task` that match `filter`. */
export async function evaluateLog(db: Db, analyzer: Analyzer, task: TaskName, filter: LogRowFilter = {}, opts: EvaluateOptions = {}): Promise<LogEvaluation> {
  const { rows, unlocatedSlots } = labelledRowsFromLog(db, task, filter);
  const report = await evaluate(analyzer, task, rows, opts);
  return { report, rows, unlocatedSlots };
}
