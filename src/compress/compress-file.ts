/**
 * File in, file out: read an ONNX model, quantise or prune it, write it
 * (to a temporary name, renamed into place when complete), and measure the
 * result against the original. `hubnlu quantize`, `hubnlu prune`, the tests
 * and bench/compress.ts share this path.
 */
import { existsSync, realpathSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { compareModels, type Comparison, type InputSetOptions } from './measure.js';
import { parameterCount, readOnnxFile, writeOnnxFile } from './graph.js';
import { quantizeModel, type QuantizeModelOptions, type QuantizeSummary } from './quantize-model.js';
import { pruneModel, type PruneModelOptions, type PruneSummary } from './prune-model.js';
import type { OnnxModelProto } from '../train/onnx-proto.js';

export interface CompressFileOptions {
  /** Replace an existing output file. */
  readonly force?: boolean;
  /** Measure before/after on a fixed input set (default true). */
  readonly measure?: boolean;
  readonly inputs?: InputSetOptions & { rounds?: number };
}

export interface CompressResult<S> {
  readonly input: string;
  readonly output: string;
  readonly summary: S;
  readonly bytes: number;
  readonly parameters: { total: number; nonzero: number };
  readonly comparison: Comparison | null;
}

function checkPaths(input: string, output: string, force: boolean): void {
  if (!existsSync(input)) throw Object.assign(new Error(`${input}: no such model file`), { exitCode: 3 });
  if (existsSync(output)) {
    if (realpathSync(output) === realpathSync(input)) throw Object.assign(new Error(`--out ${output} is the input file; write the compressed model to a new file`), { exitCode: 2 });
    if (!force) throw Object.assign(new Error(`--out ${output} exists; pass --force to replace it`), { exitCode: 2 });
  }
}

async function run<S>(input: string, output: string, options: CompressFileOptions, transform: (m: OnnxModelProto) => S): Promise<CompressResult<S>> {
  input = resolve(input);
  output = resolve(output);
  checkPaths(input, output, options.force ?? false);
  const model = readOnnxFile(input);
  const summary = transform(model);
  model.metadata.set('hubnlu.compressed_from', basename(input));
  const tmp = join(dirname(output), `.${basename(output)}.${process.pid}.tmp`);
  let bytes: number;
  try {
    bytes = writeOnnxFile(tmp, model);
    renameSync(tmp, output);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
  const parameters = parameterCount(model);
  let comparison: Comparison | null = null;
  if (options.measure ?? true) comparison = await compareModels(input, readOnnxFile(input), output, model, options.inputs);
  return { input, output, summary, bytes, parameters, comparison };
}

export function quantizeFile(input: string, output: string, q: QuantizeModelOptions = {}, options: CompressFileOptions = {}): Promise<CompressResult<QuantizeSummary>> {
  return run(input, output, options, (m) => quantizeModel(m, q));
}

export function pruneFile(input: string, output: string, p: PruneModelOptions, options: CompressFileOptions = {}): Promise<CompressResult<PruneSummary>> {
  return run(input, output, options, (m) => pruneModel(m, p));
}
