/** How `hubnlu logs` and `hubnlu stats` find and open the database: `--db FILE`, else the configured `storage.path`. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Db } from '../store/database.js';
import { SchemaTooNewError } from '../store/database.js';
import { LogDatabaseError, openLogDatabase, parseSince } from '../store/queries.js';
import { configFor } from './context.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Runs `fn` with the database open read-only, then closes it. Relative paths
 * resolve against the working directory, as the agent resolves `storage.path`.
 * The configuration is read only when `--db` is absent.
 */
export function withLogDatabase<T>(command: Command, dbOption: string | undefined, fn: (db: Db, path: string) => T): T {
  const path = resolve(process.cwd(), dbOption ?? configFor(command).config.storage.path);
  let db: Db;
  try {
    db = openLogDatabase(path);
  } catch (err) {
    if (err instanceof LogDatabaseError || err instanceof SchemaTooNewError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
  try {
    return fn(db, path);
  } finally {
    db.close();
  }
}

/** Commander argument parser for `--since`: usage errors (exit 2) name what is accepted. */
export function sinceOption(value: string): number {
  try {
    return parseSince(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** Commander argument parser for counts such as `--limit`. */
export function positiveIntOption(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1 (got ${JSON.stringify(value)})`);
  }
  return n;
}
