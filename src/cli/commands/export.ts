/**
 * `hubnlu export --format jsonl|csv [--labelled-only] [--predicted] [--since 30d] [--task intent|sentiment] [--out FILE]`:
 * the log as a dataset (see src/data/log-export.ts). `--out` writes a
 * temporary file beside the target and renames it into place, so a reader
 * never sees half a file.
 */
import { closeSync, existsSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { Option, type Command } from 'commander';
import { CSV_COLUMNS, csvLine, exportRows, type ExportOptions } from '../../data/log-export.js';
import type { TaskName } from '../../model/tasks.js';
import { TASKS } from '../../model/tasks.js';
import { CliError, EXIT } from '../exit-codes.js';
import { sinceLimit, sinceOption, withLogDatabase, type Since } from '../log-database.js';
import { cannotWrite, outPath } from '../out-file.js';

interface Opts {
  format: 'jsonl' | 'csv';
  labelledOnly?: boolean;
  predicted?: boolean;
  since?: Since;
  task?: TaskName;
  out?: string;
  db?: string;
}

export function registerExport(program: Command): void {
  program
    .command('export')
    .description('write logged inputs as a dataset (JSONL for train/eval --data, or CSV): gold labels where labelled')
    .addOption(new Option('--format <format>', 'jsonl or csv').choices(['jsonl', 'csv']).default('jsonl'))
    .option('--labelled-only', 'only inputs someone labelled (the rows train/eval --data can read)')
    .option('--predicted', 'unlabelled inputs carry the live prediction as their label (label_source "predicted")')
    .option('--since <when>', 'only inputs received since: a duration (30d, 12h), an ISO date, or all (the default)', sinceOption)
    .addOption(new Option('--task <task>', 'only this task\'s label fields (and with --labelled-only / --predicted, only rows that have one)').choices(TASKS))
    .option('--out <file>', 'write to this file (atomically) instead of stdout')
    .option('--db <file>', 'database file (default: storage.path from the configuration)')
    .action((opts: Opts, command: Command) => {
      if (opts.labelledOnly && opts.predicted) throw new CliError('--labelled-only and --predicted exclude each other (predicted labels are for unlabelled rows)', EXIT.usage);
      const options: ExportOptions = { labelledOnly: opts.labelledOnly, predicted: opts.predicted, since: sinceLimit(opts.since), task: opts.task };
      const out = opts.out ? outPath(opts.out, `export.${opts.format}`, '--out', ', or leave --out out to write to stdout') : undefined;
      const tmp = out ? `${out}.${process.pid}.tmp` : undefined;
      let fd = 1;
      if (tmp) {
        try {
          fd = openSync(tmp, 'w', 0o600);
        } catch (err) {
          throw cannotWrite(out!, (err as NodeJS.ErrnoException).code ?? (err as Error).message);
        }
      }
      let n = 0;
      let gold = 0;
      try {
        withLogDatabase(command, opts.db, (db) => {
          let buffer = '';
          const write = (line: string) => {
            buffer += `${line}\n`;
            if (buffer.length > 64 * 1024) {
              writeAll(fd, buffer);
              buffer = '';
            }
          };
          if (opts.format === 'csv') write(CSV_COLUMNS.join(','));
          for (const row of exportRows(db, options)) {
            n++;
            if (row.label_source === 'gold') gold++;
            write(opts.format === 'csv' ? csvLine(row) : JSON.stringify(row));
          }
          if (buffer) writeAll(fd, buffer);
        });
        if (tmp && out) {
          if (n > 0) fsyncSync(fd);
          closeSync(fd);
          fd = -1;
          // Nothing matched (exit 3): an earlier export at --out is not replaced by an empty file.
          if (n > 0) renameSync(tmp, out);
          else rmSync(tmp, { force: true });
        }
      } catch (err) {
        if (tmp) {
          if (fd > 2) closeSync(fd);
          rmSync(tmp, { force: true });
        }
        if ((err as NodeJS.ErrnoException).code === 'EPIPE') return;
        throw err;
      }
      const where = !out ? '' : n > 0 ? ` to ${out}` : existsSync(out) ? `; ${out} left as it was` : `; nothing written to ${out}`;
      process.stderr.write(`exported ${n} input${n === 1 ? '' : 's'} (${gold} labelled)${where}\n`);
      if (n === 0) process.exitCode = EXIT.empty;
    });
}

/** Writes all of `text`; a non-blocking stdout pipe that is full (EAGAIN) is waited for. */
function writeAll(fd: number, text: string): void {
  let data = Buffer.from(text);
  while (data.length > 0) {
    try {
      const n = writeSync(fd, data);
      data = data.subarray(n);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
    }
  }
}
