/**
 * The backend contract: what a runtime must provide to serve one task.
 *
 * `ModelRegistry` composes one `TaskModel` per task into an `Analysis`
 * (threshold, `unknown`, result shape); a backend only loads a model
 * directory and scores text. The shipped hashed-n-gram ONNX models are one
 * backend (fasttext-backend.ts); others (a Hugging Face transformer directory)
 * are added to the list in backends.ts.
 */
import type { Token } from './text.js';
import type { TransformersSettings } from './transformers-settings.js';
import type { ModelRef, ScoredLabel, SlotResult, TaskName } from './types.js';

/** One utterance as every task model of a registry sees it: tokenised once, shared. */
export interface PreparedText {
  readonly text: string;
  /** hubnlu's own tokens (backends with their own tokenizer may ignore them). */
  readonly tokens: readonly Token[];
}

export interface TaskModel {
  readonly task: TaskName;
  readonly ref: ModelRef;
  /** Every label the model can produce, in its own order. */
  readonly labels: readonly string[];
  /** The unknown threshold recorded with the model (calibrated on its dev set), if any. */
  readonly recommendedThreshold?: number;
  /** Whether `tagSlots` finds slots (an intent model with a slot tagger). */
  readonly hasSlots: boolean;
  /**
   * Every label with its calibrated probability, most likely first; with `top`, at least the first `top` of them (a
   * backend may stop there: the registry keeps three alternatives, and 79 objects a message were garbage, issue 10).
   */
  classify(input: PreparedText, top?: number): Promise<readonly ScoredLabel[]>;
  /**
   * Slots in the text; `intent` is the accepted intent (null when it was rejected as unknown), `ranking` the
   * classifier's most likely intents with their probabilities (a tagger that decodes over several intents reads it;
   * absent: the accepted intent only).
   */
  tagSlots?(input: PreparedText, intent: string | null, ranking?: readonly ScoredLabel[]): Promise<SlotResult[]>;
  /** `classify` for several utterances at once (micro-batching, issue 10); absent: the registry calls `classify` per utterance. */
  classifyMany?(inputs: readonly PreparedText[], top?: number): Promise<ReadonlyArray<readonly ScoredLabel[]>>;
  /** `tagSlots` for several utterances at once; absent: one `tagSlots` call each. */
  tagSlotsMany?(inputs: readonly PreparedText[], intents: ReadonlyArray<string | null>, rankings?: ReadonlyArray<readonly ScoredLabel[]>): Promise<SlotResult[][]>;
  /** Releases native resources. Idempotent. */
  dispose(): Promise<void>;
}

export interface Backend {
  /** The name used in config (`backend: …`) and in errors. */
  readonly name: string;
  /** What a model directory of this backend holds, for errors ("a directory holding manifest.json"). */
  readonly expects: string;
  /** Whether `dir` looks like one of this backend's model directories (cheap: file names only). */
  recognizes(dir: string): boolean;
  /** `dir`: a model directory (or a reference the backend recognises, e.g. `hf:owner/name`). */
  load(task: TaskName, dir: string, settings?: BackendSettings): Promise<TaskModel>;
}

/** Settings from the config that backends read (each its own part; absent: defaults). */
export interface BackendSettings {
  /** `models.transformers` (transformers-backend.ts), paths resolved. */
  readonly transformers?: TransformersSettings;
}
