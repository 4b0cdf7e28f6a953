/**
 * The learning loop's one entry point, shared by `hubnlu train
 * --with-log-labels` and the agent's nightly schedule: gather the household's
 * rows, warn about thin new intents, train a candidate (in a child process)
 * that extends the live model's public training data, compare, store it as a
 * new version, and promote it when asked and the checks pass.
 */
import { existsSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Config } from '../config/schema.js';
import type { Db } from '../store/database.js';
import { loadManifest } from '../model/manifest.js';
import { resolveFromPackage } from '../util/paths.js';
import { datasetsDir } from '../data/datasets-dir.js';
import { dataWarnings, householdData } from './household-data.js';
import { HOUSEHOLD_FILE, runRetrain, type RetrainJob, type RetrainOutcome } from './retrain.js';
import { retrainInChild } from './retrain-runner.js';
import { PointerMovedError, SHIPPED, type ModelStore, type StoredVersion } from './model-store.js';
import { liveIntentDir } from './live-model.js';
export { liveIntentDir, modelStoreFor } from './live-model.js';

/** The public set the regression check runs on when none is given (the shipped model card's dev set). */
export const DEFAULT_DEV_FILE = 'slurp.devel.jsonl';

export interface LearnOptions {
  readonly config: Config;
  readonly store: ModelStore;
  /** The log; absent: no log labels. */
  readonly db?: Db;
  /** More template directories and JSONL files (beside learning.templates / learning.data). */
  readonly templates?: readonly string[];
  readonly data?: readonly string[];
  /** `if-better`: promote when the checks pass. */
  readonly promote: 'never' | 'if-better';
  readonly seed?: number;
  /** Train in a child process (default true; false runs in this process, for tools that have nothing else to do). */
  readonly inChild?: boolean;
  readonly progress?: (line: string) => void;
  /** Public data and base model (default: what the live model's manifest names, from learning.datasets). */
  readonly baseDir?: string;
  readonly publicTrain?: readonly string[];
  readonly publicUnlabelled?: string | null;
  readonly publicDev?: readonly string[];
  readonly recipe?: RetrainJob['recipe'];
}

export interface LearnReport {
  readonly base: string;
  readonly stored: StoredVersion;
  readonly outcome: RetrainOutcome;
  readonly warnings: readonly string[];
  readonly notes: readonly string[];
  readonly sources: Readonly<Record<string, number>>;
  readonly promoted: boolean;
  /** Why a candidate that passed the checks was not promoted (the live version changed while it trained). */
  readonly notPromoted?: string;
}

export class LearningError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LearningError';
  }
}

function publicFiles(config: Config, baseDir: string): { train: string[]; unlabelled: string | null; dev: string[] } {
  let ds: string;
  try {
    // No default directory: the datasets are not part of the repository (a retrain without them fails with this
    // message; the nightly job logs it and reports `{"ok": false, "error": …}`, the live model unchanged).
    ds = datasetsDir(config.learning.datasets ? resolveFromPackage(config.learning.datasets) : undefined, { option: 'learning.datasets (HUBNLU_LEARNING_DATASETS)', needs: ['intent'] });
  } catch (err) {
    throw new LearningError(`retraining extends the public data the shipped model was trained on, and it cannot be found: ${(err as Error).message}`);
  }
  const m = loadManifest(baseDir);
  const at = (file: string): string => {
    const p = join(ds, 'intent', file);
    if (!existsSync(p)) throw new LearningError(`${p}: the base model ${m.name}@${m.version} was trained on ${file}, which is not in the datasets directory ${ds}; point learning.datasets (or HUBNLU_DATASETS) at the directory it was trained from`);
    return p;
  };
  const train = m.training.data.map((d) => d.file).filter((f) => f !== HOUSEHOLD_FILE && !f.includes('(')).map(at);
  const u = (m.training as { unlabelled?: { file?: string } | null }).unlabelled;
  const dev = join(ds, 'intent', DEFAULT_DEV_FILE);
  return { train, unlabelled: u?.file ? at(u.file) : null, dev: existsSync(dev) ? [dev] : [] };
}

