/**
 * Opens the SQLite database: owner-only file and directory, WAL, migrations.
 * The only module that imports better-sqlite3.
 */
import { chmodSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { MIGRATIONS, SCHEMA_VERSION } from './migrations.js';

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
}

export function openDatabase(path: string, opts: OpenOptions = {}): Db {
  if (path !== ':memory:' && !opts.readonly) {
    const dir = dirname(path);
    if (!existsSync(dir)) mkdirSync(dir, { recursive: true, mode: 0o700 });
  }
  if (opts.readonly && path !== ':memory:' && !existsSync(path)) {
    throw new Error(`${path}: no database yet (start the agent once, or set storage.path / --db to an existing file)`);
  }
  const db = new Database(path, { readonly: opts.readonly ?? false, timeout: opts.busyTimeoutMs ?? 5000 });
  if (!opts.readonly) {
    if (path !== ':memory:') chmodSync(path, 0o600);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${opts.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
    db.pragma('foreign_keys = ON');
    migrate(db, path);
  }
  return db;
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
