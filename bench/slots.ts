/**
 * Slot tagger benchmark: trains on hwu64 + mindmeld, reports slot F1 on
 * slurp.devel (exact match of type and normalised value, micro-averaged)
 * through onnxruntime for the fp32 and the int8 export, training time, size on
 * disk, and tagging latency (featurize + ONNX + Viterbi + marginals) p50/p99.
 *
 * The tagger is conditioned on an intent. Three conditions are reported:
 * - `predicted`: intents from a classifier trained with the shipped intent
 *   recipe on the same rows (what `hubnlu eval` sees; the headline number);
 * - `gold`: the dataset's intent (an upper bound);
 * - `none`: no intent.
 *
 *   node dist/bench/slots.js [--datasets DIR (default $HUBNLU_DATASETS)] [--seed N] [--no-classifier] [--self-train] [--out FILE]
 *
 * `--self-train` adds self-training on slurp.train.unlabelled.txt (minus dev texts).
 */
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeTokens } from '../src/model/features.js';
import { SlotTagger } from '../src/model/slot-tagger.js';
import { normalizeText, tokenize, type Token } from '../src/model/text.js';
import type { SlotResult } from '../src/model/types.js';
import { readRows } from '../src/data/rows.js';
import { FastTextScorer } from '../src/train/fasttext.js';
import { RECIPES } from '../src/train/recipes.js';
import { exportSlotTagger, goldSlots, readIntentRows, trainSlotTagger, type IntentRow } from '../src/train/tagger.js';
import { addSlotCounts, emptySlotCounts, slotPrf, type SlotCounts } from '../src/train/tagger-eval.js';
import { trainClassifier } from '../src/train/trainer.js';
import { packageRoot } from '../src/util/paths.js';
import { benchDatasets } from './datasets.js';

interface Args {
  datasets: string;
  seed: number;
  classifier: boolean;
  selfTrain: boolean;
  out: string;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = {
    datasets: '',
    seed: 1,
    classifier: true,
    selfTrain: false,
    out: join(packageRoot(), 'bench', 'results', 'slots.json'),
  };
  let datasets: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const k = argv[i];
    if (k === '--datasets') datasets = argv[++i];
    else if (k === '--seed') a.seed = Number(argv[++i]);
    else if (k === '--no-classifier') a.classifier = false;
    else if (k === '--self-train') a.selfTrain = true;
    else if (k === '--out') a.out = argv[++i];
    else throw new Error(`unknown option ${k}; use --datasets DIR, --seed N, --no-classifier, --self-train, --out FILE`);
  }
  a.datasets = benchDatasets(datasets);
  return a;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)];
}

/** Intents for the dev rows from a classifier trained with the shipped recipe on the training files. */
function predictIntents(files: readonly string[], unlabelledTexts: readonly string[], dev: readonly IntentRow[], seed: number): { intents: string[]; accuracy: number; seconds: number } {
  const t0 = performance.now();
  const r = RECIPES.intent;
  const unlabelled = unlabelledTexts.length ? { file: 'slurp.train.unlabelled.txt', texts: unlabelledTexts } : null;
  const trained = trainClassifier({
    task: 'intent',
    train: files.map((f) => readRows(f, 'intent')),
    unlabelled,
    featurizer: r.featurizer,
    fasttext: { ...r.fasttext, seed },
    selfTraining: r.selfTraining,
    minCount: r.minCount,
    maxRows: r.maxRows,
    classBalance: r.classBalance,
    tuneBiases: false,
  });
  const scorer = new FastTextScorer(trained.weights);
  const out = new Float32Array(trained.labels.length);
  let ok = 0;
  const intents = dev.map((row) => {
    const e = encodeTokens(tokenize(row.text), trained.featurizer, trained.remap);
    scorer.logits(e.rows, e.count, out);
    let best = 0;
    for (let c = 1; c < out.length; c++) if (out[c] > out[best]) best = c;
    if (trained.labels[best] === row.intent) ok++;
    return trained.labels[best];
  });
  return { intents, accuracy: ok / dev.length, seconds: (performance.now() - t0) / 1000 };
}

interface Condition {
  readonly name: string;
  readonly intentOf: (i: number) => string | null;
}

interface Scored {
  readonly f1: number;
  readonly precision: number;
  readonly recall: number;
  readonly counts: SlotCounts;
  readonly perType: Map<string, SlotCounts>;
  readonly latencies: number[];
}

