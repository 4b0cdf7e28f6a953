/**
 * The contract between the model layer and the rest of hubnlu.
 *
 * The agent, the CLI and `hubnlu eval` only see these shapes; which runtime
 * (onnxruntime-node today, @huggingface/transformers later) produced them is the
 * registry's business.
 */

import type { TaskName } from './tasks.js';

export { TASKS, TASK_SPECS, type TaskName, type TaskSpec } from './tasks.js';

/**
 * What a model directory can hold: an analysis task, or `langid` (language
 * identification, run by the language router before the task models).
 */
export type ModelTask = TaskName | 'langid';
export const MODEL_TASKS: readonly ModelTask[] = ['intent', 'sentiment', 'langid'];

export type SentimentLabel = 'negative' | 'neutral' | 'positive';
export const SENTIMENT_LABELS: readonly SentimentLabel[] = ['negative', 'neutral', 'positive'];

/** Name and version of a model that produced (part of) a result. */
export interface ModelRef {
  readonly task: ModelTask;
  readonly name: string;
  readonly version: string;
}

export interface ScoredLabel {
  readonly name: string;
  readonly confidence: number;
}

export interface SlotResult {
  /** Slot type from the model's ontology, e.g. `house_place`, `temperature`. */
  readonly type: string;
  /** Normalised value: a number where the meaning is clear (temperatures, percentages, counts), else the text. */
  readonly value: string | number;
  /** The text exactly as it appears in the input (`text.slice(start, end)`). */
  readonly raw: string;
  readonly start: number;
  readonly end: number;
  readonly confidence: number;
  /** Unit when the value is a measurement (`celsius`, `fahrenheit`, `percent`, `degrees`). */
  readonly unit?: string;
}

export interface IntentResult {
  /** Top intent, or `unknown` when its confidence is below `models.unknownThreshold`. */
  readonly name: string;
  readonly confidence: number;
  /** The top three labels with calibrated confidences (listed even when `name` is `unknown`). */
  readonly alternatives: readonly ScoredLabel[];
  readonly slots: readonly SlotResult[];
}

export interface SentimentResult {
  readonly label: SentimentLabel;
  readonly score: number;
  readonly scores: Readonly<Record<SentimentLabel, number>>;
}

export interface Analysis {
  readonly intent?: IntentResult;
  readonly sentiment?: SentimentResult;
  readonly models: readonly ModelRef[];
  /** The language the input was analysed as (BCP 47 as configured, e.g. `en`, `de`, `zh-cn`). */
  readonly lang?: string;
  /** Where `lang` came from: the payload, the route's setting, language detection, or the default. */
  readonly langSource?: 'payload' | 'route' | 'detected' | 'default';
  /** Why the intent is `unknown` when it is not low confidence, e.g. `unsupported_language`. */
  readonly reason?: string;
  /**
   * The unknown threshold of the intent model that answered, where it depends on the input (the language router: each
   * language's model has its own). Absent: the analyzer's `unknownThreshold` applies. What a Hermes intentFilter reapplies.
   */
  readonly unknownThreshold?: number;
}

/** Per-call hints from the caller (the payload or the route). */
export interface AnalyzeOptions {
  /** A language named by the payload (`lang`) or the route; wins over detection. */
  readonly lang?: string;
  readonly langSource?: 'payload' | 'route';
}

/** What the pipeline needs from the model layer. */
/** One utterance of a batch (`Analyzer.analyzeMany`). */
export interface AnalyzeRequest {
  readonly text: string;
  readonly tasks: readonly TaskName[];
  readonly options?: AnalyzeOptions;
}

export interface Analyzer {
  analyze(text: string, tasks: readonly TaskName[], options?: AnalyzeOptions): Promise<Analysis>;
  /**
   * The analyses of several utterances, in order, each what `analyze` gives it; the models run once per batch
   * where they can (issue 10). Absent: the caller analyses one at a time. Rejects as a whole if any fails.
   */
  analyzeMany?(requests: readonly AnalyzeRequest[]): Promise<Analysis[]>;
  loadedModels(): readonly ModelRef[];
  /** Every label the analyzer can produce for a task (empty when no model serves it). */
  labels(task: TaskName): readonly string[];
  /** The calibrated confidence below which the intent is `unknown` (absent: no intent model, or it varies by language). */
  readonly unknownThreshold?: number;
}

export const UNKNOWN_INTENT = 'unknown';
