/**
 * Opens the SQLite database: owner-only file and directory, WAL, migrations.
 * The only module that imports better-sqlite3.
 */
import { chmodSync, existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';
import { databaseFailure, DatabaseFailure, isFatalDatabaseError } from './failure.js';

export type Db = Database.Database;
export type Statement = Database.Statement;

export class SchemaTooNewError extends Error {
  constructor(path: string, found: number) {
    super(`${path}: database schema version ${found} is newer than this hubnlu understands (${SCHEMA_VERSION}); upgrade hubnlu or point storage.path at another file`);
    this.name = 'SchemaTooNewError';
  }
}

export interface OpenOptions {
  readonly synchronous?: 'full' | 'normal';
  readonly busyTimeoutMs?: number;
  readonly readonly?: boolean;
  /**
   * Writable opens only: run `PRAGMA quick_check` and a write probe before migrating (default true), so a damaged or
   * read-only file stops the agent at start with a DatabaseFailure instead of at the first input.
   */
  readonly check?: boolean;
}

export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  if (path !== ':memory:' && !opts.readonly) {
    const dir = dirname(path);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  if (opts.readonly && path !== ':memory:' && !existsSync(path)) {
    throw new Error(`${path}: no database yet (start the agent once, or set storage.path / --db to an existing file)`);
  }
  let db: Db | undefined;
  try {
    db = new Database(path, { readonly: opts.readonly ?? false, timeout: opts.busyTimeoutMs ?? 5000 });
    if (!opts.readonly) {
      // Owner-only; chmod only when needed, so a file that is already 0600 opens on a read-only filesystem far enough to say so.
      if (path !== ':memory:' && (statSync(path).mode & 0o777) !== 0o600) chmodSync(path, 0o600);
      db.pragma('journal_mode = WAL');
      db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
      db.pragma('foreign_keys = ON');
      if (opts.check ?? true) checkIntegrity(db, path);
      migrate(db, path);
      if (opts.check ?? true) probeWritable(db);
    }
    return db;
  } catch (err) {
    db?.close();
    if (isFatalDatabaseError(err)) throw databaseFailure(err, path, 'opening it');
    throw err;
  }
}

/** `PRAGMA quick_check` (every page and record, not index contents: 0.12–0.16 s for 100,000 rows, 43 MB, in the page cache; README, "When the database fails"); throws a DatabaseFailure naming what it found. */
export function checkIntegrity(db: Db, path: string): void {
  const rows = db.pragma('quick_check(5)', { simple: false }) as Array<{ quick_check: string }>;
  if (rows.length === 1 && rows[0].quick_check === 'ok') return;
  throw new DatabaseFailure(
    `${path}: the database is damaged (PRAGMA quick_check: ${rows.map((r) => r.quick_check).join('; ')}). ` +
      `Move ${path} (with its -wal and -shm files) aside and start hubnlu again for a new database, or restore a backup; \`sqlite3 ${path} .recover\` may save the rows`,
    path,
    'SQLITE_CORRUPT',
  );
}

/** SQLite opens a file it may not write read-only without a word; a no-op header write finds out now (SQLITE_READONLY). */
function probeWritable(db: Db): void {
  try {
    db.pragma(`user_version = ${db.pragma('user_version', { simple: true }) as number}`);
  } catch (err) {
    // Another process holding the write lock is not our problem here; writes wait and retry.
    if ((err as { code?: string }).code === 'SQLITE_BUSY') return;
    throw err;
  }
}

/** Applies every migration newer than the file's `user_version`, each in its own transaction. */
export function migrate(db: Db, path = 'database'): number {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > SCHEMA_VERSION) throw new SchemaTooNewError(path, current);
  for (const m of MIGRATIONS) {
    if (m.version <= current) continue;
    db.transaction(() => {
      db.exec(m.sql);
      db.pragma(`user_version = ${m.version}`);
    })();
  }
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * A second connection to a database another connection opened (and migrated), for WAL checkpoints only
 * (src/store/checkpoint-thread.ts): no checks, no migrations, no busy wait (a PASSIVE checkpoint never waits anyway).
 */
export function openCheckpointConnection(path: string): Db {
  return new Database(path, { fileMustExist: true, timeout: 0 });
}
