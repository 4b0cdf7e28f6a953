#!/usr/bin/env node
/**
 * The `hubnlu` command. Each subcommand lives in `commands/`; this file only
 * wires them and maps failures to exit codes:
 *   0 ok · 1 runtime failure · 2 invalid configuration or usage · 3 not found / nothing to show
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/paths.js';
import { registerRun } from './commands/run.js';
import { registerClassify } from './commands/classify.js';
import { registerConfig } from './commands/config.js';
import { registerLogs } from './commands/logs.js';
import { registerStats } from './commands/stats.js';
import { registerTrain } from './commands/train.js';
import { registerEval } from './commands/eval.js';
import { registerCompress } from './commands/compress.js';
import { registerLabel } from './commands/label.js';
import { registerReview } from './commands/review.js';
import { registerExport } from './commands/export.js';
import { registerReport } from './commands/report.js';
import { registerModels } from './commands/models.js';
import { EXIT } from './exit-codes.js';

export function buildProgram(): Command {
  const program = new Command('hubnlu')
    .description('On-device language understanding for smart-home hubs: MQTT in, local models, MQTT out, logged to SQLite.')
    .version(packageVersion())
    .option('-c, --config <file>', 'YAML config file (else $HUBNLU_CONFIG, else config/hubnlu.yaml, else built-in defaults)')
    .showHelpAfterError()
    .exitOverride();
  registerRun(program);
  registerClassify(program);
  registerLogs(program);
  registerStats(program);
  registerConfig(program);
  registerTrain(program);
  registerEval(program);
  registerCompress(program);
  registerLabel(program);
  registerReview(program);
  registerExport(program);
  registerReport(program);
  registerModels(program);
  return program;
}

/**
 * `hubnlu logs --json | head`: when the reader of stdout goes away, stop
 * quietly with 0, as Unix tools do, instead of dying on an unhandled EPIPE.
 */
function exitQuietlyOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(EXIT.ok);
    throw err;
  });
}

async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end here with code 0; usage mistakes with 2.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.stderr.write(`hubnlu: ${(err as Error).message}\n`);
    process.exitCode = (err as { exitCode?: number }).exitCode ?? EXIT.failure;
  }
}

await main(process.argv);
