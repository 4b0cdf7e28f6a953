/**
 * `hubnlu models list|promote <version>|rollback`: the household's model
 * versions in learning.modelsDir. Promote and rollback move the `current.json`
 * pointer atomically; a running agent (learning.watchModels) sees it within a
 * second and hot-swaps the intent model.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Config } from '../../config/schema.js';
import { ModelStoreError, NothingToRollBackError, SHIPPED, type ModelStore, type StoredVersion } from '../../learn/model-store.js';
import { modelStoreFor } from '../../learn/live-model.js';
import { ModelRegistry } from '../../model/registry.js';
import { backendSettings, configFor } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

const pct = (x: unknown): string => (typeof x === 'number' ? `${(x * 100).toFixed(1)} %` : '-');

function summary(v: StoredVersion): string {
  const m = v.metrics as { heldOut?: { n: number; base: number; candidate: number; p: number; significant: boolean } | null; dev?: Record<string, { base: number; candidate: number }> };
  const src = Object.entries(v.data.sources).map(([k, n]) => `${k} ${n}`).join(', ');
  const labels = Object.entries(v.data.householdLabels).map(([k, n]) => `${k} ${n}`).join(', ');
  const h = m.heldOut ? `held-out household ${m.heldOut.n} rows: ${pct(m.heldOut.base)} → ${pct(m.heldOut.candidate)} (p = ${m.heldOut.p.toPrecision(3)}${m.heldOut.significant ? ', significant' : ''})` : 'no held-out household rows';
  const dev = Object.entries(m.dev ?? {}).map(([f, d]) => `${f}: ${pct(d.base)} → ${pct(d.candidate)}`).join('; ');
  return [
    `${v.current ? '*' : ' '} ${v.version}  created ${v.createdAt}  parent ${v.parent}  trained in ${v.trainingSeconds} s`,
    `    data: ${src}`,
    `    household labels: ${labels || 'none'}`,
    `    ${h}${dev ? `; ${dev}` : ''}`,
    `    checks: ${v.checks.passed ? 'passed' : `failed (${v.checks.reasons.join('; ')})`}`,
  ].join('\n');
}

function storeErrors<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    // Nothing to roll back is nothing to work on (exit 3, as an empty query), not a usage error.
    if (err instanceof NothingToRollBackError) throw new CliError(err.message, EXIT.empty);
    if (err instanceof ModelStoreError) throw new CliError(err.message, EXIT.usage);
    throw err;
  }
}

/**
 * Loads a stored version as the agent would (manifest, files, ONNX sessions, one analysis) before the pointer names
 * it: a version that does not load would otherwise be skipped by the running agent's hot swap (the old model stays)
 * and then stop the agent at its next start. `live` is what stays live when it does not load.
 */
async function checkLoads(config: Config, store: ModelStore, version: string, live: string, fix: string): Promise<void> {
  let registry: ModelRegistry | undefined;
  try {
    registry = await ModelRegistry.load({ intentDir: join(store.taskDir('intent'), version), sentimentDir: null, backendSettings: backendSettings(config) });
    await registry.analyze('turn on the lights', ['intent']);
  } catch (err) {
    throw new CliError(`${version} does not load: ${(err as Error).message}\nthe live intent model is still ${live}; ${fix}`, EXIT.failure);
  } finally {
    await registry?.close();
  }
}

export function registerModels(program: Command): void {
  const models = program.command('models').description('the household\'s retrained intent models: list, promote, roll back (learning.modelsDir)');
  models
    .command('list')
    .description('every stored version: created, parent, training data, base vs candidate, checks (* = live)')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }, command: Command) => {
      const store = modelStoreFor(configFor(command).config);
      const list = storeErrors(() => store.list('intent'));
      const pointer = storeErrors(() => store.pointer('intent'));
      if (opts.json) process.stdout.write(`${JSON.stringify({ live: pointer.version, history: pointer.history, versions: list })}\n`);
      else {
        const lines = [`live: ${pointer.version}${pointer.version === SHIPPED ? ' (the package\'s models/intent)' : ''}   store: ${store.taskDir('intent')}`];
        if (list.length === 0) lines.push('no household versions yet: `hubnlu train --with-log-labels` makes one');
        for (const v of list) lines.push(summary(v));
        process.stdout.write(`${lines.join('\n')}\n`);
      }
      // A live version deleted by hand: the agent would not start with it (currentDir's error says how to move on).
      try {
        store.currentDir('intent');
      } catch (err) {
        if (!(err instanceof ModelStoreError)) throw err;
        throw new CliError(err.message, EXIT.failure);
      }
    });
  models
    .command('promote <version>')
    .description(`make a stored version (or "${SHIPPED}") the live intent model; a running agent hot-swaps to it`)
    .action(async (version: string, _opts: unknown, command: Command) => {
      const config = configFor(command).config;
      const store = modelStoreFor(config);
      const live = storeErrors(() => store.pointer('intent')).version;
      // An unknown version is the store's error (exit 2, with the versions there are); a stored one must load.
      if (version !== SHIPPED && version !== live && store.versions('intent').includes(version)) {
        await checkLoads(config, store, version, live, 'retrain with `hubnlu train --with-log-labels`, or promote another version (`hubnlu models list`)');
      }
      if (version === live) {
        process.stdout.write(`live intent model: ${live} (already live; nothing changed)\n`);
        return;
      }
      const p = storeErrors(() => store.promote('intent', version));
      process.stdout.write(`live intent model: ${p.version} (before: ${live})\n`);
    });
  models
    .command('rollback')
    .description('go back to the version live before the current one (the shipped model at the end)')
    .action(async (_opts: unknown, command: Command) => {
      const config = configFor(command).config;
      const store = modelStoreFor(config);
      const before = storeErrors(() => store.pointer('intent'));
      const target = before.history[before.history.length - 1];
      if (target !== undefined && target !== SHIPPED) {
        await checkLoads(config, store, target, before.version, `\`hubnlu models promote ${SHIPPED}\` (or another version, \`hubnlu models list\`) to move on`);
      }
      const p = storeErrors(() => store.rollback('intent'));
      process.stdout.write(`live intent model: ${p.version} (before: ${before.version})\n`);
    });
}
