/**
 * What the transformers backend needs from the config (`models.transformers`,
 * validated by src/config/schema.ts), with paths already resolved.
 */

export type TransformersTaskKind = 'text-classification' | 'zero-shot-classification';

/** `models.transformers.intent` / `models.transformers.sentiment`. */
export interface TransformersTaskSettings {
  /** How the model's output becomes labels. Default `text-classification`. */
  readonly task?: TransformersTaskKind;
  /** Model label (config.json id2label) → hubnlu label. */
  readonly labelMap?: Readonly<Record<string, string>>;
  /** Zero-shot: intent → description put into the hypothesis ("" or absent: the intent name itself). */
  readonly candidateLabels?: Readonly<Record<string, string>>;
  /** Zero-shot: the hypothesis, `{}` replaced by the label's description. */
  readonly hypothesisTemplate?: string;
  /** Intent: a token-classification model directory whose BIO labels give the slots (resolved path). */
  readonly slotsFrom?: string;
  /** Entity type of the slot model → hubnlu slot type (`LOC` → `house_place`). */
  readonly slotMap?: Readonly<Record<string, string>>;
  /** true: `onnx/model_quantized.onnx`; false: `onnx/model.onnx`; absent: model.onnx where it exists, else the quantized one. */
  readonly quantized?: boolean;
}

export interface TransformersSettings {
  /** Fetch `hf:owner/name` models from the Hugging Face hub into `cacheDir`. Off: nothing is ever downloaded. */
  readonly allowDownload: boolean;
  /** Where downloaded models are kept (absolute). */
  readonly cacheDir: string;
  readonly intent?: TransformersTaskSettings;
  readonly sentiment?: TransformersTaskSettings;
}

export const DEFAULT_HYPOTHESIS = 'This example is {}.';
