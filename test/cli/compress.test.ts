/** `hubnlu quantize` and `hubnlu prune` as a user runs them: separate processes, real files, real onnxruntime. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BERT_TINY, buildBertGraph, randomBertWeights } from '../../src/train/bert-graph.js';
import { packageRoot } from '../../src/util/paths.js';
import { runCli } from '../helpers/cli.js';

let dir: string;
let model: string;
test.before(() => {
  dir = mkdtempSync(join(tmpdir(), 'hubnlu-cli-compress-'));
  model = join(dir, 'bert.onnx');
  const shape = { ...BERT_TINY, hidden: 64, intermediate: 128, vocab: 300 };
  writeFileSync(model, buildBertGraph(shape, randomBertWeights(shape, { seed: 11, std: 0.1 })));
});
test.after(() => rmSync(dir, { recursive: true, force: true }));

test('hubnlu quantize prints the before/after table and writes the model', { timeout: 120_000 }, () => {
  const out = join(dir, 'q.onnx');
  const r = runCli(['quantize', model, '--out', out, '--inputs', '8']);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(existsSync(out));
  for (const row of ['size', 'parameters', 'load time', 'p50 latency', 'p99 latency', 'top-1 agreement', 'max |logit diff|']) assert.match(r.stdout, new RegExp(`^${row.replace(/[|]/g, '\\|')}\\s`, 'm'));
  assert.match(r.stdout, /quantised: 12 MatMul, 2 Gemm .* 3 Gather/);
});

test('hubnlu prune --json: heads, ffn and sparsity in one pass; the JSON carries the comparison', { timeout: 120_000 }, () => {
  const out = join(dir, 'p.onnx');
  const r = runCli(['prune', model, '--out', out, '--heads', '1', '--ffn', '0.5', '--sparsity', '0.3', '--inputs', '8', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.deepEqual(j.summary.heads, { blocks: 2, removedPerBlock: 1, headsBefore: 4, headsAfter: 3 });
  assert.deepEqual(j.summary.ffn, { blocks: 2, unitsBefore: 256, unitsAfter: 128 });
  assert.ok(j.comparison.after.parameters < j.comparison.before.parameters);
  assert.ok(j.comparison.after.nonzeroParameters < j.comparison.after.parameters);
  assert.ok(j.comparison.top1Agreement >= 0 && j.comparison.top1Agreement <= 1);
  assert.equal(j.comparison.inputs, 8);
});

test('usage errors exit 2, a missing model exits 3, each with a message that names the fix', { timeout: 120_000 }, () => {
  const out = join(dir, 'exists.onnx');
  writeFileSync(out, 'x');
  const cases: [string[], number, RegExp][] = [
    [['quantize', model], 2, /--out/],
    [['quantize', model, '--out', out], 2, /exists; pass --force/],
    [['quantize', model, '--out', model, '--force'], 2, /is the input file/],
    [['quantize', join(dir, 'missing.onnx'), '--out', join(dir, 'm.onnx')], 3, /no such model file/],
    [['quantize', model, '--out', join(dir, 'f.onnx'), '--format', 'int4'], 2, /--format: expected auto, matmul-integer or dequantize/],
    [['prune', model, '--out', join(dir, 'n.onnx')], 2, /nothing to prune/],
    [['prune', model, '--out', join(dir, 'n.onnx'), '--sparsity', '1.5'], 2, /--sparsity: expected a number in \[0, 1\)/],
    [['prune', model, '--out', join(dir, 'n.onnx'), '--heads', '4'], 2, /has only 4 heads/],
    // --out a directory (even with --force), or in a directory that does not exist: named, before any work.
    [['quantize', model, '--out', dir, '--force'], 2, /^hubnlu: --out \S+: a directory; give a file name, e\.g\. \S+model\.int8\.onnx\n$/],
    [['prune', model, '--out', dir, '--sparsity', '0.5'], 2, /^hubnlu: --out \S+: a directory; give a file name, e\.g\. \S+model\.pruned\.onnx\n$/],
    [['quantize', model, '--out', join(dir, 'nope', 'q.onnx')], 1, /^hubnlu: cannot write \S+q\.onnx: ENOENT \(does its directory exist\?\)\n$/],
  ];
  for (const [args, status, message] of cases) {
    const r = runCli(args);
    assert.equal(r.status, status, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message, args.join(' '));
  }
  assert.equal(readFileSync(out, 'utf8'), 'x', 'the refused output file is untouched');
});

/**
 * The shipped models already keep their big tables int8; quantize turns the rest int8 too. Their
 * accuracy through the eval path must stay within 0.5 points of the fp32 accuracy the manifest records.
 */
for (const [lang, task, data] of [
  ['de', 'intent', 'de.jsonl'],
  ['zh-cn', 'sentiment', 'zh-cn.sentiment.jsonl'],
] as const) {
  test(`quantized shipped ${lang} ${task} model: eval accuracy within 0.5 points of fp32`, { timeout: 180_000 }, () => {
    const src = join(packageRoot(), 'models', lang, task);
    const copy = join(dir, `${lang}-${task}`);
    cpSync(src, copy, { recursive: true });
    const q = runCli(['quantize', join(src, 'model.onnx'), '--out', join(copy, 'model.onnx'), '--force', '--json', '--inputs', '16']);
    assert.equal(q.status, 0, q.stderr);
    const summary = JSON.parse(q.stdout).summary;
    assert.ok(summary.matmul >= 1 && summary.alreadyQuantized >= 1, JSON.stringify(summary));
    const file = join(packageRoot(), 'eval', 'handwritten', data);
    const evalOf = (m: string): number => {
      const r = runCli(['eval', '--task', task, '--model', m, '--data', file, '--json']);
      assert.equal(r.status, 0, r.stderr);
      return JSON.parse(r.stdout).accuracy as number;
    };
    const manifest = JSON.parse(readFileSync(join(src, 'manifest.json'), 'utf8'));
    const fp32 = manifest.metrics.fp32VsInt8[data].fp32.accuracy as number;
    const quantized = evalOf(copy);
    assert.ok(Math.abs(quantized - fp32) <= 0.005, `quantized ${quantized} vs fp32 ${fp32}`);
    assert.ok(Math.abs(quantized - evalOf(src)) <= 0.005);
  });
}
