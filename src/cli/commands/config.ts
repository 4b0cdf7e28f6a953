/** `hubnlu config check` and `hubnlu config schema`. */
import type { Command } from 'commander';
import { redactConfig } from '../../config/load.js';
import { listSettings } from '../../config/schema.js';
import { configFor } from '../context.js';

export function registerConfig(program: Command): void {
  const config = program.command('config').description('inspect the configuration');
  config
    .command('check')
    .description('validate the configuration; print it (secrets redacted) or every problem, exit 2 if invalid')
    .option('--json', 'print the effective configuration as JSON')
    .action((opts: { json?: boolean }, command: Command) => {
      const { config: cfg, source } = configFor(command);
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
