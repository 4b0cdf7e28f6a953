/**
 * Latency and footprint of the shipped models through onnxruntime-node, one
 * utterance at a time (how the agent runs them):
 *   - featurize only (tokenize + hashed features),
 *   - intent + slots, sentiment, and the whole pipeline (tokenize once,
 *     featurize, intent, slots, sentiment: `ModelRegistry.analyze`),
 * plus the whole pipeline in batches (`ModelRegistry.analyzeMany` at 8 and 32
 * texts a call, how the agent runs it under load): time per batch and CPU time
 * per utterance, and the same through the language router with detection on
 * (`LanguageRouter`, what the agent runs with the default config: one more ONNX
 * call for the language), and resident memory before/after loading and the model files' sizes.
 *
 *   npm run build && node dist/bench/models.js [--n 3000] [--datasets DIR]
 *
 * Prints a table and writes bench/results/models.json.
 */
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { featurizeTokens } from '../src/model/features.js';
import { defaultModelDir, loadManifest } from '../src/model/manifest.js';
import { ModelRegistry } from '../src/model/registry.js';
import { LanguageRouter } from '../src/model/language-router.js';
import { loadConfig } from '../src/config/load.js';
import { routerOptions } from '../src/cli/context.js';
import type { Analyzer } from '../src/model/types.js';
import { tmpdir } from 'node:os';
import { tokenize } from '../src/model/text.js';
import { percentile } from '../src/eval/metrics.js';
import { readRows } from '../src/data/rows.js';
import { benchDatasets } from './datasets.js';
import { packageRoot } from '../src/util/paths.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const N = Number(arg('--n') ?? 3000);
const ds = benchDatasets(arg('--datasets'));

function dirBytes(dir: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const f of readdirSync(dir)) out[f] = statSync(join(dir, f)).size;
  return out;
}

interface Timing {
  p50: number;
  p99: number;
  mean: number;
  max: number;
}

function summarize(ms: number[]): Timing {
  return {
    p50: percentile(ms, 50),
    p99: percentile(ms, 99),
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    max: Math.max(...ms),
  };
}

async function time(texts: readonly string[], fn: (t: string) => unknown): Promise<Timing> {
  for (const t of texts.slice(0, 200)) await fn(t); // warm-up
  const ms: number[] = [];
  for (const t of texts) {
    const t0 = performance.now();
    await fn(t);
    ms.push(performance.now() - t0);
  }
  return summarize(ms);
}

const texts = [
  ...readRows(join(ds, 'intent', 'slurp.devel.jsonl'), 'intent').rows.map((r) => r.text),
  ...readRows(join(ds, 'sentiment', 'meld.dev.jsonl'), 'sentiment').rows.map((r) => r.text),
];
const sample: string[] = [];
for (let i = 0; sample.length < N; i++) sample.push(texts[i % texts.length]);

const intentDir = defaultModelDir('intent');
const sentimentDir = defaultModelDir('sentiment');
const intentManifest = loadManifest(intentDir);

if (global.gc) global.gc();
const rssBefore = process.memoryUsage().rss;
const t0 = performance.now();
const registry = await ModelRegistry.load({ intentDir, sentimentDir });
const loadMs = performance.now() - t0;
if (global.gc) global.gc();
const rssLoaded = process.memoryUsage().rss;

// Warm every session and the JIT before timing any stage: otherwise whichever
// stage is measured first pays for it.
for (const t of sample.slice(0, 500)) await registry.analyze(t, ['intent', 'sentiment']);

interface BatchTiming {
  batch: number;
  /** Wall time of one analyzeMany call. */
  perBatch: Timing;
  /** Process CPU time (user + system) over all calls, per utterance, microseconds: less sensitive to other processes than wall time. */
  cpuUsPerUtterance: number;
  /** Wall time over all calls, per utterance, microseconds. */
  wallUsPerUtterance: number;
}

/** The whole pipeline, `batch` texts per analyzeMany call (the agent's micro-batches under load). */
async function timeBatches(texts: readonly string[], batch: number, models: Analyzer = registry): Promise<BatchTiming> {
  const batches: { text: string; tasks: ('intent' | 'sentiment')[] }[][] = [];
  for (let i = 0; i + batch <= texts.length; i += batch) batches.push(texts.slice(i, i + batch).map((text) => ({ text, tasks: ['intent', 'sentiment'] })));
  for (const b of batches.slice(0, 20)) await models.analyzeMany!(b); // warm-up
  const ms: number[] = [];
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (const b of batches) {
    const t0 = performance.now();
    await models.analyzeMany!(b);
    ms.push(performance.now() - t0);
  }
  const wall = performance.now() - w0;
  const cpu = process.cpuUsage(cpu0);
  const n = batches.length * batch;
  return { batch, perBatch: summarize(ms), cpuUsPerUtterance: (cpu.user + cpu.system) / n, wallUsPerUtterance: (wall * 1000) / n };
}

/** `time` of the whole pipeline plus its process CPU time per utterance (microseconds). */
async function timePipeline(texts: readonly string[], models: Analyzer = registry): Promise<Timing & { cpuUsPerUtterance: number }> {
  const cpu0 = process.cpuUsage();
  const t = await time(texts, (x) => models.analyze(x, ['intent', 'sentiment']));
  const cpu = process.cpuUsage(cpu0);
  return { ...t, cpuUsPerUtterance: (cpu.user + cpu.system) / (texts.length + Math.min(200, texts.length)) };
}

