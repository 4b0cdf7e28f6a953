/**
 * `hubnlu quantize <in.onnx> --out <out.onnx>` and
 * `hubnlu prune <in.onnx> --out <out.onnx> --sparsity S | --heads N | --ffn F`:
 * compress any ONNX model and print a before/after table (size, parameters,
 * load time, p50/p99 latency on a fixed input set, top-1 agreement, largest
 * logit difference), or one JSON object with --json.
 */
import type { Command } from 'commander';
import { quantizeFile, pruneFile, type CompressResult } from '../../compress/compress-file.js';
import type { QuantizeSummary, WeightFormat } from '../../compress/quantize-model.js';
import { checkPruneOptions, type PruneModelOptions, type PruneSummary } from '../../compress/prune-model.js';
import { CliError, EXIT } from '../exit-codes.js';
import { outPath } from '../out-file.js';
import { padLeft, padRight } from '../format.js';

interface CommonOpts {
  out: string;
  force?: boolean;
  json?: boolean;
  measure: boolean;
  inputs: string;
  seed: string;
}

function positiveInt(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new CliError(`${flag}: expected a whole number ≥ 1, got ${JSON.stringify(v)}`, EXIT.usage);
  return n;
}

function share(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n >= 0 && n < 1)) throw new CliError(`${flag}: expected a number in [0, 1), e.g. 0.5, got ${JSON.stringify(v)}`, EXIT.usage);
  return n;
}

function common(cmd: Command): Command {
  return cmd
    .requiredOption('--out <file>', 'where to write the compressed model (a new file; --force replaces one)')
    .option('--force', 'replace --out if it exists')
    .option('--inputs <n>', 'size of the fixed input set for the before/after measurement', '48')
    .option('--seed <n>', 'seed of the fixed input set', '12')
    .option('--no-measure', 'write the model without running either model')
    .option('--json', 'print one JSON object instead of the table');
}

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof CliError) throw err;
    const code = (err as { exitCode?: number }).exitCode;
    throw new CliError((err as Error).message, code ?? (err instanceof RangeError ? EXIT.usage : EXIT.failure));
  }
}

export function registerCompress(program: Command): void {
  common(
    program
      .command('quantize')
      .description('dynamic int8 quantisation of an ONNX model: MatMul/Gemm weights per output channel, embedding tables per row')
      .argument('<model>', 'the ONNX model file (fp32, or already partly int8)')
      .option('--format <format>', 'how quantised MatMul weights run: matmul-integer (integer kernels), dequantize (int8 storage, float compute) or auto (integer kernels for weights of ≥ 128×128)', 'auto')
      .option('--reduce-range', '7-bit weights: for x86 CPUs without VNNI when accuracy suffers from int16 saturation')
      .option('--no-embeddings', 'leave Gather tables (embeddings) in float32'),
  ).action(async (model: string, opts: CommonOpts & { format: string; reduceRange?: boolean; embeddings: boolean }) => {
    if (opts.format !== 'auto' && opts.format !== 'matmul-integer' && opts.format !== 'dequantize') {
      throw new CliError(`--format: expected auto, matmul-integer or dequantize, got ${JSON.stringify(opts.format)}`, EXIT.usage);
    }
    const count = positiveInt('--inputs', opts.inputs);
    const seed = positiveInt('--seed', opts.seed);
    outPath(opts.out, 'model.int8.onnx');
    const result = await guarded(() =>
      quantizeFile(
        model,
        opts.out,
        { format: opts.format as WeightFormat, reduceRange: opts.reduceRange, embeddings: opts.embeddings },
        { force: opts.force, measure: opts.measure, inputs: { count, seed } },
      ),
    );
    print(result, opts.json, quantizeLines(result.summary));
  });

  common(
    program
      .command('prune')
      .description('prune an ONNX model: unstructured magnitude pruning to a sparsity, and/or removal of attention heads or feed-forward units')
      .argument('<model>', 'the ONNX model file (structured pruning needs float32 weights: prune, then quantize)')
      .option('--sparsity <s>', 'share of every MatMul/Gemm weight matrix set to zero, smallest magnitudes first (e.g. 0.5)')
      .option('--heads <n>', 'attention heads to remove from every attention block (least important first)')
      .option('--ffn <share>', 'share of feed-forward intermediate units to remove from every block (e.g. 0.25)'),
  ).action(async (model: string, opts: CommonOpts & { sparsity?: string; heads?: string; ffn?: string }) => {
    const p: PruneModelOptions = {
      sparsity: share('--sparsity', opts.sparsity),
      heads: opts.heads === undefined ? undefined : positiveInt('--heads', opts.heads),
      ffn: share('--ffn', opts.ffn),
    };
    try {
      checkPruneOptions(p);
    } catch (err) {
      throw new CliError((err as Error).message, EXIT.usage);
    }
    const count = positiveInt('--inputs', opts.inputs);
    const seed = positiveInt('--seed', opts.seed);
    outPath(opts.out, 'model.pruned.onnx');
    const result = await guarded(() => pruneFile(model, opts.out, p, { force: opts.force, measure: opts.measure, inputs: { count, seed } }));
    print(result, opts.json, pruneLines(result.summary));
  });
}

