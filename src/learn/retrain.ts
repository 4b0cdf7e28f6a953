/**
 * One retraining run, as a function of plain data (so it can run in a child
 * process, see retrain-runner.ts): train a candidate on the public data the
 * base model was trained on plus the household's rows (repeated
 * `householdRepeat` times), then score base and candidate on
 *
 *  - the household's held-out labels (real traffic; McNemar via
 *    src/eval/compare.ts), and
 *  - the public dev set (nothing regressed: at most `maxDevDrop` points lower),
 *
 * and decide whether the candidate may be promoted. The candidate is written
 * to `outDir` (a staging directory of the model store); the caller stores it.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { comparePredictions, type Comparison } from '../eval/compare.js';
import { evaluate, type EvalReport } from '../eval/evaluate.js';
import { readRows, type LabelledRow } from '../data/rows.js';
import { loadManifest } from '../model/manifest.js';
import { ModelRegistry } from '../model/registry.js';
import { trainModel } from '../train/pipeline.js';
import { RECIPES, type Recipe } from '../train/recipes.js';
import { silentProgress, type ProgressReporter } from '../train/progress.js';

/** The file name household rows are written under for training (its rows are counted in the manifest under it). */
export const HOUSEHOLD_FILE = 'household.jsonl';

export interface RetrainJob {
  /** The live model the candidate must beat. */
  readonly baseDir: string;
  /** Public training files (what the base model was trained on). */
  readonly publicTrain: readonly string[];
  /** Unlabelled in-domain text for self-training, as the base recipe used (null: none). */
  readonly publicUnlabelled: string | null;
  /** Public dev sets the candidate must not regress on. */
  readonly publicDev: readonly string[];
  readonly householdTrain: readonly LabelledRow[];
  readonly householdTest: readonly LabelledRow[];
  readonly householdRepeat: number;
  readonly seed: number;
  /** Where the candidate model directory goes (empty or absent). */
  readonly outDir: string;
  readonly name: string;
  readonly version: string;
  /** Largest allowed drop (percentage points) on each public dev set. */
  readonly maxDevDrop: number;
  /** Significance level for McNemar's test. */
  readonly alpha?: number;
  /** Recipe changes (smaller runs in tests); default the shipped intent recipe. */
  readonly recipe?: Partial<Pick<Recipe, 'maxRows'>> & { readonly epochs?: number; readonly selfTrainRounds?: number; readonly slots?: boolean };
}

export interface ScorePair {
  readonly n: number;
  readonly base: number;
  readonly candidate: number;
}

export interface RetrainOutcome {
  readonly dir: string;
  readonly seconds: number;
  /** Base vs candidate on the household's held-out labels (null when none are held out). */
  readonly heldOut: (ScorePair & { readonly comparison: Omit<Comparison, 'differences'> & { readonly differences: Comparison['differences'] } }) | null;
  /** Base vs candidate on each public dev set (accuracy), with the drop in points. */
  readonly dev: Readonly<Record<string, ScorePair & { readonly drop: number }>>;
  readonly checks: { readonly passed: boolean; readonly reasons: readonly string[] };
}

async function score(dir: string, rows: readonly LabelledRow[], file: string): Promise<EvalReport> {
  const reg = await ModelRegistry.load({ intentDir: dir, sentimentDir: null });
  try {
    return await evaluate(reg, 'intent', rows, { file, keepPredictions: true, warmup: 0 });
  } finally {
    await reg.close();
  }
}

