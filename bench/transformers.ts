/**
 * The transformers backend on generated BERT-architecture models (random
 * weights: load time, latency and memory depend on the shape, not the weights):
 * load time, per-utterance latency (p50/p99, one at a time, as the agent runs
 * them) and resident memory, through `ModelRegistry` (tokenizer and model via
 * @huggingface/transformers, onnxruntime-node single-threaded).
 *
 *   npm run build && nice -n 10 node dist/bench/transformers.js [--shapes tiny,base] [--n 200]
 *
 * Each shape runs in its own process (clean RSS). Prints a table and writes
 * bench/results/transformers.json. The base shape writes a ~420 MB ONNX file
 * to a temporary directory (removed afterwards).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from '../src/eval/metrics.js';
import { ModelRegistry } from '../src/model/registry.js';
import { BERT_BASE, BERT_TINY, type BertShape } from '../src/train/bert-graph.js';
import { packageRoot } from '../src/util/paths.js';
import { TINY_WORDS, writeTinyBert } from '../test/helpers/tiny-bert.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const SHAPES: Record<string, Partial<BertShape>> = {
  tiny: { ...BERT_TINY },
  base: { ...BERT_BASE },
};

/** Fixed utterances of fixture words (the vocabulary is small; shape, not text, sets the cost). */
function utterances(n: number): string[] {
  const words = TINY_WORDS.filter((w) => /^[a-z]+$/.test(w));
  const out: string[] = [];
  let x = 12345;
  for (let i = 0; i < n; i++) {
    const len = 4 + (i % 9);
    const ws: string[] = [];
    for (let k = 0; k < len; k++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      ws.push(words[x % words.length]);
    }
    out.push(ws.join(' '));
  }
  return out;
}

interface ShapeResult {
  shape: string;
  layers: number;
  hidden: number;
  onnxMB: number;
  writeSeconds: number;
  loadMs: number;
  p50: number;
  p99: number;
  rssBeforeMB: number;
  rssAfterLoadMB: number;
  rssAfterRunMB: number;
  n: number;
}

/** Writes the shape's model directory (in the parent: the weights never sit in the measured process). */
function write(name: string, dir: string): { dir: string; onnxPath: string; layers: number; hidden: number; seconds: number } {
  const t0 = performance.now();
  const fx = writeTinyBert(join(dir, name), { kind: 'sequence-classification', labels: ['negative', 'neutral', 'positive'], shape: SHAPES[name] });
  return { dir: fx.dir, onnxPath: fx.onnxPath, layers: fx.shape.layers, hidden: fx.shape.hidden, seconds: (performance.now() - t0) / 1000 };
}

/** Loads and runs one model directory (in a fresh process). */
async function measure(modelDir: string, n: number): Promise<Pick<ShapeResult, 'loadMs' | 'p50' | 'p99' | 'rssBeforeMB' | 'rssAfterLoadMB' | 'rssAfterRunMB' | 'n'>> {
  const mb = (b: number) => Math.round((b / 1e6) * 10) / 10;
  const rssBefore = process.memoryUsage().rss;
  const l0 = performance.now();
  const reg = await ModelRegistry.load({
    intentDir: null,
    sentimentDir: modelDir,
    backendSettings: { transformers: { allowDownload: false, cacheDir: join(modelDir, 'cache') } },
  });
  const loadMs = performance.now() - l0;
  const rssAfterLoad = process.memoryUsage().rss;
  const texts = utterances(n);
  for (const t of texts.slice(0, 10)) await reg.analyze(t, ['sentiment']);
  const ms: number[] = [];
  for (const t of texts) {
    const s = performance.now();
    await reg.analyze(t, ['sentiment']);
    ms.push(performance.now() - s);
  }
  const rssAfterRun = process.memoryUsage().rss;
  await reg.close();
  return {
    loadMs: Math.round(loadMs),
    p50: Math.round(percentile(ms, 50) * 100) / 100,
    p99: Math.round(percentile(ms, 99) * 100) / 100,
    rssBeforeMB: mb(rssBefore),
    rssAfterLoadMB: mb(rssAfterLoad),
    rssAfterRunMB: mb(rssAfterRun),
    n,
  };
}

async function main(): Promise<void> {
  const n = Number(arg('--n') ?? 200);
  const only = arg('--measure');
  if (only) {
    process.stdout.write(`${JSON.stringify(await measure(only, n))}\n`);
    return;
  }
  const shapes = (arg('--shapes') ?? 'tiny,base').split(',');
  const results: ShapeResult[] = [];
  for (const s of shapes) {
    if (!SHAPES[s]) throw new Error(`--shapes: unknown shape ${s}; use tiny and/or base`);
    const tmp = mkdtempSync(join(tmpdir(), `hubnlu-bench-hf-${s}-`));
    try {
      const w = write(s, tmp);
      const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--measure', w.dir, '--n', String(n)], { encoding: 'utf8', maxBuffer: 1 << 24 });
      if (r.status !== 0) throw new Error(`${s}: ${r.stderr}`);
      const m = JSON.parse(r.stdout.trim().split('\n').pop()!) as ReturnType<typeof measure> extends Promise<infer T> ? T : never;
      results.push({ shape: s, layers: w.layers, hidden: w.hidden, onnxMB: Math.round(statSync(w.onnxPath).size / 1e5) / 10, writeSeconds: Math.round(w.seconds * 10) / 10, ...m });
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
  }
  console.log('| shape | layers × hidden | ONNX | load | p50 / p99 per utterance | RSS before → after load → after run |');
  console.log('|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(`| ${r.shape} | ${r.layers} × ${r.hidden} | ${r.onnxMB} MB | ${r.loadMs} ms | ${r.p50} / ${r.p99} ms | ${r.rssBeforeMB} → ${r.rssAfterLoadMB} → ${r.rssAfterRunMB} MB |`);
  }
  const out = join(packageRoot(), 'bench', 'results');
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'transformers.json'), `${JSON.stringify({ when: new Date().toISOString(), node: process.version, loadavg: loadavg(), results }, null, 2)}\n`);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
