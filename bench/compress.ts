/**
 * What `hubnlu quantize` and `hubnlu prune` buy on a BERT-base-shaped model
 * (12 layers, hidden 768, 12 heads, intermediate 3072, vocabulary 30522,
 * random seeded weights: latency and memory depend on the shape, not the
 * weights), next to the shipped intent model:
 *   size, load time, p50/p99 latency on a fixed input set, resident memory,
 *   top-1 agreement and largest logit difference against fp32;
 * and the shipped models' accuracy through the eval path before and after
 * quantisation, against the fp32 accuracy their manifests record.
 *
 *   npm run bench:compress [-- --inputs 48] [--datasets DIR (default $HUBNLU_DATASETS)] [--keep DIR]
 *
 * The models are generated into a temporary directory (about 1 GB, deleted
 * afterwards unless --keep) by a child process under `nice -n 10`; each
 * model is then timed in its own child process at normal priority (so RSS is
 * that model's alone). Writes bench/results/compress.json.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BERT_BASE, buildBertGraph, randomBertWeights } from '../src/train/bert-graph.js';
import { decodeModel } from '../src/train/onnx-proto.js';
import { parameterCount, readOnnxFile, writeOnnxFile } from '../src/compress/graph.js';
import { quantizeModel, type QuantizeModelOptions } from '../src/compress/quantize-model.js';
import { pruneModel } from '../src/compress/prune-model.js';
import { compareOutputs, makeInputSet, percentile, runInputSet, type InputSet } from '../src/compress/measure.js';
import { ModelRegistry } from '../src/model/registry.js';
import { benchDatasets } from './datasets.js';
import { evaluate } from '../src/eval/evaluate.js';
import { readRows } from '../src/data/rows.js';
import { packageRoot } from '../src/util/paths.js';

const SELF = fileURLToPath(import.meta.url);

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

/** The variants of the BERT-base-shaped model, by file name. */
const VARIANTS: { file: string; label: string; make: (dir: string) => void }[] = [];

function variant(file: string, label: string, from: string, step: (m: ReturnType<typeof decodeModel>) => unknown): void {
  VARIANTS.push({
    file,
    label,
    make: (dir) => {
      const m = readOnnxFile(join(dir, from));
      step(m);
      writeOnnxFile(join(dir, file), m);
    },
  });
}

const q = (o: QuantizeModelOptions) => (m: ReturnType<typeof decodeModel>) => quantizeModel(m, o);
variant('int8.onnx', 'int8 (hubnlu quantize: MatMulInteger, int8 weights)', 'fp32.onnx', q({}));
variant('int8-reduce-range.onnx', 'int8, 7-bit weights (--reduce-range)', 'fp32.onnx', q({ reduceRange: true }));
variant('int8-uint8-weights.onnx', 'int8, uint8 weights (u8u8 kernels)', 'fp32.onnx', q({ uint8Weights: true }));
variant('int8-dequantize.onnx', 'int8 storage, DequantizeLinear (--format dequantize)', 'fp32.onnx', q({ format: 'dequantize' }));
variant('pruned.onnx', 'pruned fp32 (--heads 4 --ffn 0.5)', 'fp32.onnx', (m) => pruneModel(m, { heads: 4, ffn: 0.5 }));
variant('pruned-int8.onnx', 'pruned, then int8', 'pruned.onnx', q({}));
variant('sparse.onnx', 'fp32, 50 % unstructured sparsity (--sparsity 0.5)', 'fp32.onnx', (m) => pruneModel(m, { sparsity: 0.5 }));

// ---------------------------------------------------------------------------
// Child: generate (run under nice)

function generate(dir: string): void {
  writeFileSync(join(dir, 'fp32.onnx'), buildBertGraph(BERT_BASE, randomBertWeights(BERT_BASE, { seed: 1 }), { metadata: { fixture: 'bert-base-shaped, random weights' } }));
  for (const v of VARIANTS) {
    v.make(dir);
    process.stderr.write(`generated ${v.file}\n`);
  }
}

// ---------------------------------------------------------------------------
// Child: measure one model (normal priority)

interface Measured {
  loadMs: number;
  p50Ms: number;
  p99Ms: number;
  /** Resident memory after loading the model and running the inputs (ru_maxrss is not used: Linux carries it over exec from the parent). */
  rssMiB: number;
  outputs: { data: number[]; dims: readonly number[] }[];
}

