/**
 * Two builds of the model layer side by side in one process: the CPU time of the whole pipeline per utterance
 * (process user + system), one at a time and through `analyzeMany` in batches of 8 and 32, the two builds'
 * rounds interleaved so that other processes on the machine weigh on both alike. Medians (and minima) of the rounds.
 *
 *   # OLD: the old commit compiled inside this checkout, so that its imports find node_modules (dist/ is ignored):
 *   git checkout <commit> -- src && npx tsc -p tsconfig.json --outDir old/dist; git checkout HEAD -- src
 *   npm run build && flock /tmp/hubnlu-bench.lock node dist/bench/models-ab.js old/dist dist [--router] [--rounds 5]
 *
 * `--router`: the language router as the default config builds it (every shipped language, detection on) instead
 * of the English registry. Texts: slurp.devel + meld.dev (as bench/models).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { benchDatasets } from './datasets.js';
import type { Analyzer } from '../src/model/types.js';
import type { RouterOptions } from '../src/model/language-router.js';
import { packageRoot } from '../src/util/paths.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const dists = process.argv.slice(2).filter((a, i, all) => !a.startsWith('--') && !(i > 0 && all[i - 1] === '--rounds')).slice(0, 2);
if (dists.length !== 2) {
  process.stderr.write('usage: node dist/bench/models-ab.js OLD_DIST NEW_DIST [--router] [--rounds 5]\n');
  process.exit(2);
}
const ROUNDS = Number(arg('--rounds') ?? 5);
const router = process.argv.includes('--router');
const ds = benchDatasets(undefined); // $HUBNLU_DATASETS
const jl = (f: string): string[] =>
  readFileSync(join(ds, f), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => (JSON.parse(l) as { text: string }).text);
const texts = [...jl('intent/slurp.devel.jsonl'), ...jl('sentiment/meld.dev.jsonl')];

type Closable = Analyzer & { close(): Promise<void> };

/** The router options the default config gives, with every model directory taken from this package. */
function routerOptions(): RouterOptions {
  const m = join(packageRoot(), 'models');
  const languages: Record<string, { intent: string; sentiment: string }> = { en: { intent: join(m, 'intent'), sentiment: join(m, 'sentiment') } };
  for (const l of ['de', 'es', 'fr', 'zh-cn']) languages[l] = { intent: join(m, l, 'intent'), sentiment: join(m, l, 'sentiment') };
  return { languages, defaultLanguage: 'en', langidDir: join(m, 'langid'), lazy: true };
}

async function load(dist: string): Promise<Closable> {
  const base = pathToFileURL(resolve(dist)).href;
  if (router) {
    const { LanguageRouter } = (await import(`${base}/src/model/language-router.js`)) as typeof import('../src/model/language-router.js');
    const r = await LanguageRouter.load(routerOptions());
    await r.warmUp();
    return r;
  }
  const { ModelRegistry } = (await import(`${base}/src/model/registry.js`)) as typeof import('../src/model/registry.js');
  return ModelRegistry.load({ intentDir: join(packageRoot(), 'models', 'intent'), sentimentDir: join(packageRoot(), 'models', 'sentiment') });
}

/** CPU µs per utterance over all texts, `batch` a call (1: `analyze`). */
async function run(models: Closable, batch: number): Promise<number> {
  const c0 = process.cpuUsage();
  let n = 0;
  if (batch === 1) {
    for (const text of texts) {
      await models.analyze(text, ['intent', 'sentiment']);
      n++;
    }
  } else {
    for (let i = 0; i + batch <= texts.length; i += batch) {
      await models.analyzeMany!(texts.slice(i, i + batch).map((text) => ({ text, tasks: ['intent', 'sentiment'] as const })));
      n += batch;
    }
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const MODES = [1, 8, 32];
const loaded = [await load(dists[0]), await load(dists[1])];
for (const m of loaded) for (const b of MODES) await run(m, b); // warm-up
const cpu = loaded.map(() => new Map<number, number[]>(MODES.map((b) => [b, []])));
const load0 = loadavg()[0];
for (let r = 0; r < ROUNDS; r++) {
  for (const b of MODES) {
    // Alternate which build goes first.
    for (const k of r % 2 === 0 ? [0, 1] : [1, 0]) cpu[k].get(b)!.push(await run(loaded[k], b));
  }
}
for (const m of loaded) await m.close();
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1];
process.stdout.write(
  `models A/B (${router ? 'language router, detection on' : 'English registry'}), ${texts.length} texts, ${ROUNDS} rounds interleaved; 1-min load average ${load0.toFixed(2)} → ${loadavg()[0].toFixed(2)}\n` +
    `A = ${dists[0]}, B = ${dists[1]}; CPU µs per utterance, median (min)\n` +
    MODES.map((b) => {
      const [a, bb] = [cpu[0].get(b)!, cpu[1].get(b)!];
      const ratio = median(bb) / median(a);
      return `${b === 1 ? 'one at a time' : `batches of ${b}`}`.padEnd(16) + `A ${median(a).toFixed(1)} (${Math.min(...a).toFixed(1)})  B ${median(bb).toFixed(1)} (${Math.min(...bb).toFixed(1)})  B/A ${ratio.toFixed(2)}\n`;
    }).join(''),
);
