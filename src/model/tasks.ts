/**
 * The task registry: one table that says what each analysis task is. The
 * config schema, the input parser, the dataset reader, the CLI, the evaluator
 * and the result contract read it, so adding a task touches this table (and
 * the model that serves it), not every module that names tasks.
 */

/** Every analysis task hubnlu runs. Keep in step with TASK_SPECS below. */
export type TaskName = 'intent' | 'sentiment';

export interface TaskSpec {
  readonly name: TaskName;
  /** One line for `--help`, the config schema and the README. */
  readonly description: string;
  /** The field holding the gold label in dataset rows and the label requests (`{"text": …, "<labelField>": …}`). */
  readonly labelField: 'intent' | 'sentiment';
  /** The field of the result JSON (`Analysis`) that holds this task's output. */
  readonly resultField: 'intent' | 'sentiment';
  /** Whether the task also yields slots (entities) beside its label. */
  readonly hasSlots: boolean;
  /** Labels fixed by the task itself (sentiment), or absent when each model names its own (intents). */
  readonly fixedLabels?: readonly string[];
  /**
   * Whether a low-confidence top label becomes `unknown` (models.unknownThreshold).
   * Sentiment always answers one of its three labels.
   */
  readonly rejectsBelowThreshold: boolean;
  /** The metric models are compared and promoted on. */
  readonly primaryMetric: 'accuracy' | 'macro_f1';
  /** Every metric `hubnlu eval` reports for the task, in report order. */
  readonly metrics: readonly string[];
}

export const TASK_SPECS: Readonly<Record<TaskName, TaskSpec>> = {
  intent: {
    name: 'intent',
    description: 'What the utterance asks for (e.g. iot_hue_lightoff), with slots such as room, device, colour, temperature and time.',
    labelField: 'intent',
    resultField: 'intent',
    hasSlots: true,
    rejectsBelowThreshold: true,
    primaryMetric: 'accuracy',
    metrics: ['accuracy', 'macro_f1', 'macro_recall', 'slot_f1', 'ece', 'rejected', 'accepted_accuracy', 'latency_ms'],
  },
  sentiment: {
    name: 'sentiment',
    description: 'Whether the text is negative, neutral or positive.',
    labelField: 'sentiment',
    resultField: 'sentiment',
    hasSlots: false,
    fixedLabels: ['negative', 'neutral', 'positive'],
    rejectsBelowThreshold: false,
    primaryMetric: 'macro_f1',
    metrics: ['accuracy', 'macro_f1', 'macro_recall', 'ece', 'latency_ms'],
  },
};

/** The task names in table order. */
export const TASKS: readonly TaskName[] = Object.keys(TASK_SPECS) as TaskName[];

export function isTaskName(x: unknown): x is TaskName {
  return typeof x === 'string' && Object.prototype.hasOwnProperty.call(TASK_SPECS, x);
}

/** The other task names, for error messages ("use --task sentiment otherwise"). */
export function otherTasks(task: TaskName): string {
  return TASKS.filter((t) => t !== task).join(' or ');
}