async function measure(model: string, inputsFile: string, rounds: number): Promise<Measured> {
  const json = JSON.parse(readFileSync(inputsFile, 'utf8')) as { name: string; type: 'int64' | 'int32' | 'float32'; data: number[]; dims: number[] }[][];
  const inputs: InputSet = json.map((feeds) =>
    Object.fromEntries(
      feeds.map((f) => [
        f.name,
        f.type === 'int64'
          ? { type: 'int64' as const, data: BigInt64Array.from(f.data.map(BigInt)), dims: f.dims }
          : f.type === 'int32'
            ? { type: 'int32' as const, data: Int32Array.from(f.data), dims: f.dims }
            : { type: 'float32' as const, data: Float32Array.from(f.data), dims: f.dims },
      ]),
    ),
  );
  let best: Awaited<ReturnType<typeof runInputSet>> | undefined;
  for (let r = 0; r < rounds; r++) {
    const run = await runInputSet(model, inputs);
    best = best ? { ...best, loadMs: Math.min(best.loadMs, run.loadMs), latencies: best.latencies.map((l, i) => Math.min(l, run.latencies[i])) } : run;
  }
  return {
    loadMs: best!.loadMs,
    p50Ms: percentile(best!.latencies, 50),
    p99Ms: percentile(best!.latencies, 99),
    rssMiB: process.memoryUsage().rss / 2 ** 20,
    outputs: best!.outputs.map((o) => ({ data: Array.from(o.data), dims: o.dims })),
  };
}

/** How the model's top-1 answers split over its classes (so an agreement of 100 % can be seen not to be one constant answer). */
function classShares(outputs: Measured['outputs']): number[] {
  const width = outputs[0]?.dims.at(-1) ?? 1;
  const counts = new Array<number>(width).fill(0);
  let rows = 0;
  for (const o of outputs) {
    for (let off = 0; off < o.data.length; off += width) {
      let best = 0;
      for (let i = 1; i < width; i++) if (o.data[off + i] > o.data[off + best]) best = i;
      counts[best]++;
      rows++;
    }
  }
  return counts.map((c) => c / rows);
}

function saveInputs(inputs: InputSet, file: string): void {
  writeFileSync(file, JSON.stringify(inputs.map((feeds) => Object.entries(feeds).map(([name, f]) => ({ name, type: f.type, dims: f.dims, data: Array.from(f.data as ArrayLike<number | bigint>, Number) })))));
}

