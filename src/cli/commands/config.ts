/** `hubnlu config check` and `hubnlu config schema`. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, redactConfig } from '../../config/load.js';
import { listSettings, type Config } from '../../config/schema.js';
import { isHfLayout } from '../../model/hf-layout.js';
import { resolveFromPackage } from '../../util/paths.js';
import { configFor } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';

/**
 * The model directories the agent would load at start, checked as it resolves them (relative paths against the
 * working directory, else the package): a missing one is a problem of its setting here rather than a failed start.
 * Hugging Face hub names (`hf:owner/name`) are left to the start, which downloads them only when allowed.
 */
export function modelDirProblems(config: Config): string[] {
  const m = config.models;
  const settings: Array<[string, string | undefined]> = [
    ['models.intent', m.intent],
    ['models.sentiment', m.sentiment],
    ...(m.detectLanguage ? ([['models.langid', m.langid]] as Array<[string, string]>) : []),
    ['models.shadow.intent', m.shadow?.intent],
    ['models.shadow.sentiment', m.shadow?.sentiment],
    ...Object.entries(m.languages ?? {}).flatMap(([lang, d]): Array<[string, string | undefined]> => [
      [`models.languages.${lang}.intent`, d.intent],
      [`models.languages.${lang}.sentiment`, d.sentiment],
    ]),
  ];
  const problems: string[] = [];
  for (const [setting, value] of settings) {
    if (value === undefined || isHfLayout(value)) continue;
    const dir = resolveFromPackage(value);
    const fix = 'set it to a directory holding manifest.json or a Hugging Face ONNX export, or train one with `hubnlu train`';
    if (!existsSync(dir)) problems.push(`${setting}: no model directory at ${dir} (${fix})`);
    else if (!existsSync(join(dir, 'manifest.json'))) problems.push(`${setting}: ${dir} holds no manifest.json and is no Hugging Face export (${fix})`);
  }
  return problems;
}

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the configuration; print it (secrets redacted) or every problem, exit 2 if invalid')
    .option('--json', 'print the effective configuration as JSON')
    .action((opts: { json?: boolean }, command: Command) => {
      const { config: cfg, source } = configFor(command);
      const problems = modelDirProblems(cfg);
      if (problems.length > 0) throw new CliError(new ConfigError(problems, source).message, EXIT.usage);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ ok: true, source, config: redactConfig(cfg) }, null, 2) + '\n');
        return;
      }
      process.stdout.write(`configuration ok (${source})\n`);
      process.stdout.write(`  broker:   ${cfg.mqtt.url ? redactConfig(cfg).mqtt.url : `embedded on ${cfg.mqtt.embedded.host}:${cfg.mqtt.embedded.port}`}\n`);
      process.stdout.write(`  topics:   ${cfg.input.topics.map((t) => t.topic).join(', ')}\n`);
      process.stdout.write(`  models:   intent=${cfg.models.intent} sentiment=${cfg.models.sentiment} (unknown below ${cfg.models.unknownThreshold ?? "the model's own threshold"})\n`);
      process.stdout.write(`  database: ${cfg.storage.path}\n`);
    });
  config
    .command('schema')
    .description('list every setting with its environment variable, type and default')
    .option('--json', 'print as JSON')
    .action((opts: { json?: boolean }) => {
      const settings = listSettings().map(({ path, env, type, default: def, description }) => ({ path, env, type, default: def, description }));
      if (opts.json) {
        process.stdout.write(JSON.stringify(settings, null, 2) + '\n');
        return;
      }
      for (const s of settings) {
        process.stdout.write(`${s.path}  (${s.env}; ${s.type}; default ${JSON.stringify(s.default) ?? 'none'})\n    ${s.description}\n`);
      }
    });
}
