/**
 * Hugging Face model directories: what one holds, and how its labels become
 * hubnlu's. Plain file reading, no runtime (transformers-backend.ts runs them).
 *
 * A directory in the layout of an ONNX export on the Hugging Face hub:
 *
 *     config.json            architecture, id2label / label2id
 *     tokenizer.json         the tokenizer (WordPiece, BPE, Unigram)
 *     tokenizer_config.json  special tokens, model_max_length
 *     onnx/model.onnx        fp32 weights, or
 *     onnx/model_quantized.onnx  int8 weights (`quantized: true`)
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join } from 'node:path';
import type { TaskName } from './tasks.js';
import type { SentimentLabel } from './types.js';
import { SENTIMENT_LABELS } from './types.js';

export const HF_FILES = ['config.json', 'tokenizer.json', 'tokenizer_config.json'] as const;
export const HF_ONNX = { fp32: 'onnx/model.onnx', quantized: 'onnx/model_quantized.onnx' } as const;
/** A model named on the Hugging Face hub (`hf:owner/name`), fetched only when downloading is on. */
export const HF_REF_PREFIX = 'hf:';

/** Whether `dir` looks like a Hugging Face layout directory (file names only). */
export function isHfLayout(dir: string): boolean {
  if (dir.startsWith(HF_REF_PREFIX)) return true;
  return existsSync(join(dir, 'config.json')) && existsSync(join(dir, 'tokenizer.json')) && (existsSync(join(dir, HF_ONNX.fp32)) || existsSync(join(dir, HF_ONNX.quantized)));
}

/**
 * The files a local directory lacks for loading (`quantized` picks the ONNX
 * file). Empty when everything is there.
 */
export function missingHfFiles(dir: string, quantized: boolean): string[] {
  const need = [...HF_FILES, quantized ? HF_ONNX.quantized : HF_ONNX.fp32];
  return need.filter((f) => !existsSync(join(dir, f)));
}

/** The parts of config.json hubnlu reads. */
export interface HfConfig {
  /** Model labels in id order. */
  readonly labels: readonly string[];
  readonly name: string;
  readonly maxPositions?: number;
}

export function parseHfConfig(json: string, where: string): HfConfig {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(json) as Record<string, unknown>;
  } catch (err) {
    throw new Error(`${where}: not valid JSON (${(err as Error).message}); use the config.json of the model's export`);
  }
  const id2label = raw.id2label as Record<string, unknown> | undefined;
  if (!id2label || typeof id2label !== 'object' || Object.keys(id2label).length === 0) {
    throw new Error(`${where}: no id2label; hubnlu needs a classification model's config.json (it names each output label)`);
  }
  const n = Object.keys(id2label).length;
  const labels: string[] = [];
  for (let i = 0; i < n; i++) {
    const l = id2label[String(i)];
    if (typeof l !== 'string' || l === '') throw new Error(`${where}: id2label has no label for id ${i}; ids must run 0..${n - 1}`);
    labels.push(l);
  }
  const name = typeof raw._name_or_path === 'string' && raw._name_or_path ? raw._name_or_path : '';
  const maxPositions = typeof raw.max_position_embeddings === 'number' ? raw.max_position_embeddings : undefined;
  return { labels, name, maxPositions };
}

export function readHfConfig(dir: string): HfConfig {
  const file = join(dir, 'config.json');
  const cfg = parseHfConfig(readFileSync(file, 'utf8'), file);
  return { ...cfg, name: cfg.name || basename(dir) };
}

/** A short version for ModelRef: a hash of config.json, tokenizer.json and the ONNX file's size. */
export function hfVersion(dir: string, onnxFile: string): string {
  const h = createHash('sha256');
  for (const f of ['config.json', 'tokenizer.json']) h.update(readFileSync(join(dir, f)));
  h.update(String(statSync(join(dir, onnxFile)).size));
  return `hf-${h.digest('hex').slice(0, 12)}`;
}

const SENTIMENT_ALIASES: Readonly<Record<string, SentimentLabel>> = {
  negative: 'negative',
  neg: 'negative',
  neutral: 'neutral',
  neu: 'neutral',
  positive: 'positive',
  pos: 'positive',
};

/**
 * Which hubnlu label each model label counts towards (in model id order).
 * Several model labels may map to one hubnlu label ("1 star", "2 stars" →
 * negative); their probabilities are added.
 *
 * - sentiment: every model label must map to negative, neutral or positive,
 *   by `labelMap` or by its own name (NEGATIVE, neg, Positive, …).
 * - intent: `labelMap` renames; unmapped labels keep their own name.
 */
export function mapLabels(task: TaskName, modelLabels: readonly string[], labelMap: Readonly<Record<string, string>> | undefined, setting: string): string[] {
  const map = labelMap ?? {};
  for (const k of Object.keys(map)) {
    if (!modelLabels.includes(k)) {
      throw new Error(`${setting}.labelMap names "${k}", which the model does not have; its labels are ${modelLabels.join(', ')}`);
    }
  }
  if (task === 'intent') return modelLabels.map((l) => map[l] ?? l);
  const out: string[] = [];
  for (const l of modelLabels) {
    const target = map[l] ?? SENTIMENT_ALIASES[l.toLowerCase()];
    if (!target || !(SENTIMENT_LABELS as readonly string[]).includes(target)) {
      const example = Object.fromEntries(modelLabels.map((m, i) => [m, SENTIMENT_LABELS[Math.min(i, 2)]]));
      throw new Error(
        `${setting}.labelMap: the model's label "${l}" has no sentiment; map each model label to negative, neutral or positive, e.g. labelMap: ${JSON.stringify(example)}`,
      );
    }
    out.push(target);
  }
  return out;
}

/** Softmax in float64 (logits of one row). */
export function softmax(logits: ArrayLike<number>): number[] {
  let max = -Infinity;
  for (let i = 0; i < logits.length; i++) max = Math.max(max, logits[i]);
  const e = Array.from({ length: logits.length }, (_, i) => Math.exp(logits[i] - max));
  const sum = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / sum);
}

/** Probabilities summed per hubnlu label, most likely first (ties: first label first). */
export function rankMapped(probs: readonly number[], mapped: readonly string[]): { name: string; confidence: number }[] {
  const sums = new Map<string, number>();
  mapped.forEach((name, i) => sums.set(name, (sums.get(name) ?? 0) + probs[i]));
  return [...sums].map(([name, confidence]) => ({ name, confidence })).sort((a, b) => b.confidence - a.confidence);
}

/** The id of the entailment label of an NLI model (zero-shot classification). */
export function entailmentId(modelLabels: readonly string[], setting: string): number {
  const i = modelLabels.findIndex((l) => l.toLowerCase().startsWith('entail'));
  if (i < 0) {
    throw new Error(
      `${setting}: zero-shot-classification needs an NLI model whose config.json labels include "entailment" (it has ${modelLabels.join(', ')}); use an MNLI/XNLI fine-tuned model, or task: text-classification`,
    );
  }
  return i;
}