function child(args: string[], nice: boolean): string {
  const cmd = nice ? 'nice' : process.execPath;
  const argv = nice ? ['-n', '10', process.execPath, SELF, ...args] : [SELF, ...args];
  const r = spawnSync(cmd, argv, { encoding: 'utf8', maxBuffer: 1 << 28, stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`bench child ${args.join(' ')} exited ${r.status}`);
  return r.stdout;
}

// ---------------------------------------------------------------------------
// Shipped models: accuracy through the eval path, before and after quantize

interface AccuracyRow {
  model: string;
  file: string;
  n: number;
  fp32: number | null;
  shipped: number;
  quantized: number;
}

async function accuracy(tmp: string, datasets: string): Promise<{ rows: AccuracyRow[]; missing: string[] }> {
  const dirs = ['intent', 'sentiment', 'de/intent', 'de/sentiment', 'fr/intent', 'fr/sentiment', 'es/intent', 'es/sentiment', 'zh-cn/intent', 'zh-cn/sentiment'];
  const rows: AccuracyRow[] = [];
  const missing: string[] = [];
  for (const d of dirs) {
    const src = join(packageRoot(), 'models', d);
    const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
    const task = manifest.task as 'intent' | 'sentiment';
    const recorded = (manifest.metrics?.fp32VsInt8 ?? {}) as Record<string, { fp32?: { accuracy: number } }>;
    const files = Object.keys(recorded).length > 0 ? Object.keys(recorded) : ['slurp.devel.jsonl'];
    const copy = join(tmp, 'shipped', d);
    cpSync(src, copy, { recursive: true });
    const m = readOnnxFile(join(src, 'model.onnx'));
    quantizeModel(m);
    writeOnnxFile(join(copy, 'model.onnx'), m);
    for (const f of files) {
      const path = [join(packageRoot(), 'eval', 'handwritten', f), join(datasets, task, f)].find((p) => existsSync(p));
      if (!path) {
        missing.push(`${d}: ${f}`);
        continue;
      }
      const data = readRows(path, task).rows;
      const score = async (dir: string): Promise<number> => {
        const reg = await ModelRegistry.load({ intentDir: task === 'intent' ? dir : null, sentimentDir: task === 'sentiment' ? dir : null });
        try {
          return (await evaluate(reg, task, data, { file: f })).accuracy;
        } finally {
          await reg.close();
        }
      };
      rows.push({ model: d, file: f, n: data.length, fp32: recorded[f]?.fp32?.accuracy ?? null, shipped: await score(src), quantized: await score(copy) });
    }
  }
  return { rows, missing };
}

// ---------------------------------------------------------------------------

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === '--child-generate') return generate(process.argv[3]);
  if (mode === '--child-measure') {
    process.stdout.write(JSON.stringify(await measure(process.argv[3], process.argv[4], Number(process.argv[5]))));
    return;
  }
  const count = Number(arg('--inputs') ?? 48);
  const keep = arg('--keep');
  const datasets = benchDatasets(arg('--datasets'));
  const tmp = keep ?? mkdtempSync(join(tmpdir(), 'hubnlu-bench-compress-'));
  mkdirSync(tmp, { recursive: true });
  const started = new Date().toISOString();
  const load0 = loadavg()[0];
  try {
    if (!existsSync(join(tmp, 'fp32.onnx')) || !existsSync(join(tmp, VARIANTS.at(-1)!.file))) {
      process.stderr.write(`generating the BERT-base-shaped models into ${tmp} (nice -n 10)…\n`);
      child(['--child-generate', tmp], true);
    }
    const fp32Model = readOnnxFile(join(tmp, 'fp32.onnx'));
    const bertInputs = join(tmp, 'inputs-bert.json');
    saveInputs(makeInputSet(fp32Model, { count, lengths: [8, 16, 32, 64] }), bertInputs);
    const shippedFile = join(packageRoot(), 'models', 'intent', 'model.onnx');
    const shippedModel = readOnnxFile(shippedFile);
    const shippedInputs = join(tmp, 'inputs-shipped.json');
    saveInputs(makeInputSet(shippedModel, { count }), shippedInputs);

    const rows: Record<string, unknown>[] = [];
    const timed = (file: string, inputs: string): Measured => JSON.parse(child(['--child-measure', file, inputs, '2'], false)) as Measured;
    const row = (label: string, file: string, m: Measured, model: ReturnType<typeof decodeModel>, ref?: Measured): Record<string, unknown> => {
      const p = parameterCount(model);
      const cmp = ref ? compareOutputs(ref.outputs.map((o) => ({ data: Float32Array.from(o.data), dims: o.dims })), m.outputs.map((o) => ({ data: Float32Array.from(o.data), dims: o.dims }))) : null;
      const r = {
        model: label,
        file: file.startsWith(tmp) ? file.slice(tmp.length + 1) : 'models/intent/model.onnx',
        bytes: statSync(file).size,
        parameters: p.total,
        nonzeroParameters: p.nonzero,
        loadMs: m.loadMs,
        p50Ms: m.p50Ms,
        p99Ms: m.p99Ms,
        rssMiB: m.rssMiB,
        top1ClassShares: classShares(m.outputs),
        top1Agreement: cmp?.agreement ?? null,
        maxLogitDiff: cmp?.maxDiff ?? null,
      };
      process.stderr.write(`${label}: ${(r.bytes / 1e6).toFixed(1)} MB, load ${r.loadMs.toFixed(0)} ms, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms, RSS ${r.rssMiB.toFixed(0)} MiB, agreement ${cmp ? (cmp.agreement * 100).toFixed(1) + ' %' : '-'}\n`);
      return r;
    };
    rows.push(row('shipped intent classifier (fastText, int8 rows)', shippedFile, timed(shippedFile, shippedInputs), shippedModel));
    const fp32 = timed(join(tmp, 'fp32.onnx'), bertInputs);
    rows.push(row('BERT-base-shaped fp32', join(tmp, 'fp32.onnx'), fp32, fp32Model));
    for (const v of VARIANTS) {
      const f = join(tmp, v.file);
      rows.push(row(v.label, f, timed(f, bertInputs), readOnnxFile(f), fp32));
    }
    process.stderr.write('shipped models: eval accuracy before/after quantize…\n');
    const acc = await accuracy(tmp, datasets);
    const result = {
      started,
      machine: `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, shared with other work (load average ${load0.toFixed(2)} at start, ${loadavg()[0].toFixed(2)} at end)`,
      node: process.version,
      inputs: { count, sequenceLengths: [8, 16, 32, 64], batch: 1, note: 'token ids drawn below the vocabulary size (seed 12); latency is per input, single-threaded onnxruntime, the faster of two runs of each input' },
      bertBase: BERT_BASE,
      rows,
      shippedAccuracy: acc.rows,
      shippedAccuracyMissing: acc.missing,
    };
    mkdirSync(join(packageRoot(), 'bench', 'results'), { recursive: true });
    writeFileSync(join(packageRoot(), 'bench', 'results', 'compress.json'), `${JSON.stringify(result, null, 2)}\n`);
    for (const a of acc.rows) process.stderr.write(`${a.model} ${a.file}: fp32 ${a.fp32 ?? '-'} shipped ${a.shipped.toFixed(4)} quantized ${a.quantized.toFixed(4)}\n`);
    process.stderr.write('wrote bench/results/compress.json\n');
  } finally {
    if (!keep) rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
