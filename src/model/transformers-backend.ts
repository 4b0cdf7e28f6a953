/**
 * The transformers backend: Hugging Face layout model directories (hf-layout.ts)
 * run through `@huggingface/transformers` (transformers-runtime.ts). The
 * library (~1.2 s and ~30 MB to import here) is loaded on the first model
 * load, so hubs without a transformer never pay for it.
 */
import type { Backend } from './backend.js';
import { HF_ONNX, isHfLayout } from './hf-layout.js';

export const transformersBackend: Backend = {
  name: 'transformers',
  expects: `a Hugging Face model directory holding config.json, tokenizer.json, tokenizer_config.json and ${HF_ONNX.fp32} (or ${HF_ONNX.quantized})`,
  recognizes: isHfLayout,
  load: async (task, dir, settings) => (await import('./transformers-runtime.js')).TransformersTaskModel.load(task, dir, settings),
};