export async function learn(opts: LearnOptions): Promise<LearnReport> {
  const { config, store } = opts;
  const l = config.learning;
  const seed = opts.seed ?? 1;
  const pointer = store.pointer('intent');
  const baseDir = opts.baseDir ?? liveIntentDir(config, store);
  const templates = [...(l.templates ? [resolveFromPackage(l.templates)] : []), ...(opts.templates ?? [])];
  const data = [...(l.data ? [resolveFromPackage(l.data)] : []), ...(opts.data ?? [])];
  const base = loadManifest(baseDir);
  // Only the log rows in the base model's language: a German label must neither train nor judge the English model.
  const household = householdData({ db: opts.db, language: base.language, jsonl: data, templates, areas: l.areas, holdout: l.holdout, seed });
  if (household.train.length === 0) {
    throw new LearningError(
      `no household rows to train on: label inputs (bridge \`label\` request, \`hubnlu label\`), or give --data FILE / --templates DIR (learning.data / learning.templates)${household.notes.map((n) => `; ${n}`).join('')}`,
    );
  }
  const pub = opts.publicTrain ? { train: [...opts.publicTrain], unlabelled: opts.publicUnlabelled ?? null, dev: [...(opts.publicDev ?? [])] } : publicFiles(config, baseDir);
  if (opts.publicDev) pub.dev = [...opts.publicDev];
  const warnings = dataWarnings(household.labels, base.labels, l.minExamples);
  for (const w of warnings) opts.progress?.(`warning: ${w}`);
  for (const n of household.notes) opts.progress?.(`note: ${n}`);
  const staged = store.stage('intent');
  // Claimed now (not when stored): a run alongside (the nightly retrain and a CLI retrain) gets another number, and
  // the model's manifest names the version it is stored as.
  const version = store.claim('intent');
  const job: RetrainJob = {
    baseDir,
    publicTrain: pub.train,
    publicUnlabelled: pub.unlabelled,
    publicDev: pub.dev,
    householdTrain: household.train,
    householdTest: household.heldOut,
    householdRepeat: l.householdRepeat,
    seed,
    outDir: staged,
    name: 'hubnlu-intent-household',
    version,
    maxDevDrop: l.maxDevDrop,
    recipe: opts.recipe,
  };
  let outcome: RetrainOutcome;
  try {
    outcome = opts.inChild === false ? await runRetrain(job, { start: () => undefined, epoch: () => undefined, stop: () => undefined, log: (m) => opts.progress?.(m) }) : await retrainInChild(job, opts.progress);
  } catch (err) {
    store.discard(staged, { task: 'intent', version });
    throw err;
  }
  const sources: Record<string, number> = {};
  for (const f of pub.train) sources[`public:${basename(f)}`] = loadManifest(staged).training.data.find((d) => d.file === basename(f))?.rows ?? 0;
  for (const [k, v] of Object.entries(household.sources)) sources[k] = v;
  const stored = store.add(
    'intent',
    staged,
    {
      parent: pointer.version === SHIPPED ? `${SHIPPED} (${base.name}@${base.version})` : pointer.version,
      data: { sources, householdLabels: household.labels, heldOutRows: household.heldOut.length },
      metrics: { heldOut: outcome.heldOut ? { n: outcome.heldOut.n, base: outcome.heldOut.base, candidate: outcome.heldOut.candidate, p: outcome.heldOut.comparison.mcnemar.p, significant: outcome.heldOut.comparison.bBetter } : null, dev: outcome.dev },
      checks: outcome.checks,
      trainingSeconds: Math.round(outcome.seconds),
    },
    version,
  );
  let promoted = false;
  let notPromoted: string | undefined;
  if (opts.promote === 'if-better' && outcome.checks.passed) {
    // Only over the version it was compared with: another run (or `models promote`) may have changed it meanwhile.
    // promoteAsync: the nightly retrain runs this in the agent's process (training is in a child, the promotion is
    // not), so a `hubnlu models promote` holding the pointer lock is waited for with timers, not a blocking sleep.
    try {
      await store.promoteAsync('intent', stored.version, { ifLive: pointer.version });
      promoted = true;
    } catch (err) {
      if (!(err instanceof PointerMovedError)) throw err;
      notPromoted = err.message;
      opts.progress?.(`warning: ${err.message}`);
    }
  }
  return {
    base: pointer.version,
    stored: { ...stored, current: promoted },
    outcome,
    warnings: notPromoted ? [...warnings, notPromoted] : warnings,
    notes: household.notes,
    sources,
    promoted,
    ...(notPromoted ? { notPromoted } : {}),
  };
}
