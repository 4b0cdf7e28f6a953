/**
 * hubnlu vs NLP.js (@nlpjs/nlp, the intent engine many Node home-automation
 * setups use), trained on the same rows, side by side in one process:
 *
 *   1. smart-home ontology: train on hwu64.train + mindmeld.train, test on slurp.devel;
 *   2. SNIPS: train on a stratified 90 % of snips.train (seed 1), test on the other 10 %.
 *
 * Accuracy counts labels a model cannot produce as errors. Latency is per
 * utterance, one at a time: hubnlu through `ModelRegistry.analyze` (tokenize,
 * featurize, int8 ONNX classifier; no slot tagger, to compare like with like),
 * NLP.js through `nlp.process`. hubnlu uses its shipped recipe, including
 * self-training on SLURP's unlabelled text for the smart-home task.
 *
 *   npm run build && node dist/bench/nlpjs-compare.js [--datasets DIR] [--only slurp|snips]
 *
 * Prints a table and writes bench/results/nlpjs-compare.json.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { containerBootstrap } from '@nlpjs/core';
import { Nlp } from '@nlpjs/nlp';
import { classificationMetrics, percentile } from '../src/eval/metrics.js';
import { ModelRegistry } from '../src/model/registry.js';
import { readRows, type LabelledRow } from '../src/data/rows.js';
import { stratifiedSplit } from '../src/data/random.js';
import { benchDatasets } from './datasets.js';
import { trainModel } from '../src/train/pipeline.js';
import { packageRoot } from '../src/util/paths.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

interface Side {
  accuracy: number;
  macroF1: number;
  trainSeconds: number;
  latencyMs: { p50: number; p99: number; mean: number };
}

interface NlpLike {
  settings: Record<string, unknown>;
  addLanguage(l: string): void;
  addDocument(l: string, text: string, intent: string): void;
  train(): Promise<unknown>;
  process(l: string, text: string): Promise<{ intent: string; score: number }>;
}

async function measure(rows: readonly LabelledRow[], predict: (t: string) => Promise<string>): Promise<Omit<Side, 'trainSeconds'>> {
  for (const r of rows.slice(0, 50)) await predict(r.text);
  const pred: string[] = [];
  const ms: number[] = [];
  for (const r of rows) {
    const t0 = performance.now();
    pred.push(await predict(r.text));
    ms.push(performance.now() - t0);
  }
  const m = classificationMetrics(rows.map((r) => r.label), pred);
  return {
    accuracy: m.accuracy,
    macroF1: m.macroF1,
    latencyMs: { p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length },
  };
}

async function nlpjs(train: readonly LabelledRow[], test: readonly LabelledRow[]): Promise<Side> {
  const container = await containerBootstrap();
  container.use(Nlp);
  // Quiet training (NLP.js logs every epoch by default).
  container.registerConfiguration('nlu-??', { keepStopwords: true, nonefeatureValue: 1, nonedeltaMultiplier: 1.2, spellCheck: false, spellCheckDistance: 1, filterZeros: true, log: false }, true);
  const nlp = container.get('nlp') as NlpLike;
  nlp.settings.autoSave = false;
  nlp.addLanguage('en');
  for (const r of train) nlp.addDocument('en', r.text, r.label);
  const t0 = performance.now();
  await nlp.train();
  const trainSeconds = (performance.now() - t0) / 1000;
  const m = await measure(test, async (t) => (await nlp.process('en', t)).intent);
  return { ...m, trainSeconds };
}

async function hubnlu(trainFile: string, devFile: string, unlabelled: string | null, test: readonly LabelledRow[]): Promise<Side> {
  const dir = mkdtempSync(join(tmpdir(), 'hubnlu-cmp-'));
  try {
    const t0 = performance.now();
    const r = await trainModel({ task: 'intent', trainFiles: trainFile.split(','), devFiles: [devFile], unlabelledFile: unlabelled, out: dir, slots: false, evaluateDev: false });
    const trainSeconds = r.seconds.classifier;
    void t0;
    const reg = await ModelRegistry.load({ intentDir: dir, sentimentDir: null, unknownThreshold: 0 });
    try {
      const m = await measure(test, async (t) => (await reg.analyze(t, ['intent'])).intent!.name);
      return { ...m, trainSeconds };
    } finally {
      await reg.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const ds = benchDatasets(arg('--datasets'));
const only = arg('--only');
const results: Record<string, { n: number; hubnlu: Side; nlpjs: Side }> = {};

if (only !== 'snips') {
  const I = (f: string): string => join(ds, 'intent', f);
  const train = [...readRows(I('hwu64.train.jsonl'), 'intent').rows, ...readRows(I('mindmeld.train.jsonl'), 'intent').rows];
  const test = readRows(I('slurp.devel.jsonl'), 'intent').rows;
  process.stderr.write('slurp.devel: training hubnlu…\n');
  const h = await hubnlu(`${I('hwu64.train.jsonl')},${I('mindmeld.train.jsonl')}`, I('slurp.devel.jsonl'), I('slurp.train.unlabelled.txt'), test);
  process.stderr.write('slurp.devel: training NLP.js…\n');
  const n = await nlpjs(train, test);
  results['slurp.devel (train hwu64 + mindmeld)'] = { n: test.length, hubnlu: h, nlpjs: n };
}

if (only !== 'slurp') {
  const all = readRows(join(ds, 'intent', 'snips.train.jsonl'), 'intent').rows;
  const [train, test] = stratifiedSplit(all, 0.1, 1);
  const scratch = mkdtempSync(join(tmpdir(), 'hubnlu-snips-'));
  try {
    const trainFile = join(scratch, 'snips.train90.jsonl');
    const testFile = join(scratch, 'snips.heldout10.jsonl');
    const write = (f: string, rows: readonly LabelledRow[]): void =>
      writeFileSync(f, rows.map((r) => JSON.stringify({ text: r.text, intent: r.label, slots: r.slots })).join('\n') + '\n');
    write(trainFile, train);
    write(testFile, test);
    process.stderr.write('snips: training hubnlu…\n');
    const h = await hubnlu(trainFile, testFile, null, test);
    process.stderr.write('snips: training NLP.js…\n');
    const n = await nlpjs(train, test);
    results['SNIPS held-out 10 % (train 90 %)'] = { n: test.length, hubnlu: h, nlpjs: n };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const pct = (x: number): string => `${(x * 100).toFixed(2)} %`;
const lines = [
  '| test set | n | engine | accuracy | macro-F1 | p50 ms | p99 ms | train s |',
  '|---|---|---|---|---|---|---|---|',
];
for (const [name, r] of Object.entries(results)) {
  for (const [engine, s] of [['hubnlu', r.hubnlu], ['NLP.js', r.nlpjs]] as const) {
    lines.push(`| ${name} | ${r.n} | ${engine} | ${pct(s.accuracy)} | ${s.macroF1.toFixed(4)} | ${s.latencyMs.p50.toFixed(3)} | ${s.latencyMs.p99.toFixed(3)} | ${s.trainSeconds.toFixed(1)} |`);
  }
}
process.stdout.write(`${lines.join('\n')}\n`);
const outDir = join(packageRoot(), 'bench', 'results');
mkdirSync(outDir, { recursive: true });
writeFileSync(join(outDir, 'nlpjs-compare.json'), `${JSON.stringify({ node: process.version, results }, null, 2)}\n`);
process.stdout.write(`wrote ${join(outDir, 'nlpjs-compare.json')}\n`);