async function score(tagger: SlotTagger, dev: readonly IntentRow[], tokens: readonly Token[][], cond: Condition): Promise<Scored> {
  const counts = emptySlotCounts();
  const perType = new Map<string, SlotCounts>();
  const latencies: number[] = [];
  for (let i = 0; i < dev.length; i++) {
    const t0 = performance.now();
    const pred: SlotResult[] = await tagger.tag(dev[i].text, tokens[i], cond.intentOf(i));
    latencies.push(performance.now() - t0);
    addSlotCounts(counts, goldSlots(dev[i]), pred, perType);
  }
  return { ...slotPrf(counts), counts, perType, latencies };
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const dir = join(args.datasets, 'intent');
  const trainFiles = [join(dir, 'hwu64.train.jsonl'), join(dir, 'mindmeld.train.jsonl')];
  const train = (await Promise.all(trainFiles.map(readIntentRows))).flat();
  const dev = await readIntentRows(join(dir, 'slurp.devel.jsonl'));
  const devTokens = dev.map((r) => tokenize(r.text));

  // SLURP's unlabelled training text, minus any sentence of the dev set (3 of them): the
  // intent classifier self-trains on it (its recipe); the tagger only with --self-train.
  const devTexts = new Set(dev.map((r) => normalizeText(r.text)));
  let unlabelled: string[] = [];
  try {
    unlabelled = readFileSync(join(dir, 'slurp.train.unlabelled.txt'), 'utf8')
      .split('\n')
      .filter((l) => l.trim() && !devTexts.has(normalizeText(l)));
  } catch {
    console.log('no slurp.train.unlabelled.txt: training without self-training');
  }

  console.log(
    `training the slot tagger on ${train.length} rows (hwu64 + mindmeld)${args.selfTrain ? ` + ${unlabelled.length} unlabelled sentences (self-training)` : ''}, seed ${args.seed}…`,
  );
  const weights = trainSlotTagger(train, {
    seed: args.seed,
    unlabelled: args.selfTrain ? unlabelled : undefined,
    onProgress: (p) => process.stdout.write(`  ${p.phase} epoch ${p.epoch}/${p.epochs} loss ${p.loss.toFixed(4)} (${p.seconds.toFixed(1)} s)\n`),
  });
  const trainSeconds = weights.training.seconds;

  const conditions: Condition[] = [];
  let classifier: { accuracy: number; seconds: number } | null = null;
  if (args.classifier) {
    console.log('training an intent classifier with the shipped recipe on the same rows (for predicted intents)…');
    const p = predictIntents(trainFiles, unlabelled, dev, args.seed);
    classifier = { accuracy: p.accuracy, seconds: p.seconds };
    conditions.push({ name: 'predicted', intentOf: (i) => p.intents[i] });
  }
  conditions.push({ name: 'gold', intentOf: (i) => dev[i].intent }, { name: 'none', intentOf: () => null });

  const work = mkdtempSync(join(tmpdir(), 'hubnlu-bench-slots-'));
  const results: Record<string, Record<string, Scored>> = {};
  const sizes: Record<string, { model: number; remap: number; transitions: number; total: number }> = {};
  try {
    for (const precision of ['fp32', 'int8'] as const) {
      const out = join(work, precision);
      const { section, bytes } = await exportSlotTagger(weights, out, { precision });
      sizes[precision] = bytes;
      const tagger = await SlotTagger.load(out, { slots: section });
      try {
        // Warm-up: onnxruntime allocates on the first runs.
        for (let i = 0; i < Math.min(50, dev.length); i++) await tagger.tag(dev[i].text, devTokens[i], dev[i].intent);
        results[precision] = {};
        for (const c of conditions) results[precision][c.name] = await score(tagger, dev, devTokens, c);
      } finally {
        await tagger.dispose();
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  // Featurization alone (tokens → rows), the part the tagger adds to the shared tokenisation.
  const featLat: number[] = [];
  const tokLat: number[] = [];
  {
    const { slotFeatureIds } = await import('../src/model/slot-features.js');
    for (let rep = 0; rep < 3; rep++) {
      for (let i = 0; i < dev.length; i++) {
        const t0 = performance.now();
        const toks = tokenize(dev[i].text);
        const t1 = performance.now();
        slotFeatureIds(toks, dev[i].intent, weights.featurizer, weights.classes);
        const t2 = performance.now();
        if (rep > 0) {
          tokLat.push(t1 - t0);
          featLat.push(t2 - t1);
        }
      }
    }
  }
  featLat.sort((a, b) => a - b);
  tokLat.sort((a, b) => a - b);

  const head = conditions[0].name;
  const pct = (x: number): string => (100 * x).toFixed(2);
  const lat = (xs: number[]): { p50: number; p99: number } => {
    const s = [...xs].sort((a, b) => a - b);
    return { p50: quantile(s, 0.5), p99: quantile(s, 0.99) };
  };
  const mb = (b: number): string => (b / 1e6).toFixed(2);

  console.log('');
  console.log(`slot F1 on slurp.devel (${dev.length} rows, ${results.int8[head].counts.gold} gold slots), tagger trained on hwu64 + mindmeld`);
  console.log('| intent given | fp32 F1 | int8 F1 | int8 P | int8 R |');
  console.log('|---|---:|---:|---:|---:|');
  for (const c of conditions) {
    const f = results.fp32[c.name];
    const q = results.int8[c.name];
    console.log(`| ${c.name}${c.name === 'predicted' && classifier ? ` (classifier acc ${pct(classifier.accuracy)}%)` : ''} | ${pct(f.f1)} | ${pct(q.f1)} | ${pct(q.precision)} | ${pct(q.recall)} |`);
  }
  const l8 = lat(results.int8[head].latencies);
  const l32 = lat(results.fp32[head].latencies);
  console.log('');
  console.log('| measure | value |');
  console.log('|---|---:|');
  console.log(`| training time (${weights.training.epochs} epochs, ${weights.training.tokens} tokens) | ${trainSeconds.toFixed(1)} s |`);
  console.log(`| model rows (pruned: ${weights.training.bucketsSeen} buckets seen, ${weights.kept.length} kept) | ${weights.kept.length + 1} × ${weights.dim} |`);
  console.log(`| size int8 (slots.onnx + remap + transitions) | ${mb(sizes.int8.total)} MB (${mb(sizes.int8.model)} + ${mb(sizes.int8.remap)} + ${mb(sizes.int8.transitions)}) |`);
  console.log(`| size fp32 | ${mb(sizes.fp32.total)} MB |`);
  console.log(`| tag() latency int8 p50 / p99 | ${l8.p50.toFixed(3)} / ${l8.p99.toFixed(3)} ms |`);
  console.log(`| tag() latency fp32 p50 / p99 | ${l32.p50.toFixed(3)} / ${l32.p99.toFixed(3)} ms |`);
  console.log(`| featurize only p50 / p99 | ${quantile(featLat, 0.5).toFixed(4)} / ${quantile(featLat, 0.99).toFixed(4)} ms |`);
  console.log(`| tokenize (shared) p50 / p99 | ${quantile(tokLat, 0.5).toFixed(4)} / ${quantile(tokLat, 0.99).toFixed(4)} ms |`);

  const perType = [...results.int8[head].perType.entries()].sort((a, b) => b[1].gold - a[1].gold);
  console.log('');
  console.log(`per type (int8, ${head} intent), types with ≥ 5 gold slots:`);
  console.log('| type | gold | pred | P | R | F1 |');
  console.log('|---|---:|---:|---:|---:|---:|');
  for (const [t, c] of perType) {
    if (c.gold < 5) continue;
    const p = slotPrf(c);
    console.log(`| ${t} | ${c.gold} | ${c.pred} | ${pct(p.precision)} | ${pct(p.recall)} | ${pct(p.f1)} |`);
  }

  const json = {
    bench: 'slots',
    date: new Date().toISOString(),
    node: process.version,
    train: { files: trainFiles.map((f) => f.split('/').pop()), rows: train.length, ...weights.training },
    dev: { file: 'slurp.devel.jsonl', rows: dev.length, goldSlots: results.int8[head].counts.gold },
    classifier,
    slot_f1: Object.fromEntries(
      conditions.map((c) => [c.name, { fp32: results.fp32[c.name].f1, int8: results.int8[c.name].f1, int8_precision: results.int8[c.name].precision, int8_recall: results.int8[c.name].recall }]),
    ),
    headline: { intent: head, fp32_slot_f1: results.fp32[head].f1, int8_slot_f1: results.int8[head].f1 },
    size_bytes: sizes,
    model: { rows: weights.kept.length + 1, dim: weights.dim, tags: weights.tags.length, types: weights.types.length, featurizer: weights.featurizer },
    latency_ms: {
      tag_int8: l8,
      tag_fp32: l32,
      featurize: { p50: quantile(featLat, 0.5), p99: quantile(featLat, 0.99) },
      tokenize: { p50: quantile(tokLat, 0.5), p99: quantile(tokLat, 0.99) },
    },
    per_type_int8: Object.fromEntries(perType.map(([t, c]) => [t, { ...c, ...slotPrf(c) }])),
  };
  mkdirSync(dirname(args.out), { recursive: true });
  writeFileSync(args.out, JSON.stringify(json, null, 2) + '\n');
  console.log(`\nwrote ${args.out}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
