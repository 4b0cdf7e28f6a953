/**
 * Database errors a retry cannot fix, told apart from those it can.
 *
 * Retried (the agent holds the MQTT acknowledgement and tries again): SQLITE_BUSY and
 * SQLITE_LOCKED (another process holds the lock), SQLITE_FULL (disk full), SQLITE_IOERR_*
 * (a write or fsync failed: a full or failing disk that may come back).
 * Fatal (the agent stops with exit code 78, EXIT.needsAttention): a damaged file
 * (SQLITE_CORRUPT*, SQLITE_NOTADB), a file it may not write (SQLITE_READONLY*, EROFS, EACCES,
 * EPERM), one it cannot open (SQLITE_CANTOPEN*), one deleted or replaced under it
 * (DatabaseFileWatch), another agent on the same file (DatabaseLock).
 */

/** A database problem that a restart cannot fix: stop, say what and how to fix it. */
export class DatabaseFailure extends Error {
  /** Read by retryUntilDone (util/retry.ts): never retried. */
  readonly fatal = true;

  constructor(
    message: string,
    readonly path: string,
    /** SQLite's or the OS's error code, e.g. SQLITE_CORRUPT, SQLITE_READONLY, EROFS; `DELETED`, `REPLACED`, `LOCKED_BY_AGENT` for ours. */
    readonly code: string,
  ) {
    super(message);
    this.name = 'DatabaseFailure';
  }
}

const FATAL_SQLITE = ['SQLITE_CORRUPT', 'SQLITE_NOTADB', 'SQLITE_READONLY', 'SQLITE_CANTOPEN', 'SQLITE_PERM', 'SQLITE_AUTH'];
const FATAL_OS = new Set(['EROFS', 'EACCES', 'EPERM']);

const codeOf = (err: unknown): string => String((err as { code?: unknown })?.code ?? '');

/** True for an error no retry can fix. */
export function isFatalDatabaseError(err: unknown): boolean {
  if (err instanceof DatabaseFailure) return true;
  const code = codeOf(err);
  return FATAL_SQLITE.some((prefix) => code === prefix || code.startsWith(`${prefix}_`)) || FATAL_OS.has(code);
}

/** `err` as a DatabaseFailure whose message names the file, what was being done, and the fix. */
export function databaseFailure(err: unknown, path: string, doing: string): DatabaseFailure {
  if (err instanceof DatabaseFailure) return err;
  const code = codeOf(err) || 'UNKNOWN';
  const message = (err as Error)?.message ?? String(err);
  // Node's messages start with their code (`EPERM: operation not permitted, …`); SQLite's do not.
  const detail = message.startsWith(`${code}:`) ? message : `${code}: ${message}`;
  let advice: string;
  if (code === 'SQLITE_READONLY_DBMOVED') {
    advice = 'the database file was moved or deleted while hubnlu had it open; put it back or restart hubnlu to start a new one';
  } else if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
    advice = `the file is damaged. Stop here rather than write more into it: move ${path} (with its -wal and -shm files) aside and start hubnlu again for a new database, or restore a backup; \`sqlite3 ${path} .recover\` may save the rows`;
  } else if (code.startsWith('SQLITE_READONLY') || FATAL_OS.has(code)) {
    advice = `hubnlu cannot write it: check that the file and its directory belong to the user hubnlu runs as (and are writable) and that the filesystem is mounted read-write, or set storage.path to a file it may write`;
  } else if (code.startsWith('SQLITE_CANTOPEN')) {
    advice = 'hubnlu cannot open it: check that its directory exists and is writable (SQLite creates -wal and -shm files next to it)';
  } else {
    advice = 'a retry cannot fix this';
  }
  return new DatabaseFailure(`${path}: database error while ${doing} (${detail}); ${advice}`, path, code);
}
