/** How the log commands (`logs`, `stats`, `label`, `review`, `export`, `eval --from-log`) find and open the database: `--db FILE`, else the configured `storage.path`. */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { Db } from '../store/database.js';
import { openDatabase, SchemaTooNewError } from '../store/database.js';
import { liveLockOwner } from '../store/lock.js';
import { SCHEMA_VERSION } from '../store/migrations.js';
import { ALL_TIME, LogDatabaseError, openLogDatabase, parseSinceOrAll, type Since } from '../store/queries.js';
import { configFor } from './context.js';
import { CliError, EXIT } from './exit-codes.js';

/**
 * Runs `fn` with the database open read-only, then closes it. Relative paths
 * resolve against the working directory, as the agent resolves `storage.path`.
 * The configuration is read only when `--db` is absent.
 */
export function withLogDatabase<T>(command: Command, dbOption: string | undefined, fn: (db: Db, path: string) => T): T {
  const { db, path } = openForCommand(command, dbOption);
  try {
    return fn(db, path);
  } finally {
    db.close();
  }
}

/** withLogDatabase for work that awaits: the database stays open until `fn`'s promise settles. */
export async function withLogDatabaseAsync<T>(command: Command, dbOption: string | undefined, fn: (db: Db, path: string) => Promise<T>): Promise<T> {
  const { db, path } = openForCommand(command, dbOption);
  try {
    return await fn(db, path);
  } finally {
    db.close();
  }
}

/** Opens the log database `--db` names (else storage.path); one that cannot be opened as hubnlu's log is a CliError. */
function openForCommand(command: Command, dbOption: string | undefined): { db: Db; path: string } {
  const path = resolve(process.cwd(), dbOption ?? configFor(command).config.storage.path);
  try {
    return { db: openLogDatabase(path), path };
  } catch (err) {
    if (err instanceof LogDatabaseError || err instanceof SchemaTooNewError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
}

/**
 * `--since all`: no time limit. A sentinel, not `undefined`: commander stores a
 * parser's `undefined` as '' (which the filters then misread), so each command
 * maps the option through sinceLimit() where it builds its filter. The parser is
 * parseSinceOrAll (src/store/queries.ts), which the bridge `stats` request uses too.
 */
export { ALL_TIME, type Since };

/** Commander argument parser for `--since`, the same in every command: usage errors (exit 2) name what is accepted. */
export function sinceOption(value: string): Since {
  try {
    return parseSinceOrAll(value);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
}

/** The start of a `--since` window in ms since the epoch; undefined (no limit) for `all` or no `--since`. */
export function sinceLimit(since: Since | undefined): number | undefined {
  return since === ALL_TIME ? undefined : since;
}

/** Commander argument parser for counts such as `--limit`. */
export function positiveIntOption(value: string): number {
  const n = Number(value.trim());
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1) {
    throw new InvalidArgumentError(`expected a whole number >= 1 (got ${JSON.stringify(value)})`);
  }
  return n;
}

/** How long a label waits for another writer (the agent commits in milliseconds; an import of thousands of labels takes seconds). */
const WRITE_BUSY_TIMEOUT_MS = 10_000;

/**
 * Runs `fn` with the database open for writing (labels), then closes it.
 * Takes no agent lock: a running agent keeps its lock and SQLite (WAL) lets
 * each short label transaction in between the agent's own (the busy timeout
 * waits for the other writer). A database whose schema is older than this
 * hubnlu is migrated only when no live agent holds it; with an agent running,
 * migrating under it would change the tables it writes, so that is an error.
 */
export function withWritableLogDatabase<T>(command: Command, dbOption: string | undefined, fn: (db: Db, path: string) => T): T {
  const path = resolve(process.cwd(), dbOption ?? configFor(command).config.storage.path);
  let version: number;
  try {
    const probe = openLogDatabase(path);
    version = probe.pragma('user_version', { simple: true }) as number;
    probe.close();
  } catch (err) {
    if (err instanceof LogDatabaseError || err instanceof SchemaTooNewError) throw new CliError(err.message, EXIT.failure);
    throw err;
  }
  const agent = liveLockOwner(path);
  if (version < SCHEMA_VERSION && agent) {
    throw new CliError(
      `${path}: schema version ${version} is older than this hubnlu's (${SCHEMA_VERSION}) and the agent (pid ${agent.pid}) is using it; ` +
        'restart the agent with this version of hubnlu first (it migrates the database), then label',
      EXIT.failure,
    );
  }
  let db: Db;
  try {
    db = openDatabase(path, { check: false, busyTimeoutMs: WRITE_BUSY_TIMEOUT_MS });
  } catch (err) {
    throw new CliError((err as Error).message, EXIT.failure);
  }
  let result: T;
  try {
    result = fn(db, path);
  } catch (err) {
    db.close();
    throw busyError(err, path);
  }
  // An async `fn` (the interactive review) keeps the database open until it settles.
  if (result instanceof Promise) {
    return result.catch((err: unknown) => {
      throw busyError(err, path);
    }).finally(() => db.close()) as T;
  }
  db.close();
  return result;
}

/** SQLITE_BUSY after the busy timeout: better-sqlite3 says only "database is locked". */
function busyError(err: unknown, path: string): unknown {
  if (!String((err as { code?: unknown })?.code ?? '').startsWith('SQLITE_BUSY')) return err;
  return new CliError(
    `${path}: another process has held the database's write lock for over ${WRITE_BUSY_TIMEOUT_MS / 1000} s (SQLITE_BUSY), so the label being stored was not (an import: none of it). ` +
      'The agent\'s own writes take milliseconds: look for a `sqlite3` shell left in a transaction, a backup or a large `hubnlu label --import`, then try again',
    EXIT.failure,
  );
}