export async function runRetrain(job: RetrainJob, progress: ProgressReporter = silentProgress): Promise<RetrainOutcome> {
  const t0 = performance.now();
  const base = loadManifest(job.baseDir);
  const scratch = mkdtempSync(join(tmpdir(), 'hubnlu-retrain-'));
  try {
    const householdFile = join(scratch, HOUSEHOLD_FILE);
    const lines: string[] = [];
    for (let k = 0; k < job.householdRepeat; k++) {
      for (const r of job.householdTrain) lines.push(JSON.stringify({ text: r.text, intent: r.label, slots: r.slots, source: r.source }));
    }
    writeFileSync(householdFile, lines.length ? `${lines.join('\n')}\n` : '');
    const recipe = RECIPES.intent;
    progress.log(`training the candidate: ${job.publicTrain.map((f) => basename(f)).join(' + ')} + ${job.householdTrain.length} household rows × ${job.householdRepeat}`);
    await trainModel({
      task: 'intent',
      trainFiles: job.householdTrain.length ? [...job.publicTrain, householdFile] : [...job.publicTrain],
      unlabelledFile: job.publicUnlabelled,
      out: job.outDir,
      force: true,
      name: job.name,
      version: job.version,
      seed: job.seed,
      epochs: job.recipe?.epochs,
      maxRows: job.recipe?.maxRows,
      selfTrainRounds: job.recipe?.selfTrainRounds,
      slots: job.recipe?.slots,
      // The base model's calibration and threshold: same recipe, and there is no held-out public data left to fit them on.
      calibration: { temperature: base.calibration.temperature, eceBefore: base.calibration.eceBefore, eceAfter: base.calibration.eceAfter, fitOn: `inherited from ${base.name}@${base.version} (${base.calibration.fitOn})` },
      threshold: base.calibration.threshold,
      recipe,
      evaluateDev: false,
      progress,
    });

    const reasons: string[] = [];
    const alpha = job.alpha ?? 0.05;
    let heldOut: RetrainOutcome['heldOut'] = null;
    if (job.householdTest.length > 0) {
      progress.log(`comparing base and candidate on ${job.householdTest.length} held-out household labels`);
      const a = await score(job.baseDir, job.householdTest, 'household held-out');
      const b = await score(job.outDir, job.householdTest, 'household held-out');
      const c = comparePredictions(a.predictions!, b.predictions!, alpha);
      heldOut = { n: c.n, base: c.accuracyA, candidate: c.accuracyB, comparison: { ...c, differences: c.differences.slice(0, 50) } };
      if (!c.bBetter) {
        reasons.push(
          c.accuracyB > c.accuracyA
            ? `held-out household labels: ${pct(c.accuracyA)} → ${pct(c.accuracyB)} %, not significant (McNemar p = ${c.mcnemar.p.toPrecision(3)} ≥ ${alpha})`
            : `held-out household labels: ${pct(c.accuracyA)} → ${pct(c.accuracyB)} %, the candidate is not better`,
        );
      }
    } else {
      reasons.push('no held-out household labels: label inputs (bridge `label` request or `hubnlu label`) so the candidate can be compared');
    }
    const dev: Record<string, ScorePair & { drop: number }> = {};
    for (const f of job.publicDev) {
      const rows = readRows(f, 'intent').rows;
      progress.log(`regression check on ${basename(f)} (${rows.length} rows)`);
      const a = await score(job.baseDir, rows, basename(f));
      const b = await score(job.outDir, rows, basename(f));
      const drop = (a.accuracy - b.accuracy) * 100;
      dev[basename(f)] = { n: rows.length, base: a.accuracy, candidate: b.accuracy, drop };
      if (drop > job.maxDevDrop) reasons.push(`${basename(f)}: ${pct(a.accuracy)} → ${pct(b.accuracy)} %, a drop of ${drop.toFixed(2)} points (more than ${job.maxDevDrop})`);
    }
    return { dir: job.outDir, seconds: (performance.now() - t0) / 1000, heldOut, dev, checks: { passed: reasons.length === 0, reasons } };
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
}

const pct = (x: number): string => (x * 100).toFixed(1);

/** The base-vs-candidate table `hubnlu train --with-log-labels` prints. */
export function formatOutcome(o: RetrainOutcome): string {
  const lines: string[] = [];
  lines.push(`candidate trained in ${o.seconds.toFixed(0)} s`);
  lines.push('');
  lines.push('  set                         rows    base  candidate');
  if (o.heldOut) {
    lines.push(`  household held-out         ${String(o.heldOut.n).padStart(5)}  ${pct(o.heldOut.base).padStart(5)} %  ${pct(o.heldOut.candidate).padStart(6)} %`);
  }
  for (const [f, d] of Object.entries(o.dev)) lines.push(`  ${f.padEnd(26)} ${String(d.n).padStart(5)}  ${pct(d.base).padStart(5)} %  ${pct(d.candidate).padStart(6)} %`);
  if (o.heldOut) {
    const m = o.heldOut.comparison.mcnemar;
    lines.push('');
    lines.push(`  McNemar (${m.method}): candidate right where base wrong ${m.onlyB}, base right where candidate wrong ${m.onlyA}, p = ${m.p.toPrecision(3)}${o.heldOut.comparison.bBetter ? ' — significantly better' : ''}`);
    const diffs = o.heldOut.comparison.differences.slice(0, 8);
    for (const d of diffs) lines.push(`    ${d.right === 'b' ? 'fixed ' : d.right === 'a' ? 'broken' : 'other '} "${d.text}": ${d.a} → ${d.b} (gold ${d.gold})`);
  }
  lines.push('');
  lines.push(o.checks.passed ? 'checks passed: the candidate may be promoted' : `checks failed:\n${o.checks.reasons.map((r) => `  - ${r}`).join('\n')}`);
  return lines.join('\n');
}
