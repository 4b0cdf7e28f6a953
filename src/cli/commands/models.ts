/**
 * `hubnlu models list|promote <version>|rollback`: the household's model
 * versions in learning.modelsDir. Promote and rollback move the `current.json`
 * pointer atomically; a running agent (learning.watchModels) sees it within a
 * second and hot-swaps the intent model.
 */
import type { Command } from 'commander';
import { ModelStoreError, SHIPPED, type StoredVersion } from '../../learn/model-store.js';
import { modelStoreFor } from '../../learn/live-model.js';
import { configFor } from '../context.js';
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
    if (err instanceof ModelStoreError) throw new CliError(err.message, EXIT.usage);
    throw err;
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
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ live: pointer.version, history: pointer.history, versions: list })}\n`);
        return;
      }
      const lines = [`live: ${pointer.version}${pointer.version === SHIPPED ? ' (the package\'s models/intent)' : ''}   store: ${store.taskDir('intent')}`];
      if (list.length === 0) lines.push('no household versions yet: `hubnlu train --with-log-labels` makes one');
      for (const v of list) lines.push(summary(v));
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  models
    .command('promote <version>')
    .description(`make a stored version (or "${SHIPPED}") the live intent model; a running agent hot-swaps to it`)
    .action((version: string, _opts: unknown, command: Command) => {
      const store = modelStoreFor(configFor(command).config);
      const p = storeErrors(() => store.promote('intent', version));
      process.stdout.write(`live intent model: ${p.version} (before: ${p.history[p.history.length - 1] ?? SHIPPED})\n`);
    });
  models
    .command('rollback')
    .description('go back to the version live before the current one (the shipped model at the end)')
    .action((_opts: unknown, command: Command) => {
      const store = modelStoreFor(configFor(command).config);
      const p = storeErrors(() => store.rollback('intent'));
      process.stdout.write(`live intent model: ${p.version}\n`);
    });
}