function quantizeLines(s: QuantizeSummary): string[] {
  const lines = [
    `quantised: ${s.matmul} MatMul, ${s.gemm} Gemm (${s.matmul + s.gemm - s.dequantized} as integer kernels, ${s.dequantized} dequantised), ${s.gather} Gather (embedding) weights; ${s.alreadyQuantized} nodes already read int8 weights`,
  ];
  for (const k of s.skipped.slice(0, 5)) lines.push(`  left in float32: ${k.node} (${k.why})`);
  if (s.skipped.length > 5) lines.push(`  … and ${s.skipped.length - 5} more left in float32`);
  return lines;
}

function pruneLines(s: PruneSummary): string[] {
  const lines: string[] = [];
  if (s.heads) lines.push(`attention heads: ${s.heads.headsBefore} → ${s.heads.headsAfter} in each of ${s.heads.blocks} blocks`);
  if (s.ffn) lines.push(`feed-forward units: ${s.ffn.unitsBefore} → ${s.ffn.unitsAfter} over ${s.ffn.blocks} blocks`);
  if (s.unstructured) lines.push(`unstructured: ${s.unstructured.zeroed} weights set to zero in ${s.unstructured.tensors} matrices (${s.unstructured.elements} weights)`);
  return lines;
}

const mb = (b: number): string => (b >= 1e6 ? `${(b / 1e6).toFixed(1)} MB` : `${(b / 1e3).toFixed(1)} kB`);
const fewer = (before: number, after: number): string => (before === after ? 'same' : after < before ? `${((1 - after / before) * 100).toFixed(1)}% fewer` : `${((after / before - 1) * 100).toFixed(1)}% more`);
const params = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(2)} M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)} k` : String(n));
const msText = (v: number): string => `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`;

function print<S>(r: CompressResult<S>, json: boolean | undefined, lines: string[]): void {
  if (json) {
    process.stdout.write(`${JSON.stringify(r)}\n`);
    return;
  }
  const out = [...lines, `wrote ${r.output}`];
  const c = r.comparison;
  if (c) {
    const rows: [string, string, string, string][] = [
      ['', 'before', 'after', 'change'],
      ['size', mb(c.before.bytes), mb(c.after.bytes), c.after.bytes <= c.before.bytes ? `${(c.before.bytes / c.after.bytes).toFixed(2)}× smaller` : `${(c.after.bytes / c.before.bytes).toFixed(2)}× larger`],
      ['parameters', params(c.before.parameters), params(c.after.parameters), fewer(c.before.parameters, c.after.parameters)],
      ['non-zero parameters', params(c.before.nonzeroParameters), params(c.after.nonzeroParameters), fewer(c.before.nonzeroParameters, c.after.nonzeroParameters)],
      ['load time', msText(c.before.loadMs), msText(c.after.loadMs), `${(c.before.loadMs / c.after.loadMs).toFixed(2)}×`],
      ['p50 latency', msText(c.before.p50Ms), msText(c.after.p50Ms), `${(c.before.p50Ms / c.after.p50Ms).toFixed(2)}× faster`],
      ['p99 latency', msText(c.before.p99Ms), msText(c.after.p99Ms), `${(c.before.p99Ms / c.after.p99Ms).toFixed(2)}× faster`],
      ['top-1 agreement', '', `${(c.top1Agreement * 100).toFixed(1)}%`, `${c.rows} rows of ${c.inputs} inputs`],
      ['max |logit diff|', '', c.maxLogitDiff.toPrecision(3), `output ${c.output}`],
    ];
    const w = [0, 1, 2, 3].map((i) => Math.max(...rows.map((row) => row[i].length)));
    out.push('');
    for (const row of rows) out.push(`${padRight(row[0], w[0])}  ${padLeft(row[1], w[1])}  ${padLeft(row[2], w[2])}  ${row[3]}`);
    out.push('', 'latency: single-threaded onnxruntime, each input the faster of two runs; inputs made from the original graph and --seed');
  }
  process.stdout.write(`${out.join('\n')}\n`);
}
