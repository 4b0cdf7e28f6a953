#!/usr/bin/env node
/**
 * The `hubnlu` command. Each subcommand lives in `commands/`; this file only
 * wires them and maps failures to exit codes:
 *   0 ok · 1 runtime failure · 2 invalid configuration or usage · 3 not found / nothing to show ·
 *   78 a problem a restart cannot fix (exit-codes.ts)
 */
import { Command, CommanderError } from 'commander';
import { packageVersion } from '../util/paths.js';
import { EXIT } from './exit-codes.js';

type Register = (program: Command) => void;

/**
 * Each command module with the subcommands it registers, in help order. Loaded on demand: `hubnlu run` (a
 * service's cold start, issue 10) then does not compile the trainers, compressors and report writers the other
 * commands pull in.
 */
const COMMANDS: ReadonlyArray<readonly [readonly string[], () => Promise<Register>]> = [
  [['run'], async () => (await import('./commands/run.js')).registerRun],
  [['classify'], async () => (await import('./commands/classify.js')).registerClassify],
  [['logs'], async () => (await import('./commands/logs.js')).registerLogs],
  [['stats'], async () => (await import('./commands/stats.js')).registerStats],
  [['config'], async () => (await import('./commands/config.js')).registerConfig],
  [['train', 'train-defaults'], async () => (await import('./commands/train.js')).registerTrain],
  [['eval'], async () => (await import('./commands/eval.js')).registerEval],
  [['quantize', 'prune'], async () => (await import('./commands/compress.js')).registerCompress],
  [['label'], async () => (await import('./commands/label.js')).registerLabel],
  [['review'], async () => (await import('./commands/review.js')).registerReview],
  [['export'], async () => (await import('./commands/export.js')).registerExport],
  [['report'], async () => (await import('./commands/report.js')).registerReport],
  [['models'], async () => (await import('./commands/models.js')).registerModels],
  [['outbox'], async () => (await import('./commands/outbox.js')).registerOutbox],
];

/**
 * The module of the subcommand `argv` names, if it names one: the first argument that is not an option or the
 * value of `-c`/`--config`. Anything else (help, a typo, no command) gets every command, as before.
 */
function namedModule(argv: readonly string[]): (typeof COMMANDS)[number] | undefined {
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i];
    if (a === '-c' || a === '--config') i++;
    else if (!a.startsWith('-')) return COMMANDS.find(([names]) => names.includes(a));
  }
  return undefined;
}

/** The program with the subcommand `argv` names registered, or all of them when it names none. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const program = new Command('hubnlu')
    .description('On-device language understanding for smart-home hubs: MQTT in, local models, MQTT out, logged to SQLite.')
    .version(packageVersion())
    .option('-c, --config <file>', 'YAML config file (else $HUBNLU_CONFIG, else config/hubnlu.yaml, else built-in defaults)')
    .showHelpAfterError()
    .addHelpText(
      'after',
      `
Exit codes: ${EXIT.ok} ok · ${EXIT.failure} runtime failure · ${EXIT.usage} invalid configuration or usage · ${EXIT.empty} nothing matched or nothing
to work on · ${EXIT.needsAttention} a problem a restart cannot fix (refused credentials, a database hubnlu may not write, …).
Every setting: hubnlu config schema. More: README.md.`,
    )
    .exitOverride();
  const only = namedModule(argv);
  const wanted = only ? [only] : COMMANDS;
  for (const register of await Promise.all(wanted.map(([, load]) => load()))) register(program);
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

/**
 * `hubnlu logs 2>&1 | head -1`, `2>/dev/full`: when stderr cannot be written (its reader went away: EPIPE;
 * a full device: ENOSPC), there is nowhere left to report anything, so the lost notes and messages are dropped
 * instead of the unhandled 'error' event turning every run into exit 1. The command's own outcome is
 * untouched: a failure still exits with its code (main sets process.exitCode), and stdout keeps its own
 * handler, where a write error other than EPIPE is still fatal.
 */
function dropLostDiagnostics(stream: NodeJS.WriteStream): void {
  stream.on('error', () => {
    // Nowhere to report this: it would go to the stream that just failed.
  });
}

async function main(argv: string[]): Promise<void> {
  exitQuietlyOnClosedPipe(process.stdout);
  dropLostDiagnostics(process.stderr);
  const program = await buildProgram(argv);
  // `hubnlu help frob`: commander prints the general help and exits 1 without saying why; name the command, as
  // `hubnlu frob` does.
  const [first, second] = argv.slice(2);
  if (first === 'help' && second !== undefined && !second.startsWith('-') && !program.commands.some((c) => c.name() === second)) {
    process.stderr.write(`error: unknown command '${second}'\n\n`);
    program.outputHelp({ error: true });
    process.exitCode = EXIT.usage;
    return;
  }
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