const results = {
  n: N,
  node: process.version,
  // Other processes on a 2-core machine preempt this one: p99 depends on them.
  loadAverageAtStart: loadavg()[0],
  loadMs,
  featurize: await time(sample, (t) => featurizeTokens(tokenize(t), intentManifest.featurizer)),
  intentAndSlots: await time(sample, (t) => registry.analyze(t, ['intent'])),
  sentiment: await time(sample, (t) => registry.analyze(t, ['sentiment'])),
  pipeline: await timePipeline(sample),
  // The machine is shared: p99 is sensitive to other processes, so the whole
  // pipeline is measured in three more rounds and each round is reported.
  pipelineRounds: [] as Timing[],
  batched: [await timeBatches(sample, 8), await timeBatches(sample, 32)],
  rssMb: { beforeLoad: rssBefore / 2 ** 20, afterLoad: rssLoaded / 2 ** 20, afterRuns: process.memoryUsage().rss / 2 ** 20 },
  sizes: { intent: dirBytes(intentDir), sentiment: dirBytes(sentimentDir) },
  models: registry.loadedModels(),
  slots: registry.hasSlots,
};
for (let r = 0; r < 3; r++) results.pipelineRounds.push(await time(sample, (t) => registry.analyze(t, ['intent', 'sentiment'])));
await registry.close();

// As the agent runs them with the default config (cli/context.ts): every shipped language, detection on, lazy.
const router = await LanguageRouter.load(routerOptions(loadConfig({ env: {}, cwd: tmpdir() }).config));
await router.warmUp();
for (const t of sample.slice(0, 500)) await router.analyze(t, ['intent', 'sentiment']);
const routed = {
  pipeline: await timePipeline(sample, router),
  batched: [await timeBatches(sample, 8, router), await timeBatches(sample, 32, router)],
};
await router.close();

const modelBytes = (files: Record<string, number>): number =>
  Object.entries(files).filter(([f]) => f !== 'MODEL_CARD.md').reduce((a, [, b]) => a + b, 0);
const rows: [string, Timing][] = [
  ['featurize (tokenize + hash)', results.featurize],
  ['intent + slots', results.intentAndSlots],
  ['sentiment', results.sentiment],
  ['whole pipeline', results.pipeline],
];
const lines = [
  `hubnlu models bench: ${N} utterances (slurp.devel + meld.dev texts), one at a time, node ${process.version}, 1-min load average at start ${results.loadAverageAtStart.toFixed(2)}`,
  '',
  `${'stage'.padEnd(28)}  ${'p50 ms'.padStart(8)}  ${'p99 ms'.padStart(8)}  ${'mean ms'.padStart(8)}  ${'max ms'.padStart(8)}`,
  ...rows.map(([k, t]) => `${k.padEnd(28)}  ${t.p50.toFixed(3).padStart(8)}  ${t.p99.toFixed(3).padStart(8)}  ${t.mean.toFixed(3).padStart(8)}  ${t.max.toFixed(3).padStart(8)}`),
  `whole pipeline, rounds 2–4: p99 ${results.pipelineRounds.map((t) => t.p99.toFixed(3)).join(' / ')} ms, p50 ${results.pipelineRounds.map((t) => t.p50.toFixed(3)).join(' / ')} ms`,
  `whole pipeline, one at a time: ${results.pipeline.cpuUsPerUtterance.toFixed(1)} µs CPU per utterance`,
  ...results.batched.map((b) => `whole pipeline, analyzeMany of ${b.batch}: per batch p50 ${b.perBatch.p50.toFixed(3)} / p99 ${b.perBatch.p99.toFixed(3)} ms; per utterance ${b.cpuUsPerUtterance.toFixed(1)} µs CPU, ${b.wallUsPerUtterance.toFixed(1)} µs wall`),
  '',
  `load time ${loadMs.toFixed(0)} ms; RSS ${results.rssMb.beforeLoad.toFixed(1)} MB before load, ${results.rssMb.afterLoad.toFixed(1)} MB loaded, ${results.rssMb.afterRuns.toFixed(1)} MB after runs`,
  `sizes on disk: intent + slots ${(modelBytes(results.sizes.intent) / 1e6).toFixed(2)} MB (${Object.entries(results.sizes.intent).map(([f, b]) => `${f} ${(b / 1e6).toFixed(2)}`).join(', ')}), sentiment ${(modelBytes(results.sizes.sentiment) / 1e6).toFixed(2)} MB`,
];
lines.push(
  `with language detection (LanguageRouter, default config): one at a time p50 ${routed.pipeline.p50.toFixed(3)} / p99 ${routed.pipeline.p99.toFixed(3)} ms, ${routed.pipeline.cpuUsPerUtterance.toFixed(1)} µs CPU per utterance`,
  ...routed.batched.map((b) => `with language detection, analyzeMany of ${b.batch}: per batch p50 ${b.perBatch.p50.toFixed(3)} / p99 ${b.perBatch.p99.toFixed(3)} ms; per utterance ${b.cpuUsPerUtterance.toFixed(1)} µs CPU, ${b.wallUsPerUtterance.toFixed(1)} µs wall`),
);
process.stdout.write(`${lines.join('\n')}\n`);
const outDir = join(packageRoot(), 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'models.json'), `${JSON.stringify({ ...results, routed }, null, 2)}\n`);
process.stdout.write(`wrote ${join(outDir, 'models.json')}\n`);
